"""The axis on the three-node RabbitMQ cluster: given every node (``AXIS_AMQP_URL`` with one URL
per node), it connects to one, and when that node is killed with SIGKILL it moves to another:
publishing goes on (a publish that failed meanwhile is published again, as the outbox relay does),
its intake consumer takes messages again there, and no delivery published before or after the
kill is missing from the system's replicated queue."""

from __future__ import annotations

import asyncio
import time
import uuid

import aio_pika
import pytest
import rabbitmq_cluster as rc
from ha_tools import eventually

from axis.broker import topology
from axis.broker.consumer import IntakeConsumer
from axis.broker.management import Management
from axis.broker.publisher import Broker, BrokerUnavailable, Outgoing

pytestmark = pytest.mark.slow


def delivery(message_id: str) -> Outgoing:
    return Outgoing(
        system_id="nam",
        message_id=message_id,
        kind="receipt",
        body=f"<receipt id='{message_id}'/>".encode(),
        document_id="000.00.00.H98,2026/12/07,1/HA",
        sender="000.00.00.H98",
        sender_system="bac",
    )


async def publish_until_confirmed(broker: Broker, message: Outgoing, *, limit: float = 60) -> int:
    """As the outbox relay does: a publish RabbitMQ did not confirm is published again. Returns the
    number of failed attempts."""
    failed, deadline = 0, time.monotonic() + limit
    while True:
        try:
            await broker.publish(message)
            return failed
        except BrokerUnavailable:
            failed += 1
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


async def test_the_axis_moves_to_another_node_when_its_node_dies_and_loses_nothing(
    rabbit_cluster: rc.Cluster, vhost: str
) -> None:
    async with Management(rabbit_cluster.management_urls) as management:
        # Leaders spread over the nodes (a policy: queue arguments cannot change on queues that exist).
        await management.set_policy(vhost, "axis-leaders", r"^axis\.", {"queue-leader-locator": "balanced"})
        grant = await management.grant_system(vhost, f"ha-{uuid.uuid4().hex[:6]}")

    taken: list[tuple[str, bytes]] = []

    async def intake(system_id: str, data: bytes) -> object:
        taken.append((system_id, data))
        return None

    broker = Broker(rabbit_cluster.amqp_urls(vhost), confirm_timeout=10)
    await broker.start()
    consumer = IntakeConsumer(broker, intake, prefetch=4, retry_limit=3)
    await consumer.start()
    first = broker.connection.node  # type: ignore[attr-defined]
    dead = next(node for node in rabbit_cluster.nodes if first.endswith(f":{node.amqp_port}"))
    try:
        for i in range(10):
            await broker.publish(delivery(f"before-{i}"))
        killed_at = time.monotonic()
        await asyncio.to_thread(rc.kill, dead)
        failed = 0
        for i in range(10):
            failed += await publish_until_confirmed(broker, delivery(f"after-{i}"))
        moved_after = time.monotonic() - killed_at
        now = broker.connection.node  # type: ignore[attr-defined]
        assert now != first
        print(f"kill -9 of {dead.name}: publishing again on {now} after {moved_after:.1f} s ({failed} failed)")

        # Its intake consumer was restored on the new node: a system's package reaches it.
        survivor = next(node for node in rabbit_cluster.nodes if node != dead)
        url = survivor.amqp_url(vhost).replace("guest:guest", f"{grant.username}:{grant.password}", 1)
        connection = await aio_pika.connect(url)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            exchange = await channel.get_exchange(topology.INTAKE, ensure=False)
            await exchange.publish(
                aio_pika.Message(b"<edXML/>", message_id="intake-1", user_id=grant.username), routing_key=""
            )

        async def arrived() -> bool | None:
            return True if taken else None

        await eventually(arrived, 30, "the package at the intake consumer after the failover")
        assert taken == [(grant.queue.removeprefix("axis.system."), b"<edXML/>")]

        # Every delivery is in the system's queue: those confirmed before the kill, and after it.
        connection = await aio_pika.connect(survivor.amqp_url(vhost))
        async with connection:
            channel = await connection.channel()
            queue = await channel.get_queue(topology.system_queue("nam"), ensure=False)
            ids = set()
            while (message := await queue.get(timeout=5, fail=False)) is not None:
                ids.add(message.message_id)
                await message.ack()
        assert ids == {f"before-{i}" for i in range(10)} | {f"after-{i}" for i in range(10)}
    finally:
        await consumer.stop()
        await broker.close()
        await asyncio.to_thread(rc.start, dead)
