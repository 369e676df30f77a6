"""updateStatus is a transport acknowledgement: done, processing and fail each land on the delivery
the native API and the sender's status view know — and none lets the vendor's loop lose a document.

The vendor example acknowledges ``done`` when getEdoc said OK and ``fail`` otherwise: a getEdoc
that failed on the axis's side must not make the document vanish, and ``done`` for a package the
system never fetched must not mark it delivered."""

from __future__ import annotations

import urllib.parse
from typing import Any

import builders
from sdk_world import LIST_EDOC, Sdk, edoc_header, get_header, update_header

from axis.federation.sdk.wire import SdkService

SOUTH = "000.00.00.H99"


async def delivery_seen_by_sender(sdk: Sdk, document_id: str) -> dict[str, Any]:
    path = f"/api/v1/documents/{urllib.parse.quote(document_id, safe='')}/status"
    (entry,) = (await sdk.world.get(path, "north"))["recipients"]
    delivery: dict[str, Any] = entry["delivery"]
    return delivery


async def send(sdk: Sdk, number: str, **document: Any) -> tuple[str, str, bytes]:
    """A document from north to south: (its DocId, its DocumentId, the file)."""
    world = sdk.world
    package = world.document("north", to=(SOUTH,), number=number, **document)
    signed = world.signed(package, by="north")
    sent = await sdk.ok(sdk.service("north"), "sendEdoc", edoc_header(world["north"].code), signed)
    assert sent.doc_id
    return sent.doc_id, package.document_id, signed


async def listed(sdk: Sdk, service: SdkService) -> list[tuple[str, str]]:
    result = await sdk.ok(service, "getReceivedEdocList", LIST_EDOC)
    assert result.items is not None
    return [(i["docId"], i["status"]) for i in result.items]


async def test_done_is_refused_until_the_system_fetched_the_package(sdk: Sdk) -> None:
    doc_id, document_id, _ = await send(sdk, "500")
    south = sdk.service("south")
    await sdk.refused(south, "updateStatus", update_header(doc_id, "done"), "402", "vdxp.update.unfetched")
    assert await listed(sdk, south) == [(doc_id, "pending")]  # still there to be fetched
    await sdk.ok(south, "getEdoc", get_header(doc_id))
    await sdk.ok(south, "updateStatus", update_header(doc_id, "done"))
    assert (await delivery_seen_by_sender(sdk, document_id))["state"] == "delivered"
    await sdk.ok(south, "updateStatus", update_header(doc_id, "done"))  # idempotent


async def test_fail_from_a_system_that_never_got_the_package_keeps_it_listed(sdk: Sdk) -> None:
    """The vendor loop's ``fail`` after a getEdoc that did not succeed: the axis keeps offering it."""
    doc_id, document_id, signed = await send(sdk, "501")
    south = sdk.service("south")
    noted = await sdk.ok(south, "updateStatus", update_header(doc_id, "fail"))
    assert "stays listed" in (noted.error_desc or "")
    assert (await delivery_seen_by_sender(sdk, document_id))["state"] == "queued"
    assert await listed(sdk, south) == [(doc_id, "pending")]
    got = await sdk.ok(south, "getEdoc", get_header(doc_id))
    assert got.file == signed


async def test_processing_records_that_the_recipient_has_it_and_keeps_it_listed(sdk: Sdk) -> None:
    doc_id, document_id, _ = await send(sdk, "502")
    south = sdk.service("south")
    await sdk.ok(south, "updateStatus", update_header(doc_id, "processing"))
    delivery = await delivery_seen_by_sender(sdk, document_id)
    assert (delivery["state"], delivery["fetched_at"] is not None) == ("queued", True)
    assert await listed(sdk, south) == [(doc_id, "processing")]
    await sdk.ok(south, "updateStatus", update_header(doc_id, "done"))
    await sdk.ok(south, "updateStatus", update_header(doc_id, "processing"))  # changes nothing after done
    assert (await delivery_seen_by_sender(sdk, document_id))["state"] == "delivered"


