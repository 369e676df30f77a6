"""What the SDK's signature is for: a forged, altered or misplaced request is refused in an answer
the SDK reads (its ErrorCode and ErrorDesc arrive; sendEdoc's carries ``DocId``), and nothing is
stored."""

from __future__ import annotations

import json

import pytest
from sdk_world import LIST_EDOC, Sdk, assert_refused, edoc_header, get_header, read_raw

from axis.registry import history, systems
from axis.store import db

NORTH, SOUTH = "000.00.00.H98", "000.00.00.H99"


def edit(
    raw: bytes, name: str | None, value: str | None = None, *, add: bool = False, body: bytes | None = None
) -> bytes:
    """A request changed on its way: a header's value replaced, removed (``None``) or added, or the body."""
    head, _, rest = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    if name is None:
        pass
    elif add:
        lines.insert(1, f"{name}: {value}".encode())
    else:
        prefix = name.encode().lower() + b":"
        found = [i for i, line in enumerate(lines) if line.lower().startswith(prefix)]
        assert found, name
        if value is None:
            del lines[found[0]]
        else:
            lines[found[0]] = f"{name}: {value}".encode()
    if body is not None:
        rest = body
        lines = [
            f"Content-Length: {len(body)}".encode() if line.lower().startswith(b"content-length:") else line
            for line in lines
        ]
    return b"\r\n".join(lines) + b"\r\n\r\n" + rest


async def stored(sdk: Sdk) -> int:
    return await sdk.world.count("packages")


async def test_a_wrong_secret_an_unknown_system_or_another_systems_secret_is_refused(sdk: Sdk) -> None:
    world = sdk.world
    signed = world.signed(world.document("north", to=(SOUTH,)), by="north")
    forger = sdk.service("north", secret="axv_not-the-secret")
    refused = await sdk.read(forger, "sendEdoc", edoc_header(NORTH), signed)
    assert_refused(refused, "103", "vdxp.signature.invalid")
    assert refused.doc_id == ""  # present: without it the SDK would lose ErrorCode and ErrorDesc too
    stranger = sdk.service("north", system_id="no-such-system")
    await sdk.refused(stranger, "getReceivedEdocList", LIST_EDOC, "103", "vdxp.signature.invalid")
    impostor = sdk.service("north", secret=sdk.secrets["south"])
    await sdk.refused(impostor, "countReceiveEdoc", {}, "103", "vdxp.signature.invalid")
    assert await stored(sdk) == 0


async def test_a_signed_header_altered_removed_or_doubled_on_the_way_is_refused(sdk: Sdk) -> None:
    world = sdk.world
    signed = world.signed(world.document("north", to=(SOUTH,)), by="north")
    sent = await sdk.ok(sdk.service("north"), "sendEdoc", edoc_header(NORTH), signed)
    assert sent.doc_id
    raw = sdk.service("south").get_edoc(get_header(sent.doc_id))
    other = "00000000-0000-0000-0000-000000000000"
    for changed in (
        edit(raw, "XroadVnpt-docId", other),  # pointed at another package
        edit(raw, "XroadVnpt-timestamp"),  # a signed header removed
        edit(raw, "XroadVnpt-docId", other, add=True),  # a second value under a signed name
    ):
        assert_refused(read_raw("getEdoc", await sdk.send(changed)), "104", "vdxp.signature.altered")
    # Altering the signed JSON as well breaks the HMAC.
    text = raw.split(b"XroadVnpt-sign-header: ", 1)[1].split(b"\r\n", 1)[0].decode()
    forged = json.loads(text) | {"XroadVnpt-docId": other}
    changed = edit(
        edit(raw, "XroadVnpt-docId", other), "XroadVnpt-sign-header", json.dumps(forged, separators=(",", ":"))
    )
    assert_refused(read_raw("getEdoc", await sdk.send(changed)), "103", "vdxp.signature.invalid")
    # A parameter the operation reads must be signed; others sent unsigned are ignored.
    unsigned = edit(sdk.service("south").get_edoc({"filePath": "xml"}), "XroadVnpt-docId", sent.doc_id, add=True)
    assert_refused(read_raw("getEdoc", await sdk.send(unsigned)), "203", "vdxp.param.unsigned")
    ignored = edit(sdk.service("south").count_receive_edoc({}), "XroadVnpt-docId", sent.doc_id, add=True)
    assert read_raw("countReceiveEdoc", await sdk.send(ignored)).count == 1  # type: ignore[union-attr]


