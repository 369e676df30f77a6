"""The publishing edge in memory: a ``Publisher`` and an ``Outbox`` for tests that need no server.

``MemoryPublisher`` behaves as RabbitMQ does for a publisher: a publish returns once confirmed,
fails with ``BrokerUnavailable`` otherwise, and a lost confirm means the message may well be in
the queue although the publisher was told it failed. ``MemoryOutbox`` keeps the outbox table's
rules in a dict, on a clock a test may move. Production code never imports this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import time
from collections.abc import AsyncIterator, Callable, Sequence

from axis.broker.outbox import GRACE, Claim, OutboxKind, OutboxRow
from axis.broker.publisher import INLINE_MAX, BrokerUnavailable, Outgoing, goes_by_reference
from axis.broker.publishing import Publisher


class MemoryPublisher:
    """A ``Publisher`` whose queues are a list, and whose failures a test orders in advance."""

    def __init__(self, *, inline_max: int = INLINE_MAX) -> None:
        self._inline_max = inline_max
        #: Every message that reached a queue, in order, copies after lost confirms included.
        self.published: list[Outgoing] = []
        #: How many publishes were attempted (failed ones included).
        self.tried = 0
        #: While true every publish fails, as while RabbitMQ is down.
        self.down = False
        self._failing = 0
        self._losing = 0
        self._flowing = asyncio.Event()
        self._flowing.set()

    def fail_next(self, count: int = 1) -> None:
        """The next ``count`` publishes fail before reaching a queue (a closed channel, a nack)."""
        self._failing += count

    def lose_next_confirms(self, count: int = 1) -> None:
        """The next ``count`` publishes reach their queue, but the publisher never hears so."""
        self._losing += count

    def stall(self) -> None:
        """Publishes wait for their confirm until ``resume`` (a slow or blocked RabbitMQ)."""
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    def by_reference(self, size: int, kind: str) -> bool:
        return goes_by_reference(size, kind, self._inline_max)

    async def publish(self, message: Outgoing) -> None:
        self.tried += 1
        await asyncio.sleep(0)  # a real publish always waits for its confirm: let others run meanwhile
        await self._flowing.wait()
        if self.down:
            raise BrokerUnavailable("RabbitMQ is down (in memory)")
        if self._failing:
            self._failing -= 1
            raise BrokerUnavailable("publish failed (in memory)")
        self.published.append(message)
        if self._losing:
            self._losing -= 1
            raise BrokerUnavailable("confirm lost (in memory)")


@dataclasses.dataclass(slots=True)
class _Entry:
    row: OutboxRow
    message: Outgoing | None
    due: float
    attempts: int = 0


class MemoryOutbox:
    """An ``Outbox`` in a dict, on a clock a test may move, with the table's rules: rows by id, a
    claim's changes applied only when its round ends well, a package's delivery marked published."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._entries: dict[int, _Entry] = {}
        self._ids = itertools.count(1)
        self._claimed: set[int] = set()
        #: Deliveries marked published, as (package id, system): ``deliveries.published_at``.
        self.delivered: set[tuple[str, str]] = set()

    def add(self, message: Outgoing, *, due_in: float = GRACE, archived: bool = False) -> OutboxRow:
        """Write the row intake writes for a message; ``archived``: its package is gone by now."""
        row = OutboxRow(
            id=next(self._ids),
            message_id=message.message_id,
            kind=OutboxKind.of(message.kind),
            system_id=message.system_id,
        )
        self._entries[row.id] = _Entry(row, None if archived else message, self._clock() + due_in)
        return row

    @property
    def rows(self) -> list[OutboxRow]:
        """The rows still waiting, oldest first."""
        return [entry.row for entry in self._entries.values()]

    def attempts(self, row: OutboxRow) -> int:
        return self._entries[row.id].attempts

    def due_in(self, row: OutboxRow) -> float:
        return self._entries[row.id].due - self._clock()

    @contextlib.asynccontextmanager
    async def claim(self, limit: int) -> AsyncIterator[Claim]:
        now = self._clock()  # PostgreSQL's now() too is the transaction's start
        due = [e.row for e in self._entries.values() if e.due <= now and e.row.id not in self._claimed][:limit]
        held = {row.id for row in due}
        self._claimed |= held
        claim = _MemoryClaim(self, due, now)
        try:
            yield claim
            for change in claim.changes:  # committed; on an exception they are rolled back
                change()
        finally:
            self._claimed -= held

    async def retry_soon(self, messages: Sequence[Outgoing]) -> None:
        wanted = {(m.message_id, m.system_id) for m in messages}
        for entry in self._entries.values():
            if (entry.row.message_id, entry.row.system_id) in wanted:
                entry.attempts += 1
                entry.due = self._clock() + 1.0

    async def settle(self, messages: Sequence[Outgoing]) -> None:
        wanted = {(m.message_id, m.system_id) for m in messages}
        now = self._clock()
        for entry in list(self._entries.values()):
            if (entry.row.message_id, entry.row.system_id) in wanted and entry.due > now:
                self._published(entry.row)

    def _message(self, row: OutboxRow) -> Outgoing | None:
        entry = self._entries.get(row.id)
        return None if entry is None else entry.message

    def _discard(self, row: OutboxRow) -> None:
        self._entries.pop(row.id, None)

    def _published(self, row: OutboxRow) -> None:
        if self._entries.pop(row.id, None) is not None and row.kind == OutboxKind.PACKAGE:
            self.delivered.add((row.message_id, row.system_id))

    def _back_off(self, row: OutboxRow, now: float) -> None:
        entry = self._entries.get(row.id)
        if entry is not None:
            entry.due = now + min(60, 2 ** min(entry.attempts, 6))
            entry.attempts += 1


class _MemoryClaim:
    def __init__(self, outbox: MemoryOutbox, rows: list[OutboxRow], now: float) -> None:
        self._outbox = outbox
        self._now = now
        self.rows = rows
        self.changes: list[Callable[[], object]] = []

    async def load(self, row: OutboxRow, publisher: Publisher) -> Outgoing | None:
        return self._outbox._message(row)

    async def published(self, row: OutboxRow) -> None:
        self.changes.append(lambda: self._outbox._published(row))

    async def discard(self, row: OutboxRow) -> None:
        self.changes.append(lambda: self._outbox._discard(row))

    async def back_off(self, row: OutboxRow) -> None:
        self.changes.append(lambda: self._outbox._back_off(row, self._now))
