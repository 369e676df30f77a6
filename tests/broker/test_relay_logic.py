"""The relay's logic, told without servers: an in-memory outbox on a clock the test moves, and an
in-memory RabbitMQ whose failures the test orders. The same stories against real PostgreSQL and
RabbitMQ are in tests/exchange/test_reliability.py; these run in milliseconds and open no socket."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable

import pytest

from axis.broker.memory import MemoryOutbox, MemoryPublisher
from axis.broker.outbox import GRACE
from axis.broker.publisher import Broker, Outgoing
from axis.broker.relay import OutboxRelay

pytestmark = pytest.mark.usefixtures("no_network")  # nothing here may reach PostgreSQL or RabbitMQ


class Clock:
    """Time that moves only when the test says so (the grace period and back-offs, without waiting)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def outbox(clock: Clock) -> MemoryOutbox:
    return MemoryOutbox(clock=clock)


@pytest.fixture
def rabbitmq() -> MemoryPublisher:
    return MemoryPublisher(inline_max=1000)


@pytest.fixture
def relay(outbox: MemoryOutbox, rabbitmq: MemoryPublisher) -> OutboxRelay:
    return OutboxRelay(outbox, rabbitmq, interval=60.0, batch=10)


@pytest.fixture
async def running(relay: OutboxRelay) -> AsyncIterator[OutboxRelay]:
    relay.start()
    yield relay
    await relay.stop()


