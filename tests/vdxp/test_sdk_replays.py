"""A request the SDK signed can be sent again, by the SDK itself (it never re-signs) or by whoever
captured it: what the axis lets such a request do (``axis.vdxp.replay``, docs/integration.md)."""

from __future__ import annotations

from sdk_world import LIST_EDOC, Sdk, assert_refused, edoc_header, get_header, read_raw, update_header

SOUTH = "000.00.00.H99"


async def age_sightings(sdk: Sdk, hours: float) -> None:
    """Let time pass for every signed set the axis has seen."""
    async with sdk.world.axis.pool.acquire() as conn:
        await conn.execute("UPDATE vdxp_sightings SET first_seen = first_seen - make_interval(hours => $1)", hours)


async def test_a_captured_send_edoc_can_only_send_the_same_file_again(sdk: Sdk) -> None:
    world = sdk.world
    signed = world.signed(world.document("north", to=(SOUTH,)), by="north")
    raw = sdk.service("north").send_edoc(edoc_header(world["north"].code), signed)
    first = read_raw("sendEdoc", await sdk.send(raw))
    again = read_raw("sendEdoc", await sdk.send(raw))  # a day later, from anywhere it is accepted
    assert first is not None
    assert again is not None
    assert (first.status, again.doc_id) == ("OK", first.doc_id)
    assert await world.count("packages") == 1
    other = world.signed(world.document("north", to=(SOUTH,), number="999"), by="north")
    swapped = raw.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n" + other + b"\r\n"  # another file, same length or not
    swapped = swapped.replace(
        f"Content-Length: {len(signed) + 2}".encode(), f"Content-Length: {len(other) + 2}".encode()
    )
    assert_refused(read_raw("sendEdoc", await sdk.send(swapped)), "205", "vdxp.hash_file.mismatch")


async def test_reads_replayed_any_time_later_are_answered(sdk: Sdk) -> None:
    south = sdk.service("south")
    raw = south.get_received_edoc_list(LIST_EDOC)
    await sdk.send(raw)
    await age_sightings(sdk, 24 * 30)
    assert read_raw("getReceivedEdocList", await sdk.send(raw)).status == "OK"  # type: ignore[union-attr]


async def test_an_acknowledgement_carried_over_by_the_map_expires_a_day_after_its_first_use(sdk: Sdk) -> None:
    """The map keeps ``status=done`` from the last updateStatus: every later getEdoc request of the
    instance carries it, and replayed against updateStatus it would acknowledge that package. It
    can, within a day of the axis first seeing it; a capture used later changes nothing."""
    world = sdk.world
    south = sdk.service("south")
    ids = []
    for number in ("701", "702"):
        signed = world.signed(world.document("north", to=(SOUTH,), number=number), by="north")
        sent = await sdk.ok(sdk.service("north"), "sendEdoc", edoc_header(world["north"].code), signed)
        assert sent.doc_id
        ids.append(sent.doc_id)
    await sdk.ok(south, "getEdoc", get_header(ids[0]))
    await sdk.ok(south, "updateStatus", update_header(ids[0], "done"))
    captured = south.get_edoc(get_header(ids[1]))  # signed with docId=702 and the leftover status=done
    assert b'"XroadVnpt-status":"done"' in captured
    await sdk.send(captured)  # the SDK's own getEdoc: the axis sees the set for the first time
    await age_sightings(sdk, 25)
    hijacked = captured.replace(b"/vdxp/getEdoc ", b"/vdxp/updateStatus ", 1)
    assert_refused(read_raw("updateStatus", await sdk.send(hijacked)), "107", "vdxp.signature.stale")
    listed = await sdk.ok(south, "getReceivedEdocList", LIST_EDOC)
    assert listed.items is not None
    assert [i["docId"] for i in listed.items] == [ids[1]]  # still waiting for its system
    # The vendor's own instance keeps working: a new instance signs afresh.
    await sdk.ok(sdk.service("south"), "updateStatus", update_header(ids[1], "done"))


async def test_register_agency_never_changes_the_registry(sdk: Sdk) -> None:
    data = '{"id":"","pcode":"000.00.00.H99","code":"000.00.12.H99","name":"Sở Mới","mail":"a@b.vn"}'
    await sdk.refused(sdk.service("south"), "registerAgency", {}, "504", "vdxp.agency.register_refused", data)
    assert "000.00.12.H99" not in sdk.world.axis.registry.snapshot.agencies
