"""Failed deliveries, and sending them again once the recipient system can take them.

A delivery fails when its recipient system is disabled, when the system's consumer rejects the
message or lets it die (dead-lettered), or when it reports over the SDK that it could not process
the package. The package itself stays stored, so a failure need not be final: once the system is
mended (re-enabled, its consumer fixed), an administrator puts its failed deliveries back in the
queue. Each one goes back to ``queued`` with a ``requeued`` event naming who did it and why it had
failed (the sender's timeline shows both), an AMQP system gets the message again through the
outbox, an HTTP system finds it in its inbox, and the recipient's acknowledgement then produces the
delivery receipt as for any delivery. The administrator's act is also kept in the registry's
history of the system.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from axis.errors import AxisError
from axis.exchange import deliveries
from axis.exchange.deliveries import DeliveryState
from axis.exchange.store import package_uuid
from axis.registry import systems
from axis.store.db import Conn

#: How many package ids a history row lists (the events keep every one).
HISTORY_IDS = 100
#: How many failed deliveries one requeue without names takes, the oldest deliveries first: one
#: transaction, one answer of bounded size; what remains is counted for the next call.
BATCH = 1000


@dataclass(frozen=True, slots=True)
class FailedDelivery:
    """A delivery that failed (or, from ``requeue``, that failed until now)."""

    package_id: uuid.UUID
    document_id: str
    system_id: str
    sender_code: str
    subject: str | None
    reason: str | None
    failed_at: dt.datetime | None
    archived: bool


@dataclass(frozen=True, slots=True)
class Requeued:
    """What one requeue put back, and how many failed deliveries it left (not archived)."""

    deliveries: list[FailedDelivery]
    remaining: int


def _failed(row: asyncpg.Record) -> FailedDelivery:
    return FailedDelivery(**dict(row))


async def failed(conn: Conn, system_id: str, *, limit: int = 100, offset: int = 0) -> list[FailedDelivery]:
    """The system's failed deliveries, the latest failures first."""
    rows = await conn.fetch(
        # failed_at: the latest ``failed`` event (deliveries keep no column for it).
        """SELECT d.package_id, p.document_id, d.system_id, p.sender_code, p.subject,
                  d.failed_reason AS reason,
                  (SELECT max(e.at) FROM events e
                    WHERE e.document_id = p.document_id AND e.package_id = d.package_id
                      AND e.system_id = d.system_id AND e.kind = 'failed') AS failed_at,
                  p.archived_at IS NOT NULL AS archived
              FROM deliveries d JOIN packages p ON p.id = d.package_id
             WHERE d.system_id = $1 AND d.state = 'failed'
             ORDER BY failed_at DESC NULLS LAST, d.package_id
             LIMIT $2 OFFSET $3""",
        system_id,
        limit,
        offset,
    )
    return [_failed(r) for r in rows]


@dataclass(frozen=True, slots=True)
class Backlog:
    """What has not reached a system: deliveries still waiting, since when the oldest of them waits
    (queued, or requeued: the deadline restarts then, as in the status view), and failures."""

    queued: int = 0
    failed: int = 0
    oldest_queued_at: dt.datetime | None = None


async def backlogs(conn: Conn) -> dict[str, Backlog]:
    """Every system with something waiting or failed (both counts come from partial indexes)."""
    rows = await conn.fetch(
        """SELECT system_id, sum(queued)::bigint AS queued, sum(failed)::bigint AS failed,
                  min(oldest) AS oldest_queued_at
             FROM (SELECT system_id, count(*) AS queued, 0 AS failed,
                          min(coalesce(requeued_at, created_at)) AS oldest
                     FROM deliveries WHERE state = 'queued' GROUP BY system_id
                   UNION ALL
                   SELECT system_id, 0, count(*), NULL FROM deliveries WHERE state = 'failed' GROUP BY system_id) AS b
            GROUP BY system_id"""
    )
    return {r["system_id"]: Backlog(r["queued"], r["failed"], r["oldest_queued_at"]) for r in rows}


async def failed_count(conn: Conn, system_id: str) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM deliveries WHERE system_id = $1 AND state = 'failed'", system_id
    )
    return count


