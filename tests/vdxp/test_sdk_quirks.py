"""The SDK's habits are taken as they come: parameters left in its map from earlier calls, docId
spelled two ways, a messagetype that does not say what the package is, and non-ASCII values."""

from __future__ import annotations

from sdk_world import LIST_EDOC, LIST_STATUS, Sdk, edoc_header, get_header, update_header
from world import status_of

from axis.edxml import codec
from axis.edxml import model as m

NORTH, SOUTH = "000.00.00.H98", "000.00.00.H99"


async def test_parameters_left_from_earlier_calls_are_signed_along_and_ignored(sdk: Sdk) -> None:
    world = sdk.world
    north = sdk.service("north")
    document = world.document("north", to=(SOUTH,))
    sent = await sdk.ok(north, "sendEdoc", edoc_header(NORTH, to='["000.00.00.H97"]'), world.signed(document))
    assert sent.doc_id
    # The map still holds from, to, hash-file, messagetype… and now a docId and a filePath.
    await sdk.ok(north, "getEdoc", get_header(sent.doc_id))
    counting = north.count_receive_status({})
    for name in (b"hash-file", b"to", b"from", b"docId", b"filePath"):
        assert b"XroadVnpt-" + name + b":" in counting
    assert (await sdk.ok(north, "countReceiveStatus", {})).count == 0
    # ``to`` named another agency: the package decides where it goes.
    listed = await sdk.ok(sdk.service("south"), "getReceivedEdocList", LIST_EDOC)
    assert listed.items is not None
    assert [i["docId"] for i in listed.items] == [sent.doc_id]

    # A status package sent while the map still says messagetype=edoc: the package decides.
    south = sdk.service("south")
    file = (await sdk.ok(south, "getEdoc", get_header(sent.doc_id))).file
    assert file is not None
    await sdk.ok(south, "updateStatus", update_header(sent.doc_id, "done"))
    received = codec.parse(file).package
    assert isinstance(received, m.DocumentPackage)
    arrived = world.signed(status_of(received, m.StatusCode.ARRIVED, "south", SOUTH), by="south")
    answered = await sdk.ok(south, "sendEdoc", edoc_header(SOUTH), arrived)
    statuses = await sdk.ok(north, "getReceivedEdocList", LIST_STATUS)
    assert statuses.items is not None
    assert [(i["docId"], i["messageType"]) for i in statuses.items] == [(answered.doc_id, "status")]


async def test_docid_spelled_two_ways_is_read_without_guessing(sdk: Sdk) -> None:
    """ServiceTest writes ``docId`` in getEdoc and ``docid`` in its manual updateStatus: one instance
    then carries both, and once they differ the axis cannot tell which one an operation means."""
    world = sdk.world
    ids = []
    for number in ("301", "302"):
        signed = world.signed(world.document("north", to=(SOUTH,), number=number), by="north")
        sent = await sdk.ok(sdk.service("north"), "sendEdoc", edoc_header(NORTH), signed)
        ids.append(sent.doc_id)
    south = sdk.service("south")
    await sdk.ok(south, "getEdoc", get_header(ids[0]))
    await sdk.ok(south, "updateStatus", {"status": "done", "docid": ids[0]})  # both spellings agree so far
    await sdk.refused(south, "getEdoc", get_header(ids[1]), "204", "vdxp.param.ambiguous")


async def test_docid_spellings_configured_per_operation(sdk_configured: Sdk) -> None:
    """…unless the administrator said which spelling each operation uses."""
    sdk = sdk_configured
    world = sdk.world
    south = sdk.service("south")
    for number in ("401", "402"):
        signed = world.signed(world.document("north", to=(SOUTH,), number=number), by="north")
        sent = await sdk.ok(sdk.service("north"), "sendEdoc", edoc_header(NORTH), signed)
        assert sent.doc_id
        assert (await sdk.ok(south, "getEdoc", get_header(sent.doc_id))).data == signed  # docid: the previous one
        await sdk.ok(south, "updateStatus", {"status": "done", "docid": sent.doc_id})
    assert (await sdk.ok(south, "getReceivedEdocList", LIST_EDOC)).items == ()


async def test_a_vietnamese_file_path_arrives_whatever_the_endpoint_looks_like(sdk: Sdk) -> None:
    """``filePath`` (a Windows folder with Vietnamese letters) travels in every later request of the
    instance: as UTF-8 to a port-less or HTTPS endpoint, cut to 8 bits to ``http://host:PORT``."""
    world = sdk.world
    signed = world.signed(world.document("north", to=(SOUTH,)), by="north")
    sent = await sdk.ok(sdk.service("north"), "sendEdoc", edoc_header(NORTH), signed)
    assert sent.doc_id
    south = sdk.service("south")
    assert south.endpoint.low_8_bits  # this test's endpoint names its port
    header = {"filePath": "C:\\Văn bản đến", "docId": sent.doc_id}
    raw = south.get_edoc(header)
    assert b"C:\\V\x03n b\xa3n \x11\xbfn" in raw
    assert (await sdk.ok(south, "getEdoc", header)).data == signed
    listed = await sdk.ok(south, "getReceivedEdocList", LIST_EDOC)  # filePath still in the map
    assert listed.items is not None
    assert len(listed.items) == 1


async def test_only_the_sdks_connections_take_8_bit_header_values(sdk: Sdk) -> None:
    """The lenient parser is for connections that start with a /vdxp/ request: the same cut bytes
    sent to the agency API meet aiohttp's strict parser, and a plain 400 in the contract's shape."""
    south = sdk.service("south")
    raw = south.get_edoc({"filePath": "C:\\Văn bản đến", "docId": "5f3c2a9e-1b7d-4c1e-9a41-0d6f2b8e7c11"})
    assert b"\x03" in raw
    reply = await sdk.send(raw.replace(b"POST /vdxp/getEdoc ", b"POST /api/v1/inbox/ack ", 1))
    assert reply.status == 400
    assert b'"http.bad_request"' in reply.body
