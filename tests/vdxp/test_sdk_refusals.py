"""What the SDK's signature is for: each forged, altered, replayed or mismatched request is refused
with its own ErrorCode, and a refused sendEdoc stores nothing."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from sdk_client import ok, unpadded_hex
from sdk_world import Sdk

SOUTH = "000.00.00.H99"


def refused(answer: dict[str, Any], error_code: str, code: str) -> None:
    assert answer["status"] == "FAIL", answer
    assert answer["ErrorCode"] == error_code, answer
    assert answer["ErrorDesc"].startswith(f"{code}: "), answer


async def test_a_wrong_secret_or_an_unknown_system_is_refused_and_sends_nothing(sdk: Sdk) -> None:
    world = sdk.world
    signed = world.signed(world.document("north", to=(SOUTH,)), by="north")
    forger = sdk.client("north", secret="axv_not-the-secret")
    refused(await forger.send_edoc(signed), "103", "vdxp.signature.invalid")
    stranger = sdk.client("north", system_id="no-such-system")
    refused(await stranger.call("getReceivedEdocList"), "103", "vdxp.signature.invalid")
    # Another system's secret does not open this system's door either.
    impostor = sdk.client("north", secret=sdk.secrets["south"])
    refused(await impostor.call("countReceiveEdoc"), "103", "vdxp.signature.invalid")
    assert await world.count("packages") == 0
    assert await world.count("vdxp_seen_signatures") == 0  # only authenticated signatures are kept


async def test_a_header_altered_after_signing_is_refused(sdk: Sdk) -> None:
    world = sdk.world
    north = sdk["north"]
    sent = ok(await north.send_edoc(world.signed(world.document("north", to=(SOUTH,)), by="north")))

    # Someone between the SDK and the axis points a signed getEdoc at another package.
    south = sdk["south"]
    prepared = south.prepare("getEdoc", docId=sent["docId"])
    prepared.headers["XroadVnpt-docId"] = "00000000-0000-0000-0000-000000000000"
    status, answer = await south.send(prepared)
    assert status == 200  # the SDK reads ErrorCode, so refusals are answered 200 by default
    refused(answer, "104", "vdxp.signature.altered")

    # …or removes a signed header, or adds a second one under the same name.
    prepared = south.prepare("getEdoc", docId=sent["docId"])
    del prepared.headers["XroadVnpt-timestamp"]
    refused((await south.send(prepared))[1], "104", "vdxp.signature.altered")
    prepared = south.prepare("getEdoc", docId=sent["docId"])
    prepared.headers.add("XroadVnpt-docId", "00000000-0000-0000-0000-000000000000")
    refused((await south.send(prepared))[1], "104", "vdxp.signature.altered")

    # Altering the signed JSON as well breaks the HMAC.
    prepared = south.prepare("getEdoc", docId=sent["docId"])
    signed = json.loads(prepared.headers["XroadVnpt-sign-header"])
    signed["docId"] = prepared.headers["XroadVnpt-docId"] = "00000000-0000-0000-0000-000000000000"
    prepared.headers["XroadVnpt-sign-header"] = json.dumps(signed)
    refused((await south.send(prepared))[1], "103", "vdxp.signature.invalid")

    # A parameter sent outside the signed list is not used.
    prepared = south.prepare("countReceiveEdoc")
    prepared.headers["XroadVnpt-docId"] = sent["docId"]  # unsigned, but countReceiveEdoc ignores it
    assert ok((await south.send(prepared))[1]) == {"total": 1}
    fresh = sdk.client("south")
    prepared = fresh.prepare("getEdoc")
    prepared.headers["XroadVnpt-docId"] = sent["docId"]  # unsigned, and getEdoc would use it
    refused((await fresh.send(prepared))[1], "203", "vdxp.param.unsigned")


async def test_a_replayed_request_and_an_old_or_future_timestamp_are_refused(sdk: Sdk) -> None:
    world = sdk.world
    north = sdk["north"]
    signed = world.signed(world.document("north", to=(SOUTH,)), by="north")
    digest = unpadded_hex(hashlib.sha256(signed).digest())
    prepared = north.prepare("sendEdoc", signed, messagetype="edoc", **{"hash-file": digest})
    ok((await north.send(prepared))[1])
    refused((await north.send(prepared))[1], "107", "vdxp.signature.replayed")

    # A read replayed within the window is refused too: each signature is good once.
    south = sdk["south"]
    listing = south.prepare("getReceivedEdocList", messagetype="edoc")
    assert len(ok((await south.send(listing))[1])) == 1
    refused((await south.send(listing))[1], "107", "vdxp.signature.replayed")

    # A request signed ten minutes ago (captured, then replayed later) or ahead of the clock.
    for skew_ms in (-10 * 60 * 1000, 10 * 60 * 1000):
        late = sdk.client("south", clock_ms=lambda skew=skew_ms: int(time.time() * 1000) + skew)
        refused(await late.call("countReceiveEdoc"), "106", "vdxp.timestamp.invalid")
    unreadable = sdk.client("south", clock_ms=lambda: "yesterday")
    refused(await unreadable.call("countReceiveEdoc"), "106", "vdxp.timestamp.invalid")
    assert await world.count("packages") == 1


async def test_a_file_that_does_not_match_its_hash_file_is_refused(sdk: Sdk) -> None:
    world = sdk.world
    north = sdk["north"]
    signed = world.signed(world.document("north", to=(SOUTH,)), by="north")
    other = world.signed(world.document("north", to=(SOUTH,), number="999"), by="north")
    wrong = unpadded_hex(hashlib.sha256(other).digest())
    refused(
        await north.call("sendEdoc", signed, messagetype="edoc", **{"hash-file": wrong}),
        "205",
        "vdxp.hash_file.mismatch",
    )
    missing = sdk.client("north")
    refused(await missing.call("sendEdoc", signed, messagetype="edoc"), "201", "vdxp.param.missing")
    assert await world.count("packages") == 0

    # The check is real: find a package whose digest has a byte below 0x10, so that the SDK's
    # unpadded hex differs from the standard one; both are accepted, a truncated one is not.
    # (Whitespace after the root element changes the bytes, not the XML Signature.)
    data = signed
    while unpadded_hex(hashlib.sha256(data).digest()) == hashlib.sha256(data).hexdigest():
        data += b"\n"
    digest = hashlib.sha256(data).digest()
    refused(
        await north.call("sendEdoc", data, messagetype="edoc", **{"hash-file": unpadded_hex(digest)[:-1]}),
        "205",
        "vdxp.hash_file.mismatch",
    )
    ok(await north.call("sendEdoc", data, messagetype="edoc", **{"hash-file": unpadded_hex(digest)}))
    ok(await north.call("sendEdoc", data, messagetype="edoc", **{"hash-file": digest.hex()}))  # a repeat


async def test_missing_headers_and_malformed_signatures_have_their_own_codes(sdk: Sdk) -> None:
    south = sdk["south"]
    prepared = south.prepare("countReceiveEdoc")
    del prepared.headers["XroadVnpt-hash-header"]
    refused((await south.send(prepared))[1], "102", "vdxp.auth.missing")
    prepared = south.prepare("countReceiveEdoc")
    prepared.headers["XroadVnpt-sign-header-key"] += ";docId"  # listed but not in the signed JSON
    refused((await south.send(prepared))[1], "105", "vdxp.signature.malformed")
    prepared = south.prepare("countReceiveEdoc")
    prepared.headers["XroadVnpt-sign-header"] = "not json"
    refused((await south.send(prepared))[1], "105", "vdxp.signature.malformed")
    status, answer = await south.send(south.prepare("noSuchOperation"))
    assert status == 200
    refused(answer, "101", "vdxp.operation.unknown")


async def test_refusals_can_carry_their_http_status_when_the_administrator_asks(sdk_configured: Sdk) -> None:
    forger = sdk_configured.client("south", secret="axv_wrong")
    status, answer = await forger.send(forger.prepare("countReceiveEdoc"))
    assert status == 401
    refused(answer, "103", "vdxp.signature.invalid")
