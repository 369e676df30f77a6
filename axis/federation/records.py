"""SQL: what this axis handed upstream, what it took from there, and the link's observed state.

``upstream_sent`` is written before each sendEdoc, so that a crash between the upstream's OK and
the local acknowledgement is known; ``upstream_received`` is the key of never ingesting an
upstream document twice (migration 017).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from axis.store.db import Conn


@dataclass(frozen=True, slots=True, kw_only=True)
class SentRow:
    state: str  # sending | handed | refused
    upstream_doc_id: str | None
    attempts: int
    next_attempt_at: dt.datetime


async def start_sending(conn: Conn, link_id: str, package_id: uuid.UUID) -> SentRow:
    """Note an attempt to hand ``package_id`` upstream (before the call), counting attempts."""
    row = await conn.fetchrow(
        """INSERT INTO upstream_sent (package_id, link_id, state, attempts) VALUES ($1, $2, 'sending', 1)
           ON CONFLICT (package_id) DO UPDATE
              SET attempts = upstream_sent.attempts + (upstream_sent.state <> 'handed')::int
           RETURNING state, upstream_doc_id, attempts, next_attempt_at""",
        package_id,
        link_id,
    )
    assert row is not None
    return SentRow(
        state=row["state"],
        upstream_doc_id=row["upstream_doc_id"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
    )


async def due(conn: Conn, package_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Those of ``package_ids`` not waiting out a back-off after a refusal."""
    rows = await conn.fetch(
        "SELECT package_id FROM upstream_sent WHERE package_id = ANY($1::uuid[]) AND next_attempt_at > now()",
        package_ids,
    )
    waiting = {r["package_id"] for r in rows}
    return {p for p in package_ids if p not in waiting}


async def handed(conn: Conn, package_id: uuid.UUID, upstream_doc_id: str) -> None:
    await conn.execute(
        """UPDATE upstream_sent SET state = 'handed', upstream_doc_id = $2, handed_at = now(), last_error = NULL
            WHERE package_id = $1""",
        package_id,
        upstream_doc_id,
    )


async def refused(conn: Conn, package_id: uuid.UUID, error: str, retry_in: float) -> None:
    await conn.execute(
        """UPDATE upstream_sent SET state = 'refused', last_error = $2,
                  next_attempt_at = now() + make_interval(secs => $3)
            WHERE package_id = $1""",
        package_id,
        error,
        retry_in,
    )


async def unsent(conn: Conn, package_id: uuid.UUID, error: str) -> None:
    """The upstream could not be reached: the attempt is over, nothing is known to have arrived."""
    await conn.execute("UPDATE upstream_sent SET last_error = $2 WHERE package_id = $1", package_id, error)


async def recipients(conn: Conn, package_id: uuid.UUID, system_id: str) -> list[str]:
    """The agency codes of ``package_id`` routed to ``system_id`` (the upstream), as addressed."""
    rows = await conn.fetch(
        """SELECT agency_code FROM package_recipients WHERE package_id = $1 AND system_id = $2
            ORDER BY requested_code""",
        package_id,
        system_id,
    )
    return [r["agency_code"] for r in rows]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceivedRow:
    state: str  # stored | done | own | failed
    package_id: uuid.UUID | None
    told: bool
    reason: str | None = None


async def received(conn: Conn, link_id: str, doc_ids: list[str]) -> dict[str, ReceivedRow]:
    rows = await conn.fetch(
        "SELECT upstream_doc_id, state, package_id, told, reason FROM upstream_received WHERE link_id = $1"
        " AND upstream_doc_id = ANY($2::text[])",
        link_id,
        doc_ids,
    )
    return {
        r["upstream_doc_id"]: ReceivedRow(
            state=r["state"], package_id=r["package_id"], told=r["told"], reason=r["reason"]
        )
        for r in rows
    }


async def record_received(
    conn: Conn,
    link_id: str,
    doc_id: str,
    message_type: str,
    state: str,
    *,
    package_id: uuid.UUID | None = None,
    reason: str | None = None,
    body: bytes | None = None,
) -> None:
    """What became of an upstream document; the first record wins (a second poller's is a no-op)."""
    await conn.execute(
        """INSERT INTO upstream_received (link_id, upstream_doc_id, message_type, state, package_id, reason, body)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (link_id, upstream_doc_id) DO NOTHING""",
        link_id,
        doc_id,
        message_type,
        state,
        package_id,
        reason,
        body,
    )


