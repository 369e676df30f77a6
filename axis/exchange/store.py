"""SQL for the exchange: accepting a package in one transaction, the inbox, acknowledgements.

Callers hold the transaction. ``accept`` writes everything a package needs (bytes as received,
header fields for search, recipients, one delivery per recipient system, events, outbox rows, the
acceptance receipt) so that a crash leaves either all of it or none.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from axis.edxml import model as m
from axis.errors import AxisError
from axis.exchange.admission import Admission
from axis.registry import folding
from axis.store.db import Conn


@dataclass(frozen=True, slots=True)
class StoredPackage:
    """A package as the axis holds it (without its bytes)."""

    id: uuid.UUID
    kind: str
    document_id: str
    sender_code: str
    sender_system: str
    digest: str
    size: int
    received_at: dt.datetime
    status_code: str | None = None
    subject: str | None = None


_PACKAGE_COLUMNS = (
    "id, kind, document_id, sender_code, sender_system, digest, size, received_at, status_code, subject"
)


def _stored(row: asyncpg.Record) -> StoredPackage:
    return StoredPackage(**dict(row))


async def by_dedupe_key(conn: Conn, key: str) -> StoredPackage | None:
    row = await conn.fetchrow(f"SELECT {_PACKAGE_COLUMNS} FROM packages WHERE dedupe_key = $1", key)
    return _stored(row) if row else None


async def accept(
    conn: Conn,
    admission: Admission,
    data: bytes,
    *,
    via: str,
    receipt_id: uuid.UUID,
    receipt: bytes,
    amqp_systems: frozenset[str],
) -> bool:
    """Store an admitted package. False when a concurrent submission with the same key won."""
    package = admission.package
    verified = admission.verified
    signer = verified.signer
    document = package if isinstance(package, m.DocumentPackage) else None
    status = package if isinstance(package, m.StatusPackage) else None
    inserted = await conn.fetchval(
        """INSERT INTO packages (id, kind, dedupe_key, document_id, sender_code, sender_system, business_type,
                                 status_code, code_number, code_notation, subject, subject_folded,
                                 promulgation_date, due_date, digest, size, body, signer_subject,
                                 signer_fingerprint, signature_policy, quirks, received_via)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
                   $21, $22)
           ON CONFLICT (dedupe_key) DO NOTHING RETURNING id""",
        admission.package_id,
        admission.kind.value,
        admission.dedupe_key,
        admission.document_id,
        package.sender.organ_id,
        admission.caller.id,
        int(document.business.doc_type) if document else None,
        status.status_code.value if status else None,
        document.code.number if document else None,
        document.code.notation if document else None,
        document.subject if document else None,
        folding.fold(document.subject) if document else None,
        document.promulgation.date if document else None,
        document.due_date if document else None,
        admission.digest,
        admission.size,
        data,
        signer.subject if signer else None,
        signer.fingerprint_sha256 if signer else None,
        verified.policy,
        [{"code": q.code, "message": q.message, "path": q.path} for q in verified.quirks],
        via,
    )
    if inserted is None:
        return False
    recipients = admission.recipients
    await conn.execute(
        """INSERT INTO package_recipients (package_id, requested_code, agency_code, system_id, redirects)
           SELECT $1, requested, agency, system, coalesce(string_to_array(NULLIF(redirects, ''), ','), '{}')
             FROM unnest($2::text[], $3::text[], $4::text[], $5::text[])
                  AS t (requested, agency, system, redirects)""",
        admission.package_id,
        [r.requested_code for r in recipients],
        [r.agency_code for r in recipients],
        [r.system_id for r in recipients],
        [",".join(r.redirects) for r in recipients],
    )
    systems = list(admission.systems)
    await conn.execute(
        "INSERT INTO deliveries (package_id, system_id) SELECT $1, unnest($2::text[])",
        admission.package_id,
        systems,
    )
    await add_event(
        conn,
        admission.document_id,
        admission.package_id,
        "accepted",
        admission.caller.id,
        None,
        {"kind": admission.kind.value, "digest": admission.digest, "via": via},
    )
    for r in recipients:
        await add_event(
            conn,
            admission.document_id,
            admission.package_id,
            "queued",
            r.system_id,
            r.agency_code,
            {"requested": r.requested_code, "redirects": list(r.redirects)},
        )
    await conn.execute(
        "INSERT INTO receipts (id, package_id, kind, for_system, body) VALUES ($1, $2, 'acceptance', $3, $4)",
        receipt_id,
        admission.package_id,
        admission.caller.id,
        receipt,
    )
    outbox = [(str(admission.package_id), "package", s) for s in systems if s in amqp_systems]
    if admission.caller.id in amqp_systems:
        outbox.append((str(receipt_id), "receipt", admission.caller.id))
    await add_outbox(conn, outbox)
    return True


async def add_event(
    conn: Conn,
    document_id: str,
    package_id: uuid.UUID | None,
    kind: str,
    system_id: str | None,
    agency_code: str | None,
    detail: dict[str, Any] | None = None,
) -> None:
    await conn.execute(
        """INSERT INTO events (document_id, package_id, kind, system_id, agency_code, detail)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        document_id,
        package_id,
        kind,
        system_id,
        agency_code,
        detail or {},
    )


