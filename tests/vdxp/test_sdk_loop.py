"""Software built on the national SDK points it at this axis and runs its usual loop unchanged, as
the SDK's own example does, on one long-lived service instance per system: send a document, list
what arrived, getEdoc it into ``xml/``, updateStatus done only when getEdoc said OK, answer with a
status package, list the statuses that arrived — for two systems, both ways, on the real axis."""

from __future__ import annotations

import urllib.parse
from typing import Any

from sdk_world import LIST_EDOC, LIST_STATUS, Sdk, edoc_header, get_header, update_header
from world import status_of

from axis.edxml import codec
from axis.edxml import model as m
from axis.federation.sdk.wire import SdkService

NORTH, SOUTH = "000.00.00.H98", "000.00.00.H99"


async def receive_all(sdk: Sdk, service: SdkService, header: dict[str, Any]) -> list[tuple[str, bytes]]:
    """The vendor example's receiving loop: list, then for each item getEdoc and updateStatus done
    when getEdoc's status is OK (fail otherwise). Returns (docId, the file the SDK wrote)."""
    listed = await sdk.ok(service, "getReceivedEdocList", header)
    assert listed.items is not None
    stored = []
    for item in listed.items:
        got = await sdk.read(service, "getEdoc", get_header(item["docId"]))
        assert got.status == "OK", got
        assert got.file is not None  # written to xml/<yyyy>/<M>/<docId>.edxml
        stored.append((item["docId"], got.file))
        await sdk.ok(service, "updateStatus", update_header(item["docId"], "done"))
    return stored


async def round_trip(sdk: Sdk, sending: SdkService, receiving: SdkService, sender: str, recipient: str) -> str:
    """One document from ``sender`` to ``recipient`` and its status 01 back; returns the DocId."""
    world = sdk.world
    document = world.document(sender, to=(world[recipient].code,), number=f"20{len(sender)}{len(recipient)}")
    signed = world.signed(document, by=sender)
    sent = await sdk.ok(sending, "sendEdoc", edoc_header(world[sender].code), signed)
    assert sent.doc_id

    [(doc_id, file)] = await receive_all(sdk, receiving, LIST_EDOC)
    assert doc_id == sent.doc_id
    assert file == signed  # byte for byte what the sender signed, through the SDK's UTF-8 round trip
    received = codec.parse(file).package
    assert isinstance(received, m.DocumentPackage)

    arrived = world.signed(status_of(received, m.StatusCode.ARRIVED, recipient, world[recipient].code), by=recipient)
    header = edoc_header(world[recipient].code, messagetype="status")
    await sdk.ok(receiving, "sendEdoc", header, arrived)

    assert (await sdk.ok(sending, "countReceiveStatus", {})).count == 1
    [(_, status_file)] = await receive_all(sdk, sending, LIST_STATUS)
    status = codec.parse(status_file).package
    assert isinstance(status, m.StatusPackage)
    assert (status.document_id, status.status_code) == (document.document_id, m.StatusCode.ARRIVED)
    assert (await sdk.ok(sending, "countReceiveStatus", {})).count == 0

    # The same machinery as the native API: the status view tells the same story.
    path = f"/api/v1/documents/{urllib.parse.quote(document.document_id, safe='')}/status"
    timeline = await world.get(path, sender)
    (entry,) = timeline["recipients"]
    assert entry["delivery"]["state"] == "delivered"
    assert [s["code"] for s in entry["statuses"]] == ["01"]
    return sent.doc_id


async def test_two_systems_run_the_sdk_loop_both_ways_on_long_lived_instances(sdk: Sdk) -> None:
    north, south = sdk.service("north"), sdk.service("south")  # one instance each, for the whole test
    north_to_south = await round_trip(sdk, north, south, "north", "south")
    south_to_north = await round_trip(sdk, south, north, "south", "north")

    for service, doc_id, recipient in ((north, north_to_south, SOUTH), (south, south_to_north, NORTH)):
        listed = await sdk.ok(service, "getSentEdocList", {**LIST_EDOC, "docId": doc_id})
        assert listed.items is not None
        assert [(i["senderDocId"], i["toCode"], i["receiveStatus"]) for i in listed.items] == [
            (doc_id, recipient, "done")
        ]
        assert "01" in listed.items[0]["receiveStatusDesc"]  # the recipient's business status

    # Each side's sender got the axis's signed receipts through the same exchange.
    async with sdk.world.axis.pool.acquire() as conn:
        kinds = await conn.fetch("SELECT kind, count(*) AS n FROM receipts GROUP BY kind ORDER BY kind")
    assert {r["kind"]: r["n"] for r in kinds} == {"acceptance": 4, "delivery": 4}


async def test_one_instance_polls_with_the_same_bytes_and_is_answered_every_time(sdk: Sdk) -> None:
    """The SDK signs once per instance: its polls are byte-identical, for as long as it lives."""
    south = sdk.service("south")
    raw = south.get_received_edoc_list(LIST_EDOC)
    assert south.get_received_edoc_list(LIST_EDOC) == raw
    world = sdk.world
    for number in range(3):
        signed = world.signed(world.document("north", to=(SOUTH,), number=f"3{number}"), by="north")
        await sdk.ok(sdk.service("north"), "sendEdoc", edoc_header(NORTH), signed)
        listed = await sdk.ok(south, "getReceivedEdocList", LIST_EDOC)
        assert listed.items is not None
        assert len(listed.items) == number + 1


async def test_the_same_file_sent_again_is_the_same_package(sdk: Sdk) -> None:
    world = sdk.world
    signed = world.signed(world.document("north", to=(SOUTH,)), by="north")
    first = await sdk.ok(sdk.service("north"), "sendEdoc", edoc_header(NORTH), signed)
    again = await sdk.ok(sdk.service("north"), "sendEdoc", edoc_header(NORTH), signed)  # a retry after a timeout
    assert again.doc_id == first.doc_id
    assert await world.count("packages") == 1
