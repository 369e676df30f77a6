"""SQL for the exchange: accepting a package in one transaction, the inbox, acknowledgements.

Callers hold the transaction. ``accept`` writes everything a package needs (bytes as received,
header fields for search, recipients, one delivery per recipient system, events, outbox rows, the
acceptance receipt) so that a crash leaves either all of it or none.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from axis.broker.kinds import DUE_AFTER_GRACE, OutboxKind
from axis.edxml import model as m
from axis.errors import AxisError
from axis.exchange import deliveries, visibility
from axis.exchange.admission import Admission
from axis.exchange.deliveries import DeliveryReceipt as DeliveryReceipt  # where the exchange's callers find it
from axis.exchange.deliveries import DeliveryState
from axis.exchange.received import Received
from axis.exchange.results import Routed
from axis.registry import folding
from axis.store import bodies
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


_PACKAGE_COLUMNS = "id, kind, document_id, sender_code, sender_system, digest, size, received_at, status_code, subject"


def _stored(row: asyncpg.Record) -> StoredPackage:
    return StoredPackage(**dict(row))


async def by_dedupe_key(conn: Conn, key: str) -> StoredPackage | None:
    row = await conn.fetchrow(f"SELECT {_PACKAGE_COLUMNS} FROM packages WHERE dedupe_key = $1", key)
    return _stored(row) if row else None


# The business kinds whose package starts a document record (revoke and update act on one).
_STARTS_A_RECORD = (m.BusinessDocType.NEW, m.BusinessDocType.REPLACE)


async def accept(
    conn: Conn,
    admission: Admission,
    received: Received,
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
    recipients = admission.recipients
    systems = list(admission.systems)
    chunks = bodies.chunk_count(received.size)
    files = admission.files
    outbox = [(str(admission.package_id), OutboxKind.PACKAGE.value, s) for s in systems if s in amqp_systems]
    if admission.caller.id in amqp_systems:
        outbox.append((str(receipt_id), OutboxKind.RECEIPT.value, admission.caller.id))
    # One statement, one round trip: every row depends on the package row being new.
    inserted = await conn.fetchval(
        f"""WITH p AS (
               INSERT INTO packages (id, kind, dedupe_key, document_id, sender_code, sender_system,
                                     business_type, status_code, code_number, code_notation, subject,
                                     subject_folded, promulgation_date, due_date, digest, size, body,
                                     signer_subject, signer_fingerprint, signature_policy, quirks,
                                     received_via, chunks)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
                       $20, $21, $22, $34)
               ON CONFLICT (dedupe_key) DO NOTHING RETURNING id),
           r AS (
               INSERT INTO package_recipients (package_id, requested_code, agency_code, system_id, redirects)
               SELECT p.id, t.requested, t.agency, t.system,
                      coalesce(string_to_array(NULLIF(t.redirects, ''), ','), '{{}}')
                 FROM p, unnest($23::text[], $24::text[], $25::text[], $26::text[])
                      AS t (requested, agency, system, redirects)),
           d AS ({deliveries.start("p", "$27", "$6")}),
           e AS (
               INSERT INTO events (document_id, package_id, kind, system_id, agency_code, detail)
               SELECT $4, p.id, 'accepted', $6, NULL, $28::jsonb FROM p
               UNION ALL
               SELECT $4, p.id, 'queued', t.system, t.agency,
                      jsonb_build_object('requested', t.requested,
                                         'redirects', to_jsonb(string_to_array(NULLIF(t.redirects, ''), ',')))
                 FROM p, unnest($23::text[], $24::text[], $25::text[], $26::text[])
                      AS t (requested, agency, system, redirects)),
           rc AS (
               INSERT INTO receipts (id, package_id, kind, for_system, body)
               SELECT $29, p.id, 'acceptance', $6, $30 FROM p),
           o AS (
               -- Published right after commit; the relay takes over only if that did not happen.
               INSERT INTO outbox (message_id, kind, system_id, next_attempt_at)
               SELECT t.message_id, t.kind, t.system, {DUE_AFTER_GRACE}
                 FROM p, unnest($31::text[], $32::text[], $33::text[]) AS t (message_id, kind, system)),
           cp AS (
               -- Whom each system exchanges documents with (the clerk's search form lists them):
               -- the sender's system with each recipient agency, each recipient system with the
               -- sender. Kept here, a few rows per document, so that reading it never scans history.
               -- In key order: two documents making the same new pairs wait for each other instead
               -- of deadlocking (each waits on the other's uncommitted row; bench_exchange did).
               INSERT INTO system_counterparts (system_id, agency_code)
               SELECT DISTINCT x.system_id, x.agency_code
                 FROM p, (SELECT $6 AS system_id, t.agency AS agency_code FROM unnest($24::text[]) AS t (agency)
                          UNION SELECT t.system, $5 FROM unnest($25::text[]) AS t (system)) AS x
                WHERE $2 = 'document'
                ORDER BY x.system_id, x.agency_code
               ON CONFLICT DO NOTHING),
           sd AS (
               -- The systems that may see a document: its sender's, and each recipient system
               -- (axis.exchange.visibility), for the document search (migrations 019, 021).
               INSERT INTO system_documents (system_id, package_id, sent, received_at, code_number,
                                             notation_folded, promulgation_date, subject_folded)
               SELECT x.system_id, p.id, x.sent, now(), $9, lower($10), $13, $12
                 FROM p, (SELECT $6 AS system_id, true AS sent
                          UNION ALL SELECT t.system, false FROM unnest($27::text[]) AS t (system)
                           WHERE t.system <> $6) AS x
                WHERE $2 = 'document'),
           doc AS (
               -- A new or replacing document starts a document record (an existing one stays).
               INSERT INTO documents (document_id, sender_code, sender_system, package_id, due_date)
               SELECT $4, $5, $6, p.id, $14 FROM p WHERE $35
               ON CONFLICT (document_id) DO NOTHING),
           fc AS (
               -- What the signatures in its files are (axis.files), when they were checked.
               INSERT INTO file_checks (package_id, verdict, codes, report)
               SELECT p.id, $36, $37::text[], $38::jsonb FROM p WHERE $36::text IS NOT NULL)
           SELECT id FROM p""",
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
        b"" if chunks else received.data(),
        signer.subject if signer else None,
        signer.fingerprint_sha256 if signer else None,
        verified.policy,
        [{"code": q.code, "message": q.message, "path": q.path} for q in verified.quirks],
        via,
        [r.requested_code for r in recipients],
        [r.agency_code for r in recipients],
        [r.system_id for r in recipients],
        [",".join(r.redirects) for r in recipients],
        systems,
        {"kind": admission.kind.value, "digest": admission.digest, "via": via},
        receipt_id,
        receipt,
        [o[0] for o in outbox],
        [o[1] for o in outbox],
        [o[2] for o in outbox],
        chunks,
        document is not None and document.business.doc_type in _STARTS_A_RECORD,
        admission.file_verdict,
        list(files.codes) if files else [],
        files.to_json() if files else None,
    )
    if inserted is not None and chunks:
        await bodies.write(conn, admission.package_id, received.chunks(bodies.CHUNK))
    return inserted is not None


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


# --- reading --------------------------------------------------------------------------------------------


# The package $1 as the system $2 may see it (``axis.exchange.visibility``).
_SEEN = visibility.rule("$2", "p").package


async def visible_package(conn: Conn, package_id: str, system_id: str) -> StoredPackage:
    """A package its sender or one of its recipient systems may see; anything else does not exist."""
    pid = package_uuid(package_id)
    row = await conn.fetchrow(
        f"SELECT {_PACKAGE_COLUMNS} FROM packages p WHERE p.id = $1 AND {_SEEN}",
        pid,
        system_id,
    )
    if row is None:
        raise AxisError("package.unknown", f"No package {package_id!r} for this system.", package_id=package_id)
    return _stored(row)


@dataclass(frozen=True, slots=True)
class Fetched:
    package_id: uuid.UUID
    body: bytes  # empty when the bytes are in chunks or in the archive
    digest: str
    size: int
    chunks: int  # > 0: the bytes are in package_chunks (see axis.exchange.bodies)
    archive_path: str | None  # set when retention moved the bytes to a file


async def fetch_body(conn: Conn, package_id: str, system_id: str) -> Fetched:
    """The bytes of a package the system may see; for a recipient, the first download is recorded.
    One statement: visibility, bytes, ``fetched_at`` and its event."""
    pid = package_uuid(package_id)
    row = await conn.fetchrow(
        f"""WITH p AS (
               SELECT id, body, document_id, digest, size, chunks, archive_path FROM packages p
                WHERE p.id = $1 AND {_SEEN}),
           f AS (
               UPDATE deliveries d SET fetched_at = now() FROM p
                WHERE d.package_id = p.id AND d.system_id = $2 AND d.fetched_at IS NULL
            RETURNING d.package_id),
           e AS (
               INSERT INTO events (document_id, package_id, kind, system_id)
               SELECT p.document_id, p.id, 'fetched', $2 FROM p, f)
           SELECT id, body, digest, size, chunks, archive_path FROM p""",
        pid,
        system_id,
    )
    if row is None:
        raise AxisError("package.unknown", f"No package {package_id!r} for this system.", package_id=package_id)
    return Fetched(row["id"], row["body"], row["digest"], row["size"], row["chunks"], row["archive_path"])


@dataclass(frozen=True, slots=True)
class Delivery:
    """A recipient system's delivery of a package, with what the sender's delivery receipt needs."""

    package_id: uuid.UUID
    system_id: str
    state: DeliveryState
    delivered_at: dt.datetime | None
    newly_delivered: bool
    kind: str
    document_id: str
    digest: str
    sender_code: str
    sender_system: str
    served: tuple[tuple[str, str, tuple[str, ...]], ...]  # (requested, agency, redirects) of this system
    signature_policy: str  # the rule the package was accepted under (axis.edxml.trust.AppliedPolicy)


async def deliveries_of(
    conn: Conn, package_ids: Sequence[uuid.UUID], system_id: str
) -> tuple[dt.datetime, dict[uuid.UUID, Delivery]]:
    """The database's time and the deliveries of these packages to ``system_id`` (packages not
    addressed to it are absent). Only reads: receipts are signed between this and ``deliveries.deliver``,
    outside any transaction and lock."""
    rows = await conn.fetch(
        """SELECT p.id, p.kind, p.document_id, p.digest, p.sender_code, p.sender_system, p.signature_policy,
                  x.state, x.delivered_at, now() AS now,
                  (SELECT array_agg(concat_ws('|', r.requested_code, r.agency_code,
                                              array_to_string(r.redirects, ','))
                                    ORDER BY r.requested_code)
                     FROM package_recipients r WHERE r.package_id = p.id AND r.system_id = $2) AS served
             FROM unnest($1::uuid[]) AS t (id)
             JOIN packages p ON p.id = t.id
             JOIN deliveries x ON x.package_id = p.id AND x.system_id = $2""",
        list(package_ids),
        system_id,
    )
    now: dt.datetime = rows[0]["now"] if rows else dt.datetime.now(dt.UTC)
    found = {}
    for row in rows:
        served = []
        for item in row["served"] or []:
            requested, agency, redirects = item.split("|", 2)
            served.append((requested, agency, tuple(r for r in redirects.split(",") if r)))
        found[row["id"]] = Delivery(
            package_id=row["id"],
            system_id=system_id,
            state=DeliveryState(row["state"]),
            delivered_at=row["delivered_at"],
            newly_delivered=False,
            kind=row["kind"],
            document_id=row["document_id"],
            digest=row["digest"],
            sender_code=row["sender_code"],
            sender_system=row["sender_system"],
            served=tuple(served),
            signature_policy=row["signature_policy"],
        )
    return now, found


def package_uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise AxisError("package.unknown", f"No package {text!r}.") from None


async def queued_document_packages(conn: Conn, document_id: str, system_id: str) -> list[uuid.UUID]:
    """Document packages of ``document_id`` still waiting at ``system_id`` (a status 01 acks them)."""
    rows = await conn.fetch(
        """SELECT d.package_id FROM deliveries d JOIN packages p ON p.id = d.package_id
            WHERE p.document_id = $1 AND p.kind = 'document' AND d.system_id = $2 AND d.state = $3""",
        document_id,
        system_id,
        DeliveryState.QUEUED,
    )
    return [r["package_id"] for r in rows]


async def record_document(conn: Conn, admission: Admission, links: Sequence[tuple[str, str]]) -> None:
    """What a business package does to the documents it names (their state, the links, a pending
    request per recipient); its own document record was started by ``accept``."""
    package = admission.package
    assert isinstance(package, m.DocumentPackage)
    kind = package.business.doc_type
    if not links:
        return
    await conn.executemany(
        "INSERT INTO document_links (package_id, relation, target_document_id) VALUES ($1, $2, $3)",
        [(admission.package_id, relation, target) for relation, target in links],
    )
    targets = [target for _, target in links]
    if kind is m.BusinessDocType.REVOKE:
        await conn.execute(
            "UPDATE documents SET state = 'revoked', updated_at = now() WHERE document_id = ANY($1::text[])",
            targets,
        )
    elif kind is m.BusinessDocType.REPLACE:
        await conn.execute(
            """UPDATE documents SET state = 'superseded', superseded_by = $2, updated_at = now()
                WHERE document_id = ANY($1::text[])""",
            targets,
            package.document_id,
        )
    else:
        await conn.execute(
            "UPDATE documents SET updated_at = now(), due_date = coalesce($2, due_date) WHERE document_id = $1",
            package.document_id,
            package.due_date,
        )
    # Each recipient may now answer 15 (agree) or 16 (refuse) about each document acted on.
    await conn.executemany(
        """INSERT INTO events (document_id, package_id, kind, system_id, agency_code, detail)
           VALUES ($1, $2, 'business', $3, $4, $5)""",
        [
            (
                target,
                admission.package_id,
                r.system_id,
                r.agency_code,
                {"type": int(kind), "relation": relation, "reason": package.business.reason},
            )
            for relation, target in links
            for r in admission.recipients
        ],
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Held:
    """How a package was accepted: what a repeated submission of it is answered with."""

    recipients: tuple[Routed, ...]
    signature_policy: str
    quirks: tuple[str, ...]
    file_signatures: str | None = None


async def accepted_as(conn: Conn, package_id: uuid.UUID) -> Held:
    row = await conn.fetchrow(
        """SELECT p.signature_policy, p.quirks, fc.verdict
             FROM packages p LEFT JOIN file_checks fc ON fc.package_id = p.id WHERE p.id = $1""",
        package_id,
    )
    assert row is not None  # the caller found it by its dedupe key; packages are never deleted
    rows = await conn.fetch(
        """SELECT pr.requested_code, pr.agency_code, coalesce(a.name, '') AS name, pr.system_id, pr.redirects
             FROM package_recipients pr LEFT JOIN agencies a ON a.code = pr.agency_code
            WHERE pr.package_id = $1 ORDER BY pr.requested_code""",
        package_id,
    )
    return Held(
        recipients=tuple(
            Routed(
                requested=r["requested_code"],
                agency=r["agency_code"],
                name=r["name"],
                system=r["system_id"],
                redirects=tuple(r["redirects"]),
            )
            for r in rows
        ),
        signature_policy=row["signature_policy"],
        quirks=tuple(q["code"] for q in row["quirks"]),
        file_signatures=row["verdict"],
    )
