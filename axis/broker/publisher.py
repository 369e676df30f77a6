"""Publishing deliveries to RabbitMQ with publisher confirms.

A publish returns only once RabbitMQ confirmed the message (it is then in a quorum queue); any
failure raises ``BrokerUnavailable`` and the caller leaves the outbox row for the relay. The
connection is robust (aio-pika reconnects); a channel RabbitMQ closed is reopened on next use.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass

import aio_pika
import structlog
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractRobustConnection

from axis.broker import failover, topology

log = structlog.get_logger("axis.broker")


#: Message kinds whose body is a package (the others, receipts and refusals, are small).
PACKAGE_KINDS = frozenset({"document", "status"})

#: Seconds between two rounds of reconnection attempts (each round tries every node once).
RECONNECT_INTERVAL = 1.0

#: The largest package published in the message body rather than by reference (16 MiB).
INLINE_MAX = 16 * 1024 * 1024


def goes_by_reference(size: int, kind: str, inline_max: int) -> bool:
    """Whether a message of this size and kind goes by reference rather than in the body: one rule
    for every publisher, the real one and the in-memory one the relay's tests use."""
    return size > inline_max and kind in PACKAGE_KINDS


class BrokerUnavailable(Exception):
    """RabbitMQ did not confirm a publish (down, channel closed, nack, timeout)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Outgoing:
    """One message for one system's queue. Keyword-only: its many strings (``sender`` the agency
    code, ``sender_system`` the system) cannot be swapped silently."""

    system_id: str
    message_id: str
    kind: str  # document | status | receipt | refusal | failure
    body: bytes
    document_id: str
    sender: str
    sender_system: str
    content_type: str = "application/xml"
    correlation_id: str | None = None
    digest: str | None = None  # sha256 hex of body, when known (a package's, from intake)
    size: int | None = None  # the body's size when ``body`` is left empty (sent by reference)


class Broker:
    """RabbitMQ through one robust connection; a ``Publisher`` (``axis.broker.publishing``) for the relay."""

    def __init__(self, url: str, *, confirm_timeout: float = 30.0, inline_max: int = INLINE_MAX) -> None:
        self._url = url
        self._timeout = confirm_timeout
        self._inline_max = inline_max
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractChannel | None = None
        self._deliveries: AbstractExchange | None = None
        self._declared: set[str] = set()
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Connect to any node of ``AXIS_AMQP_URL`` (one URL, or one per node of a cluster)."""
        self._connection = await failover.connect(self._url, reconnect_interval=RECONNECT_INTERVAL)
        await self._open_channel()

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()

    @property
    def connection(self) -> AbstractRobustConnection:
        assert self._connection is not None, "Broker.start() first"
        return self._connection

    @property
    def channel(self) -> AbstractChannel:
        assert self._channel is not None, "Broker.start() first"
        return self._channel

    @property
    def connected(self) -> bool:
        """Whether RabbitMQ is reachable right now (a robust connection stays "open" while it
        reconnects; its ``connected`` event tells the truth)."""
        connection = self._connection
        return connection is not None and not connection.is_closed and connection.connected.is_set()

    async def _open_channel(self) -> None:
        self._channel = await self.connection.channel(publisher_confirms=True)
        self._deliveries = await topology.declare(self._channel)
        self._declared.clear()

    async def ensure_system(self, system_id: str) -> None:
        """Declare a system's queue (idempotent; remembered per channel)."""
        async with self._lock:
            await self._ensure_channel()
            if system_id not in self._declared:
                assert self._deliveries is not None
                await topology.declare_system(self.channel, self._deliveries, system_id)
                self._declared.add(system_id)

    async def _ensure_channel(self) -> None:
        if self._channel is None or self._channel.is_closed:
            await self._open_channel()

    def _body(self, message: Outgoing) -> tuple[bytes, dict[str, str | int]]:
        """The message body, or for a package over the inline limit an empty body and headers
        naming it (``body_url``, ``body_size``, ``body_sha256``).

        A 50 MB message costs the publisher three more copies of it in the AMQP client, RabbitMQ
        a quorum-log entry of that size on every replica, and a recipient whose client caps message
        size (64 MiB by default in the Java client) a message it cannot take: the package travels
        over HTTP instead, where it is already kept and authorised.
        """
        size = len(message.body) if message.size is None else message.size
        if not self.by_reference(size, message.kind):
            return message.body, {}
        digest = message.digest or hashlib.sha256(message.body).hexdigest()
        return b"", {"body_url": f"/api/v1/packages/{message.message_id}", "body_size": size, "body_sha256": digest}

    def by_reference(self, size: int, kind: str) -> bool:
        """Whether a message of this size and kind goes by reference rather than in the body."""
        return goes_by_reference(size, kind, self._inline_max)

    async def publish(self, message: Outgoing) -> None:
        """Return once RabbitMQ confirmed the message; ``BrokerUnavailable`` on any failure."""
        try:
            await self.ensure_system(message.system_id)
            assert self._deliveries is not None
            body, reference = self._body(message)
            await self._deliveries.publish(
                aio_pika.Message(
                    body,
                    message_id=message.message_id,
                    correlation_id=message.correlation_id,
                    type=message.kind,
                    content_type=message.content_type,
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    headers={
                        "kind": message.kind,
                        "document_id": message.document_id,
                        "sender": message.sender,
                        "sender_system": message.sender_system,
                        "recipient_system": message.system_id,
                        **reference,
                    },
                ),
                routing_key=message.system_id,
                timeout=self._timeout,
            )
        except (aio_pika.exceptions.AMQPException, ConnectionError, TimeoutError, RuntimeError) as exc:
            log.warning(
                "broker.publish_failed",
                system=message.system_id,
                message_id=message.message_id,
                error=repr(exc),
            )
            raise BrokerUnavailable(str(exc)) from exc