async def until(condition: Callable[[], bool], timeout: float = 2.0) -> None:
    """Await a condition with a timeout; never a bare sleep-and-hope."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.001)


def package(number: int, system: str = "bo") -> Outgoing:
    return Outgoing(
        system_id=system,
        message_id=f"00000000-0000-0000-0000-{number:012d}",
        kind="document",
        body=b"<edXML/>",
        document_id=f"{number},000.00.00.G01",
        sender="000.00.00.G01",
        sender_system="north",
    )


def receipt(number: int, system: str = "north") -> Outgoing:
    return Outgoing(
        system_id=system,
        message_id=f"receipt-{number}",
        kind="receipt",
        body=b"<receipt/>",
        document_id=f"{number},000.00.00.G01",
        sender="000.00.00.G01",
        sender_system=system,
        correlation_id=package(number).message_id,
    )


def ids(messages: list[Outgoing]) -> list[tuple[str, str]]:
    return [(m.message_id, m.system_id) for m in messages]


def accepted(outbox: MemoryOutbox, *messages: Outgoing) -> list[Outgoing]:
    """What intake does in the transaction that accepts a package: one outbox row per message."""
    for message in messages:
        outbox.add(message)
    return list(messages)


async def test_messages_intake_hands_over_are_published_once_and_leave_the_outbox(
    relay: OutboxRelay, outbox: MemoryOutbox, rabbitmq: MemoryPublisher, clock: Clock
) -> None:
    messages = accepted(outbox, package(1, "bo"), package(1, "so"), receipt(1))

    assert await relay.publish_now(messages) == 3

    assert ids(rabbitmq.published) == ids(messages)
    assert outbox.rows == []
    # Publishing a package marks its deliveries published; a receipt has no delivery.
    assert outbox.delivered == {(package(1).message_id, "bo"), (package(1).message_id, "so")}
    # Long after the grace period the loop finds nothing to publish again.
    clock.advance(GRACE * 10)
    assert await relay.drain_due() == 0
    assert len(rabbitmq.published) == 3


async def test_a_running_relay_settles_confirmed_messages_in_batches(
    running: OutboxRelay, outbox: MemoryOutbox, rabbitmq: MemoryPublisher
) -> None:
    first = accepted(outbox, package(1))
    second = accepted(outbox, package(2), receipt(2))

    assert await running.publish_now(first) == 1
    assert await running.publish_now(second) == 2

    await until(lambda: outbox.rows == [])
    assert ids(rabbitmq.published) == ids(first + second)


async def test_messages_a_failing_broker_did_not_take_stay_in_the_outbox_and_the_loop_publishes_them_in_order(
    running: OutboxRelay, outbox: MemoryOutbox, rabbitmq: MemoryPublisher, clock: Clock
) -> None:
    rabbitmq.down = True
    messages = accepted(outbox, package(1), package(2), receipt(2))

    assert await running.publish_now(messages) == 0

    # Nothing lost: every row waits, due again in a second rather than after the grace period.
    assert [row.message_id for row in outbox.rows] == [m.message_id for m in messages]
    assert [(outbox.attempts(row), outbox.due_in(row)) for row in outbox.rows] == [(1, 1.0)] * 3
    assert rabbitmq.published == []

    rabbitmq.down = False
    clock.advance(1.0)
    running.nudge()

    await until(lambda: outbox.rows == [])
    assert ids(rabbitmq.published) == ids(messages)
    assert outbox.delivered == {(package(1).message_id, "bo"), (package(2).message_id, "bo")}


async def test_while_the_broker_is_down_a_round_stops_at_the_first_failure_and_backs_off(
    relay: OutboxRelay, outbox: MemoryOutbox, rabbitmq: MemoryPublisher, clock: Clock
) -> None:
    rows = [outbox.add(m, due_in=0) for m in (package(1), package(2), package(3))]
    rabbitmq.down = True

    assert await relay.drain_due() == 0
    assert rabbitmq.tried == 1  # RabbitMQ is unwell: the rest wait for the next round
    assert (outbox.attempts(rows[0]), outbox.due_in(rows[0])) == (1, 1.0)

    clock.advance(1.0)
    assert await relay.drain_due() == 0
    assert (outbox.attempts(rows[0]), outbox.due_in(rows[0])) == (2, 2.0)  # waits longer each time

    rabbitmq.down = False
    assert await relay.drain_due() == 2  # the first is still backing off; the others go
    clock.advance(2.0)
    assert await relay.drain_due() == 1
    assert ids(rabbitmq.published) == ids([package(2), package(3), package(1)])
    assert outbox.rows == []


async def test_a_package_over_the_inline_limit_goes_by_reference_and_a_receipt_never_does(
    relay: OutboxRelay,
) -> None:
    # The exchange asks the relay, the relay asks its publisher, which decides as RabbitMQ's does.
    real = Broker("amqp://guest:guest@unused.invalid/", inline_max=1000)
    for size, kind, expected in [
        (1000, "document", False),
        (1001, "document", True),
        (1001, "status", True),
        (10**9, "receipt", False),
        (10**9, "failure", False),
    ]:
        assert relay.by_reference(size, kind) is expected
        assert real.by_reference(size, kind) is expected


async def test_a_lost_confirm_publishes_a_copy_under_the_same_message_id_and_nothing_else_twice(
    relay: OutboxRelay, outbox: MemoryOutbox, rabbitmq: MemoryPublisher, clock: Clock
) -> None:
    messages = accepted(outbox, package(1), package(2), receipt(2))
    rabbitmq.lose_next_confirms(1)  # the first reaches its queue, but the axis never hears so

    assert await relay.publish_now(messages) == 2
    assert [row.message_id for row in outbox.rows] == [package(1).message_id]

    clock.advance(1.0)
    rabbitmq.lose_next_confirms(1)  # and once more when the loop publishes it again
    assert await relay.drain_due() == 0
    clock.advance(2.0)  # backed off
    assert await relay.drain_due() == 1

    assert outbox.rows == []
    copies = Counter(ids(rabbitmq.published))
    # Every message arrived; the only extra ones are copies of the one whose confirms were lost,
    # under its own message id, which is what a consumer de-duplicates by.
    assert set(copies) == set(ids(messages))
    assert copies == {(package(1).message_id, "bo"): 3, (package(2).message_id, "bo"): 1, ("receipt-2", "north"): 1}


async def test_a_package_archived_before_the_loop_got_to_it_leaves_the_outbox_unpublished(
    relay: OutboxRelay, outbox: MemoryOutbox, rabbitmq: MemoryPublisher
) -> None:
    outbox.add(package(1), due_in=0, archived=True)
    outbox.add(package(2), due_in=0)

    assert await relay.drain_due() == 1

    assert ids(rabbitmq.published) == ids([package(2)])
    assert outbox.rows == []


async def test_stopping_settles_what_was_confirmed_and_finishes_cleanly(
    relay: OutboxRelay, outbox: MemoryOutbox, rabbitmq: MemoryPublisher
) -> None:
    relay.start()
    messages = accepted(outbox, package(1), receipt(1))
    assert await relay.publish_now(messages) == 2  # their rows wait for the settler's next batch

    async with asyncio.timeout(2):
        await relay.stop()

    assert outbox.rows == []
    assert outbox.delivered == {(package(1).message_id, "bo")}
    async with asyncio.timeout(2):
        await relay.stop()  # stopping twice is harmless


async def test_stopping_while_a_publish_waits_for_its_confirm_leaves_the_row_for_the_next_process(
    relay: OutboxRelay, outbox: MemoryOutbox, rabbitmq: MemoryPublisher, clock: Clock
) -> None:
    row = outbox.add(package(1), due_in=0)
    rabbitmq.stall()
    relay.start()
    relay.nudge()
    await until(lambda: rabbitmq.tried == 1)

    async with asyncio.timeout(2):
        await relay.stop()

    # The round was cut short: nothing it did took effect, and the row is free for another round.
    assert outbox.rows == [row]
    assert outbox.attempts(row) == 0
    rabbitmq.resume()
    successor = OutboxRelay(outbox, rabbitmq)
    assert await successor.drain_due() == 1
    assert ids(rabbitmq.published) == ids([package(1)])
    assert outbox.rows == []
