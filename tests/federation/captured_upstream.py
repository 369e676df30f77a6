"""An upstream on a local port that answers each SDK operation with the national axis's captured
answer (``sdk-wire/answers/``, chosen by operation and ``messagetype``) and keeps each request
as it arrived: the provincial axis's tests speak to it as to the real national axis."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path

WIRE = Path(__file__).parents[1] / "vdxp" / "sdk-wire" / "answers"


def captured(operation: str, message_type: str) -> bytes:
    name = {
        "sendEdoc": "01-sendEdoc-edoc.http" if message_type == "edoc" else "02-sendEdoc-status.http",
        "getReceivedEdocList": "04-getReceivedEdocList-edoc.http"
        if message_type == "edoc"
        else "05-getReceivedEdocList-status.http",
        "getEdoc": "06-getEdoc.http",
        "updateStatus": "10-updateStatus-done.http",
        "countReceiveEdoc": "13-countReceiveEdoc.http",
        "getAgenciesList": "15-getAgenciesList.http",
        "getAgenciesListQD20": "16-getAgenciesListQD20.http",
        "getSynchronizeUnit": "17-getSynchronizeUnit.http",
    }[operation]
    return (WIRE / name).read_bytes()


@contextlib.asynccontextmanager
async def national_axis_as_captured() -> AsyncIterator[tuple[str, list[bytes]]]:
    received: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = re.search(rb"(?i)\r\ncontent-length: (\d+)", head)
        body = await reader.readexactly(int(length.group(1))) if length else b""
        received.append(head + body)
        operation = head.split(b" ", 2)[1].rsplit(b"/", 1)[1].decode()
        kind = re.search(rb"(?i)\r\nXroadVnpt-messagetype: (\w+)", head)
        writer.write(captured(operation, kind.group(1).decode() if kind else ""))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/vdxp", received
    finally:
        server.close()
        await server.wait_closed()
