"""A system's RabbitMQ side: consume its own queue, publish signed packages to ``axis.intake``.

Messages can arrive twice on the wire (a publish whose confirm was lost is published again), so the
mailbox hands each message id to the application once: the at-least-once wire becomes exactly-once
in effect. What a message carries is opened with ``AgencyClient.open`` (packages) or
``AgencyClient.verify_receipt`` (receipts), the same checks as over HTTP.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import hashlib
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection

from axis.client.api import AxisClient
from axis.errors import AxisError


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message from the axis: a package (document or status), a receipt, or a refusal."""

    message_id: str  # the package or receipt id (for a refusal: its own id)
    kind: str  # document | status | receipt | refusal
    body: bytes  # edXML as signed, receipt XML, or a refusal's JSON error body
    document_id: str
    sender: str  # the sending agency's code
    correlation_id: str | None  # receipt: the package it is about; refusal: the published message id
    #: A package over the axis's AMQP inline limit comes as a reference: the path to fetch it at,
    #: its size and SHA-256. ``Mailbox(api=...)`` fetches it and fills ``body``.
    body_url: str | None = None
    body_size: int | None = None
    body_sha256: str | None = None


class Mailbox:
    """A system's RabbitMQ side: consume its queue, publish packages to ``axis.intake``."""

    def __init__(
        self,
        amqp_url: str,
        system_id: str,
        username: str,
        *,
        remember: int = 100_000,
        api: AxisClient | None = None,
    ) -> None:
        """``api``: the system's HTTP client, to fetch packages the axis sends by reference
        (those over ``AXIS_AMQP_INLINE_MAX_BYTES``); without it their ``body`` is empty."""
        self._url = amqp_url
        self._system_id = system_id
        self._username = username
        self._api = api
        self._connection: AbstractRobustConnection | None = None
        self._seen: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._remember = remember

    async def __aenter__(self) -> Mailbox:
        self._connection = await aio_pika.connect_robust(self._url)
        return self

    async def __aexit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        if self._connection is not None:
            await self._connection.close()

    def _seen_before(self, message_id: str) -> bool:
        return message_id in self._seen

    def _handled(self, message_id: str) -> None:
        """Remember an id only once its message was handled: a message handed back after a failure
        must not be skipped as a duplicate when it comes again."""
        self._seen[message_id] = None
        if len(self._seen) > self._remember:
            self._seen.popitem(last=False)

    async def _messages(self, prefetch: int) -> AsyncGenerator[AbstractIncomingMessage, None]:
        """The queue's messages on a channel of their own, closed (and the unacknowledged messages
        handed back) when the consumer stops."""
        assert self._connection is not None, "use `async with Mailbox(...)`"
        async with self._connection.channel() as channel:
            await channel.set_qos(prefetch_count=prefetch)
            queue = await channel.get_queue(f"axis.system.{self._system_id}", ensure=False)
            async with queue.iterator() as messages:
                async for message in messages:
                    yield message

    async def deliveries(self, *, prefetch: int = 16) -> AsyncIterator[Delivery]:
        """Yield each new message once; RabbitMQ gets its ack when the consumer asks for the next.

        A message seen before (same message id) is acknowledged and skipped. Leaving the loop
        (``break``, an exception) hands the message in hand back to the queue, so it comes again:
        to stop right after handling a message, use ``handle``.
        """
        async with contextlib.aclosing(self._messages(prefetch)) as messages:
            async for message in messages:
                async with message.process(requeue=True):
                    delivery = _delivery(message)
                    if self._seen_before(delivery.message_id):
                        continue
                    delivery = await self._complete(delivery)
                    yield delivery
                    self._handled(delivery.message_id)

    async def handle(self, handler: Callable[[Delivery], Awaitable[bool]], *, prefetch: int = 16) -> None:
        """Call ``handler`` for each new message until it returns False.

        A message is acknowledged once its handler returned (True or False); if the handler raises,
        the message goes back to the queue and the exception propagates.
        """
        async with contextlib.aclosing(self._messages(prefetch)) as messages:
            async for message in messages:
                go_on = True
                async with message.process(requeue=True):
                    delivery = _delivery(message)
                    if not self._seen_before(delivery.message_id):
                        go_on = await handler(await self._complete(delivery))
                        self._handled(delivery.message_id)
                if not go_on:
                    return

    async def _complete(self, delivery: Delivery) -> Delivery:
        """Fetch a package sent by reference, checked against the size and digest the message
        carries (a failure hands the message back to the queue, like any handler error)."""
        if delivery.body_url is None:
            return delivery
        if self._api is None:
            raise AxisError(
                "broker.reference.unreadable",
                f"Package {delivery.message_id} ({delivery.body_size} bytes) was sent by reference: "
                "give the Mailbox the system's AxisClient (api=) to fetch it.",
            )
        data = await self._api.fetch(delivery.message_id)
        digest = await asyncio.to_thread(lambda: hashlib.sha256(data).hexdigest())
        if len(data) != delivery.body_size or digest != delivery.body_sha256:
            raise AxisError(
                "broker.reference.unreadable",
                f"Package {delivery.message_id} fetched by reference is {len(data)} bytes with SHA-256 {digest}; "
                f"the message announced {delivery.body_size} bytes with {delivery.body_sha256}.",
            )
        return dataclasses.replace(delivery, body=data)

    async def publish(self, package: bytes, *, message_id: str | None = None) -> str:
        """Send a signed package (document or status) through ``axis.intake``; returns the message id.

        Refusals come back on the system's own queue as ``refusal`` messages with this id as their
        correlation id.
        """
        assert self._connection is not None, "use `async with Mailbox(...)`"
        message_id = message_id or str(uuid.uuid4())
        channel = await self._connection.channel(publisher_confirms=True)
        try:
            intake = await channel.get_exchange("axis.intake", ensure=False)
            await intake.publish(
                aio_pika.Message(
                    package,
                    message_id=message_id,
                    user_id=self._username,
                    content_type="application/xml",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key="",
            )
        finally:
            await channel.close()
        return message_id


def _delivery(message: AbstractIncomingMessage) -> Delivery:
    headers = message.headers or {}
    return Delivery(
        message_id=message.message_id or "",
        kind=str(headers.get("kind") or message.type or ""),
        body=message.body,
        document_id=str(headers.get("document_id") or ""),
        sender=str(headers.get("sender") or ""),
        correlation_id=message.correlation_id,
        body_url=str(headers["body_url"]) if headers.get("body_url") else None,
        body_size=int(str(headers["body_size"])) if headers.get("body_size") is not None else None,
        body_sha256=str(headers["body_sha256"]) if headers.get("body_sha256") else None,
    )
