"""updateStatus is a transport acknowledgement: done, processing and fail each land on the
delivery the native API and the sender's status view know."""

from __future__ import annotations

import base64
import json
import urllib.parse
from typing import Any

import builders
from sdk_client import ok
from sdk_world import Sdk
from test_sdk_refusals import refused

SOUTH = "000.00.00.H99"


async def delivery_seen_by_sender(sdk: Sdk, document_id: str) -> dict[str, Any]:
    path = f"/api/v1/documents/{urllib.parse.quote(document_id, safe='')}/status"
    (entry,) = (await sdk.world.get(path, "north"))["recipients"]
    delivery: dict[str, Any] = entry["delivery"]
    return delivery


async def send(sdk: Sdk, number: str) -> dict[str, Any]:
    world = sdk.world
    signed = world.signed(world.document("north", to=(SOUTH,), number=number), by="north")
    sent: dict[str, Any] = ok(await sdk["north"].send_edoc(signed))
    return sent


async def test_processing_records_that_the_recipient_has_it_and_keeps_it_listed(sdk: Sdk) -> None:
    sent = await send(sdk, "501")
    south = sdk["south"]
    assert ok(await south.update_status(sent["docId"], "processing")) == {
        "docId": sent["docId"],
        "status": "processing",
    }
    delivery = await delivery_seen_by_sender(sdk, sent["documentId"])
    assert delivery["state"] == "queued"
    assert delivery["fetched_at"] is not None
    assert [i["status"] for i in await south.received()] == ["processing"]
    assert ok(await south.update_status(sent["docId"], "done"))["status"] == "done"
    # processing after done changes nothing
    assert ok(await south.update_status(sent["docId"], "processing"))["status"] == "done"
    assert (await delivery_seen_by_sender(sdk, sent["documentId"]))["state"] == "delivered"


async def test_fail_marks_the_delivery_failed_with_a_reason_the_sender_sees(sdk: Sdk) -> None:
    sent = await send(sdk, "502")
    south = sdk["south"]
    assert ok(await south.update_status(sent["docId"], "fail")) == {"docId": sent["docId"], "status": "fail"}
    delivery = await delivery_seen_by_sender(sdk, sent["documentId"])
    assert delivery["state"] == "failed"
    assert "could not process" in delivery["failed_reason"]
    assert await south.received() == []  # no longer waiting
    (item,) = ok(await sdk["north"].call("getSentEdocList"))
    assert item["status"] == "fail"
    assert "could not process" in item["receivers"][0]["reason"]
    assert ok(await south.update_status(sent["docId"], "fail"))["status"] == "fail"  # idempotent
    refused(await south.update_status(sent["docId"], "done"), "402", "vdxp.update.conflict")
    refused(await south.update_status(sent["docId"], "processing"), "402", "vdxp.update.conflict")


async def test_fail_after_done_and_unknown_packages_are_refused(sdk: Sdk) -> None:
    sent = await send(sdk, "503")
    south = sdk["south"]
    ok(await south.update_status(sent["docId"], "done"))
    refused(await south.update_status(sent["docId"], "fail"), "402", "vdxp.update.conflict")
    refused(await south.update_status(sent["docId"], "finished"), "202", "vdxp.param.invalid")
    # A package addressed to another system does not exist for this one.
    refused(await sdk["dept"].update_status(sent["docId"], "done"), "401", "package.unknown")
    refused(await sdk["dept"].call("getEdoc", docId=sent["docId"]), "401", "package.unknown")
    refused(await south.update_status("not-a-uuid", "done"), "401", "package.unknown")


async def test_download_edoc_gives_a_large_file_byte_for_byte(sdk: Sdk) -> None:
    """A package stored in chunks is downloaded as one file, with its name and length."""
    world = sdk.world
    scan = builders.attachment_of_size(1_600_000, "ban-ve.pdf")
    signed = world.signed(world.document("north", to=(SOUTH,), number="505", attachments=(scan,)), by="north")
    sent = ok(await sdk["north"].send_edoc(signed))
    south = sdk["south"]
    prepared = south.prepare("downloadEdoc", docId=sent["docId"])
    response = await south.http.post(f"{south.base}/downloadEdoc", headers=prepared.headers)
    assert response.status == 200
    assert response.content_length == len(signed)
    assert response.headers["Content-Disposition"] == f'attachment; filename="{sent["docId"]}.edxml"'
    assert await response.read() == signed


async def test_get_edoc_streams_a_large_package_as_the_same_json(sdk: Sdk) -> None:
    """A package stored in chunks comes base64 in the SDK's JSON, its length said up front,
    exactly as a small one would (written as read, never whole in memory)."""
    world = sdk.world
    for size in (1_600_000, 1_600_001, 1_600_002):  # each remainder of the base64's groups of three
        scan = builders.attachment_of_size(size, "ban-ve.pdf")
        signed = world.signed(world.document("north", to=(SOUTH,), number=f"5{size % 10}7", attachments=(scan,)))
        sent = ok(await sdk["north"].send_edoc(signed))
        south = sdk["south"]
        prepared = south.prepare("getEdoc", docId=sent["docId"])
        response = await south.http.post(f"{south.base}/getEdoc", headers=prepared.headers)
        raw = await response.read()
        assert (response.status, response.content_type, response.content_length) == (200, "application/json", len(raw))
        expected = {"status": "OK", "ErrorCode": "0", "ErrorDesc": "", "data": {"docId": sent["docId"], "content": ""}}
        expected["data"]["content"] = base64.b64encode(signed).decode("ascii")
        assert json.loads(raw) == expected


async def test_download_edoc_gives_the_raw_file(sdk: Sdk) -> None:
    sent = await send(sdk, "504")
    south = sdk["south"]
    status, body = await south.send(south.prepare("downloadEdoc", docId=sent["docId"]))
    assert status == 200
    assert body == await south.get_edoc(sent["docId"])
