"""The SDK's habits are accepted: bodies wrapped every which way, stale parameters, docId spelled
two ways, a messagetype that does not say what the package is."""

from __future__ import annotations

import datetime as dt

import pytest
from sdk_client import ok
from sdk_world import Sdk
from test_sdk_refusals import refused
from world import status_of

from axis.edxml import model as m

SOUTH = "000.00.00.H99"


@pytest.mark.parametrize("wrapping", ["broken", "proper", "octet-stream"])
async def test_the_file_arrives_however_the_sdk_wraps_it(sdk: Sdk, wrapping: str) -> None:
    world = sdk.world
    north = sdk.client("north", multipart=wrapping)
    signed = world.signed(world.document("north", to=(SOUTH,)), by="north")
    sent = ok(await north.send_edoc(signed))
    assert await sdk["south"].get_edoc(sent["docId"]) == signed  # not a byte of the wrapping kept


async def test_stale_parameters_from_earlier_calls_are_signed_along_and_ignored(sdk: Sdk) -> None:
    world = sdk.world
    north = sdk["north"]
    document = world.document("north", to=(SOUTH,))
    sent = ok(await north.send_edoc(world.signed(document, by="north")))
    # The map still holds messagetype, servicetype and hash-file from sendEdoc, and then docId:
    ok(await north.call("getSentEdocList", messagetype="edoc"))
    ok(await north.call("getEdoc", docId=sent["docId"]))
    listing = north.prepare("countReceiveStatus")
    assert {"hash-file", "messagetype", "servicetype", "docId"} <= set(
        listing.headers["XroadVnpt-sign-header-key"].split(";")
    )
    assert ok((await north.send(listing))[1]) == {"total": 0}

    # A status package sent while the map still says messagetype=edoc: the package decides.
    south = sdk["south"]
    await south.get_edoc(sent["docId"])
    ok(await south.update_status(sent["docId"], "done"))
    arrived = status_of(document, m.StatusCode.ARRIVED, "south", SOUTH)
    answered = ok(await south.send_edoc(world.signed(arrived, by="south"), "edoc"))
    assert answered["messageType"] == "status"
    (item,) = await north.received("status")
    assert item["docId"] == answered["docId"]


async def test_docid_spelled_two_ways_is_read_without_guessing(sdk: Sdk) -> None:
    """An SDK that writes docId in getEdoc and docid in updateStatus keeps both in its map."""
    world = sdk.world
    first, second = [
        ok(await sdk["north"].send_edoc(world.signed(world.document("north", to=(SOUTH,), number=n), by="north")))
        for n in ("301", "302")
    ]
    south = sdk["south"]
    await south.get_edoc(first["docId"])
    ok(await south.update_status(first["docId"], "done", spelling="docid"))  # both spellings agree so far
    # Now docId is about to change while docid still names the first package: which one is meant
    # cannot be told from the request, so the axis refuses rather than fetch the wrong package…
    refused(await south.call("getEdoc", docId=second["docId"]), "204", "vdxp.param.ambiguous")


async def test_docid_spellings_configured_per_operation(sdk_configured: Sdk) -> None:
    """…unless the administrator said which spelling each operation uses."""
    world = sdk_configured.world
    north, south = sdk_configured["north"], sdk_configured["south"]
    ids = []
    for number in ("401", "402"):
        sent = ok(await north.send_edoc(world.signed(world.document("north", to=(SOUTH,), number=number), by="north")))
        ids.append(sent["docId"])
    for doc_id in ids:
        assert await south.get_edoc(doc_id)  # docId = this one, docid = the previous one (stale)
        assert ok(await south.update_status(doc_id, "done", spelling="docid"))["docId"] == doc_id
    assert await south.received("edoc") == []


async def test_timestamps_in_seconds_and_as_local_time_are_read(sdk: Sdk) -> None:
    south = sdk["south"]
    south.clock_ms = lambda: int(dt.datetime.now(dt.UTC).timestamp())  # seconds, not milliseconds
    ok(await south.call("countReceiveEdoc"))
    south.clock_ms = lambda: dt.datetime.now(m.VN_TZ).strftime("%Y/%m/%d %H:%M:%S")
    ok(await south.call("countReceiveStatus"))
