"""SQL for what waits for a system: packages addressed to it and receipts for what it sent."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from axis.errors import AxisError
from axis.store.db import Conn


@dataclass(frozen=True, slots=True)
class InboxItem:
    type: str  # "package" | "receipt"
    id: uuid.UUID
    kind: str  # document | status (packages); acceptance | delivery (receipts)
    document_id: str
    sender_code: str
    sender_system: str
    at: dt.datetime
    package_id: uuid.UUID
    #: What the signatures in a document's files are (``axis.files.findings.Verdict``); None when not
    #: checked (receipts, statuses, packages from before the check).
    file_signatures: str | None = None


async def waiting(conn: Conn, system_id: str, *, limit: int = 100, only: str | None = None) -> list[InboxItem]:
    """Oldest first: packages and receipts not yet acknowledged (``only`` one of the two types)."""
    # 'queued' is DeliveryState.QUEUED written as a literal: only then does the partial index
    # deliveries_waiting serve a generic plan (see axis.exchange.deliveries).
    rows = await conn.fetch(
        """(SELECT 'package' AS type, p.id, p.kind, p.document_id, p.sender_code, p.sender_system,
                   d.created_at AS at, p.id AS package_id, fc.verdict AS file_signatures
              FROM deliveries d JOIN packages p ON p.id = d.package_id
                   LEFT JOIN file_checks fc ON fc.package_id = p.id
             WHERE d.system_id = $1 AND d.state = 'queued' AND $3::text IS DISTINCT FROM 'receipt'
             ORDER BY d.created_at LIMIT $2)
           UNION ALL
           (SELECT 'receipt', r.id, r.kind, p.document_id, p.sender_code, p.sender_system, r.created_at, p.id,
                   NULL
              FROM receipts r JOIN packages p ON p.id = r.package_id
             WHERE r.for_system = $1 AND r.acknowledged_at IS NULL AND $3::text IS DISTINCT FROM 'package'
             ORDER BY r.created_at LIMIT $2)
           ORDER BY at LIMIT $2""",
        system_id,
        limit,
        only,
    )
    return [InboxItem(**dict(r)) for r in rows]


async def receipt_body(conn: Conn, receipt_id: str, system_id: str) -> bytes:
    """A receipt its own system may read; anything else does not exist."""
    try:
        rid = uuid.UUID(receipt_id)
    except ValueError:
        raise AxisError("receipt.unknown", f"No receipt {receipt_id!r}.") from None
    data: bytes | None = await conn.fetchval(
        "SELECT body FROM receipts WHERE id = $1 AND for_system = $2", rid, system_id
    )
    if data is None:
        raise AxisError("receipt.unknown", f"No receipt {receipt_id!r} for this system.")
    return data


async def acceptance_receipt(conn: Conn, package_id: uuid.UUID) -> bytes:
    data: bytes = await conn.fetchval(
        "SELECT body FROM receipts WHERE package_id = $1 AND kind = 'acceptance'", package_id
    )
    return data


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiptEntry:
    """One receipt the axis signed about a package: its acceptance, or a delivery to ``about``."""

    id: uuid.UUID
    kind: str  # acceptance | delivery
    about: str | None  # the recipient system a delivery receipt is about
    at: dt.datetime


async def receipts_of(conn: Conn, package_id: uuid.UUID) -> list[ReceiptEntry]:
    rows = await conn.fetch(
        "SELECT id, kind, about_system, created_at FROM receipts WHERE package_id = $1 ORDER BY created_at",
        package_id,
    )
    return [ReceiptEntry(id=r["id"], kind=r["kind"], about=r["about_system"], at=r["created_at"]) for r in rows]


async def ack_receipt(conn: Conn, receipt_id: str, system_id: str) -> None:
    try:
        rid = uuid.UUID(receipt_id)
    except ValueError:
        raise AxisError("receipt.unknown", f"No receipt {receipt_id!r}.") from None
    if not await ack_receipts(conn, [rid], system_id):
        raise AxisError("receipt.unknown", f"No receipt {receipt_id!r} for this system.")


async def ack_receipts(conn: Conn, receipt_ids: Sequence[uuid.UUID], system_id: str) -> set[uuid.UUID]:
    """Take receipts off the system's inbox (again: no change); the ones that are the system's."""
    rows = await conn.fetch(
        """UPDATE receipts SET acknowledged_at = coalesce(acknowledged_at, now())
            WHERE id = ANY($1::uuid[]) AND for_system = $2 RETURNING id""",
        list(receipt_ids),
        system_id,
    )
    return {row["id"] for row in rows}
