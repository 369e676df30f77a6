"""Undeliverable messages: what lands in ``axis.dead`` makes its delivery ``failed``, with a reason.

A system's consumer that rejects a message, or lets it be redelivered past the queue's delivery
limit, sends it to the dead-letter exchange. The package is still in PostgreSQL and still in the
HTTP inbox; what changes is that the sender sees the failure (and why) instead of a delivery that
silently never completes. Receipts, refusals and failure notices that die are only logged.
"""

from __future__ import annotations

import asyncpg
import structlog
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage

from axis.broker import topology
from axis.broker.publisher import Broker
from axis.store import db

log = structlog.get_logger("axis.dead_letters")

_REASONS = {
    "rejected": "the recipient system's consumer rejected the message",
    "delivery_limit": "the recipient system's consumer failed to take the message too many times",
    "expired": "the message expired in the recipient system's queue",
    "maxlen": "the recipient system's queue was full",
}


def reason_of(message: AbstractIncomingMessage) -> str:
    deaths = (message.headers or {}).get("x-death")
    if isinstance(deaths, list) and deaths and isinstance(deaths[0], dict):
        raw = str(deaths[0].get("reason", ""))
        return _REASONS.get(raw, f"dead-lettered ({raw})")
    return "dead-lettered"


class DeadLetters:
    def __init__(self, broker: Broker, pool: asyncpg.Pool, *, acquire_timeout: float = 5.0) -> None:
        self._broker = broker
        self._pool = pool
        self._acquire_timeout = acquire_timeout
        self._channel: AbstractChannel | None = None
        self._tag: str | None = None

    async def start(self) -> None:
        self._channel = await self._broker.connection.channel()
        await self._channel.set_qos(prefetch_count=16)
        queue = await self._channel.get_queue(topology.DEAD)
        self._tag = await queue.consume(self._on_message)

    async def stop(self) -> None:
        if self._channel is not None and not self._channel.is_closed:
            if self._tag is not None:
                queue = await self._channel.get_queue(topology.DEAD)
                await queue.cancel(self._tag)
            await self._channel.close()

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        headers = message.headers or {}
        kind = str(headers.get("kind") or message.type or "")
        system_id = str(headers.get("recipient_system") or "")
        reason = reason_of(message)
        if kind not in ("document", "status") or not system_id or not message.message_id:
            log.warning(
                "dead_letter.dropped", kind=kind, system=system_id, reason=reason, message_id=message.message_id
            )
            await message.ack()
            return
        try:
            async with self._pool.acquire(timeout=self._acquire_timeout) as conn:
                failed = await conn.fetchval(
                    """WITH f AS (
                           UPDATE deliveries SET state = 'failed', failed_reason = $3
                            WHERE package_id = $1::uuid AND system_id = $2 AND state = 'queued'
                        RETURNING package_id)
                       INSERT INTO events (document_id, package_id, kind, system_id, detail)
                       SELECT p.document_id, p.id, 'failed', $2, jsonb_build_object('reason', $3::text)
                         FROM f JOIN packages p ON p.id = f.package_id
                       RETURNING package_id""",
                    message.message_id,
                    system_id,
                    reason,
                )
        except db.UNAVAILABLE as exc:
            log.warning("dead_letter.retry", error=repr(exc))
            await message.nack(requeue=True)
            return
        log.warning("delivery.failed", package_id=message.message_id, system=system_id, reason=reason, marked=failed)
        await message.ack()
