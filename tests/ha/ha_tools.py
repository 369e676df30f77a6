"""Small async helpers of the HA tests: the management API of one node, and waiting for a state."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aio_pika
import aiohttp
import rabbitmq_cluster as rc

T = TypeVar("T")


async def api(node: rc.Node, method: str, path: str, body: Any = None) -> Any:
    """One management API call to ``node`` as guest; the decoded JSON answer (None when empty)."""
    headers = {"Authorization": aiohttp.encode_basic_auth("guest", "guest")}
    url = f"http://{rc.HOST}:{node.management_port}/api/{path}"
    async with aiohttp.ClientSession(headers=headers) as session, session.request(method, url, json=body) as answer:
        answer.raise_for_status()
        return await answer.json() if answer.content_length else None


async def eventually(check: Callable[[], Awaitable[T | None]], timeout: float, what: str) -> T:
    """The first answer of ``check`` that is not None (errors count as not yet), within ``timeout``."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            if (answer := await check()) is not None:
                return answer
        except (aiohttp.ClientError, aio_pika.exceptions.AMQPError, TimeoutError, ConnectionError) as exc:
            last = exc
        await asyncio.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout:.0f} s (last error: {last!r})")