async def told(conn: Conn, link_id: str, doc_id: str) -> None:
    await conn.execute(
        """UPDATE upstream_received SET told = true, told_at = now(),
                  state = CASE WHEN state = 'stored' THEN 'done' ELSE state END
            WHERE link_id = $1 AND upstream_doc_id = $2""",
        link_id,
        doc_id,
    )


async def link_ok(conn: Conn, link_id: str) -> None:
    await conn.execute("UPDATE upstream_links SET last_ok_at = now() WHERE id = $1", link_id)


async def link_failed(conn: Conn, link_id: str, error: str) -> None:
    await conn.execute(
        "UPDATE upstream_links SET last_error = $2, last_error_at = now() WHERE id = $1", link_id, error[:2000]
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkState:
    """What an operator watches: is the link answering, and what waits for it."""

    last_ok_at: dt.datetime | None
    last_error: str | None
    last_error_at: dt.datetime | None
    agencies_synced_at: dt.datetime | None
    waiting: int  # packages for the upstream not yet handed
    oldest_waiting_at: dt.datetime | None
    refused: int  # of those, the upstream refused at the last attempt
    failed_inbound: int  # upstream documents local intake refused (kept for an operator)
    external_agencies: int

    @property
    def up(self) -> bool:
        """Whether the upstream answered its last call: a success more recent than the last error."""
        if self.last_ok_at is None:
            return False
        return self.last_error_at is None or self.last_ok_at > self.last_error_at


async def state(conn: Conn, link_id: str) -> LinkState | None:
    row = await conn.fetchrow(
        """SELECT l.last_ok_at, l.last_error, l.last_error_at, l.agencies_synced_at,
                  (SELECT count(*) FROM deliveries d WHERE d.system_id = l.id AND d.state = 'queued') AS waiting,
                  (SELECT min(d.created_at) FROM deliveries d
                    WHERE d.system_id = l.id AND d.state = 'queued') AS oldest_waiting_at,
                  (SELECT count(*) FROM upstream_sent s
                     JOIN deliveries d ON d.package_id = s.package_id AND d.system_id = l.id AND d.state = 'queued'
                    WHERE s.state = 'refused') AS refused,
                  (SELECT count(*) FROM upstream_received r WHERE r.link_id = l.id AND r.state = 'failed')
                    AS failed_inbound,
                  (SELECT count(*) FROM external_agencies e WHERE e.link_id = l.id) AS external_agencies
             FROM upstream_links l WHERE l.id = $1""",
        link_id,
    )
    if row is None:
        return None
    return LinkState(**dict(row))


@dataclass(frozen=True, slots=True, kw_only=True)
class Handed:
    """A delivery handed to the axis above: its DocId there, and when."""

    upstream_doc_id: str | None
    handed_at: dt.datetime | None
    state: str
    last_error: str | None


async def handed_for(conn: Conn, package_ids: list[uuid.UUID]) -> dict[uuid.UUID, Handed]:
    rows = await conn.fetch(
        "SELECT package_id, upstream_doc_id, handed_at, state, last_error FROM upstream_sent"
        " WHERE package_id = ANY($1::uuid[])",
        package_ids,
    )
    return {
        r["package_id"]: Handed(
            upstream_doc_id=r["upstream_doc_id"], handed_at=r["handed_at"], state=r["state"], last_error=r["last_error"]
        )
        for r in rows
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class Kept:
    """An upstream document local intake refused: kept here with its bytes, the upstream told ``fail``."""

    upstream_doc_id: str
    message_type: str  # edoc | status
    received_at: dt.datetime
    reason: str
    size: int


async def kept(conn: Conn, link_id: str, limit: int | None = None) -> list[Kept]:
    """The upstream documents local intake refused, latest first."""
    rows = await conn.fetch(
        """SELECT upstream_doc_id, message_type, received_at, coalesce(reason, '') AS reason,
                  coalesce(octet_length(body), 0) AS size
             FROM upstream_received WHERE link_id = $1 AND state = 'failed'
            ORDER BY received_at DESC, upstream_doc_id LIMIT $2""",
        link_id,
        limit,
    )
    return [Kept(**dict(row)) for row in rows]


async def kept_body(conn: Conn, link_id: str, doc_id: str) -> bytes | None:
    """The bytes of a refused upstream document as the upstream gave them (None: no such one)."""
    body: bytes | None = await conn.fetchval(
        "SELECT coalesce(body, ''::bytea) FROM upstream_received WHERE link_id = $1 AND upstream_doc_id = $2"
        " AND state = 'failed'",
        link_id,
        doc_id,
    )
    return body