async def requeue(
    conn: Conn, actor: str, system_id: str, package_ids: Sequence[str] | None = None, *, limit: int | None = None
) -> Requeued:
    """Put the system's failed deliveries (the ``limit`` oldest, ``BATCH`` by default, or those of
    ``package_ids``) back in its queue.

    Refused while the system is disabled (it would fail them again at once). Named packages must
    each have a failed delivery to the system that retention has not archived; otherwise nothing is
    requeued. Without names, archived packages are left failed (there are no bytes to send).
    Returns what was requeued, with the reason each had failed, and how many are left to requeue.
    The caller holds the transaction. The move back to the queue, its events and the outbox rows
    are ``axis.exchange.deliveries.requeue``'s; choosing which deliveries go is this function's.
    """
    # The system's row is held until commit: disabling it meanwhile waits, and then fails what
    # this requeued (``axis.registry.systems.update``), rather than missing rows it could not yet
    # see as queued.
    system = await systems.require(conn, system_id, for_share=True)
    if not system.active:
        raise AxisError(
            "registry.system.disabled",
            f"System {system_id!r} is disabled: enable it before sending its failed deliveries again.",
            system=system_id,
        )
    named = None if package_ids is None else sorted({package_uuid(p) for p in package_ids})
    if named is not None:
        await _check_named(conn, system_id, named)
    rows = await conn.fetch(
        """WITH chosen AS (
                SELECT d.package_id, p.document_id, d.system_id, p.sender_code, p.subject,
                       d.failed_reason AS reason,
                       (SELECT max(e.at) FROM events e
                         WHERE e.document_id = p.document_id AND e.package_id = d.package_id
                           AND e.system_id = d.system_id AND e.kind = 'failed') AS failed_at,
                       false AS archived
                  FROM deliveries d JOIN packages p ON p.id = d.package_id
                 WHERE d.system_id = $1 AND d.state = 'failed' AND p.archived_at IS NULL
                   AND ($2::uuid[] IS NULL OR d.package_id = ANY ($2))
                 ORDER BY d.created_at, d.package_id
                 LIMIT CASE WHEN $2::uuid[] IS NULL THEN $3::bigint END
                   FOR UPDATE OF d FOR SHARE OF p)
            SELECT * FROM chosen ORDER BY failed_at NULLS FIRST, package_id""",
        system_id,
        named,
        limit or BATCH,
    )
    requeued = [_failed(r) for r in rows]
    if requeued:
        await deliveries.requeue(conn, system_id, [r.package_id for r in requeued], by=actor)
        await _record(conn, actor, system_id, requeued)
    remaining: int = await conn.fetchval(
        """SELECT count(*) FROM deliveries d JOIN packages p ON p.id = d.package_id
            WHERE d.system_id = $1 AND d.state = 'failed' AND p.archived_at IS NULL""",
        system_id,
    )
    return Requeued(requeued, remaining)


async def _check_named(conn: Conn, system_id: str, named: list[uuid.UUID]) -> None:
    rows = await conn.fetch(
        """SELECT t.id, d.state, p.archived_at IS NOT NULL AS archived
             FROM unnest($2::uuid[]) AS t (id)
             LEFT JOIN deliveries d ON d.package_id = t.id AND d.system_id = $1
             LEFT JOIN packages p ON p.id = t.id""",
        system_id,
        named,
    )
    archived = [str(r["id"]) for r in rows if r["state"] == DeliveryState.FAILED and r["archived"]]
    if archived:
        raise AxisError(
            "package.archived",
            "Retention archived these packages: there are no bytes left to send again.",
            package_ids=archived,
        )
    not_failed = {str(r["id"]): r["state"] or "none" for r in rows if r["state"] != DeliveryState.FAILED}
    if not_failed:
        raise AxisError(
            "delivery.not_failed",
            f"Only failed deliveries go back to the queue; nothing was requeued for {system_id!r}.",
            system=system_id,
            states=not_failed,
        )


async def _record(conn: Conn, actor: str, system_id: str, requeued: list[FailedDelivery]) -> None:
    """The administrator's act in the registry's history of the system. Not a registry change,
    so the registry's version stays (no cache anywhere needs reloading)."""
    await conn.execute(
        """INSERT INTO registry_history (actor, action, subject_kind, subject_id, before, after)
           VALUES ($1, 'system.requeue', 'system', $2, NULL, $3)""",
        actor,
        system_id,
        {
            "requeued": len(requeued),
            "package_ids": [str(r.package_id) for r in requeued[:HISTORY_IDS]],
        },
    )
