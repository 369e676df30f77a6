"""The mailbox consumer: packages systems publish to ``axis.intake`` go through the same intake.

RabbitMQ validates the ``user_id`` property against the publisher's login, so it names the calling
system (``axis-sys-<id>``) as surely as a Bearer token does over HTTP. A refused package is
answered on the system's own queue with a ``refusal`` message carrying the error body (correlation
id = the published message's id); a message without a usable ``user_id`` goes to ``axis.dead``; a
transient failure (database or broker down) puts the message back for another try.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import structlog
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage

from axis.broker import topology
from axis.broker.publisher import Broker, BrokerUnavailable, Outgoing
from axis.errors import AxisError
from axis.store import db

#: Faults after which a package is handed back to the queue to be taken again.
_RETRY: tuple[type[BaseException], ...] = (BrokerUnavailable, *db.UNAVAILABLE)

log = structlog.get_logger("axis.intake.amqp")

USER_PREFIX = "axis-sys-"

#: (system id, package bytes) -> None; raises AxisError to refuse.
Handler = Callable[[str, bytes], Awaitable[object]]


def system_of_user(user_id: str | None) -> str | None:
    if user_id and user_id.startswith(USER_PREFIX) and len(user_id) > len(USER_PREFIX):
        return user_id[len(USER_PREFIX) :]
    return None


class IntakeConsumer:
    def __init__(self, broker: Broker, handler: Handler, *, prefetch: int = 8) -> None:
        self._broker = broker
        self._handler = handler
        self._prefetch = prefetch
        self._channel: AbstractChannel | None = None
        self._tag: str | None = None
        self._in_flight: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._channel = await self._broker.connection.channel()
        await self._channel.set_qos(prefetch_count=self._prefetch)
        queue = await self._channel.get_queue(topology.INTAKE)
        self._tag = await queue.consume(self._on_message)

    async def stop(self) -> None:
        """Stop taking messages, let the ones in hand finish, then close."""
        if self._channel is None:
            return
        if self._tag is not None and not self._channel.is_closed:
            queue = await self._channel.get_queue(topology.INTAKE)
            await queue.cancel(self._tag)
        if self._in_flight:
            await asyncio.wait(self._in_flight, timeout=30)
        if not self._channel.is_closed:
            await self._channel.close()

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
        try:
            await self._handle(message)
        finally:
            if task is not None:
                self._in_flight.discard(task)

    async def _handle(self, message: AbstractIncomingMessage) -> None:
        system_id = system_of_user(message.user_id)
        if system_id is None:
            log.warning("intake.amqp.anonymous", user_id=message.user_id, message_id=message.message_id)
            await message.reject(requeue=False)  # dead-lettered: nobody to answer
            return
        try:
            await self._handler(system_id, message.body)
        except AxisError as refusal:
            log.info("intake.amqp.refused", system=system_id, code=refusal.code, message_id=message.message_id)
            await self._refuse(system_id, message, refusal)
        except _RETRY as exc:
            log.warning("intake.amqp.retry", system=system_id, error=repr(exc))
            await asyncio.sleep(1.0)
            await message.nack(requeue=True)
            return
        await message.ack()

    async def _refuse(self, system_id: str, message: AbstractIncomingMessage, refusal: AxisError) -> None:
        body = json.dumps(refusal.as_dict(), ensure_ascii=False).encode("utf-8")
        await self._broker.publish(
            Outgoing(
                system_id=system_id,
                message_id=f"refusal:{message.message_id or id(message)}",
                kind="refusal",
                body=body,
                document_id="",
                sender="",
                sender_system="",
                content_type="application/json",
                correlation_id=message.message_id,
            )
        )