async def add_outbox(conn: Conn, rows: list[tuple[str, str, str]]) -> None:
    if rows:
        await conn.executemany(
            "INSERT INTO outbox (message_id, kind, system_id) VALUES ($1, $2, $3)",
            rows,
        )


# --- reading --------------------------------------------------------------------------------------------


async def visible_package(conn: Conn, package_id: str, system_id: str) -> StoredPackage:
    """A package its sender or one of its recipient systems may see; anything else does not exist."""
    try:
        pid = uuid.UUID(package_id)
    except ValueError:
        raise AxisError("package.unknown", f"No package {package_id!r}.") from None
    row = await conn.fetchrow(
        f"""SELECT {_PACKAGE_COLUMNS} FROM packages p
             WHERE id = $1 AND (sender_system = $2
                   OR EXISTS (SELECT 1 FROM deliveries d WHERE d.package_id = p.id AND d.system_id = $2))""",
        pid,
        system_id,
    )
    if row is None:
        raise AxisError(
            "package.unknown", f"No package {package_id!r} for this system.", package_id=package_id
        )
    return _stored(row)


async def body(conn: Conn, package_id: uuid.UUID) -> bytes:
    data: bytes = await conn.fetchval("SELECT body FROM packages WHERE id = $1", package_id)
    return data


async def mark_fetched(conn: Conn, package_id: uuid.UUID, system_id: str) -> None:
    first = await conn.fetchval(
        """UPDATE deliveries SET fetched_at = now()
            WHERE package_id = $1 AND system_id = $2 AND fetched_at IS NULL RETURNING package_id""",
        package_id,
        system_id,
    )
    if first is not None:
        document_id = await conn.fetchval("SELECT document_id FROM packages WHERE id = $1", package_id)
        await add_event(conn, document_id, package_id, "fetched", system_id, None)


@dataclass(frozen=True, slots=True)
class Delivered:
    """A delivery that just became ``delivered``: its sender gets a delivery receipt."""

    package_id: uuid.UUID
    system_id: str
    sender_system: str
    delivered_at: dt.datetime


async def mark_delivered(conn: Conn, package_id: uuid.UUID, system_id: str, *, how: str) -> Delivered | None:
    """The recipient system has the package. Idempotent: None when it was delivered already."""
    row = await conn.fetchrow(
        """UPDATE deliveries d SET state = 'delivered', delivered_at = now()
             FROM packages p
            WHERE d.package_id = $1 AND d.system_id = $2 AND d.state = 'queued' AND p.id = d.package_id
        RETURNING d.delivered_at, p.sender_system, p.document_id""",
        package_id,
        system_id,
    )
    if row is None:
        return None
    await add_event(conn, row["document_id"], package_id, "delivered", system_id, None, {"how": how})
    return Delivered(package_id, system_id, row["sender_system"], row["delivered_at"])


async def queued_document_packages(conn: Conn, document_id: str, system_id: str) -> list[uuid.UUID]:
    """Document packages of ``document_id`` still waiting at ``system_id`` (a status 01 acks them)."""
    rows = await conn.fetch(
        """SELECT d.package_id FROM deliveries d JOIN packages p ON p.id = d.package_id
            WHERE p.document_id = $1 AND p.kind = 'document' AND d.system_id = $2 AND d.state = 'queued'""",
        document_id,
        system_id,
    )
    return [r["package_id"] for r in rows]
