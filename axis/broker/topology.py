"""The RabbitMQ names the axis and connected systems agree on, and their declaration.

- ``axis.deliveries`` (direct): routing key = system id → quorum queue ``axis.system.<id>``.
- ``axis.intake`` (fanout) → quorum queue ``axis.intake``: what systems publish (with ``user_id``).
- ``axis.dead`` (fanout) → queue ``axis.dead``: poison and refused messages, kept for operators.
Quorum queues replicate in a cluster; every queue dead-letters into ``axis.dead``.
"""

from __future__ import annotations

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange
from pamqp.common import FieldTable

DELIVERIES = "axis.deliveries"
INTAKE = "axis.intake"
DEAD = "axis.dead"
QUEUE_ARGUMENTS: FieldTable = {"x-queue-type": "quorum", "x-dead-letter-exchange": DEAD}
#: A system queue also dead-letters a message its consumer failed to take this many times.
SYSTEM_QUEUE_ARGUMENTS: FieldTable = {**QUEUE_ARGUMENTS, "x-delivery-limit": 20}
DEAD_ARGUMENTS: FieldTable = {"x-queue-type": "quorum"}


def system_queue(system_id: str) -> str:
    return f"axis.system.{system_id}"


async def declare(channel: AbstractChannel) -> AbstractExchange:
    """Declare the shared exchanges and queues (idempotent); returns the deliveries exchange."""
    dead = await channel.declare_exchange(DEAD, aio_pika.ExchangeType.FANOUT, durable=True)
    dead_queue = await channel.declare_queue(DEAD, durable=True, arguments=DEAD_ARGUMENTS)
    await dead_queue.bind(dead)
    intake = await channel.declare_exchange(INTAKE, aio_pika.ExchangeType.FANOUT, durable=True)
    intake_queue = await channel.declare_queue(INTAKE, durable=True, arguments=QUEUE_ARGUMENTS)
    await intake_queue.bind(intake)
    return await channel.declare_exchange(DELIVERIES, aio_pika.ExchangeType.DIRECT, durable=True)


async def declare_system(channel: AbstractChannel, deliveries: AbstractExchange, system_id: str) -> None:
    queue = await channel.declare_queue(system_queue(system_id), durable=True, arguments=SYSTEM_QUEUE_ARGUMENTS)
    await queue.bind(deliveries, routing_key=system_id)
