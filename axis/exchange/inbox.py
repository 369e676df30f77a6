"""SQL for what waits for a system: packages addressed to it and receipts for what it sent."""

from __future__ import annotations

import datetime as dt
import uuid
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


async def waiting(conn: Conn, system_id: str, *, limit: int = 100, only: str | None = None) -> list[InboxItem]:
    """Oldest first: packages and receipts not yet acknowledged (``only`` one of the two types)."""
    rows = await conn.fetch(
        """(SELECT 'package' AS type, p.id, p.kind, p.document_id, p.sender_code, p.sender_system,
                   d.created_at AS at, p.id AS package_id
              FROM deliveries d JOIN packages p ON p.id = d.package_id
             WHERE d.system_id = $1 AND d.state = 'queued' AND $3::text IS DISTINCT FROM 'receipt'
             ORDER BY d.created_at LIMIT $2)
           UNION ALL
           (SELECT 'receipt', r.id, r.kind, p.document_id, p.sender_code, p.sender_system, r.created_at, p.id
              FROM receipts r JOIN packages p ON p.id = r.package_id
             WHERE r.for_system = $1 AND r.acknowledged_at IS NULL AND $3::text IS DISTINCT FROM 'package'
             ORDER BY r.created_at LIMIT $2)
           ORDER BY at LIMIT $2""",
        system_id,
        limit,
        only,
    )
    return [InboxItem(**dict(r)) for r in rows]


async def add_receipt(
    conn: Conn,
    receipt_id: uuid.UUID,
    package_id: uuid.UUID,
    document_id: str,
    *,
    kind: str,
    for_system: str,
    about_system: str | None,
    body: bytes,
    to_amqp: bool,
) -> bool:
    """Store a receipt for the sender's system with its event (and, for an AMQP sender, its outbox
    row, published right after commit). One statement; False if the receipt exists already."""
    inserted = await conn.fetchval(
        """WITH r AS (
               INSERT INTO receipts (id, package_id, kind, for_system, about_system, body)
               VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING id),
           e AS (
               INSERT INTO events (document_id, package_id, kind, system_id, detail)
               SELECT $7, $2, 'receipt', $5, jsonb_build_object('kind', $3::text, 'id', r.id::text) FROM r),
           o AS (
               INSERT INTO outbox (message_id, kind, system_id, next_attempt_at)
               SELECT r.id::text, 'receipt', $4, now() + interval '10 seconds' FROM r WHERE $8)
           SELECT id FROM r""",
        receipt_id,
        package_id,
        kind,
        for_system,
        about_system,
        body,
        document_id,
        to_amqp,
    )
    return inserted is not None


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


async def receipts_of(conn: Conn, package_id: uuid.UUID) -> list[tuple[uuid.UUID, str, str | None, dt.datetime]]:
    rows = await conn.fetch(
        "SELECT id, kind, about_system, created_at FROM receipts WHERE package_id = $1 ORDER BY created_at",
        package_id,
    )
    return [(r["id"], r["kind"], r["about_system"], r["created_at"]) for r in rows]


async def ack_receipt(conn: Conn, receipt_id: str, system_id: str) -> None:
    try:
        rid = uuid.UUID(receipt_id)
    except ValueError:
        raise AxisError("receipt.unknown", f"No receipt {receipt_id!r}.") from None
    found = await conn.fetchval(
        """UPDATE receipts SET acknowledged_at = coalesce(acknowledged_at, now())
            WHERE id = $1 AND for_system = $2 RETURNING id""",
        rid,
        system_id,
    )
    if found is None:
        raise AxisError("receipt.unknown", f"No receipt {receipt_id!r} for this system.")
