"""The SDK's listing of received documents carries what the axis found in their files' signatures,
beside the fields the SDK reads (it ignores the others)."""

from __future__ import annotations

from pdfs import cast_for, decree, with_file
from sdk_world import LIST_EDOC, Sdk


async def test_the_sdk_listing_carries_the_verdict_beside_the_fields_the_sdk_reads(sdk: Sdk) -> None:
    world = sdk.world
    people = cast_for(world.ca, "000.00.00.H98", "UBND Tỉnh Thử Nghiệm Bắc")
    await world.post(with_file(world, decree(people)))
    listed = await sdk.ok(sdk.service("south"), "getReceivedEdocList", LIST_EDOC)
    assert listed.items is not None
    assert len(listed.items) == 1  # the SDK reads its own fields, as before
    reply = await sdk.call(sdk.service("south"), "getReceivedEdocList", LIST_EDOC)
    assert b'"fileSignatures":"valid"' in reply.body
