"""Per-system RabbitMQ users, checked with a second AMQP client (pika) against the real broker.

Each test runs in a vhost of its own with the axis topology declared, and uses system ids of its
own: RabbitMQ users are broker-wide, so two tests granting the same id would fight over its password.
"""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import aio_pika
import aiohttp
import amqp
import pika
import pytest
from pika.adapters.blocking_connection import BlockingChannel
from pika.exceptions import ChannelClosedByBroker, ConnectionClosedByBroker, ProbableAuthenticationError
from yarl import URL

from axis.broker import topology
from axis.broker.management import AmqpGrant, Management, queue_for, username_for
from axis.errors import AxisError

TIMEOUT = 15.0  # the management plugin refreshes queue statistics every 5 s
API = URL(amqp.MANAGEMENT_URL)
WRONG_PASSWORD = str(API.with_password("wrong"))
ADMIN = {"Authorization": "Basic " + base64.b64encode(f"{API.user}:{API.password}".encode()).decode()}
NOWHERE = str(API.with_password("secret").with_port(1))  # nothing listens on port 1


@dataclass(frozen=True)
class Broker:
    vhost: str
    guest_url: str
    system: str  # the system under test
    other: str  # another connected system, with a queue of its own


@pytest.fixture
async def management() -> AsyncIterator[Management]:
    async with Management(amqp.MANAGEMENT_URL) as management:
        yield management


@pytest.fixture
async def broker(management: Management) -> AsyncIterator[Broker]:
    vhost, guest_url = await amqp.new_vhost()
    suffix = uuid.uuid4().hex[:8]
    broker = Broker(vhost, guest_url, f"bac-eoffice-{suffix}", f"nam-eoffice-{suffix}")
    connection = await aio_pika.connect(guest_url)
    async with connection:
        channel = await connection.channel()
        deliveries = await topology.declare(channel)
        for system in (broker.system, broker.other):
            await topology.declare_system(channel, deliveries, system)
    yield broker
    for system in (broker.system, broker.other):
        await management.revoke_system(vhost, system)
    await amqp.delete_vhost(vhost)


@contextmanager
def connection_as(url: str) -> Iterator[pika.BlockingConnection]:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        yield connection
    finally:
        if connection.is_open:
            connection.close()


@contextmanager
def channel_as(url: str) -> Iterator[BlockingChannel]:
    """A channel in confirm mode: a refused publish then fails at the call, not at some later one."""
    with connection_as(url) as connection:
        channel = connection.channel()
        channel.confirm_delivery()
        yield channel


def system_url(broker: Broker, grant: AmqpGrant) -> str:
    return amqp.url(broker.vhost, grant.username, grant.password)


def deliver(broker: Broker, system: str, body: bytes) -> None:
    """What the axis does: publish a delivery to a system's queue (as guest here)."""
    with channel_as(broker.guest_url) as channel:
        channel.basic_publish(topology.DELIVERIES, system, body, pika.BasicProperties(delivery_mode=2))


def consume_one(channel: BlockingChannel, queue: str) -> tuple[pika.BasicProperties, bytes]:
    """The first message from a real basic.consume, acknowledged; fails after TIMEOUT."""
    for method, properties, body in channel.consume(queue, inactivity_timeout=TIMEOUT):
        assert method is not None, f"nothing arrived on {queue} within {TIMEOUT} s"
        channel.basic_ack(method.delivery_tag)
        channel.cancel()
        return properties, body
    raise AssertionError("unreachable: consume() yields until cancelled")


