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
from dataclasses import dataclass
from typing import Any

from axis.store.db import Conn

#: The most packages one list answer carries (received: oldest first; sent: newest first).
RECEIVED_LIMIT = 1000
SENT_LIMIT = 500


@dataclass(frozen=True, slots=True, kw_only=True)
class Waiting:
    """A package waiting for a system, with the agencies of that system it is addressed to."""

    id: uuid.UUID
    kind: str
    document_id: str
    sender_code: str
    status_code: str | None
    signature_policy: str
    state: str
    created_at: dt.datetime
    fetched_at: dt.datetime | None
    recipients: tuple[str, ...]
    file_signatures: str | None = None  # axis.files.findings.Verdict, None when not checked


@dataclass(frozen=True, slots=True, kw_only=True)
class Receiver:
    """One recipient agency of a sent package: its delivery, and its latest business status."""

    requested: str
    agency: str
    state: str
    created_at: dt.datetime
    fetched_at: dt.datetime | None
    delivered_at: dt.datetime | None
    failed_reason: str | None
    status_code: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Sent:
    """A package a system sent, with each recipient agency's delivery."""

    id: uuid.UUID
    kind: str
    document_id: str
    sender_code: str
    received_at: dt.datetime
    subject: str | None
    signature_policy: str
    notation: str
    receivers: tuple[Receiver, ...]


def _time(value: Any) -> dt.datetime | None:
    """Times inside a JSON aggregate arrive as ISO text."""
    return None if value is None else dt.datetime.fromisoformat(str(value))


def _receiver(item: dict[str, Any]) -> Receiver:
    created = _time(item["created_at"])
    assert created is not None  # deliveries.created_at is NOT NULL
    return Receiver(
        requested=item["requested"],
        agency=item["agency"],
        state=item["state"],
        created_at=created,
        fetched_at=_time(item["fetched_at"]),
        delivered_at=_time(item["delivered_at"]),
        failed_reason=item["failed_reason"],
        status_code=item["status_code"],
    )


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


async def received(conn: Conn, system_id: str, kind: str | None, *, limit: int = RECEIVED_LIMIT) -> list[Waiting]:
    """Packages waiting for the system (not acknowledged nor failed), oldest first, with the
    agencies of this system they are addressed to."""
    rows = await conn.fetch(
        """SELECT p.id, p.kind, p.document_id, p.sender_code, p.status_code, p.signature_policy,
                  d.state, d.created_at, d.fetched_at,
                  ARRAY(SELECT pr.agency_code FROM package_recipients pr
                         WHERE pr.package_id = p.id AND pr.system_id = $1 ORDER BY pr.agency_code) AS recipients,
                  fc.verdict AS file_signatures
             FROM deliveries d JOIN packages p ON p.id = d.package_id
                  LEFT JOIN file_checks fc ON fc.package_id = p.id
            WHERE d.system_id = $1 AND d.state = 'queued' AND ($2::text IS NULL OR p.kind = $2)
            ORDER BY d.created_at LIMIT $3""",
        system_id,
        kind,
        limit,
    )
    return [Waiting(**{**dict(r), "recipients": tuple(r["recipients"] or ())}) for r in rows]


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
) -> list[Sent]:
    """Packages the system sent, newest first (or the one named), each with its recipients'
    deliveries and the latest business status each recipient agency answered."""
    rows = await conn.fetch(
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
    return [Sent(**{**dict(r), "receivers": tuple(_receiver(x) for x in r["receivers"])}) for r in rows]
