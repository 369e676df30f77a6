"""Software built on the national SDK points it at this axis and runs its usual loop unchanged:
send a document, list what arrived, get it, parse it, updateStatus(done), answer with a status
package, list the statuses that arrived — for two systems, both ways, on the real axis."""

from __future__ import annotations

import urllib.parse
from typing import Any

from sdk_client import ok
from sdk_world import Sdk
from world import status_of

from axis.edxml import codec
from axis.edxml import model as m

NORTH, SOUTH = "000.00.00.H98", "000.00.00.H99"


async def sdk_loop(sdk: Sdk, sender: str, recipient: str, *, number: str) -> dict[str, Any]:
    """One round of the SDK's typical loop; returns what the sender's SDK saw at the end."""
    world = sdk.world
    sending, receiving = sdk[sender], sdk[recipient]
    document = world.document(sender, to=(world[recipient].code,), number=number)
    signed = world.signed(document, by=sender)

    # The sender's software sends the document.
    sent = ok(await sending.send_edoc(signed, "edoc"))
    doc_id = sent["docId"]
    assert sent == {
        "docId": doc_id,
        "documentId": document.document_id,
        "messageType": "edoc",
        "to": world[recipient].code,
        "repeated": False,
    }

    # The recipient's software polls, gets, parses and acknowledges.
    (item,) = await receiving.received("edoc")
    assert (item["docId"], item["from"], item["to"]) == (doc_id, world[sender].code, world[recipient].code)
    assert (item["messageType"], item["status"], item["documentId"]) == ("edoc", "pending", document.document_id)
    content = await receiving.get_edoc(doc_id)
    assert content == signed  # the bytes exactly as the sender signed them
    received = codec.parse(content).package
    assert isinstance(received, m.DocumentPackage)
    assert received.document_id == document.document_id
    assert [i["status"] for i in await receiving.received("edoc")] == ["processing"]
    assert ok(await receiving.update_status(doc_id, "done"))["status"] == "done"
    assert await receiving.received("edoc") == []

    # It answers with a status package 01 (arrived): sent with messagetype status.
    arrived = status_of(received, m.StatusCode.ARRIVED, recipient, world[recipient].code)
    answered = ok(await receiving.send_edoc(world.signed(arrived, by=recipient), "status"))
    assert (answered["messageType"], answered["to"]) == ("status", world[sender].code)

    # The sender's software lists the statuses that arrived, gets and parses each, acknowledges.
    assert ok(await sending.call("countReceiveStatus")) == {"total": 1}
    (status_item,) = await sending.received("status")
    assert (status_item["messageType"], status_item["statusCode"]) == ("status", "01")
    assert status_item["from"] == world[recipient].code
    status = codec.parse(await sending.get_edoc(status_item["docId"])).package
    assert isinstance(status, m.StatusPackage)
    assert (status.document_id, status.status_code) == (document.document_id, m.StatusCode.ARRIVED)
    ok(await sending.update_status(status_item["docId"], "done"))
    assert await sending.received("status") == []
    assert ok(await sending.call("countReceiveStatus")) == {"total": 0}

    # The same machinery as the native API: the status view tells the same story.
    path = f"/api/v1/documents/{urllib.parse.quote(document.document_id, safe='')}/status"
    timeline = await world.get(path, sender)
    (entry,) = timeline["recipients"]
    assert entry["delivery"]["state"] == "delivered"
    assert [s["code"] for s in entry["statuses"]] == ["01"]
    sent_list = ok(await sending.call("getSentEdocList", messagetype="edoc"))
    return {"doc_id": doc_id, "sent": sent_list}


async def test_two_systems_run_the_sdk_loop_both_ways_with_documents_and_statuses(sdk: Sdk) -> None:
    north_to_south = await sdk_loop(sdk, "north", "south", number="201")
    sdk["south"].multipart = "octet-stream"  # the other SDK flavour sends the file as a plain body
    south_to_north = await sdk_loop(sdk, "south", "north", number="202")

    for result, recipient in ((north_to_south, SOUTH), (south_to_north, NORTH)):
        (sent,) = result["sent"]
        assert sent["docId"] == result["doc_id"]
        assert sent["status"] == "done"
        assert [(r["to"], r["status"]) for r in sent["receivers"]] == [(recipient, "done")]

    # Each side's sender got the axis's signed receipts through the same exchange.
    async with sdk.world.axis.pool.acquire() as conn:
        kinds = await conn.fetch("SELECT kind, count(*) AS n FROM receipts GROUP BY kind ORDER BY kind")
        vias = await conn.fetchval("SELECT array_agg(DISTINCT received_via) FROM packages")
    assert {r["kind"]: r["n"] for r in kinds} == {"acceptance": 4, "delivery": 4}
    assert vias == ["http"]


async def test_the_same_bytes_sent_again_are_the_same_package(sdk: Sdk) -> None:
    world = sdk.world
    signed = world.signed(world.document("north", to=(SOUTH,)), by="north")
    first = ok(await sdk["north"].send_edoc(signed))
    again = ok(await sdk["north"].send_edoc(signed))  # a retry after a timeout: signed afresh, same file
    assert again["docId"] == first["docId"]
    assert again["repeated"] is True
    assert await world.count("packages") == 1
