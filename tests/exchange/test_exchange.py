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


async def test_recipient_acknowledges_a_page_of_its_inbox_in_one_request(world: World) -> None:
    mine = [(await world.post(world.signed(world.document(number=f"5{i:02d}"))))["package_id"] for i in range(3)]
    elsewhere = (await world.post(world.signed(world.document(to=("000.00.11.H99",), number="599"))))["package_id"]
    north_receipt = (await world.get(f"/api/v1/packages/{mine[0]}/receipts", "north"))["receipts"][0]["id"]

    async def ack_page() -> dict[str, Any]:
        response = await world.client.post(
            "/api/v1/inbox/ack",
            json={"packages": [*mine, elsewhere, "not-an-id"], "receipts": [north_receipt]},
            headers=world["south"].headers,
        )
        assert response.status == 200
        answer: dict[str, Any] = await response.json()
        return answer

    first = await ack_page()
    # Its own packages are delivered; another system's package and a malformed id are simply
    # unknown (as any id that is not the caller's), and they do not stop the others.
    assert [p.get("state") for p in first["packages"][:3]] == ["delivered"] * 3
    assert [p["error"]["code"] for p in first["packages"][3:]] == ["package.unknown"] * 2
    assert [r["error"]["code"] for r in first["receipts"]] == ["receipt.unknown"]
    assert [i for i in (await world.get("/api/v1/inbox", "south"))["items"] if i["type"] == "package"] == []

    # Acknowledging again changes nothing: same times, no second receipt.
    again = await ack_page()
    assert again["packages"][:3] == first["packages"][:3]
    trust = TrustAnchors.from_pem(await world.get("/api/v1/axis/certificate", "north"))
    for package_id in mine:
        listed = (await world.get(f"/api/v1/packages/{package_id}/receipts", "north"))["receipts"]
        assert [r["kind"] for r in listed] == ["acceptance", "delivery"]
        receipt, _ = receipts.verify(await world.get(listed[1]["url"], "north"), trust)
        assert (receipt.package_id, receipt.delivered_to) == (package_id, "nam")

    # The sender takes its receipts off its inbox the same way.
    waiting = [i["id"] for i in (await world.get("/api/v1/inbox?type=receipt", "north"))["items"]]
    response = await world.client.post("/api/v1/inbox/ack", json={"receipts": waiting}, headers=world["north"].headers)
    assert [r["acknowledged"] for r in (await response.json())["receipts"]] == [True] * len(waiting)
    assert (await world.get("/api/v1/inbox?type=receipt", "north"))["items"] == []


async def test_a_batch_acknowledgement_names_what_it_acknowledges(world: World) -> None:
    for body, fragment in (
        ({}, "Name the 'packages'"),
        ({"packages": "abc"}, "must be list"),
        ({"packages": [1, 2]}, "list of ids"),
        ({"packages": ["x"] * 501}, "At most 500"),
    ):
        response = await world.client.post("/api/v1/inbox/ack", json=body, headers=world["south"].headers)
        error = (await response.json())["error"]
        assert (response.status, error["code"]) == (400, "http.bad_request")
        assert fragment in error["message"]
