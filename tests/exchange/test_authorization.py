"""A system sees only what it sent or what was addressed to agencies it serves — over HTTP and AMQP.

Anything else answers as if it did not exist (404), so that package ids and DocumentIds leak
nothing. Over AMQP, RabbitMQ itself refuses: the test uses a second client library (pika).
"""

from __future__ import annotations

import urllib.parse

import amqp
import pika
import pika.exceptions
import pytest
from world import World


async def test_other_systems_cannot_read_acknowledge_or_follow_a_package(world: World) -> None:
    to_ministry = await world.post(world.signed(world.document(to=("000.00.00.G98",))))
    package = to_ministry["package_id"]
    document_id = urllib.parse.quote(world.document().document_id, safe="")
    for path in (
        f"/api/v1/packages/{package}",
        f"/api/v1/packages/{package}/receipt",
        f"/api/v1/documents/{document_id}/status",
    ):
        for outsider in ("south", "dept"):
            answer = await world.get(path, outsider, expect=404)
            assert answer["error"]["code"] in ("package.unknown", "document.unknown")
    ack = await world.client.post(f"/api/v1/packages/{package}/ack", headers=world["south"].headers)
    assert ack.status == 404
    assert (await world.get("/api/v1/inbox", "south"))["items"] == []
    assert await world.get(f"/api/v1/documents?document_id={document_id}", "south") == {
        "documents": [],
        "limit": 50,
        "offset": 0,
    }
    # The sender itself may not acknowledge its own package on a recipient's behalf.
    own = await world.client.post(f"/api/v1/packages/{package}/ack", headers=world["north"].headers)
    assert own.status == 404


async def test_recipient_sees_only_its_own_agencies_in_the_status(world: World) -> None:
    accepted = await world.post(world.signed(world.document(to=("000.00.00.H99", "000.00.11.H99", "000.00.00.G98"))))
    document_id = urllib.parse.quote(world.document().document_id, safe="")
    seen_by_dept = await world.get(f"/api/v1/documents/{document_id}/status", "dept")
    assert [r["requested"] for r in seen_by_dept["recipients"]] == ["000.00.11.H99"]
    seen_by_sender = await world.get(f"/api/v1/documents/{document_id}/status", "north")
    assert len(seen_by_sender["recipients"]) == len(accepted["recipients"]) == 3


def pika_channel(
    world: World, name: str
) -> tuple[pika.BlockingConnection, pika.adapters.blocking_connection.BlockingChannel]:
    grant = world[name].grant
    assert grant is not None
    parameters = pika.URLParameters(amqp.url(world.vhost, grant.username, grant.password))
    connection = pika.BlockingConnection(parameters)
    channel = connection.channel()
    channel.confirm_delivery()
    return connection, channel


def refused(action: object) -> int:
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as closed:
        action()  # type: ignore[operator]
    return closed.value.reply_code


async def test_amqp_user_reads_only_its_own_queue_and_writes_only_to_intake(world: World) -> None:
    grant = world["bo"].grant
    assert grant is not None
    connection, channel = pika_channel(world, "bo")
    try:
        # Its own queue: allowed.
        channel.basic_get(f"axis.system.{world['bo'].system_id}", auto_ack=False)
        # Another system's queue, the deliveries exchange, the dead letters: refused by RabbitMQ.
        assert refused(lambda: channel.basic_get("axis.system.nam", auto_ack=False)) == 403
        channel = connection.channel()
        assert refused(lambda: channel.basic_get("axis.dead", auto_ack=False)) == 403
        channel = connection.channel()
        channel.confirm_delivery()
        assert refused(lambda: channel.basic_publish("axis.deliveries", "nam", b"forged")) == 403
        channel = connection.channel()
        channel.confirm_delivery()
        # Publishing to intake as somebody else is refused (RabbitMQ validates user_id).
        forged = pika.BasicProperties(user_id="axis-sys-bac")
        assert refused(lambda: channel.basic_publish("axis.intake", "", b"<edXML/>", forged)) == 406
    finally:
        connection.close()
