"""An axis given several RabbitMQ nodes (a cluster) uses any live one: for AMQP and for the
management API alike, and it says which addresses it was given without their passwords.

The failover between the nodes of a real three-node cluster, under load, is tested in
``tests/ha``; here a node that is down is a closed port on this machine."""

from __future__ import annotations

import amqp
import pytest
from world import wait_until

from axis.broker.management import Management
from axis.broker.publisher import Broker, Outgoing
from axis.config import Settings, amqp_addresses
from axis.errors import AxisError

CLOSED = "127.0.0.1:9"  # nothing listens there: a node that is down


def test_one_url_or_one_per_node_separated_by_commas() -> None:
    assert amqp_addresses("amqp://guest:guest@h1:5672/v") == ("amqp://guest:guest@h1:5672/v",)
    assert amqp_addresses(" amqp://a@h1/v , amqp://a@h2/v,") == ("amqp://a@h1/v", "amqp://a@h2/v")


def test_the_logged_settings_hide_every_nodes_password() -> None:
    settings = Settings(amqp_url="amqp://axis:s1@mq1:5672/prod,amqp://axis:s1@mq2:5672/prod")
    assert settings.redacted()["amqp_url"] == "amqp://axis:***@mq1:5672/prod,amqp://axis:***@mq2:5672/prod"
    assert settings.amqp_vhost == "prod"


def test_nodes_of_one_cluster_share_one_virtual_host() -> None:
    with pytest.raises(AxisError) as refused:
        Settings(amqp_url="amqp://a@mq1/prod,amqp://a@mq2/test").validate()
    assert refused.value.code == "config.invalid"


async def test_the_axis_connects_to_the_node_that_answers_and_publishes_there() -> None:
    vhost, url = await amqp.new_vhost()
    try:
        broker = Broker(f"amqp://guest:guest@{CLOSED}/{vhost},{url}")
        await broker.start()
        try:
            assert broker.connected
            await broker.publish(
                Outgoing(
                    system_id="nam",
                    message_id="m-1",
                    kind="receipt",
                    body=b"<receipt/>",
                    document_id="d",
                    sender="000.00.00.H98",
                    sender_system="bac",
                )
            )
        finally:
            await broker.close()
        async with Management(f"http://guest:guest@{CLOSED},{amqp.MANAGEMENT_URL}") as management:

            async def counted() -> bool:  # the management API's statistics lag a few seconds
                return (await management.queue_depths(vhost)).get("axis.system.nam") == 1

            await wait_until(counted, 20)  # asked through the node that answers
    finally:
        await amqp.delete_vhost(vhost)


async def test_when_no_node_answers_the_axis_says_so() -> None:
    with pytest.raises(AxisError) as down:
        async with Management(f"http://guest:guest@{CLOSED},http://guest:guest@127.0.0.1:10") as management:
            await management.queue_depths("/")
    assert down.value.code == "broker.management.unavailable"
    with pytest.raises(ConnectionError):
        await Broker(f"amqp://guest:guest@{CLOSED}/,amqp://guest:guest@127.0.0.1:10/").start()
