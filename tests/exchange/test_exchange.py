"""Two agencies' systems exchange a signed document through the axis, for real."""

from __future__ import annotations

import asyncio
import urllib.parse
from typing import Any

import aio_pika
from world import World, status_of, wait_until

from axis import receipts
from axis.edxml import model as m
from axis.edxml.trust import TrustAnchors


async def consume_one(world: World, name: str, timeout: float = 10.0) -> aio_pika.abc.AbstractIncomingMessage:
    connection = await world.amqp_connection(name)
    async with connection:
        channel = await connection.channel()
        queue = await channel.get_queue(f"axis.system.{world[name].system_id}")
        async with asyncio.timeout(timeout):
            async with queue.iterator() as messages:
                async for message in messages:
                    await message.ack()
                    return message
    raise AssertionError("no message")


async def test_document_reaches_three_systems_and_acks_come_back_as_receipts(world: World) -> None:
    document = world.document(to=("000.00.00.H99", "000.00.11.H99", "000.00.00.G98"))
    sent = world.signed(document)
    accepted = await world.post(sent)
    package_id = accepted["package_id"]
    assert {(r["requested"], r["system"]) for r in accepted["recipients"]} == {
        ("000.00.00.H99", "nam"),
        ("000.00.11.H99", "nam-stc"),  # the most specific binding wins
        ("000.00.00.G98", world["bo"].system_id),
    }

    # Two HTTP systems pull their inbox, fetch the bytes as signed, and acknowledge.
    for name in ("south", "dept"):
        inbox = await world.get("/api/v1/inbox", name)
        assert [i["id"] for i in inbox["items"] if i["type"] == "package"] == [package_id]
        assert await world.get(f"/api/v1/packages/{package_id}", name) == sent
        await world.ack(package_id, name)
        assert [i for i in (await world.get("/api/v1/inbox", name))["items"] if i["type"] == "package"] == []

    # The AMQP system consumes it from its own queue and answers with a signed status 01.
    message = await consume_one(world, "bo")
    assert message.message_id == package_id
    assert message.headers["document_id"] == document.document_id
    assert message.headers["kind"] == "document"
    arrived = status_of(document, m.StatusCode.ARRIVED, "bo", "000.00.00.G98")
    connection = await world.amqp_connection("bo")
    async with connection:
        channel = await connection.channel()
        intake = await channel.get_exchange("axis.intake", ensure=False)
        grant = world["bo"].grant
        assert grant is not None
        await intake.publish(
            aio_pika.Message(world.signed(arrived, by="bo"), user_id=grant.username, message_id="status-1"),
            routing_key="",
        )

    # The sender gets the acceptance receipt and three delivery receipts, all verifiable offline.
    async def receipts_arrived() -> bool:
        items = (await world.get("/api/v1/inbox", "north"))["items"]
        return sum(i["kind"] == "delivery" for i in items) == 3

    await wait_until(receipts_arrived)
    # Receipts are checked against the axis's own certificate (not the CA, which agencies share).
    trust = TrustAnchors.from_pem(await world.get("/api/v1/axis/certificate", "north"))
    kinds: dict[str, Any] = {}
    items = (await world.get("/api/v1/inbox", "north"))["items"]
    # The ministry's status package is in the sender's inbox too.
    assert [i["kind"] for i in items if i["type"] == "package"] == ["status"]
    for item in (i for i in items if i["type"] == "receipt"):
        receipt, _ = receipts.verify(await world.get(item["url"], "north"), trust)
        assert receipt.package_id == package_id
        kinds.setdefault(receipt.kind.value, []).append(receipt.delivered_to)
    assert kinds["acceptance"] == [None]
    assert sorted(kinds["delivery"]) == sorted([world["bo"].system_id, "nam", "nam-stc"])

    # The status API shows every recipient delivered, and the ministry's status 01.
    path = f"/api/v1/documents/{urllib.parse.quote(document.document_id, safe='')}/status"
    timeline = await world.get(path, "north")
    by_agency = {r["requested"]: r for r in timeline["recipients"]}
    assert {r["delivery"]["state"] for r in by_agency.values()} == {"delivered"}
    assert [s["code"] for s in by_agency["000.00.00.G98"]["statuses"]] == ["01"]
    assert await world.count("deliveries") == 4  # three for the document, one for the status to the sender
