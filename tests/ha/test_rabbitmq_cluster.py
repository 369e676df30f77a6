"""Issue 18's RabbitMQ cluster, made by the project's own code: three extra nodes on this machine
that hold a replicated quorum queue's message through the kill -9 of the node leading it.

The cluster is the session's (``tests/ha/conftest.py``).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from functools import partial
from typing import Any, TypeVar
from urllib.parse import quote

import aio_pika
import pytest
import rabbitmq_cluster as rc
from aio_pika.abc import AbstractIncomingMessage
from ha_tools import api, eventually

pytestmark = pytest.mark.slow
T = TypeVar("T")
QUORUM: dict[str, Any] = {
    "x-queue-type": "quorum",
    "x-quorum-initial-group-size": 3,
    "x-queue-leader-locator": "balanced",
}


async def queue_view(node: rc.Node, vhost: str, queue: str) -> dict[str, Any] | None:
    """The management API's view of a quorum queue once it reports its leader and members."""
    view: dict[str, Any] = await api(node, "GET", f"queues/{quote(vhost, safe='')}/{quote(queue, safe='')}")
    return view if view.get("leader") and view.get("members") else None


async def test_three_nodes_form_one_cluster(rabbit_cluster: rc.Cluster) -> None:
    status = await asyncio.to_thread(rc.status, rabbit_cluster)
    names = tuple(sorted(node.name for node in rabbit_cluster.nodes))
    assert status.members == names
    assert status.running == dict.fromkeys(names, names), "every node sees the other two running"


async def test_message_survives_kill_of_its_queue_leader_and_the_node_rejoins(
    rabbit_cluster: rc.Cluster, vhost: str
) -> None:
    first = rabbit_cluster.nodes[0]
    queues = [f"axis.system.ha-{letter}" for letter in "abc"]
    connection = await aio_pika.connect(first.amqp_url(vhost))
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        for name in queues:
            await channel.declare_queue(name, durable=True, arguments=QUORUM)
        sent = aio_pika.Message(
            b"still here", message_id=uuid.uuid4().hex, delivery_mode=aio_pika.DeliveryMode.PERSISTENT
        )
        await channel.default_exchange.publish(sent, routing_key=queues[0], mandatory=True)  # returns once confirmed

    views = [await eventually(partial(queue_view, first, vhost, q), 30, f"{q}'s leader") for q in queues]
    assert all(len(view["members"]) == 3 for view in views), "x-quorum-initial-group-size 3: a member per node"
    leaders = [view["leader"] for view in views]
    print(f"leaders of {', '.join(queues)} declared through {first.name}: {', '.join(leaders)}")
    # Declared through one node, client-local would have put every leader there.
    assert len(set(leaders)) > 1, f"x-queue-leader-locator balanced spreads the leaders: {leaders}"

    leader = rabbit_cluster.node(leaders[0])
    survivor = next(node for node in rabbit_cluster.nodes if node != leader)
    killed_at = time.monotonic()
    await asyncio.to_thread(rc.kill, leader)
    try:

        async def take() -> AbstractIncomingMessage | None:
            connection = await aio_pika.connect(survivor.amqp_url(vhost), timeout=5)
            async with connection:
                channel = await connection.channel()
                queue = await channel.get_queue(queues[0], ensure=False)
                message = await queue.get(timeout=5, fail=False)
                if message is not None:
                    await message.ack()
                return message

        received = await eventually(take, 60, f"the message from {survivor.name} after {leader.name} died")
        print(f"consumed from {survivor.name} {time.monotonic() - killed_at:.1f} s after kill -9 of {leader.name}")
        assert (received.body, received.message_id) == (sent.body, sent.message_id)
    finally:
        restarted_at = time.monotonic()
        await asyncio.to_thread(rc.start, leader)
    print(f"{leader.name} restarted in {time.monotonic() - restarted_at:.1f} s")

    async def rejoined() -> bool | None:
        status = await asyncio.to_thread(rc.status, rabbit_cluster)
        return True if status.complete(rabbit_cluster) else None

    await eventually(rejoined, 60, f"{leader.name} running in the cluster again")

    async def back_in_queue() -> bool | None:
        view = await queue_view(survivor, vhost, queues[0])
        return True if view and leader.name in view.get("online", []) else None

    await eventually(back_in_queue, 60, f"{leader.name} an online member of {queues[0]} again")
