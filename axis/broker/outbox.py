"""The outbox: messages committed with the state they announce, kept until RabbitMQ confirms them.

Intake writes a row per message in the transaction that accepts a package, due ten seconds later
(its grace period): the relay publishes it at once from memory and settles the row, and only a row
left behind falls due for the relay's loop. The loop claims due rows for one round (PostgreSQL
holds them ``FOR UPDATE SKIP LOCKED``, so several processes share the work), and each claimed row
is then published, backed off, or dropped when there is nothing left to publish. ``Outbox`` is
that contract; ``PostgresOutbox`` keeps it in the ``outbox`` table, ``MemoryOutbox``
(``axis.broker.memory``) in a dict for tests that need no server.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

import asyncpg

from axis.broker.kinds import GRACE as GRACE
from axis.broker.kinds import OutboxKind as OutboxKind
from axis.broker.publisher import Outgoing
from axis.broker.publishing import Publisher
from axis.exchange import deliveries
from axis.store import bodies
from axis.store.db import Conn


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class OutboxRow:
    """One claimed row: a message for one system, not yet confirmed."""

    id: int
    message_id: str
    kind: OutboxKind
    system_id: str
    payload: dict[str, Any] | None = None


class Claim(Protocol):
    """Due rows held for one round of the relay; what it does to them takes effect together."""

    @property
    def rows(self) -> Sequence[OutboxRow]: ...

    async def load(self, row: OutboxRow, publisher: Publisher) -> Outgoing | None:
        """The message to publish, or None when there is nothing to publish any more (archived)."""
        ...

    async def published(self, row: OutboxRow) -> None:
        """RabbitMQ confirmed it: the row goes, and a package's delivery is marked published."""
        ...

    async def discard(self, row: OutboxRow) -> None:
        """Nothing to publish any more: the row goes."""
        ...

    async def back_off(self, row: OutboxRow) -> None:
        """Not confirmed: try again later, the longer the more it failed (at most a minute)."""
        ...


class Outbox(Protocol):
    """The relay's store. Its methods raise one of ``axis.store.db.UNAVAILABLE`` when it is away."""

    def claim(self, limit: int) -> AbstractAsyncContextManager[Claim]:
        """Hold up to ``limit`` due rows, oldest first, skipping rows another round holds."""
        ...

    async def retry_soon(self, messages: Sequence[Outgoing]) -> None:
        """Published from memory but not confirmed: due again in a second, not after the grace."""
        ...

    async def settle(self, messages: Sequence[Outgoing]) -> None:
        """Published from memory and confirmed: their rows still in their grace period go (a due row
        with the same message is the loop's: a delivery requeued since, or a grace run out)."""
        ...


async def load_message(
    conn: Conn, kind: str, message_id: str, system_id: str, publisher: Publisher, payload: dict[str, Any] | None = None
) -> Outgoing | None:
    """The message an outbox row names, read from the package or receipt it points to."""
    if kind == OutboxKind.FAILURE:  # its body was fixed when the delivery failed (migration 010's trigger)
        if payload is None:
            return None
        return Outgoing(
            system_id=system_id,
            message_id=message_id,
            kind="failure",
            body=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            document_id=str(payload.get("document_id", "")),
            sender=str(payload.get("sender", "")),
            sender_system=system_id,
            content_type="application/json",
            correlation_id=str(payload.get("package_id", "")),
        )
    if kind == OutboxKind.PACKAGE:
        row = await conn.fetchrow(
            "SELECT id, body, kind, document_id, sender_code, sender_system, digest, size, chunks FROM packages"
            " WHERE id = $1::uuid AND archived_at IS NULL",
            message_id,
        )
        if row is None:
            return None
        body = row["body"]
        if row["chunks"] and not publisher.by_reference(row["size"], row["kind"]):  # else not needed
            body = await bodies.read(conn, row["id"], row["chunks"])
        return Outgoing(
            system_id=system_id,
            message_id=message_id,
            kind=row["kind"],
            body=body,
            document_id=row["document_id"],
            sender=row["sender_code"],
            sender_system=row["sender_system"],
            digest=row["digest"],
            size=row["size"],
        )
    row = await conn.fetchrow(
        """SELECT r.body, r.package_id, p.document_id, p.sender_code, p.sender_system
             FROM receipts r JOIN packages p ON p.id = r.package_id WHERE r.id = $1::uuid""",
        message_id,
    )
    if row is None:
        return None
    return Outgoing(
        system_id=system_id,
        message_id=message_id,
        kind="receipt",
        body=row["body"],
        document_id=row["document_id"],
        sender=row["sender_code"],
        sender_system=row["sender_system"],
        correlation_id=str(row["package_id"]),
    )


