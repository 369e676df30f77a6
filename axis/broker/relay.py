"""The outbox relay: publishes what the database says must be published, until RabbitMQ confirms.

Intake writes outbox rows in the transaction that accepts a package, then asks the relay to publish
them at once (``publish_now``). Whatever is left — RabbitMQ was down, a channel closed, a confirm
never came, the process died — the background loop publishes later. Rows are claimed with
``FOR UPDATE SKIP LOCKED``, so several axis processes share the work without publishing a row
twice at the same time; a lost confirm can still publish twice, which consumers absorb by message id.
The relay reaches RabbitMQ through a ``Publisher`` and the database through an ``Outbox``: the real
ones in the application, in-memory ones in the tests of its logic.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

import asyncpg
import structlog

from axis.broker.outbox import Outbox, PostgresOutbox
from axis.broker.outbox import load_message as _load  # noqa: F401  (its former home: tests import it from here)
from axis.broker.publisher import BrokerUnavailable, Outgoing
from axis.broker.publishing import Publisher
from axis.store import db

log = structlog.get_logger("axis.relay")


class OutboxRelay:
    """Publishes the outbox: at once from memory (``publish_now``), and in rounds for what is left."""

    def __init__(
        self,
        outbox: Outbox | asyncpg.Pool,
        publisher: Publisher,
        *,
        interval: float = 2.0,
        batch: int = 50,
        settle_delay: float = 0.05,
        acquire_timeout: float = 5.0,
    ) -> None:
        """``outbox`` may still be a pool, as callers written before ``Outbox`` pass it; the
        ``PostgresOutbox`` made of it then borrows within ``acquire_timeout`` (unused otherwise)."""
        if isinstance(outbox, asyncpg.Pool):
            outbox = PostgresOutbox(outbox, acquire_timeout=acquire_timeout)
        self._outbox: Outbox = outbox
        self._publisher = publisher
        self._interval = interval
        self._batch = batch
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        # Confirmed messages whose outbox rows are still to be deleted: one statement for all the
        # requests of a short interval instead of one commit per request. A crash before that
        # statement leaves rows the loop publishes again after their grace period; consumers
        # absorb the copy by message id, as after any lost confirm.
        self._settle_delay = settle_delay
        self._confirmed: list[Outgoing] = []
        self._settled = asyncio.Event()
        self._settler: asyncio.Task[None] | None = None

    def by_reference(self, size: int, kind: str) -> bool:
        """Whether a package of this size goes to AMQP systems by reference (its bytes not needed)."""
        return self._publisher.by_reference(size, kind)

    async def publish_now(self, messages: Sequence[Outgoing]) -> int:
        """Publish messages whose outbox rows were just committed, from memory and concurrently;
        the confirmed ones leave the outbox shortly after, with those of other requests; the
        others stay for the loop."""
        results = await asyncio.gather(*(self._publisher.publish(m) for m in messages), return_exceptions=True)
        confirmed = [m for m, result in zip(messages, results, strict=True) if result is None]
        failed = [m for m, result in zip(messages, results, strict=True) if result is not None]
        for result in results:
            if result is not None and not isinstance(result, BrokerUnavailable):
                # Already committed: never fail the caller's request now; the relay retries.
                log.error("relay.publish_error", error=repr(result))
        if failed:  # retry soon rather than after the grace period
            await self._outbox.retry_soon(failed)
        if confirmed:
            if self._settler is None or self._settler.done():
                await self._settle(confirmed)  # not running (a tool, a test): settle at once
            else:
                self._confirmed += confirmed
                self._settled.set()
        return len(confirmed)

    async def _settle(self, confirmed: list[Outgoing]) -> None:
        """Delete the rows of messages published from memory. Only rows still in their grace
        period: those are the ones ``publish_now`` published (they were written due ten seconds
        later). A due row with the same message belongs to the loop: a delivery requeued since
        (its row is due at once) must not go with the first publication's row, or it would never
        be sent; and a row whose grace ran out before this settled is the loop's to publish
        again, which consumers absorb by message id."""
        await self._outbox.settle(confirmed)

    async def _settle_confirmed(self) -> None:
        """Delete the outbox rows of confirmed messages, a batch every ``settle_delay``."""
        while True:
            await self._settled.wait()
            await asyncio.sleep(self._settle_delay)
            self._settled.clear()
            await self._flush()

    async def _flush(self) -> None:
        batch, self._confirmed = self._confirmed, []
        if not batch:
            return
        try:
            await self._settle(batch)
        except asyncio.CancelledError:
            self._confirmed = batch + self._confirmed  # stopping: ``stop`` settles them
            raise
        except db.UNAVAILABLE as exc:
            # The rows stay; the loop publishes them again after their grace period.
            log.warning("relay.settle_failed", error=str(exc), messages=len(batch))

    async def drain_due(self) -> int:
        """Publish what is due in the outbox (rows others hold are skipped)."""
        published = 0
        async with self._outbox.claim(self._batch) as claim:
            for row in claim.rows:
                outgoing = await claim.load(row, self._publisher)
                if outgoing is None:  # nothing to publish any more (e.g. archived)
                    await claim.discard(row)
                    continue
                try:
                    await self._publisher.publish(outgoing)
                except BrokerUnavailable:
                    await claim.back_off(row)
                    break  # RabbitMQ is unwell: leave the rest for the next round
                await claim.published(row)
                published += 1
        return published

    def start(self) -> None:
        """Run the loop and the settler in the background until ``stop``."""
        self._task = asyncio.create_task(self._run(), name="outbox-relay")
        self._settler = asyncio.create_task(self._settle_confirmed(), name="outbox-settler")

    def nudge(self) -> None:
        """Start the next round now rather than after ``interval`` (something just fell due)."""
        self._wake.set()

    async def stop(self) -> None:
        """Stop the loop (a round cut short leaves its rows due) and settle what was confirmed."""
        for task in (self._task, self._settler):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self._flush()  # what was confirmed before the stop leaves the outbox now

    async def _run(self) -> None:
        while True:
            try:
                while await self.drain_due() == self._batch:
                    pass
            except db.UNAVAILABLE as exc:
                log.warning("relay.round_failed", error=str(exc))
            except Exception:  # a bug must not stop every later publication: log it, go on next round
                log.exception("relay.round_crashed")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._interval):
                    await self._wake.wait()
            self._wake.clear()
