"""The byte-exact SDK client rebuilds every captured request of the unmodified SDK (sdk-wire/NN-*.http).

Each capture is rebuilt from the inputs the SDK had: endpoint, system, secret, the instance's creation
time (read back from its timestamp), the JSON headers of the README's table and the calls made on that
instance. If the client and a capture ever differ, the client no longer speaks for the real SDK.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from axis.federation.sdk.java_map import JavaHashMap, java_string_hash
from axis.federation.sdk.transport import Reply, exchange, parse_reply
from axis.federation.sdk.wire import OPERATIONS, SdkService, lossy_hex, moment_of, sdk_timestamp

WIRE = Path(__file__).parent / "sdk-wire"
ENDPOINT = "http://127.0.0.1:18390/vdxp"
SECRET = "sdk-demo-secret"
LISTED_DOC = "5f3c2a9e-1b7d-4c1e-9a41-0d6f2b8e7c11"  # the docId of answer 04
SENT_DOC = "a1c4e7f0-2b5d-4e8a-9c3f-112233445566"  # the DocId of answer 01
WINDOWS_FOLDER = "C:\\vxp\\Văn bản"
EDOC = {"from": "000.00.00.H98", "servicetype": "eDoc", "messagetype": "edoc"}
EDOC_LIST = {"servicetype": "eDoc", "messagetype": "edoc"}
GET_EDOC = {"filePath": "xml", "docId": LISTED_DOC}


def capture(number: int) -> bytes:
    return next(WIRE.glob(f"{number:02d}-*.http")).read_bytes()


def header_of(raw: bytes, name: str) -> bytes:
    found = re.search(rb"\r\n" + name.encode() + rb": ([^\r\n]*)", raw)
    assert found, name
    return found.group(1)


def package_of(number: int) -> bytes:
    """The file a sendEdoc capture carried: its body without the CRLF the SDK appends."""
    body = capture(number).split(b"\r\n\r\n", 1)[1]
    assert body.endswith(b"\r\n")
    return body[:-2]


def instance(number: int, endpoint: str = ENDPOINT) -> SdkService:
    """A new service instance created when the capture's instance was (its timestamp says when)."""
    created = moment_of(header_of(capture(number), "XroadVnpt-timestamp").decode())
    return SdkService(endpoint, "sdk-demo", SECRET, created)


def nth_call(number: int, first: int, call: Callable[[SdkService], bytes]) -> bytes:
    """The request of capture ``number`` when captures ``first``… share one instance making ``call``s."""
    shared = instance(first)
    return [call(shared) for _ in range(number - first + 1)][-1]


def one_instance_flow(number: int) -> bytes:
    """ServiceTest's case 4 on one instance: list, then getEdoc, then updateStatus done."""
    shared = instance(23)
    requests = [
        shared.get_received_edoc_list(EDOC_LIST),
        shared.get_edoc(GET_EDOC),
        # ServiceTest writes the docId unquoted; gson's lenient parser reads it as the same string.
        shared.update_status({"status": "done", "docId": LISTED_DOC}),
    ]
    return requests[number - 23]


def received_then_sent(number: int) -> bytes:
    """A vendor's long-lived instance: getEdoc and updateStatus done of a received document, then
    sendEdoc (captured by this project from the unmodified jar, through a logging proxy on 8098)."""
    shared = instance(number, "http://127.0.0.1:8098/vdxp")
    shared.get_edoc({"filePath": "/tmp/vxp", "docId": LISTED_DOC})
    shared.update_status({"status": "done", "docid": LISTED_DOC})
    return shared.send_edoc(EDOC, package_of(number))