class PostgresOutbox:
    """The ``outbox`` table. A claim is one transaction: a round that fails leaves its rows due."""

    def __init__(self, pool: asyncpg.Pool, *, acquire_timeout: float = 5.0) -> None:
        self._pool = pool
        self._acquire_timeout = acquire_timeout

    @contextlib.asynccontextmanager
    async def claim(self, limit: int) -> AsyncIterator[Claim]:
        async with self._pool.acquire(timeout=self._acquire_timeout) as conn, conn.transaction():
            rows = await conn.fetch(
                """SELECT id, message_id, kind, system_id, payload FROM outbox
                    WHERE next_attempt_at <= now()
                    ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED""",
                limit,
            )
            claim = _PostgresClaim(conn, [_row(r) for r in rows])
            yield claim
            await claim.close()

    async def retry_soon(self, messages: Sequence[Outgoing]) -> None:
        async with self._pool.acquire(timeout=self._acquire_timeout) as conn:
            await conn.execute(
                """UPDATE outbox o
                      SET attempts = attempts + 1, next_attempt_at = now() + interval '1 second'
                     FROM unnest($1::text[], $2::text[]) AS t (message_id, system)
                    WHERE o.message_id = t.message_id AND o.system_id = t.system""",
                [m.message_id for m in messages],
                [m.system_id for m in messages],
            )

    async def settle(self, messages: Sequence[Outgoing]) -> None:
        async with self._pool.acquire(timeout=self._acquire_timeout) as conn:
            await conn.execute(
                """WITH gone AS (
                       DELETE FROM outbox o USING unnest($1::text[], $2::text[]) AS t (message_id, system)
                        WHERE o.message_id = t.message_id AND o.system_id = t.system
                          AND o.next_attempt_at > now()
                    RETURNING o.message_id, o.kind, o.system_id),
                   sent AS (
                       SELECT message_id::uuid AS package_id, system_id FROM gone WHERE kind = 'package'),
                   """
                + deliveries.mark_published("sent"),
                [m.message_id for m in messages],
                [m.system_id for m in messages],
            )


def _row(record: asyncpg.Record) -> OutboxRow:
    return OutboxRow(
        id=record["id"],
        message_id=record["message_id"],
        kind=OutboxKind(record["kind"]),
        system_id=record["system_id"],
        payload=record["payload"],
    )


class _PostgresClaim:
    def __init__(self, conn: Conn, rows: list[OutboxRow]) -> None:
        self._conn = conn
        self.rows = rows
        self._sent: list[tuple[uuid.UUID, str]] = []

    async def load(self, row: OutboxRow, publisher: Publisher) -> Outgoing | None:
        return await load_message(self._conn, row.kind, row.message_id, row.system_id, publisher, row.payload)

    async def published(self, row: OutboxRow) -> None:
        await self._conn.execute("DELETE FROM outbox WHERE id = $1", row.id)
        if row.kind == OutboxKind.PACKAGE:
            self._sent.append((uuid.UUID(row.message_id), row.system_id))

    async def close(self) -> None:
        """Note the deliveries published, all at once at the end of the round: a row lock taken
        as each was published would be held, out of order, while the next ones wait for their
        confirms."""
        if self._sent:
            await self._conn.execute(
                "WITH sent AS (SELECT * FROM unnest($1::uuid[], $2::text[]) AS t (package_id, system_id)), "
                + deliveries.mark_published("sent"),
                [package for package, _ in self._sent],
                [system for _, system in self._sent],
            )

    async def discard(self, row: OutboxRow) -> None:
        await self._conn.execute("DELETE FROM outbox WHERE id = $1", row.id)

    async def back_off(self, row: OutboxRow) -> None:
        await self._conn.execute(
            """UPDATE outbox
                  SET attempts = attempts + 1,
                      next_attempt_at = now() + least(60, 2 ^ least(attempts, 6)) * interval '1 s'
                WHERE id = $1""",
            row.id,
        )
