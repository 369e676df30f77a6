"""The agency HTTP API, one method per endpoint: JSON and bytes in, JSON and bytes out.

``AxisClient`` is the thin layer under ``AgencyClient``, for software that builds and signs its own
edXML. It knows nothing of packages: it sends a system's Bearer token and turns the axis's error
body into an ``AxisError`` carrying the axis's own stable code, so that callers branch on the same
codes whether a refusal came from the library or from the server.
"""

from __future__ import annotations

import asyncio
import urllib.parse
from collections.abc import Sequence
from types import TracebackType
from typing import Any

import aiohttp

from axis.errors import CATALOGUE, AxisError

#: The longest the client waits between two attempts, whatever ``Retry-After`` says.
MAX_WAIT = 10.0


def _seconds(value: Any) -> float:
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return 1.0


def _error(status: int, body: Any) -> AxisError:
    error = body.get("error", {}) if isinstance(body, dict) else {}
    code = str(error.get("code"))
    if code not in CATALOGUE:  # an axis newer than this library: keep the text, not the code
        return AxisError("internal", f"{code}: {error.get('message', f'HTTP {status}')}")
    return AxisError(code, error.get("message", f"HTTP {status}"), **error.get("details", {}))


class AxisClient:
    """One connected system's view of the axis over HTTP."""

    def __init__(
        self, base_url: str, token: str, *, session: aiohttp.ClientSession | None = None, attempts: int = 3
    ) -> None:
        """``attempts``: how often a call that is safe to repeat (every read, every acknowledgement)
        is made while the axis answers ``503 service.unavailable`` (its database busy or briefly
        away), waiting what its ``Retry-After`` asks, at most ``MAX_WAIT`` seconds, in between.
        Sending a package is not repeated here: ``AgencyClient.send_signed`` does that, with the
        same bytes."""
        self._base = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"}
        self._session = session
        self._owns_session = session is None
        self._attempts = max(1, attempts)

    async def __aenter__(self) -> AxisClient:
        return self

    async def __aexit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session if this client opened it (a session passed in stays open)."""
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def _call(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, again: bool | None = None, **kwargs: Any
    ) -> Any:
        """One request; ``again``: safe to repeat (default: a GET) when the axis is unavailable."""
        again = method == "GET" if again is None else again
        attempt = 1
        while True:
            try:
                return await self._request(method, path, headers=headers, **kwargs)
            except AxisError as exc:
                if not again or exc.code != "service.unavailable" or attempt >= self._attempts:
                    raise
                await asyncio.sleep(min(_seconds(exc.details.get("retry_after")), MAX_WAIT))
                attempt += 1

    async def _request(self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
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

    async def inbox(self, limit: int = 100, *, only: str | None = None, wait: int = 0) -> list[dict[str, Any]]:
        """What waits for this system, oldest first; ``only`` = "package" or "receipt". ``wait``
        (up to 30 s): when nothing waits, the axis answers as soon as something arrives, or with
        an empty list once that long has passed: no polling loop needed."""
        query = f"limit={limit}" + (f"&type={only}" if only else "") + (f"&wait={wait}" if wait else "")
        items: list[dict[str, Any]] = (await self._call("GET", f"/api/v1/inbox?{query}"))["items"]
        return items

    async def fetch(self, package_id: str) -> bytes:
        """The package bytes exactly as its sender signed them."""
        data: bytes = await self._call("GET", f"/api/v1/packages/{_segment(package_id)}")
        return data

    async def ack(self, package_id: str) -> dict[str, Any]:
        """This system has the package: its delivery is done and the sender gets a delivery receipt."""
        result: dict[str, Any] = await self._call("POST", f"/api/v1/packages/{_segment(package_id)}/ack", again=True)
        return result

    async def ack_many(self, packages: Sequence[str] = (), receipts: Sequence[str] = ()) -> dict[str, Any]:
        """Acknowledge up to 500 packages and receipts in one request (far cheaper, for both
        sides, than one request each). Each id gets its own answer: the delivery's state, or an
        ``error`` (``package.unknown``/``receipt.unknown``) that did not stop the others."""
        result: dict[str, Any] = await self._call(
            "POST", "/api/v1/inbox/ack", json={"packages": list(packages), "receipts": list(receipts)}, again=True
        )
        return result

    async def acceptance_receipt(self, package_id: str) -> bytes:
        data: bytes = await self._call("GET", f"/api/v1/packages/{_segment(package_id)}/receipt")
        return data

    async def package_receipts(self, package_id: str) -> list[dict[str, Any]]:
        """The sender's receipts for one package: acceptance, then one per recipient system delivered."""
        found: list[dict[str, Any]] = (await self._call("GET", f"/api/v1/packages/{_segment(package_id)}/receipts"))[
            "receipts"
        ]
        return found

    async def files(self, package_id: str) -> dict[str, Any]:
        """What the axis found about the signatures in a document's files (``checked`` false: not checked)."""
        result: dict[str, Any] = await self._call("GET", f"/api/v1/packages/{_segment(package_id)}/files")
        return result

    async def receipt(self, receipt_id: str) -> bytes:
        data: bytes = await self._call("GET", f"/api/v1/receipts/{_segment(receipt_id)}")
        return data

    async def ack_receipt(self, receipt_id: str) -> None:
        """Remove a receipt from the inbox (the sender keeps it; the axis keeps it too)."""
        await self._call("POST", f"/api/v1/receipts/{_segment(receipt_id)}/ack", again=True)

    async def status(self, document_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", f"/api/v1/documents/{_segment(document_id)}/status")
        return result

    async def documents(self, **filters: str) -> list[dict[str, Any]]:
        query = urllib.parse.urlencode(filters)
        found: list[dict[str, Any]] = (await self._call("GET", f"/api/v1/documents?{query}"))["documents"]
        return found

    async def axis_certificate(self) -> bytes:
        """The certificate the axis signs receipts with (PEM)."""
        data: bytes = await self._call("GET", "/api/v1/axis/certificate")
        return data


def _segment(value: str) -> str:
    """One URL path segment: a DocumentId holds ``/`` and ``,``, and ids come from outside."""
    return urllib.parse.quote(value, safe="")