def serve_until_closed(connection: pika.BlockingConnection) -> None:
    """Process the connection's events until the broker closes it, or fail after TIMEOUT."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        connection.process_data_events(time_limit=0.1)
    raise AssertionError(f"the connection was still open after {TIMEOUT} s")


def assert_login_refused(url: str) -> None:
    # RabbitMQ answers a bad password and an unknown user alike: 403 ACCESS_REFUSED at login.
    with pytest.raises(ProbableAuthenticationError, match="ACCESS_REFUSED"), connection_as(url):
        pass


# --- what a granted system may do ------------------------------------------------------------------


async def test_granted_system_consumes_its_own_queue(broker: Broker, management: Management) -> None:
    grant = await management.grant_system(broker.vhost, broker.system)
    deliver(broker, broker.system, b"<edXMLEnvelope/>")

    with channel_as(system_url(broker, grant)) as channel:
        _, body = consume_one(channel, grant.queue)

    assert body == b"<edXMLEnvelope/>"
    assert grant == AmqpGrant(
        username=f"axis-sys-{broker.system}",
        password=grant.password,
        vhost=broker.vhost,
        queue=f"axis.system.{broker.system}",
        intake_exchange="axis.intake",
    )


async def test_granted_system_publishes_to_intake_and_the_axis_sees_who_it_is(
    broker: Broker, management: Management
) -> None:
    grant = await management.grant_system(broker.vhost, broker.system)

    with channel_as(system_url(broker, grant)) as channel:
        channel.basic_publish(grant.intake_exchange, "", b"<status/>", pika.BasicProperties(user_id=grant.username))
    with channel_as(broker.guest_url) as channel:
        properties, body = consume_one(channel, topology.INTAKE)

    assert body == b"<status/>"
    assert properties.user_id == username_for(broker.system)


# --- what it may not ---------------------------------------------------------------------------------


async def test_system_may_not_consume_another_systems_queue(broker: Broker, management: Management) -> None:
    grant = await management.grant_system(broker.vhost, broker.system)
    deliver(broker, broker.other, b"not yours")

    with channel_as(system_url(broker, grant)) as channel, pytest.raises(ChannelClosedByBroker) as refused:
        channel.basic_consume(queue_for(broker.other), lambda *_: None)

    assert refused.value.reply_code == 403
    assert refused.value.reply_text.startswith("ACCESS_REFUSED")
    assert queue_for(broker.other) in refused.value.reply_text


async def test_system_may_not_publish_to_deliveries_even_through_the_default_exchange(
    broker: Broker, management: Management
) -> None:
    grant = await management.grant_system(broker.vhost, broker.system)
    own_id = pika.BasicProperties(user_id=grant.username)

    with channel_as(system_url(broker, grant)) as channel, pytest.raises(ChannelClosedByBroker) as refused:
        channel.basic_publish(topology.DELIVERIES, broker.other, b"forged", own_id)
    assert (refused.value.reply_code, topology.DELIVERIES in refused.value.reply_text) == (403, True)

    # The default exchange routes by queue name; it is "amq.default" to the permission check.
    with channel_as(system_url(broker, grant)) as channel, pytest.raises(ChannelClosedByBroker) as refused:
        channel.basic_publish("", queue_for(broker.other), b"forged", own_id)
    assert (refused.value.reply_code, "amq.default" in refused.value.reply_text) == (403, True)


async def test_system_may_not_declare_queues_not_even_its_own(broker: Broker, management: Management) -> None:
    grant = await management.grant_system(broker.vhost, broker.system)

    with channel_as(system_url(broker, grant)) as channel, pytest.raises(ChannelClosedByBroker) as refused:
        channel.queue_declare(grant.queue, durable=True, arguments=topology.QUEUE_ARGUMENTS)
    assert refused.value.reply_code == 403

    with channel_as(system_url(broker, grant)) as channel, pytest.raises(ChannelClosedByBroker) as refused:
        channel.queue_declare("", exclusive=True)  # a private reply queue: also configure
    assert refused.value.reply_code == 403


async def test_system_may_not_publish_to_intake_as_another_user(broker: Broker, management: Management) -> None:
    grant = await management.grant_system(broker.vhost, broker.system)
    impostor = pika.BasicProperties(user_id=username_for(broker.other))

    with channel_as(system_url(broker, grant)) as channel, pytest.raises(ChannelClosedByBroker) as refused:
        channel.basic_publish(grant.intake_exchange, "", b"<forged/>", impostor)

    assert refused.value.reply_code == 406
    assert refused.value.reply_text == (
        f"PRECONDITION_FAILED - user_id property set to '{username_for(broker.other)}' "
        f"but authenticated user was '{grant.username}'"
    )
    with channel_as(broker.guest_url) as channel:
        assert channel.basic_get(topology.INTAKE) == (None, None, None), "the forged message was dropped"


async def test_system_with_a_wrong_password_cannot_connect(broker: Broker, management: Management) -> None:
    grant = await management.grant_system(broker.vhost, broker.system)

    assert_login_refused(amqp.url(broker.vhost, grant.username, grant.password + "x"))


# --- granting, rotating, revoking ---------------------------------------------------------------------


async def test_grant_makes_a_strong_random_password_each_time(broker: Broker, management: Management) -> None:
    first = await management.grant_system(broker.vhost, broker.system)
    second = await management.grant_system(broker.vhost, broker.system)

    assert first.password != second.password
    assert len(second.password) >= 40  # 256 random bits, URL-safe
    assert_login_refused(system_url(broker, first))
    with connection_as(system_url(broker, second)) as connection:
        assert connection.is_open


async def test_granting_again_with_the_same_password_keeps_the_system_working(
    broker: Broker, management: Management
) -> None:
    await management.grant_system(broker.vhost, broker.system, password="chosen by the operator")
    grant = await management.grant_system(broker.vhost, broker.system, password="chosen by the operator")
    deliver(broker, broker.system, b"still here")

    with channel_as(system_url(broker, grant)) as channel:
        _, body = consume_one(channel, grant.queue)
        channel.basic_publish(grant.intake_exchange, "", b"ok", pika.BasicProperties(user_id=grant.username))

    assert body == b"still here"


async def test_revoke_deletes_the_user_and_rabbitmq_closes_its_connections(
    broker: Broker, management: Management
) -> None:
    grant = await management.grant_system(broker.vhost, broker.system)

    with connection_as(system_url(broker, grant)) as connection:
        await management.revoke_system(broker.vhost, broker.system)
        with pytest.raises(ConnectionClosedByBroker) as closed:
            serve_until_closed(connection)
        assert closed.value.reply_code == 320  # CONNECTION_FORCED - user '…' is deleted

    assert_login_refused(system_url(broker, grant))
    await management.revoke_system(broker.vhost, broker.system)  # again: nothing to do, no error


async def test_grant_on_a_missing_vhost_fails_and_creates_no_user(management: Management) -> None:
    system = f"bac-eoffice-{uuid.uuid4().hex[:8]}"

    with pytest.raises(AxisError) as refused:
        await management.grant_system("axis-test-no-such-vhost", system)

    assert refused.value.code == "broker.vhost.unknown"
    users = API.with_user(None) / "api" / "users" / username_for(system)
    async with aiohttp.ClientSession() as session, session.get(users, headers=ADMIN) as answer:
        assert answer.status == 404


async def test_vhost_names_travel_url_encoded(management: Management) -> None:
    vhost = f"axis-test-{uuid.uuid4().hex[:12]}/with/slashes"
    system = f"bac-eoffice-{uuid.uuid4().hex[:8]}"
    await management.create_vhost(vhost)
    try:
        grant = await management.grant_system(vhost, system)
        with connection_as(amqp.url(vhost, grant.username, grant.password)) as connection:
            assert connection.is_open  # a login without permissions on the vhost would be refused
        assert await management.queue_depth(vhost, grant.queue) is None
    finally:
        await management.revoke_system(vhost, system)
        await management.delete_vhost(vhost)
    await management.delete_vhost(vhost)  # again: nothing to do, no error


# --- queue depth, ping, failures -----------------------------------------------------------------


async def _await_depth(management: Management, broker: Broker, expected: int) -> None:
    deadline = time.monotonic() + TIMEOUT
    depth = await management.queue_depth(broker.vhost, queue_for(broker.system))
    while depth != expected and time.monotonic() < deadline:
        await asyncio.sleep(0.2)  # polling RabbitMQ's statistics until they show it
        depth = await management.queue_depth(broker.vhost, queue_for(broker.system))
    assert depth == expected


@pytest.mark.slow
async def test_queue_depth_counts_waiting_deliveries(broker: Broker, management: Management) -> None:
    for n in range(3):
        deliver(broker, broker.system, f"delivery {n}".encode())
    await _await_depth(management, broker, 3)

    with channel_as(broker.guest_url) as channel:
        consume_one(channel, queue_for(broker.system))
    await _await_depth(management, broker, 2)

    assert await management.queue_depth(broker.vhost, "axis.system.nobody") is None
    assert await management.queue_depth("axis-test-no-such-vhost", queue_for(broker.system)) is None


async def test_ping_answers_whether_the_management_api_is_usable(management: Management) -> None:
    assert await management.ping() is True
    async with Management(WRONG_PASSWORD) as wrong_password:
        assert await wrong_password.ping() is False
    async with Management(NOWHERE) as nowhere:
        assert await nowhere.ping() is False


async def test_an_unreachable_management_api_is_a_stable_error() -> None:
    async with Management(NOWHERE) as nowhere:
        with pytest.raises(AxisError) as failed:
            await nowhere.create_vhost("axis-test-never")

    assert failed.value.code == "broker.management.unavailable"
    assert failed.value.http_status == 503
    assert failed.value.details["status"] is None
    assert "secret" not in str(failed.value) + repr(failed.value.details)


async def test_refused_credentials_are_the_same_stable_error_with_the_status() -> None:
    async with Management(WRONG_PASSWORD) as wrong_password:
        with pytest.raises(AxisError) as failed:
            await wrong_password.queue_depth("/", "axis.intake")

    assert failed.value.code == "broker.management.unavailable"
    assert failed.value.details["status"] == 401
    assert "wrong" not in str(failed.value) + repr(failed.value.details)


async def test_a_shared_session_stays_the_callers() -> None:
    async with aiohttp.ClientSession() as session:
        async with Management(amqp.MANAGEMENT_URL, session) as management:
            assert await management.ping()
        assert not session.closed