async def test_a_body_altered_on_the_way_is_refused_and_nothing_is_stored(sdk: Sdk) -> None:
    world = sdk.world
    signed = world.signed(world.document("north", to=(SOUTH,)), by="north")
    raw = sdk.service("north").send_edoc(edoc_header(NORTH), signed)
    tampered = signed + b" "  # still well-formed, still signed, but not the file the hash-file names
    result = read_raw("sendEdoc", await sdk.send(edit(raw, None, body=tampered + b"\r\n")))
    assert_refused(result, "205", "vdxp.hash_file.mismatch")
    assert result is not None
    assert result.doc_id == ""
    assert await stored(sdk) == 0
    assert read_raw("sendEdoc", await sdk.send(raw)).status == "OK"  # type: ignore[union-attr]  # as the SDK sent it


async def test_missing_control_headers_malformed_signatures_and_unknown_operations_have_their_codes(sdk: Sdk) -> None:
    raw = sdk.service("south").count_receive_edoc({})
    assert_refused(
        read_raw("countReceiveEdoc", await sdk.send(edit(raw, "XroadVnpt-hash-header"))), "102", "vdxp.auth.missing"
    )
    listed = raw.split(b"XroadVnpt-sign-header-key: ", 1)[1].split(b"\r\n", 1)[0].decode()
    assert_refused(
        read_raw("countReceiveEdoc", await sdk.send(edit(raw, "XroadVnpt-sign-header-key", listed + ";docId"))),
        "105",
        "vdxp.signature.malformed",
    )
    unknown = raw.replace(b"/vdxp/countReceiveEdoc", b"/vdxp/noSuchOperation", 1)
    reply = await sdk.send(unknown)
    assert (reply.status, reply.header("Content-Type")) == (200, "application/json")
    assert_refused(read_raw("countReceiveEdoc", reply), "101", "vdxp.operation.unknown")


async def test_plain_http_from_another_machine_is_refused_and_https_through_the_proxy_is_not(
    sdk_behind_proxy: Sdk,
) -> None:
    """Behind a TLS-terminating proxy the axis sees plain HTTP; the proxy (trusted) says who called
    and how. A request that crossed a network unencrypted is refused: its signature was readable."""
    sdk = sdk_behind_proxy
    raw = sdk.service("south").count_receive_edoc({})
    from_afar = edit(raw, "X-Forwarded-For", "198.51.100.7", add=True)
    assert_refused(read_raw("countReceiveEdoc", await sdk.send(from_afar)), "109", "vdxp.transport.insecure")
    encrypted = edit(from_afar, "X-Forwarded-Proto", "https", add=True)
    assert read_raw("countReceiveEdoc", await sdk.send(encrypted)).status == "OK"  # type: ignore[union-attr]


async def test_a_system_with_an_address_allow_list_is_answered_only_from_those_addresses(
    sdk_behind_proxy: Sdk,
) -> None:
    sdk = sdk_behind_proxy
    conn = await db.connect(sdk.world.settings.database_url)
    try:
        async with conn.transaction():
            await systems.update(conn, "test", "nam", allowed_addresses="203.0.113.0/24")
        await sdk.world.axis.registrar.caught_up(await history.version(conn))
    finally:
        await conn.close()
    raw = edit(sdk.service("south").count_receive_edoc({}), "X-Forwarded-Proto", "https", add=True)
    elsewhere = edit(raw, "X-Forwarded-For", "198.51.100.7", add=True)
    assert_refused(read_raw("countReceiveEdoc", await sdk.send(elsewhere)), "108", "auth.address.refused")
    allowed = edit(raw, "X-Forwarded-For", "203.0.113.9", add=True)
    assert read_raw("countReceiveEdoc", await sdk.send(allowed)).status == "OK"  # type: ignore[union-attr]
    # The same list guards the system's Bearer token on the native API.
    response = await sdk.world.client.get(
        "/api/v1/inbox", headers=sdk.world["south"].headers | {"X-Forwarded-For": "198.51.100.7"}
    )
    assert (response.status, (await response.json())["error"]["code"]) == (403, "auth.address.refused")


@pytest.mark.parametrize("operation", ["countReceiveEdoc", "sendEdoc"])
async def test_refusals_can_carry_their_http_status_when_the_administrator_asks(
    sdk_configured: Sdk, operation: str
) -> None:
    forger = sdk_configured.service("south", secret="axv_wrong")
    payload = b"<edXML/>" if operation == "sendEdoc" else None
    reply = await sdk_configured.call(forger, operation, {}, payload)
    assert reply.status == 401
    assert_refused(read_raw(operation, reply), "103", "vdxp.signature.invalid")
