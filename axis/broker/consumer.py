"""The mailbox consumer: packages systems publish to ``axis.intake`` go through the same intake.

RabbitMQ validates the ``user_id`` property against the publisher's login, so it names the calling
system (``axis-sys-<id>``) as surely as a Bearer token does over HTTP. A refused package is
answered on the system's own queue with a ``refusal`` message carrying the error body (correlation
id = the published message's id); a message without a usable ``user_id`` goes to ``axis.dead``; a
transient failure (database or broker down) puts the message back for another try — up to
``retry_limit`` deliveries (RabbitMQ counts them in ``x-delivery-count``), after which the message
goes to ``axis.dead`` and its sender is told (``service.unavailable``, correlated to its message id,
so it publishes again later: nothing was stored). A bug (any other exception) is not retried for
ever either: it is logged with its traceback, the sender gets ``internal``, and the message is
dead-lettered. The dead-letter consumer logs both with their message ids.
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


def _deliveries(message: AbstractIncomingMessage) -> int:
    """How many times RabbitMQ has delivered this message (quorum queues count redeliveries)."""
    count = (message.headers or {}).get("x-delivery-count", 0)
    return (int(count) if isinstance(count, int | str) and str(count).isdigit() else 0) + 1


class IntakeConsumer:
    def __init__(
        self, broker: Broker, handler: Handler, *, prefetch: int = 8, retry_limit: int = 20, retry_delay: float = 1.0
    ) -> None:
        self._broker = broker
        self._retry_limit = retry_limit
        self._retry_delay = retry_delay
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
            attempts = _deliveries(message)
            if attempts < self._retry_limit:
                log.warning("intake.amqp.retry", system=system_id, error=repr(exc), deliveries=attempts)
                await asyncio.sleep(self._retry_delay)
                await message.nack(requeue=True)
                return
            log.error("intake.amqp.given_up", system=system_id, error=repr(exc), deliveries=attempts)
            unavailable = AxisError(
                "service.unavailable",
                f"The axis could not take the package after {attempts} attempts; publish it again later.",
                retry_after=60,
            )
            await self._give_up(system_id, message, unavailable)
            return
        except Exception:  # a bug: not redelivered for ever; the sender is told
            log.exception("intake.amqp.failed", system=system_id, message_id=message.message_id)
            await self._give_up(system_id, message, AxisError("internal", "An internal error occurred."))
            return
        await message.ack()

    async def _give_up(self, system_id: str, message: AbstractIncomingMessage, error: AxisError) -> None:
        """The sender is told, then the message is dead-lettered (never silently dropped)."""
        try:
            await self._refuse(system_id, message, error)
        except _RETRY as exc:  # the broker is down too: the dead letter is still logged
            log.warning("intake.amqp.refusal_unsent", system=system_id, error=repr(exc))
        await message.reject(requeue=False)

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
