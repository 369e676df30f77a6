"""A client that speaks to an axis the way the national axis's Java/.NET SDK does, written from the
interface description alone (../shared/domain/EDXML.md §4), not from SDK code nor from the
axis's own ``axis.vdxp`` modules (a test client that reused the server's code would prove nothing).

What it imitates, quirks included:
- every parameter is a header ``XroadVnpt-<name>``; the parameter map is **never cleared**, so the
  parameters of earlier calls are sent (and signed) again;
- ``XroadVnpt-sign-header-key``: the parameter names joined by ``;``; ``XroadVnpt-sign-header``:
  the JSON object of those parameters; ``XroadVnpt-hash-header``: hex HMAC-SHA256 of that JSON,
  keyed with the system's secret;
- ``timestamp`` in epoch milliseconds, as Java's ``System.currentTimeMillis()`` gives it;
- ``hash-file``: SHA-256 of the file with each byte written ``%x`` (no zero-padding);
- the edXML file sent as a broken multipart body (by default) or as application/octet-stream.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp.test_utils import TestClient
from multidict import CIMultiDict


def ok(answer: dict[str, Any]) -> Any:
    """The data of an OK answer (failing the test, with the answer, otherwise)."""
    assert (answer["status"], answer["ErrorCode"], answer["ErrorDesc"]) == ("OK", "0", ""), answer
    return answer["data"]


def unpadded_hex(digest: bytes) -> str:
    """What the SDK's loop of ``Integer.toHexString(b & 0xff)`` produces."""
    return "".join(format(b, "x") for b in digest)


@dataclass
class Prepared:
    """One signed request, as it goes on the wire (kept so that a test can replay or alter it)."""

    operation: str
    headers: CIMultiDict[str]
    body: bytes | None = None


@dataclass
class SdkClient:
    http: TestClient
    system_id: str
    secret: str
    base: str = "/vdxp"
    #: The SDK's parameter map: set, overwritten, never cleared.
    params: dict[str, str] = field(default_factory=dict)
    multipart: str = "broken"  # "broken" | "proper" | "octet-stream"
    clock_ms: Any = None  # a callable returning epoch ms; the real clock by default

    # --- signing, the SDK's way ------------------------------------------------------------------

    def prepare(self, operation: str, body: bytes | None = None, **params: str) -> Prepared:
        self.params.update(params)
        now = self.clock_ms() if self.clock_ms else int(time.time() * 1000)
        self.params["systemid"] = self.system_id
        self.params["timestamp"] = str(now)
        names = list(self.params)
        signed = json.dumps({name: self.params[name] for name in names}, separators=(",", ":"))
        headers: CIMultiDict[str] = CIMultiDict()
        spelled: dict[str, str] = {}
        for name in names:
            # HTTP header names have no case. aiohttp's client would fold docId and docid into
            # one header, so both go out under the first spelling (as an HTTP/2 proxy would
            # pass them on); the signed JSON keeps each spelling apart.
            header = spelled.setdefault(name.lower(), f"XroadVnpt-{name}")
            headers.add(header, self.params[name])
        headers.add("XroadVnpt-sign-header-key", ";".join(names))
        headers.add("XroadVnpt-sign-header", signed)
        headers.add(
            "XroadVnpt-hash-header",
            hmac.new(self.secret.encode("utf-8"), signed.encode("utf-8"), hashlib.sha256).hexdigest(),
        )
        return Prepared(operation, headers, body)

    async def send(self, prepared: Prepared) -> tuple[int, Any]:
        headers = CIMultiDict(prepared.headers)
        data: bytes | None = prepared.body
        if data is not None:
            data, content_type = self._wrap(data)
            headers["Content-Type"] = content_type
        response = await self.http.post(f"{self.base}/{prepared.operation}", data=data, headers=headers)
        if response.content_type == "application/json":
            return response.status, await response.json()
        return response.status, await response.read()

    async def call(self, operation: str, body: bytes | None = None, **params: str) -> Any:
        status, answer = await self.send(self.prepare(operation, body, **params))
        assert status == 200, answer
        return answer

    def _wrap(self, data: bytes) -> tuple[bytes, str]:
        """The file as the SDK puts it on the wire."""
        if self.multipart == "octet-stream":
            return data, "application/octet-stream"
        boundary = uuid.uuid4().hex
        if self.multipart == "proper":
            body = (
                (
                    f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="edoc.edxml"\r\n'
                    "Content-Type: application/octet-stream\r\n\r\n"
                ).encode()
                + data
                + f"\r\n--{boundary}--\r\n".encode()
            )
            return body, f"multipart/form-data; boundary={boundary}"
        # Broken: the header names one boundary, the body uses another, and never closes it.
        body = f'--{boundary}\r\nContent-Disposition: form-data; name="file"\r\n\r\n'.encode() + data + b"\r\n"
        return body, "multipart/form-data; boundary=----sdk-boundary"

    # --- the operations, as a vendor's software calls them ----------------------------------------

    async def send_edoc(self, data: bytes, messagetype: str = "edoc", **extra: str) -> Any:
        digest = hashlib.sha256(data).digest()
        return await self.call(
            "sendEdoc",
            data,
            messagetype=messagetype,
            servicetype="eDoc",
            **{"hash-file": unpadded_hex(digest)},
            **extra,
        )

    async def received(self, messagetype: str = "edoc") -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = ok(await self.call("getReceivedEdocList", messagetype=messagetype))
        return items

    async def get_edoc(self, doc_id: str) -> bytes:
        return base64.b64decode(ok(await self.call("getEdoc", docId=doc_id))["content"])

    async def update_status(self, doc_id: str, status: str, *, spelling: str = "docId") -> Any:
        return await self.call("updateStatus", **{spelling: doc_id, "status": status})