async def test_fail_after_fetching_marks_the_delivery_failed_with_a_reason_the_sender_sees(sdk: Sdk) -> None:
    doc_id, document_id, _ = await send(sdk, "503")
    south = sdk.service("south")
    await sdk.ok(south, "getEdoc", get_header(doc_id))
    await sdk.ok(south, "updateStatus", update_header(doc_id, "fail"))
    delivery = await delivery_seen_by_sender(sdk, document_id)
    assert delivery["state"] == "failed"
    assert "updateStatus fail" in delivery["failed_reason"]
    assert await listed(sdk, south) == []
    sent = await sdk.ok(sdk.service("north"), "getSentEdocList", LIST_EDOC)
    assert sent.items is not None
    (item,) = sent.items
    assert (item["senderDocId"], item["receiveStatus"]) == (doc_id, "fail")
    assert "updateStatus fail" in item["receiveStatusDesc"]
    await sdk.ok(south, "updateStatus", update_header(doc_id, "fail"))  # idempotent
    await sdk.refused(south, "updateStatus", update_header(doc_id, "done"), "402", "vdxp.update.conflict")
    await sdk.refused(south, "updateStatus", update_header(doc_id, "processing"), "402", "vdxp.update.conflict")


async def test_fail_after_done_and_unknown_packages_are_refused(sdk: Sdk) -> None:
    doc_id, _, _ = await send(sdk, "504")
    south = sdk.service("south")
    await sdk.ok(south, "getEdoc", get_header(doc_id))
    await sdk.ok(south, "updateStatus", update_header(doc_id, "done"))
    await sdk.refused(south, "updateStatus", update_header(doc_id, "fail"), "402", "vdxp.update.conflict")
    await sdk.refused(south, "updateStatus", update_header(doc_id, "finished"), "202", "vdxp.param.invalid")
    # A package addressed to another system does not exist for this one.
    dept = sdk.service("dept")
    await sdk.refused(dept, "updateStatus", update_header(doc_id, "done"), "401", "package.unknown")
    await sdk.refused(dept, "getEdoc", get_header(doc_id), "401", "package.unknown")
    await sdk.refused(south, "updateStatus", update_header("not-a-uuid", "done"), "401", "package.unknown")


async def test_download_edoc_gives_the_file_and_refuses_with_an_empty_body(sdk: Sdk) -> None:
    """The SDK saves whatever body downloadEdoc gets as the document: a refusal is an empty body,
    which it reports as FAIL, never an error text saved as a package."""
    doc_id, _, signed = await send(sdk, "505")
    south = sdk.service("south")
    downloaded = await sdk.ok(south, "downloadEdoc", get_header(doc_id))
    assert downloaded.file == signed
    for service, wanted in ((sdk.service("dept"), doc_id), (south, "00000000-0000-0000-0000-000000000000")):
        reply = await sdk.call(service, "downloadEdoc", get_header(wanted))
        assert reply.body == b""
    forger = sdk.service("south", secret="axv_wrong")
    reply = await sdk.call(forger, "downloadEdoc", get_header(doc_id))
    assert reply.body == b""
    reply = await sdk.call(south, "downloadEdoc2", {})
    assert reply.body == b""


async def test_a_large_package_comes_whole_through_get_edoc_and_download_edoc(sdk: Sdk) -> None:
    """A package stored in chunks comes base64 in getEdoc's ``data`` (written as read, its length
    said up front) and raw from downloadEdoc, byte for byte, for each remainder of base64's groups."""
    south = sdk.service("south")
    for size in (1_600_000, 1_600_001, 1_600_002):
        scan = builders.attachment_of_size(size, "ban-ve.pdf")
        doc_id, _, signed = await send(sdk, f"5{size % 10}7", attachments=(scan,))
        reply = await sdk.call(south, "getEdoc", get_header(doc_id))
        assert reply.header("Content-Length") == str(len(reply.body))
        got = await sdk.ok(south, "getEdoc", get_header(doc_id))
        assert got.data == signed
        assert (await sdk.ok(south, "downloadEdoc", get_header(doc_id))).file == signed
