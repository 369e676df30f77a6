"""What an outbox row is, named once: its kinds, and the grace before the relay's loop takes it.

The rows are written by the statements that store what they announce (``axis.exchange.store``
accepts a package, ``axis.exchange.deliveries`` delivers or requeues one) and read by
``axis.broker.outbox``; both sides take the names and the number from here, so the SQL cannot
drift from the relay (the kinds are also the table's CHECK constraint, migration 010).
"""

from __future__ import annotations

import enum

from axis.broker.publisher import PACKAGE_KINDS

#: Seconds a row written with its request waits before the relay's loop takes it: the request
#: publishes it right after commit (``publish_now``), the loop only what that did not confirm.
GRACE = 10.0


class OutboxKind(enum.StrEnum):
    """What an outbox row's ``message_id`` names."""

    PACKAGE = "package"  # a package for a recipient system; publishing it marks the delivery published
    RECEIPT = "receipt"  # a receipt for the sender's system
    FAILURE = "failure"  # a failure notice, its body fixed in the row's payload when it happened

    @classmethod
    def of(cls, message_kind: str) -> OutboxKind:
        """The row kind of an ``Outgoing.kind`` (refusals are published directly, never outboxed)."""
        if message_kind in PACKAGE_KINDS:
            return cls.PACKAGE
        return cls(message_kind)


def literal(kind: OutboxKind) -> str:
    """The kind as an SQL literal, for statements assembled from constant fragments."""
    return f"'{kind.value}'"


#: ``now() + GRACE`` in SQL: when a row written with its request falls due for the loop.
DUE_AFTER_GRACE = f"now() + interval '{GRACE:g} seconds'"
