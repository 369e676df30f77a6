"""SQL the SDK's interface needs and the exchange does not offer: secrets, seen signatures, the
received and sent lists with their transport states, and updateStatus ``processing``/``fail``.

Kept here rather than in ``axis.exchange``: they read the exchange's tables in the shapes the
SDK asks for, and the two writes (``processing``, ``fail``) touch a delivery's ``fetched_at`` and
``failed`` state exactly as a first download and a dead letter do, with their events.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from axis.store.db import Conn

#: The most packages one list answer carries (received: oldest first; sent: newest first).
RECEIVED_LIMIT = 1000
SENT_LIMIT = 500


async def current_secrets(conn: Conn, system_id: str) -> list[bytes]:
    """The system's sealed SDK secrets still valid (the newest, and a predecessor in its grace time)."""
    rows = await conn.fetch(
        """SELECT sealed FROM system_sdk_secrets
            WHERE system_id = $1 AND (valid_until IS NULL OR valid_until > now()) ORDER BY id DESC""",
        system_id,
    )
    return [r["sealed"] for r in rows]


async def first_use(conn: Conn, system_id: str, signature: str, *, keep_seconds: float) -> bool:
    """Record a signature; False when it was seen already (a replay). Rows older than
    ``keep_seconds`` go first: a request that old is refused for its timestamp anyway."""
    await conn.execute(
        "DELETE FROM vdxp_seen_signatures WHERE seen_at < now() - make_interval(secs => $1)", keep_seconds
    )
    inserted = await conn.fetchval(
        """INSERT INTO vdxp_seen_signatures (system_id, signature) VALUES ($1, $2)
           ON CONFLICT DO NOTHING RETURNING true""",
        system_id,
        signature,
    )
    return inserted is not None


async def received(
    conn: Conn, system_id: str, kind: str | None, *, limit: int = RECEIVED_LIMIT
) -> list[asyncpg.Record]:
    """Packages waiting for the system (not acknowledged nor failed), oldest first, with the
    agencies of this system they are addressed to."""
    return await conn.fetch(
        """SELECT p.id, p.kind, p.document_id, p.sender_code, p.status_code, d.state, d.created_at, d.fetched_at,
                  ARRAY(SELECT pr.agency_code FROM package_recipients pr
                         WHERE pr.package_id = p.id AND pr.system_id = $1 ORDER BY pr.agency_code) AS recipients
             FROM deliveries d JOIN packages p ON p.id = d.package_id
            WHERE d.system_id = $1 AND d.state = 'queued' AND ($2::text IS NULL OR p.kind = $2)
            ORDER BY d.created_at LIMIT $3""",
        system_id,
        kind,
        limit,
    )


async def count_received(conn: Conn, system_id: str, kind: str) -> int:
    count: int = await conn.fetchval(
        """SELECT count(*) FROM deliveries d JOIN packages p ON p.id = d.package_id
            WHERE d.system_id = $1 AND d.state = 'queued' AND p.kind = $2""",
        system_id,
        kind,
    )
    return count


async def sent(conn: Conn, system_id: str, kind: str | None, *, limit: int = SENT_LIMIT) -> list[asyncpg.Record]:
    """Packages the system sent, newest first, each with its recipients' deliveries."""
    return await conn.fetch(
        """WITH p AS (
               SELECT id, kind, document_id, sender_code, status_code, received_at FROM packages
                WHERE sender_system = $1 AND ($2::text IS NULL OR kind = $2)
                ORDER BY received_at DESC LIMIT $3)
           SELECT p.*, coalesce((
                      SELECT jsonb_agg(jsonb_build_object(
                                 'requested', pr.requested_code, 'agency', pr.agency_code, 'state', d.state,
                                 'created_at', d.created_at, 'fetched_at', d.fetched_at,
                                 'delivered_at', d.delivered_at, 'failed_reason', d.failed_reason)
                             ORDER BY pr.requested_code)
                        FROM package_recipients pr
                        JOIN deliveries d ON d.package_id = pr.package_id AND d.system_id = pr.system_id
                       WHERE pr.package_id = p.id), '[]'::jsonb) AS receivers
             FROM p ORDER BY p.received_at DESC""",
        system_id,
        kind,
        limit,
    )


async def mark_processing(conn: Conn, package_id: uuid.UUID, system_id: str) -> dict[str, Any] | None:
    """updateStatus ``processing``: the system has the package and works on it. Recorded as a first
    download is (``fetched_at`` and a ``fetched`` event, once); the delivery stays queued. None
    when the package is not addressed to the system."""
    row = await conn.fetchrow(
        """WITH d AS (
               SELECT state, fetched_at FROM deliveries WHERE package_id = $1 AND system_id = $2),
           f AS (
               UPDATE deliveries SET fetched_at = now()
                WHERE package_id = $1 AND system_id = $2 AND state = 'queued' AND fetched_at IS NULL
            RETURNING fetched_at),
           e AS (
               INSERT INTO events (document_id, package_id, kind, system_id, detail)
               SELECT p.document_id, p.id, 'fetched', $2, jsonb_build_object('how', 'vdxp updateStatus processing')
                 FROM packages p, f WHERE p.id = $1)
           SELECT d.state, coalesce((SELECT fetched_at FROM f), d.fetched_at) AS fetched_at FROM d""",
        package_id,
        system_id,
    )
    return dict(row) if row else None


async def mark_failed(conn: Conn, package_id: uuid.UUID, system_id: str, reason: str) -> str | None:
    """updateStatus ``fail``: the recipient system could not process the package. A queued
    delivery becomes ``failed`` with the reason and a ``failed`` event, as a dead-lettered one
    does, and the sender's status view shows it. Returns the delivery's state afterwards (None
    when the package is not addressed to the system)."""
    state: str | None = await conn.fetchval(
        """WITH d AS (
               SELECT state FROM deliveries WHERE package_id = $1 AND system_id = $2),
           f AS (
               UPDATE deliveries SET state = 'failed', failed_reason = $3
                WHERE package_id = $1 AND system_id = $2 AND state = 'queued'
            RETURNING package_id),
           e AS (
               INSERT INTO events (document_id, package_id, kind, system_id, detail)
               SELECT p.document_id, p.id, 'failed', $2,
                      jsonb_build_object('reason', $3::text, 'how', 'vdxp updateStatus fail')
                 FROM f JOIN packages p ON p.id = f.package_id)
           SELECT CASE WHEN EXISTS (SELECT 1 FROM f) THEN 'failed' ELSE d.state END FROM d""",
        package_id,
        system_id,
        reason,
    )
    return state
