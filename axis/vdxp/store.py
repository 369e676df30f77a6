"""SQL the SDK's interface needs and the exchange does not offer: secrets, sightings of signed
header sets, the received and sent lists with their transport states, and updateStatus
``processing``/``fail``.

Kept here rather than in ``axis.exchange``: they read the exchange's tables in the shapes the
SDK asks for, and the two writes (``processing``, ``fail``) touch a delivery's ``fetched_at`` and
``failed`` state exactly as a first download and a dead letter do, with their events (the
failure is ``axis.exchange.deliveries.fail``, the one way a delivery fails).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg

from axis.exchange import deliveries
from axis.exchange.deliveries import DeliveryState
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


async def sighting_age(conn: Conn, system_id: str, signature: str) -> dt.timedelta:
    """How long ago the axis first saw this signed header set from this system (zero when now)."""
    age: dt.timedelta | None = await conn.fetchval(
        """WITH seen AS (
               INSERT INTO vdxp_sightings (system_id, signature) VALUES ($1, $2)
               ON CONFLICT DO NOTHING RETURNING first_seen)
           SELECT now() - coalesce((SELECT first_seen FROM seen),
                                   (SELECT first_seen FROM vdxp_sightings WHERE system_id = $1 AND signature = $2),
                                   now())""",
        system_id,
        signature,
    )
    return age or dt.timedelta(0)


async def forget_sightings(conn: Conn, before: dt.datetime) -> int:
    """Retention: sightings first made before ``before`` go (``axis retention run``)."""
    result = await conn.execute("DELETE FROM vdxp_sightings WHERE first_seen < $1", before)
    return int(result.split()[-1])


async def received(
    conn: Conn, system_id: str, kind: str | None, *, limit: int = RECEIVED_LIMIT
) -> list[asyncpg.Record]:
    """Packages waiting for the system (not acknowledged nor failed), oldest first, with the
    agencies of this system they are addressed to."""
    return await conn.fetch(
        """SELECT p.id, p.kind, p.document_id, p.sender_code, p.status_code, p.signature_policy,
                  d.state, d.created_at, d.fetched_at,
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


async def sent(
    conn: Conn, system_id: str, kind: str | None, *, package_id: uuid.UUID | None = None, limit: int = SENT_LIMIT
) -> list[asyncpg.Record]:
    """Packages the system sent, newest first (or the one named), each with its recipients'
    deliveries and the latest business status each recipient agency answered."""
    return await conn.fetch(
        """WITH p AS (
               SELECT id, kind, document_id, sender_code, received_at, subject, signature_policy,
                      concat_ws('/', code_number, code_notation) AS notation
                 FROM packages
                WHERE sender_system = $1 AND ($2::text IS NULL OR kind = $2) AND ($3::uuid IS NULL OR id = $3)
                ORDER BY received_at DESC LIMIT $4)
           SELECT p.*, coalesce((
                      SELECT jsonb_agg(jsonb_build_object(
                                 'requested', pr.requested_code, 'agency', pr.agency_code, 'state', d.state,
                                 'created_at', d.created_at, 'fetched_at', d.fetched_at,
                                 'delivered_at', d.delivered_at, 'failed_reason', d.failed_reason,
                                 'status_code', (SELECT e.detail->>'code' FROM events e
                                                  WHERE e.document_id = p.document_id AND e.kind = 'status'
                                                    AND e.agency_code = pr.agency_code
                                                  ORDER BY e.id DESC LIMIT 1))
                             ORDER BY pr.requested_code)
                        FROM package_recipients pr
                        JOIN deliveries d ON d.package_id = pr.package_id AND d.system_id = pr.system_id
                       WHERE pr.package_id = p.id), '[]'::jsonb) AS receivers
             FROM p ORDER BY p.received_at DESC""",
        system_id,
        kind,
        package_id,
        limit,
    )


async def delivery(conn: Conn, package_id: uuid.UUID, system_id: str) -> asyncpg.Record | None:
    """The system's delivery of a package: its state and whether it was ever fetched."""
    return await conn.fetchrow(
        "SELECT state, fetched_at FROM deliveries WHERE package_id = $1 AND system_id = $2", package_id, system_id
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
                WHERE package_id = $1 AND system_id = $2 AND state = $3 AND fetched_at IS NULL
            RETURNING fetched_at),
           e AS (
               INSERT INTO events (document_id, package_id, kind, system_id, detail)
               SELECT p.document_id, p.id, 'fetched', $2, jsonb_build_object('how', 'vdxp updateStatus processing')
                 FROM packages p, f WHERE p.id = $1)
           SELECT d.state, coalesce((SELECT fetched_at FROM f), d.fetched_at) AS fetched_at FROM d""",
        package_id,
        system_id,
        DeliveryState.QUEUED,
    )
    return dict(row) if row else None


async def mark_failed(conn: Conn, package_id: uuid.UUID, system_id: str, reason: str) -> str | None:
    """updateStatus ``fail`` after the system fetched the package: it could not process it. A
    queued delivery becomes ``failed`` with the reason and a ``failed`` event, as a dead-lettered
    one does, and the sender's status view shows it. Returns the delivery's state afterwards
    (None when the package is not addressed to the system)."""
    if await deliveries.fail(conn, system_id, package_id=package_id, reason=reason, how="vdxp updateStatus fail"):
        return DeliveryState.FAILED
    row = await delivery(conn, package_id, system_id)  # it was not queued: as it stands
    return DeliveryState(row["state"]) if row else None


async def note_failure_before_fetch(conn: Conn, package_id: uuid.UUID, system_id: str, reason: str) -> None:
    """updateStatus ``fail`` from a system that never fetched the package: what the vendor's
    loop sends when its getEdoc failed, whoever's fault that was. The delivery stays queued (the
    package stays listed, to be fetched again); the report is kept as an event."""
    await conn.execute(
        """INSERT INTO events (document_id, package_id, kind, system_id, detail)
           SELECT p.document_id, p.id, 'failure_reported', $2,
                  jsonb_build_object('reason', $3::text, 'how', 'vdxp updateStatus fail before any fetch')
             FROM packages p WHERE p.id = $1""",
        package_id,
        system_id,
        reason,
    )