SCENARIOS: dict[int, Callable[[], bytes]] = {
    1: lambda: instance(1).send_edoc(EDOC, package_of(1)),
    2: lambda: instance(2).send_edoc(
        {"from": "000.00.00.H99", "servicetype": "eDoc", "messagetype": "status"}, package_of(2)
    ),
    3: lambda: instance(3).send_edoc({**EDOC, "to": ["000.00.00.H99", "000.00.00.H97"]}, package_of(3)),
    4: lambda: instance(4).get_received_edoc_list(EDOC_LIST),
    5: lambda: instance(5).get_received_edoc_list({"servicetype": "eDoc", "messagetype": "status"}),
    6: lambda: instance(6).get_edoc(GET_EDOC),
    7: lambda: instance(7).download_edoc(GET_EDOC),
    8: lambda: SdkService(ENDPOINT, "sdk-demo", SECRET).download_edoc2(GET_EDOC),
    9: lambda: instance(9).update_status({"status": "processing", "docId": LISTED_DOC}),
    10: lambda: instance(10).update_status({"status": "done", "docId": LISTED_DOC}),
    11: lambda: instance(11).update_status({"status": "fail", "docId": LISTED_DOC}),
    12: lambda: instance(12).get_sent_edoc_list({**EDOC_LIST, "docId": SENT_DOC}),
    13: lambda: instance(13).count_receive_edoc({}),
    14: lambda: instance(14).count_receive_status({}),
    15: lambda: instance(15).get_agencies_list({}),
    16: lambda: instance(16).get_agencies_list_qd20({"level": "1"}),
    17: lambda: instance(17).get_synchronize_unit({}),
    18: lambda: instance(18).register_agency({}, capture(18).split(b"\r\n\r\n", 1)[1].decode("utf-8")),
    19: lambda: instance(19).delete_agency({"AgencyCode": "000.01.00.H98"}),
    20: lambda: nth_call(20, 20, lambda s: s.get_received_edoc_list(EDOC_LIST)),
    21: lambda: nth_call(21, 20, lambda s: s.get_received_edoc_list(EDOC_LIST)),
    22: lambda: nth_call(22, 20, lambda s: s.get_received_edoc_list(EDOC_LIST)),
    23: lambda: one_instance_flow(23),
    24: lambda: one_instance_flow(24),
    25: lambda: one_instance_flow(25),
    26: lambda: instance(26).get_edoc({"filePath": WINDOWS_FOLDER, "docId": LISTED_DOC}),
    27: lambda: instance(27, "http://127.0.0.1/vdxp").get_edoc({"filePath": WINDOWS_FOLDER, "docId": LISTED_DOC}),
    28: lambda: instance(28).send_edoc({**EDOC, "filePath": WINDOWS_FOLDER}, package_of(28)),
    29: lambda: received_then_sent(29),
}
CAPTURES = sorted(WIRE.glob("[0-9][0-9]-*.http"))


@pytest.mark.parametrize("path", CAPTURES, ids=[p.stem for p in CAPTURES])
def test_the_client_rebuilds_each_captured_request_byte_for_byte(path: Path) -> None:
    number = int(path.name[:2])
    assert number in SCENARIOS, f"no scenario rebuilds {path.name}"
    assert SCENARIOS[number]() == path.read_bytes()


def test_every_capture_from_01_to_29_has_a_scenario() -> None:
    assert [int(p.name[:2]) for p in CAPTURES] == list(range(1, 30)) == sorted(SCENARIOS)


@pytest.mark.parametrize("path", [p for p in CAPTURES if not p.name.startswith(("08-", "26-"))], ids=lambda p: p.stem)
def test_every_signed_capture_verifies_with_the_demo_secret(path: Path) -> None:
    raw = path.read_bytes()
    mac = hmac.new(SECRET.encode(), header_of(raw, "XroadVnpt-sign-header"), hashlib.sha256).hexdigest()
    assert mac.encode() == header_of(raw, "XroadVnpt-hash-header")


def test_download_edoc2_carries_no_signature_at_all() -> None:
    assert b"XroadVnpt-" not in capture(8)


def test_an_endpoint_with_a_port_cuts_non_ascii_to_8_bits_so_the_signature_cannot_be_checked() -> None:
    raw = capture(26)
    assert header_of(raw, "XroadVnpt-filePath") == b"C:\\vxp\\V\x03n b\xa3n"
    mac = hmac.new(SECRET.encode(), header_of(raw, "XroadVnpt-sign-header"), hashlib.sha256).hexdigest()
    assert mac.encode() != header_of(raw, "XroadVnpt-hash-header")
    # The SDK signed the UTF-8 text; only a server that guesses the original letters could verify.
    signed = header_of(capture(27), "XroadVnpt-sign-header").replace(b"071730+0268", b"071729+0736")
    assert hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest().encode() == header_of(
        raw, "XroadVnpt-hash-header"
    )


def test_a_port_less_endpoint_and_send_edoc_keep_non_ascii_in_utf8() -> None:
    assert header_of(capture(27), "XroadVnpt-filePath") == WINDOWS_FOLDER.encode("utf-8")
    assert header_of(capture(28), "XroadVnpt-filePath") == WINDOWS_FOLDER.encode("utf-8")
    assert header_of(capture(27), "Host") == b"127.0.0.1"


def test_hash_file_is_the_sha256_of_the_file_without_leading_zeros() -> None:
    package = package_of(1)
    assert lossy_hex(package).encode() == header_of(capture(1), "XroadVnpt-hash-file")
    assert len(lossy_hex(package)) == 59 < len(hashlib.sha256(package).hexdigest())


