"""HTTP/1.1 as the SDK speaks it: one request's bytes sent as they are, one answer read back.

Why: the byte-exact SDK client (:mod:`axis.federation.sdk.wire`) builds requests that an ordinary
HTTP client would rewrite (header order and case, ``Expect``, raw 8-bit values), so they go out on
a connection of their own (TLS for an ``https`` endpoint), and the answer is read by hand: interim
``1xx`` answers skipped, then a body framed by chunks, ``Content-Length`` or the connection's end.
The same reading serves stored answers (``sdk-wire/answers/NN-*.http``), so the tests' reader sees
a live and a captured answer alike.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Reply:
    """One HTTP answer: status, headers in order (latin-1 text), and the body without its framing."""

    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)


def _header_lines(buffer: bytes, start: int) -> tuple[list[str], int] | None:
    end = buffer.find(b"\r\n\r\n", start)
    if end < 0:
        return None
    return buffer[start:end].decode("latin-1").split("\r\n"), end + 4


def _chunks(buffer: bytes, start: int) -> Iterator[tuple[bytes, int] | None]:
    """Yields (data, end) per chunk, then None when the chunked body is incomplete."""
    pos = start
    while True:
        line_end = buffer.find(b"\r\n", pos)
        if line_end < 0:
            yield None
            return
        size = int(buffer[pos:line_end].split(b";")[0].strip() or b"0", 16)
        if size == 0:
            trailer = buffer.find(b"\r\n\r\n", line_end)
            yield (b"", trailer + 4) if trailer >= 0 else None
            return
        if len(buffer) < line_end + 2 + size + 2:
            yield None
            return
        yield buffer[line_end + 2 : line_end + 2 + size], line_end + 2 + size + 2
        pos = line_end + 2 + size + 2


def _try_parse(buffer: bytes, eof: bool) -> Reply | None:
    """The first final answer in ``buffer`` (interim 1xx answers skipped), or None if incomplete."""
    start = 0
    while True:
        head = _header_lines(buffer, start)
        if head is None:
            if eof:
                raise ConnectionError(f"the connection closed inside an answer head: {buffer[start:][:200]!r}")
            return None
        lines, start = head
        version_status = lines[0].split(" ", 2)
        status = int(version_status[1])
        headers = tuple((k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in lines[1:]))
        if 100 <= status < 200 and status != 101:
            continue
        reply = Reply(status, version_status[2] if len(version_status) > 2 else "", headers, b"")
        break
    if status in (204, 304):
        return reply
    if (reply.header("Transfer-Encoding") or "").lower().endswith("chunked"):
        parts = []
        for chunk in _chunks(buffer, start):
            if chunk is None:
                if eof:
                    raise ConnectionError("the connection closed inside a chunked body")
                return None
            parts.append(chunk[0])
        return Reply(reply.status, reply.reason, reply.headers, b"".join(parts))
    length = reply.header("Content-Length")
    if length is not None:
        if len(buffer) - start < int(length):
            if eof:
                raise ConnectionError("the connection closed before Content-Length bytes arrived")
            return None
        return Reply(reply.status, reply.reason, reply.headers, buffer[start : start + int(length)])
    return Reply(reply.status, reply.reason, reply.headers, buffer[start:]) if eof else None


def _expected_length(buffer: bytearray) -> int:
    """The length of the whole answer when its head is in ``buffer`` and names a Content-Length
    (interim answers aside), else 0."""
    head = _header_lines(bytes(buffer[: buffer.find(b"\r\n\r\n") + 4]), 0) if b"\r\n\r\n" in buffer else None
    if head is None:
        return 0
    lines, start = head
    if lines[0].split(" ", 2)[1:2] and lines[0].split(" ", 2)[1].startswith("1"):
        return 0  # a 100 Continue: the final answer's head is still to come
    for line in lines[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == "content-length" and value.strip().isdigit():
            return start + int(value.strip())
    return 0


def parse_reply(raw: bytes) -> Reply:
    """A stored answer (e.g. ``sdk-wire/answers/NN-*.http``) read as :func:`exchange` reads one."""
    reply = _try_parse(raw, eof=True)
    assert reply is not None
    return reply


#: The most an answer may hold before the connection is dropped (a getEdoc answer carries a
#: package as base64: a third more than the package).
MAX_ANSWER_BYTES = 256 * 1024 * 1024


async def exchange(
    host: str,
    port: int,
    raw: bytes,
    *,
    timeout: float = 10.0,
    tls: ssl.SSLContext | None = None,
    max_bytes: int = MAX_ANSWER_BYTES,
) -> Reply:
    """Send ``raw`` on a new connection and read one HTTP/1.1 answer (skipping ``100 Continue``);
    ``tls``: over TLS, the certificate checked against ``host``; an answer longer than
    ``max_bytes`` is a ``ConnectionError`` (a peer cannot make this process hold what it likes).

    Everything, body included, is sent at once: the SDK's Apache stack waits for ``100 Continue``
    (or 3 s) before its body, but a server must accept the body either way.
    """
    name = host.strip("[]")
    connecting = asyncio.open_connection(name, port, ssl=tls, server_hostname=name if tls else None)
    reader, writer = await asyncio.wait_for(connecting, timeout)
    try:
        writer.write(raw)
        await writer.drain()
        buffer = bytearray()
        need = 0  # once the head says Content-Length: the bytes the whole answer takes
        async with asyncio.timeout(timeout):
            while True:
                data = await reader.read(65536)
                buffer += data
                if len(buffer) > max_bytes:
                    raise ConnectionError(f"the answer is longer than {max_bytes} bytes")
                if data and len(buffer) < need:
                    continue  # parsing again before the body is complete would be quadratic in its size
                reply = _try_parse(bytes(buffer), eof=not data)
                if reply is not None:
                    return reply
                need = _expected_length(buffer)
    finally:
        writer.close()
        await writer.wait_closed()
