"""The library document-management software uses to talk to the axis, over HTTP and AMQP.

``AxisClient`` speaks the HTTP API with a system's Bearer token; ``Mailbox`` consumes the system's
own RabbitMQ queue and publishes to ``axis.intake`` as the system's RabbitMQ user. Messages can
arrive twice on the wire (a publish whose confirm was lost is published again), so the mailbox
hands each message id to the application once — the at-least-once wire becomes exactly-once in
effect. Errors from the axis arrive as ``AxisError`` with the axis's own stable code.
"""

from __future__ import annotations

import collections
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import aio_pika
import aiohttp
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection

from axis.errors import CATALOGUE, AxisError


def _error(status: int, body: Any) -> AxisError:
    error = body.get("error", {}) if isinstance(body, dict) else {}
    code = str(error.get("code"))
    if code not in CATALOGUE:  # an axis newer than this library: keep the text, not the code
        return AxisError("internal", f"{code}: {error.get('message', f'HTTP {status}')}")
    return AxisError(code, error.get("message", f"HTTP {status}"), **error.get("details", {}))


class AxisClient:
    """One connected system's view of the axis over HTTP."""

    def __init__(self, base_url: str, token: str, *, session: aiohttp.ClientSession | None = None) -> None:
        self._base = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"}
        self._session = session
        self._owns_session = session is None

    async def __aenter__(self) -> AxisClient:
        return self

    async def __aexit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def _call(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> Any:
        headers = {**self._headers, **(headers or {})}
        async with self._client().request(method, self._base + path, headers=headers, **kwargs) as response:
            if response.status == 204:
                return None
            if response.content_type == "application/json":
                body = await response.json()
                if response.status >= 400:
                    raise _error(response.status, body)
                return body
            if response.status >= 400:
                raise AxisError("internal", f"HTTP {response.status}: {(await response.text())[:200]}")
            return await response.read()

    async def submit(self, package: bytes) -> dict[str, Any]:
        """Send a signed package; the answer names its id, the routed recipients and the receipt URL."""
        result: dict[str, Any] = await self._call(
            "POST", "/api/v1/packages", data=package, headers={"Content-Type": "application/xml"}
        )
        return result

    async def inbox(self, limit: int = 100, *, only: str | None = None) -> list[dict[str, Any]]:
        """What waits for this system, oldest first; ``only`` = "package" or "receipt"."""
        query = f"limit={limit}" + (f"&type={only}" if only else "")
        items: list[dict[str, Any]] = (await self._call("GET", f"/api/v1/inbox?{query}"))["items"]
        return items

    async def fetch(self, package_id: str) -> bytes:
        data: bytes = await self._call("GET", f"/api/v1/packages/{package_id}")
        return data

    async def ack(self, package_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("POST", f"/api/v1/packages/{package_id}/ack")
        return result

    async def acceptance_receipt(self, package_id: str) -> bytes:
        data: bytes = await self._call("GET", f"/api/v1/packages/{package_id}/receipt")
        return data

    async def receipt(self, receipt_id: str) -> bytes:
        data: bytes = await self._call("GET", f"/api/v1/receipts/{receipt_id}")
        return data

    async def ack_receipt(self, receipt_id: str) -> None:
        await self._call("POST", f"/api/v1/receipts/{receipt_id}/ack")

    async def status(self, document_id: str) -> dict[str, Any]:
        quoted = urllib.parse.quote(document_id, safe="")
        result: dict[str, Any] = await self._call("GET", f"/api/v1/documents/{quoted}/status")
        return result

    async def documents(self, **filters: str) -> list[dict[str, Any]]:
        query = urllib.parse.urlencode(filters)
        found: list[dict[str, Any]] = (await self._call("GET", f"/api/v1/documents?{query}"))["documents"]
        return found

    async def axis_certificate(self) -> bytes:
        data: bytes = await self._call("GET", "/api/v1/axis/certificate")
        return data


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message from the axis: a package (document or status), a receipt, or a refusal."""

    message_id: str
    kind: str
    body: bytes
    document_id: str
    sender: str
    correlation_id: str | None


class Mailbox:
    """A system's RabbitMQ side: consume its queue, publish packages to ``axis.intake``."""

    def __init__(self, amqp_url: str, system_id: str, username: str, *, remember: int = 100_000) -> None:
        self._url = amqp_url
        self._system_id = system_id
        self._username = username
        self._connection: AbstractRobustConnection | None = None
        self._seen: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._remember = remember

    async def __aenter__(self) -> Mailbox:
        self._connection = await aio_pika.connect_robust(self._url)
        return self

    async def __aexit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        if self._connection is not None:
            await self._connection.close()

    def _first_time(self, message_id: str) -> bool:
        if message_id in self._seen:
            return False
        self._seen[message_id] = None
        if len(self._seen) > self._remember:
            self._seen.popitem(last=False)
        return True

    async def deliveries(self, *, prefetch: int = 16) -> AsyncIterator[Delivery]:
        """Yield each new message once; RabbitMQ gets its ack after the consumer moves on.

        A message seen before (same message id) is acknowledged and skipped.
        """
        assert self._connection is not None, "use `async with Mailbox(...)`"
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=prefetch)
        queue = await channel.get_queue(f"axis.system.{self._system_id}", ensure=False)
        async with queue.iterator() as messages:
            async for message in messages:
                async with message.process(requeue=True):
                    delivery = _delivery(message)
                    if self._first_time(delivery.message_id):
                        yield delivery

    async def handle(self, handler: Callable[[Delivery], Awaitable[bool]]) -> None:
        """Call ``handler`` for each new message until it returns False."""
        async for delivery in self.deliveries():
            if not await handler(delivery):
                return

    async def publish(self, package: bytes, *, message_id: str | None = None) -> str:
        """Send a signed package (document or status) through ``axis.intake``; returns the message id.

        Refusals come back on the system's own queue as ``refusal`` messages with this id as their
        correlation id.
        """
        assert self._connection is not None, "use `async with Mailbox(...)`"
        message_id = message_id or str(uuid.uuid4())
        channel = await self._connection.channel(publisher_confirms=True)
        try:
            intake = await channel.get_exchange("axis.intake", ensure=False)
            await intake.publish(
                aio_pika.Message(
                    package,
                    message_id=message_id,
                    user_id=self._username,
                    content_type="application/xml",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key="",
            )
        finally:
            await channel.close()
        return message_id


def _delivery(message: AbstractIncomingMessage) -> Delivery:
    headers = message.headers or {}
    return Delivery(
        message_id=message.message_id or "",
        kind=str(headers.get("kind") or message.type or ""),
        body=message.body,
        document_id=str(headers.get("document_id") or ""),
        sender=str(headers.get("sender") or ""),
        correlation_id=message.correlation_id,
    )
