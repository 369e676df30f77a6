"""Requests waiting for a system's inbox (``GET /api/v1/inbox?wait=N``), woken when it fills.

Agency software that pulls over HTTP otherwise asks again every so often: each empty answer
costs a request on both sides, and the document waits up to the interval. A waiting request is
answered as soon as something lands in the inbox instead. What lands there is told by PostgreSQL
(``NOTIFY axis_inbox`` from triggers on deliveries and receipts, migration 023) to every axis
process, whichever process wrote it; each wakes its own waiters for that system. A notification
is a hint, never the answer: the woken request reads the inbox again, and a waiter reads it
again every ``RECHECK`` seconds as well, so a notification lost (the listening connection
dropped and came back) delays an answer by at most that long, and loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib

#: The channel the triggers notify, with the system's id as the payload.
CHANNEL = "axis_inbox"

#: Seconds a waiting request reads the inbox again without being told (the safety net).
RECHECK = 5.0


class Wakeups:
    """The waiting requests of one process, by system. A request takes a ticket *before* it reads
    the inbox, so that something arriving between the read and the wait still wakes it."""

    def __init__(self) -> None:
        self._tickets: dict[str, asyncio.Event] = {}
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def ticket(self, system_id: str) -> asyncio.Event:
        """What the next arrival for ``system_id`` sets (shared by that system's waiters)."""
        if self._closed:
            ticket = asyncio.Event()
            ticket.set()
            return ticket
        return self._tickets.setdefault(system_id, asyncio.Event())

    async def wait(self, ticket: asyncio.Event, seconds: float) -> None:
        """Until ``ticket`` is set or ``seconds`` pass (whichever first; never an error)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await ticket.wait()

    def arrived(self, system_id: str) -> None:
        ticket = self._tickets.pop(system_id, None)
        if ticket is not None:
            ticket.set()

    def on_notify(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        """asyncpg's listener callback for ``CHANNEL``."""
        if isinstance(payload, str):
            self.arrived(payload)

    def close(self) -> None:
        """Shutting down: every waiter reads the inbox once more and answers now."""
        self._closed = True
        tickets, self._tickets = self._tickets, {}
        for ticket in tickets.values():
            ticket.set()
