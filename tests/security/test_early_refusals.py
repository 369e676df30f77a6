"""Requests aiohttp refuses before any handler runs get the axis's answer, not aiohttp's plain text.

An over-long request line or header, a malformed header, a body that is not what its framing says,
bytes that are not HTTP: ``axis.http.early`` answers them as ``errors_middleware`` answers a
refusal — the contract's JSON (the SDK's own answer under ``/vdxp/``), ``X-Request-Id`` (the one
the body names) and the security headers. Sent over a raw socket, since a client would not send
them. aiohttp's own 404 and 405 carry the same.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from multidict import CIMultiDict
from test_headers import assert_secured
from world import World

LONG = b"x" * 9000


@dataclass
class Answer:
    status: int
    headers: CIMultiDict[str]
    body: bytes

    def json(self) -> dict[str, object]:
        assert self.headers["Content-Type"].startswith("application/json"), self.headers
        found = json.loads(self.body)
        assert isinstance(found, dict)
        return found


async def send_raw(client: TestClient, data: bytes) -> Answer:
    """``data`` as is, on a connection of its own; the answer as read until the axis closes it."""
    server = client.server
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        writer.write(data)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers: CIMultiDict[str] = CIMultiDict()
    for line in lines:
        name, _, value = line.partition(":")
        headers.add(name.strip(), value.strip())
    return Answer(int(status_line.split()[1]), headers, body)


MALFORMED = {
    "an over-long request line": b"GET %s?q=" + LONG + b" HTTP/1.1\r\nHost: axis\r\n\r\n",
    "an over-long header": b"GET %s HTTP/1.1\r\nHost: axis\r\nX-Filler: " + LONG + b"\r\n\r\n",
    "a NUL in a header": b"GET %s HTTP/1.1\r\nHost: axis\r\nX-Filler: a\x00b\r\n\r\n",
    "a Content-Length that is no number": b"POST %s HTTP/1.1\r\nHost: axis\r\nContent-Length: zz\r\n\r\n",
    "a chunk size that is no number": b"POST %s HTTP/1.1\r\nHost: axis\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
}


@pytest.mark.parametrize("what", MALFORMED)
async def test_a_malformed_api_request_gets_the_contracts_error_and_headers(world: World, what: str) -> None:
    answer = await send_raw(world.client, MALFORMED[what].replace(b"%s", b"/api/v1/agencies"))
    assert answer.status == 400, answer
    error = answer.json()["error"]
    assert isinstance(error, dict)
    assert error["code"] == "http.bad_request"
    assert error["request_id"] == answer.headers["X-Request-Id"]
    assert b"xxxx" not in answer.body  # the request's bytes are not echoed back
    assert_secured(CIMultiDict(answer.headers))
    assert answer.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("what", MALFORMED)
async def test_a_malformed_sdk_request_gets_the_sdks_own_refusal(world: World, what: str) -> None:
    answer = await send_raw(world.client, MALFORMED[what].replace(b"%s", b"/vdxp/getReceivedEdocList"))
    assert answer.status == 200, answer  # as the endpoint answers its refusals (AXIS_VDXP_HTTP_ERRORS=0)
    body = answer.json()
    assert body["status"] == "FAIL"
    assert body["ErrorCode"] == "202"
    assert str(body["ErrorDesc"]).startswith("http.bad_request:")
    assert answer.headers["X-Axis-Error"] == "http.bad_request"
    assert answer.headers["X-Request-Id"]
    assert_secured(CIMultiDict(answer.headers))


async def test_bytes_that_are_not_http_get_an_answer_with_the_headers(world: World) -> None:
    answer = await send_raw(world.client, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 junk\r\n\r\n")
    assert answer.status == 400
    error = answer.json()["error"]
    assert isinstance(error, dict)
    assert (error["code"], error["request_id"]) == ("http.bad_request", answer.headers["X-Request-Id"])
    assert_secured(CIMultiDict(answer.headers))


async def test_routing_refusals_carry_the_request_id_and_the_sdk_gets_its_shape(world: World) -> None:
    for method, path, status in (("GET", "/api/v1/nowhere", 404), ("PUT", "/api/v1/inbox", 405)):
        response = await world.client.request(method, path)
        assert response.status == status
        body = await response.json()
        assert body["error"]["request_id"] == response.headers["X-Request-Id"]
        assert_secured(response.headers)
    response = await world.client.get("/vdxp/getEdoc/extra")
    body = await response.json(content_type=None)
    assert (response.status, body["status"], body["ErrorCode"]) == (200, "FAIL", "101")
    assert response.headers["X-Request-Id"]


async def test_a_server_the_axis_did_not_build_answers_as_aiohttp_does(world: World) -> None:
    """The handler class is swapped for the whole process; only the axis's application gives it
    its refusals, so any other aiohttp server in the process is left as it was."""
    assert world.client.app is not None  # the axis (and so the swap) is in place
    async with TestClient(TestServer(web.Application())) as other:
        answer = await send_raw(other, b"GET /x?q=" + LONG + b" HTTP/1.1\r\nHost: axis\r\n\r\n")
    assert answer.status == 400
    assert answer.headers["Content-Type"].startswith("text/plain")
    assert "X-Request-Id" not in answer.headers