def test_the_timestamp_holds_milliseconds_after_the_plus_in_ho_chi_minh_time() -> None:
    moment = dt.datetime(2026, 12, 6, 0, 15, 12, 860_000, tzinfo=dt.UTC)
    assert sdk_timestamp(moment) == "06122026T071512+0860"
    assert moment_of("06122026T071512+0860") == moment


def test_a_poller_reusing_its_instance_sends_the_same_signature_forever() -> None:
    poller = SdkService(ENDPOINT, "sdk-demo", SECRET, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    first = poller.get_received_edoc_list(EDOC_LIST)
    assert poller.get_received_edoc_list(EDOC_LIST) == first
    poller.get_edoc(GET_EDOC)  # the map is never cleared: later calls carry docId and filePath
    assert b"XroadVnpt-docId: " + LISTED_DOC.encode() in poller.get_received_edoc_list(EDOC_LIST)


def test_the_parameter_map_iterates_as_java_hashmap_does_through_resizes_and_collisions() -> None:
    """Expected order printed by OpenJDK 17's HashMap for the same puts ("AaAa", "BBBB"… share one hash)."""
    parameters = JavaHashMap()
    names = "timestamp systemid Content-Type servicetype messagetype docId filePath status hash-file"
    for name in [*names.split(), "from", "to", "docid", "level", "AgencyCode", "AaAa", "BBBB", "AaBB", "BBAa"]:
        parameters.put(name, "v")
    parameters.put("servicetype", "again")  # a key put again keeps its place
    assert parameters.keys() == [
        *("systemid", "messagetype", "level", "docId", "docid", "filePath", "servicetype", "hash-file"),
        *("AgencyCode", "from", "to", "timestamp", "Content-Type", "status", "AaAa", "BBBB", "AaBB", "BBAa"),
    ]
    assert len({java_string_hash(n) for n in ("AaAa", "BBBB", "AaBB", "BBAa")}) == 1


def test_every_sdk_operation_can_be_called_by_its_sdk_name() -> None:
    by_name = SdkService(ENDPOINT, "sdk-demo", SECRET, moment_of("06122026T071513+0701"))
    assert by_name.call("countReceiveEdoc", {}) == capture(13)
    assert by_name.call("sendEdoc", EDOC, b"<edXML/>").startswith(b"POST /vdxp/sendEdoc HTTP/1.1\r\n")
    for operation in OPERATIONS:
        request = by_name.call(operation, {}, {"sendEdoc": b"x", "registerAgency": "{}"}.get(operation))
        assert request.split(b" ")[1] == b"/vdxp/" + operation.removesuffix("2").encode()


def test_a_header_value_gson_cannot_read_as_a_string_sends_nothing() -> None:
    with pytest.raises(ValueError, match="sends no request"):
        SdkService(ENDPOINT, "sdk-demo", SECRET).update_status({"status": None})


async def serve_once(answer: bytes) -> tuple[asyncio.Server, int, asyncio.Future[bytes]]:
    """A one-shot server: reads one request head (and a Content-Length body), sends ``answer``."""
    received: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = re.search(rb"Content-Length: (\d+)", head)
        body = await reader.readexactly(int(length.group(1))) if length else b""
        received.set_result(head + body)
        writer.write(answer)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], received


async def test_exchange_sends_the_bytes_as_built_and_skips_100_continue_before_a_chunked_answer() -> None:
    request = SdkService(ENDPOINT, "sdk-demo", SECRET).update_status({"status": "done", "docId": LISTED_DOC})
    answer = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'9\r\n{"status"\r\n2c\r\n:"OK","ErrorCode":"0","ErrorDesc":"Success"}\r\n0\r\n\r\n'
    )
    server, port, received = await serve_once(answer)
    async with server:
        reply = await exchange("127.0.0.1", port, request)
        assert await asyncio.wait_for(received, 5) == request
    assert reply == Reply(
        200,
        "OK",
        (("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")),
        b'{"status":"OK","ErrorCode":"0","ErrorDesc":"Success"}',
    )


async def test_exchange_reads_an_answer_without_length_until_the_server_closes() -> None:
    server, port, _ = await serve_once(b"HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n<html>gone</html>")
    async with server:
        reply = await exchange("127.0.0.1", port, SdkService(ENDPOINT, "s", "k").download_edoc(GET_EDOC))
    assert (reply.status, reply.header("connection"), reply.body) == (404, "close", b"<html>gone</html>")


def test_a_stored_answer_parses_like_a_live_one() -> None:
    reply = parse_reply(next((WIRE / "answers").glob("13-*.http")).read_bytes())
    assert (reply.status, reply.header("Content-Length"), reply.body) == (200, "63", reply.body[:63])
