"""A package published over AMQP while PostgreSQL cannot lend a connection is retried a bounded
number of times, then its sender is told (``service.unavailable``, correlated to the published
message) instead of the axis redelivering it for ever; nothing half-stored is left behind."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import aio_pika
import pytest
import world as world_module
from world import World, every_connection_held


@pytest.fixture
async def starved(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    overrides = {"db_pool_size": 2, "db_acquire_timeout": 0.3, "intake_retry_limit": 3}
    async for built in world_module.make_world(database_url, tmp_path, **overrides):
        yield built


async def next_message(world: World, name: str) -> aio_pika.abc.AbstractIncomingMessage:
    """The first message to arrive on a system's queue (the retries take a few seconds)."""
    connection = await world.amqp_connection(name)
    async with connection:
        channel = await connection.channel()
        queue = await channel.get_queue(f"axis.system.{world[name].system_id}", ensure=False)
        async with queue.iterator(timeout=30) as messages:
            async for message in messages:
                await message.ack()
                return message
    raise AssertionError("no message arrived")


async def test_a_package_the_database_cannot_take_is_refused_after_the_retry_limit(starved: World) -> None:
    world = starved
    grant = world["bo"].grant
    assert grant is not None
    package = world.signed(world.document("bo"), by="bo")
    async with every_connection_held(world):
        connection = await world.amqp_connection("bo")
        async with connection:
            channel = await connection.channel()
            intake = await channel.get_exchange("axis.intake", ensure=False)
            await intake.publish(
                aio_pika.Message(package, user_id=grant.username, message_id="while-starved"), routing_key=""
            )
        answer = await next_message(world, "bo")

    assert answer.headers["kind"] == "refusal"
    assert answer.correlation_id == "while-starved"
    refusal = json.loads(answer.body)
    assert refusal["error"]["code"] == "service.unavailable"
    assert "3 attempts" in refusal["error"]["message"]
    assert await world.count("packages") == 0
