"""Undeliverable messages: what lands in ``axis.dead`` makes its delivery ``failed``, with a reason.

A system's consumer that rejects a message, or lets it be redelivered past the queue's delivery
limit, sends it to the dead-letter exchange. The package is still in PostgreSQL and still in the
HTTP inbox; what changes is that the sender sees the failure (and why) instead of a delivery that
silently never completes (``axis.exchange.deliveries.fail``). Receipts, refusals and failure
notices that die are only logged, as is a package message whose id is no package id.
"""

from __future__ import annotations

import uuid

import asyncpg
import structlog
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage

from axis.broker import topology
from axis.broker.publisher import Broker
from axis.exchange import deliveries
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
        package_id = _package_id(message.message_id)
        if kind not in ("document", "status") or not system_id or package_id is None:
            log.warning(
                "dead_letter.dropped", kind=kind, system=system_id, reason=reason, message_id=message.message_id
            )
            await message.ack()
            return
        try:
            async with self._pool.acquire(timeout=self._acquire_timeout) as conn:
                failed = await deliveries.fail(conn, system_id, package_id=package_id, reason=reason)
        except db.UNAVAILABLE as exc:
            log.warning("dead_letter.retry", error=repr(exc))
            await message.nack(requeue=True)
            return
        log.warning(
            "delivery.failed", package_id=message.message_id, system=system_id, reason=reason, marked=bool(failed)
        )
        await message.ack()


def _package_id(message_id: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(message_id or "")
    except ValueError:
        return None
