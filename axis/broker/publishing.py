"""What the relay needs from RabbitMQ, and what the exchange needs from the relay.

Two small interfaces at the publishing edge, each met by the real thing (``Broker``,
``OutboxRelay``) and by something in memory, so that the relay's and the exchange's logic is
tested fast and without servers while the tests against real RabbitMQ and PostgreSQL stay.
``MemoryPublisher`` (``axis.broker.memory``) behaves as RabbitMQ does for a publisher: a publish returns once confirmed,
fails with ``BrokerUnavailable`` otherwise, and a lost confirm means the message may well be in
the queue although the publisher was told it failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from axis.broker.publisher import Outgoing


class Publisher(Protocol):
    """Publishes one message at a time with confirms (``Broker`` is one)."""

    def by_reference(self, size: int, kind: str) -> bool:
        """Whether a package of this size and kind goes by reference (its bytes not in the message)."""
        ...

    async def publish(self, message: Outgoing) -> None:
        """Return once the message is confirmed; raise ``BrokerUnavailable`` otherwise."""
        ...


class Relaying(Protocol):
    """What the exchange asks of the relay once a request committed (``OutboxRelay`` is one)."""

    def by_reference(self, size: int, kind: str) -> bool:
        """Whether a package of this size and kind goes by reference (intake then skips its bytes)."""
        ...

    async def publish_now(self, messages: Sequence[Outgoing]) -> int:
        """Publish messages whose outbox rows were just committed; how many were confirmed."""
        ...

    def nudge(self) -> None:
        """Publish what fell due now rather than at the next round (a delivery requeued, say)."""
        ...
