"""RabbitMQ losing a publish does not lose a package; a message published twice counts once."""

from __future__ import annotations

import asyncio

import amqp
from world import World, wait_until

from axis.broker.management import Management
from axis.client import Mailbox


async def close_axis_connections(world: World) -> int:
    """Close the axis's AMQP connections from the server side, as a broker restart would."""
    async with Management(amqp.MANAGEMENT_URL) as management:
        return await management.close_connections(world.vhost, user="guest")


class QueueRefusing:
    """A RabbitMQ policy under which a system's queue refuses publishes once it holds a message
    (``basic.nack``): the axis publishes and gets no confirm, as when a confirm is lost."""

    def __init__(self, world: World, system_id: str) -> None:
        self.world, self.system_id = world, system_id
        self.definition = {"max-length": 0, "overflow": "reject-publish"}

    async def applied(self, definition: dict[str, object]) -> bool:
        async with Management(amqp.MANAGEMENT_URL) as management:
            info = await management.queue_info(self.world.vhost, f"axis.system.{self.system_id}")
        return info is not None and info.get("effective_policy_definition") == definition

    async def __aenter__(self) -> QueueRefusing:
        async with Management(amqp.MANAGEMENT_URL) as management:
            pattern = f"^axis\\.system\\.{self.system_id}$"
            await management.set_policy(self.world.vhost, "refuse", pattern, self.definition)
        await wait_until(lambda: self.applied(self.definition), timeout=15)
        return self

    async def __aexit__(self, *_: object) -> None:
        # Raise the limit rather than removing the policy: a RabbitMQ 3.10 quorum queue whose
        # reject-publish policy is deleted keeps refusing publishes (seen here; the vhost goes anyway).
        roomy = {"max-length": 10_000, "overflow": "reject-publish"}
        async with Management(amqp.MANAGEMENT_URL) as management:
            pattern = f"^axis\\.system\\.{self.system_id}$"
            await management.set_policy(self.world.vhost, "refuse", pattern, roomy)
            await wait_until(lambda: self.applied(roomy), timeout=15)


async def outbox_empty(world: World) -> bool:
    return await outbox_holds(world, 0)


async def outbox_holds(world: World, rows: int) -> bool:
    return await world.count("outbox") == rows


async def test_package_whose_publish_failed_is_republished_by_the_relay(world: World) -> None:
    bo = world["bo"]
    assert bo.grant is not None
    async with QueueRefusing(world, bo.system_id):
        filler = await world.post(world.signed(world.document(to=("000.00.00.G98",), number="200")))
        first = await world.post(world.signed(world.document(to=("000.00.00.G98",), number="201")))
        # RabbitMQ nacked the publish right after commit: the outbox still holds it (the filler's
        # confirmed row leaves within moments, with the other confirmed rows of that interval)...
        await wait_until(lambda: outbox_holds(world, 1), timeout=5)
        await asyncio.sleep(0.3)
        assert await world.count("outbox") == 1
    # ...until RabbitMQ takes messages again and the relay publishes it.
    await wait_until(lambda: outbox_empty(world), timeout=30)

    # The same message goes out a second time, as after a confirm lost on the way back.
    async with world.axis.pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO outbox (message_id, kind, system_id) VALUES ($1, 'package', $2)",
            first["package_id"],
            bo.system_id,
        )
    world.axis.relay.nudge()
    await wait_until(lambda: outbox_empty(world), timeout=30)
    second = await world.post(world.signed(world.document(to=("000.00.00.G98",), number="202")))

    seen = []
    async with Mailbox(
        amqp.url(world.vhost, bo.grant.username, bo.grant.password), bo.system_id, bo.grant.username
    ) as mailbox:
        async with asyncio.timeout(20):
            async for delivery in mailbox.deliveries():
                seen.append(delivery.message_id)
                if delivery.message_id == second["package_id"]:
                    break
    # Each package once, in order; the second copy of the first one was absorbed.
    assert seen == [filler["package_id"], first["package_id"], second["package_id"]]


async def test_axis_keeps_accepting_while_rabbitmq_is_unreachable(world: World) -> None:
    await close_axis_connections(world)
    accepted = await world.post(world.signed(world.document(to=("000.00.00.G98", "000.00.00.H99"), number="301")))
    assert len(accepted["recipients"]) == 2
    # HTTP recipients do not depend on RabbitMQ at all.
    inbox = await world.get("/api/v1/inbox", "south")
    assert [i["id"] for i in inbox["items"]] == [accepted["package_id"]]
    await wait_until(lambda: outbox_empty(world), timeout=30)
