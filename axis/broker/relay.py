"""The outbox relay: publishes what the database says must be published, until RabbitMQ confirms.

Intake writes outbox rows in the transaction that accepts a package, then asks the relay to publish
them at once (``publish_now``). Whatever is left — RabbitMQ was down, a channel closed, a confirm
never came, the process died — the background loop publishes later. Rows are claimed with
``FOR UPDATE SKIP LOCKED``, so several axis processes share the work without publishing a row
twice at the same time; a lost confirm can still publish twice, which consumers absorb by message id.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import asyncpg
import structlog

from axis.broker.publisher import Broker, BrokerUnavailable, Outgoing
from axis.store import bodies, db
from axis.store.db import Conn

log = structlog.get_logger("axis.relay")


async def _load(
    conn: Conn, kind: str, message_id: str, system_id: str, broker: Broker, payload: dict[str, Any] | None = None
) -> Outgoing | None:
    if kind == "failure":  # its body was fixed when the delivery failed (migration 010's trigger)
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
    if kind == "package":
        row = await conn.fetchrow(
            "SELECT id, body, kind, document_id, sender_code, sender_system, digest, size, chunks FROM packages"
            " WHERE id = $1::uuid AND archived_at IS NULL",
            message_id,
        )
        if row is None:
            return None
        body = row["body"]
        if row["chunks"] and not broker.by_reference(row["size"], row["kind"]):  # else not needed
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


class OutboxRelay:
    def __init__(
        self,
        pool: asyncpg.Pool,
        broker: Broker,
        *,
        interval: float = 2.0,
        batch: int = 50,
        settle_delay: float = 0.05,
        acquire_timeout: float = 5.0,
    ) -> None:
        self._acquire_timeout = acquire_timeout
        self._pool = pool
        self._broker = broker
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
        return self._broker.by_reference(size, kind)

    async def publish_now(self, messages: list[Outgoing]) -> int:
        """Publish messages whose outbox rows were just committed, from memory and concurrently;
        the confirmed ones leave the outbox shortly after, with those of other requests; the
        others stay for the loop."""
        results = await asyncio.gather(*(self._broker.publish(m) for m in messages), return_exceptions=True)
        confirmed = [m for m, result in zip(messages, results, strict=True) if result is None]
        failed = [m for m, result in zip(messages, results, strict=True) if result is not None]
        for result in results:
            if result is not None and not isinstance(result, BrokerUnavailable):
                # Already committed: never fail the caller's request now; the relay retries.
                log.error("relay.publish_error", error=repr(result))
        if failed:  # retry soon rather than after the grace period
            async with self._pool.acquire(timeout=self._acquire_timeout) as conn:
                await conn.execute(
                    """UPDATE outbox o
                          SET attempts = attempts + 1, next_attempt_at = now() + interval '1 second'
                         FROM unnest($1::text[], $2::text[]) AS t (message_id, system)
                        WHERE o.message_id = t.message_id AND o.system_id = t.system""",
                    [m.message_id for m in failed],
                    [m.system_id for m in failed],
                )
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
        async with self._pool.acquire(timeout=self._acquire_timeout) as conn:
            await conn.execute(
                """WITH gone AS (
                       DELETE FROM outbox o USING unnest($1::text[], $2::text[]) AS t (message_id, system)
                        WHERE o.message_id = t.message_id AND o.system_id = t.system
                          AND o.next_attempt_at > now()
                    RETURNING o.message_id, o.kind, o.system_id)
                   UPDATE deliveries d SET published_at = coalesce(d.published_at, now())
                     FROM gone
                    WHERE gone.kind = 'package' AND d.package_id = gone.message_id::uuid
                      AND d.system_id = gone.system_id""",
                [m.message_id for m in confirmed],
                [m.system_id for m in confirmed],
            )

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
        async with self._pool.acquire(timeout=self._acquire_timeout) as conn, conn.transaction():
            rows = await conn.fetch(
                """SELECT id, message_id, kind, system_id, payload FROM outbox
                    WHERE next_attempt_at <= now()
                    ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED""",
                self._batch,
            )
            for row in rows:
                outgoing = await _load(
                    conn, row["kind"], row["message_id"], row["system_id"], self._broker, row["payload"]
                )
                if outgoing is None:  # nothing to publish any more (e.g. archived)
                    await conn.execute("DELETE FROM outbox WHERE id = $1", row["id"])
                    continue
                try:
                    await self._broker.publish(outgoing)
                except BrokerUnavailable:
                    await conn.execute(
                        """UPDATE outbox
                              SET attempts = attempts + 1,
                                  next_attempt_at = now() + least(60, 2 ^ least(attempts, 6)) * interval '1 s'
                            WHERE id = $1""",
                        row["id"],
                    )
                    break  # RabbitMQ is unwell: leave the rest for the next round
                await conn.execute("DELETE FROM outbox WHERE id = $1", row["id"])
                if row["kind"] == "package":
                    await conn.execute(
                        """UPDATE deliveries SET published_at = coalesce(published_at, now())
                            WHERE package_id = $1::uuid AND system_id = $2""",
                        row["message_id"],
                        row["system_id"],
                    )
                published += 1
        return published

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")
        self._settler = asyncio.create_task(self._settle_confirmed(), name="outbox-settler")

    def nudge(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
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
