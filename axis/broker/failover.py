"""One AMQP connection over several RabbitMQ nodes: any live node at start, another when it dies.

aio-pika's robust connection reconnects to the one address it was given and then restores its
channels, exchanges, queues and consumers. Over a cluster the address must change too: each
attempt here tries the node last connected first, then the others in turn, and only when none
answers does aio-pika's own retry loop wait and try again. Everything aio-pika restores is kept
(the consumers of ``axis.intake`` and ``axis.dead`` carry on on the new node); a publish that was
waiting for its confirm when the node died fails, and its outbox row is published again by the
relay (consumers absorb the copy by message id), so no confirm is lost.

It overrides the robust connection's one private step that connects the transport: aio-pika
10's ``_RobustConnection__connect_transport``; the tests of this module run against a real
three-node cluster, so an aio-pika that renamed it would fail them rather than silently stop
failing over.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aio_pika
import structlog
from aio_pika.robust_connection import RobustConnection
from yarl import URL

from axis.config import amqp_addresses

log = structlog.get_logger("axis.broker")


class FailoverConnection(RobustConnection):
    """A robust connection that moves to another node of the cluster when its node is gone."""

    def __init__(self, urls: Sequence[URL], **kwargs: Any) -> None:
        super().__init__(urls[0], **kwargs)
        self._urls = tuple(urls)
        self._current = 0

    @property
    def node(self) -> str:
        """The node this connection uses (host:port), for logs and /readyz."""
        url = self._urls[self._current]
        return f"{url.host}:{url.port}"

    async def _RobustConnection__connect_transport(self) -> None:
        last: BaseException | None = None
        for step in range(len(self._urls)):
            index = (self._current + step) % len(self._urls)
            self.url = self._urls[index]
            try:
                await super()._RobustConnection__connect_transport()  # type: ignore[misc]
            except (TimeoutError, ConnectionError, OSError, aio_pika.exceptions.AMQPError) as exc:
                last = exc
                continue
            if index != self._current or self.connection_attempt:
                log.info("broker.connected", node=f"{self.url.host}:{self.url.port}", attempt=self.connection_attempt)
            self._current = index
            return
        assert last is not None
        raise last


async def connect(text: str, **kwargs: Any) -> FailoverConnection:
    """A connection to any node of ``text`` (``AXIS_AMQP_URL``) that fails over to the others."""
    urls = [URL(url) for url in amqp_addresses(text)]
    connection = FailoverConnection(urls, **kwargs)
    await connection.connect()
    return connection
