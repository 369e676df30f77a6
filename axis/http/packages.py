"""The agency API: submit packages, pull the inbox, fetch, acknowledge, receipts, the axis certificate."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import structlog
from aiohttp import web

from axis.errors import AxisError
from axis.exchange import store
from axis.exchange.received import Received
from axis.exchange.results import Accepted
from axis.exchange.service import PackageBody
from axis.http.auth import caller
from axis.http.body import field, json_object
from axis.http.context import axis_of
from axis.http.params import Choice, Integer, accepts
from axis.pki import cert_pem
from axis.store import db

log = structlog.get_logger("axis.http")

#: What can stop a download half-way: the package archived, or the database gone, mid-stream.
_CUT_SHORT: tuple[type[BaseException], ...] = (AxisError, *db.UNAVAILABLE)

routes = web.RouteTableDef()
INBOX_LIMIT, TYPE = Integer("limit", 100, low=1, high=1000), Choice("type", ("package", "receipt"))
#: Seconds an inbox request may wait for something to arrive (long polling; below common proxies' 60 s).
INBOX_WAIT = Integer("wait", 0, low=0, high=30)
XML = "application/xml"


async def read_limited(request: web.Request, limit: int) -> bytes:
    """The body whole (the SDK interface, whose multipart wrapping needs it so)."""
    with await read_received(request, limit) as received:
        return received.data()


async def read_received(request: web.Request, limit: int) -> Received:
    """The body, refused as soon as it is known to exceed ``limit``: from Content-Length before
    reading anything, else while streaming — never after holding an oversize body whole. A large
    body is spooled to a temporary file as it arrives (see ``Received``); the caller closes it."""
    if request.content_length is not None and request.content_length > limit:
        raise AxisError(
            "edxml.xml.too_large",
            f"The package is {request.content_length} bytes; the limit is {limit}.",
            size=request.content_length,
            limit=limit,
        )
    received = Received()
    try:
        async for chunk in request.content.iter_chunked(1 << 20):
            if received.size + len(chunk) > limit:
                raise AxisError("edxml.xml.too_large", f"The package exceeds the limit of {limit} bytes.", limit=limit)
            try:
                received.append(chunk)
            except OSError as exc:  # the temporary file cannot be written (disk full, TMPDIR gone)
                log.error("intake.spool_failed", error=repr(exc))
                raise AxisError(
                    "service.unavailable", "The axis cannot take a package this large right now.", retry_after=30
                ) from None
    except BaseException:
        received.close()
        raise
    return received


@routes.post("/api/v1/packages")
@accepts()
async def submit(request: web.Request) -> web.Response:
    axis = axis_of(request)
    with axis.metrics.intake("http"):
        axis, system = caller(request)
        limit = axis.settings.max_package_bytes
        async with axis.intake_gate.enter(min(request.content_length or limit, limit)):
            with await read_received(request, limit) as received:
                accepted = await axis.exchange.submit(system, received, via="http")
    if not accepted.repeated:
        axis.metrics.accepted.labels(accepted.kind.value, "http").inc()
    location = {"Location": f"/api/v1/packages/{accepted.package_id}"}
    return web.json_response(accepted_json(accepted), status=200 if accepted.repeated else 202, headers=location)


def accepted_json(accepted: Accepted) -> dict[str, Any]:
    """The intake answer; a repeated submission gets the same, with ``"repeated": true``."""
    answer: dict[str, Any] = {
        "package_id": str(accepted.package_id),
        "document_id": accepted.document_id,
        "kind": accepted.kind.value,
        "recipients": [
            {
                "requested": r.requested,
                "agency": r.agency,
                "name": r.name,
                "system": r.system,
                "redirects": list(r.redirects),
            }
            for r in accepted.recipients
        ],
        "receipt_url": f"/api/v1/packages/{accepted.package_id}/receipt",
        "signature_policy": accepted.signature_policy,
        "quirks": list(accepted.quirks),
        "file_signatures": accepted.file_signatures,
    }
    if accepted.repeated:
        answer["repeated"] = True
    return answer


def delivery_json(delivery: store.Delivery) -> dict[str, Any]:
    """A delivery's state as the API shows it after an acknowledgement."""
    return {
        "package_id": str(delivery.package_id),
        "state": delivery.state,
        "delivered_at": delivery.delivered_at.isoformat() if delivery.delivered_at else None,
    }


@routes.get("/api/v1/inbox")
@accepts(INBOX_LIMIT, TYPE, INBOX_WAIT)
async def waiting(request: web.Request) -> web.Response:
    axis, system = caller(request)
    limit, only = INBOX_LIMIT.of(request), TYPE.of(request) or None
    items = await axis.exchange.inbox(system, limit=limit, only=only, wait=INBOX_WAIT.of(request))
    return web.json_response(
        {
            "items": [
                {
                    "type": item.type,
                    "id": str(item.id),
                    "kind": item.kind,
                    "document_id": item.document_id,
                    "sender": item.sender_code,
                    "sender_system": item.sender_system,
                    "at": item.at.isoformat(),
                    "package_id": str(item.package_id),
                    "file_signatures": item.file_signatures,
                    "url": f"/api/v1/packages/{item.id}" if item.type == "package" else f"/api/v1/receipts/{item.id}",
                }
                for item in items
            ]
        }
    )


@routes.get("/api/v1/packages/{id}")
@accepts()
async def fetch(request: web.Request) -> web.StreamResponse:
    """The package bytes as signed; a large package is sent a chunk at a time as it is read."""
    axis, system = caller(request)
    return await send_package(request, await axis.exchange.body(system, request.match_info["id"]))


async def send_package(
    request: web.Request, body: PackageBody, headers: dict[str, str] | None = None
) -> web.StreamResponse:
    """Package bytes as the response: whole when small, chunk by chunk as read when large."""
    if body.whole is not None:
        return web.Response(body=body.whole, content_type=XML, charset="utf-8", headers=headers)
    response = web.StreamResponse(headers=headers)
    response.content_type, response.charset, response.content_length = XML, "utf-8", body.size
    return await send_parts(request, response, body.parts())


async def send_parts(
    request: web.Request, response: web.StreamResponse, parts: AsyncIterator[bytes]
) -> web.StreamResponse:
    """``response`` (its type and length set) with a body sent as its parts are read: nothing
    holds the whole. A failure half-way ends the transfer short of its length, since the status
    line is sent already."""
    await response.prepare(request)
    try:
        async for part in parts:
            await response.write(part)
    except _CUT_SHORT as exc:
        log.warning("package.fetch_cut", path=request.path, error=repr(exc))
        if request.transport is not None:
            request.transport.close()
        return response
    await response.write_eof()
    return response


@routes.post("/api/v1/packages/{id}/ack")
@accepts()
async def acknowledge(request: web.Request) -> web.Response:
    axis, system = caller(request)
    return web.json_response(delivery_json(await axis.exchange.acknowledge(system, request.match_info["id"])))


#: Ids one batch acknowledgement may name (packages and receipts together).
MAX_BATCH = 500


@routes.post("/api/v1/inbox/ack")
@accepts()
async def acknowledge_many(request: web.Request) -> web.Response:
    """Acknowledge many packages and receipts in one request: one read, one write and one batch
    of receipt signatures for all of them. Each id gets its own answer; an id that is not the
    caller's is ``package.unknown`` / ``receipt.unknown`` and does not stop the others."""
    axis, system = caller(request)
    body = await json_object(request)
    packages, receipts = _ids(body, "packages"), _ids(body, "receipts")
    if not packages and not receipts:
        raise AxisError("http.bad_request", "Name the 'packages' and/or 'receipts' to acknowledge.")
    if len(packages) + len(receipts) > MAX_BATCH:
        raise AxisError("http.bad_request", f"At most {MAX_BATCH} ids per acknowledgement.", limit=MAX_BATCH)
    package_ids, receipt_ids = _uuids(packages), _uuids(receipts)
    delivered = await axis.exchange.acknowledge_many(system, list(package_ids.values())) if package_ids else {}
    taken: set[uuid.UUID] = set()
    if receipt_ids:
        taken = await axis.exchange.acknowledge_receipts(system, list(receipt_ids.values()))
    return web.json_response(
        {
            "packages": [
                delivery_json(delivered[pid])
                if (pid := package_ids.get(text)) in delivered
                else _unknown("package_id", text, "package.unknown", f"No package {text} addressed to this system.")
                for text in packages
            ],
            "receipts": [
                {"receipt_id": text, "acknowledged": True}
                if receipt_ids.get(text) in taken
                else _unknown("receipt_id", text, "receipt.unknown", f"No receipt {text} for this system.")
                for text in receipts
            ],
        }
    )


def _ids(body: dict[str, Any], name: str) -> list[str]:
    value = field(body, name, list, required=False) or []
    if not all(isinstance(item, str) for item in value):
        raise AxisError("http.bad_request", f"The field {name!r} must be a list of ids.", field=name)
    return list(value)


def _uuids(texts: list[str]) -> dict[str, uuid.UUID]:
    """The well-formed ids (the others are unknown, like any id that is not the caller's)."""
    found = {}
    for text in texts:
        with contextlib.suppress(ValueError):
            found[text] = uuid.UUID(text)
    return found


def _unknown(key: str, text: str, code: str, message: str) -> dict[str, Any]:
    return {key: text, "error": {"code": code, "message": message}}


@routes.get("/api/v1/packages/{id}/receipt")
@accepts()
async def acceptance_receipt(request: web.Request) -> web.Response:
    axis, system = caller(request)
    data = await axis.exchange.acceptance_receipt(system, request.match_info["id"])
    return web.Response(body=data, content_type=XML, charset="utf-8")


@routes.get("/api/v1/packages/{id}/receipts")
@accepts()
async def list_receipts(request: web.Request) -> web.Response:
    axis, system = caller(request)
    found = await axis.exchange.receipts(system, request.match_info["id"])
    return web.json_response(
        {
            "receipts": [
                {
                    "id": str(r.id),
                    "kind": r.kind,
                    "system": r.about,
                    "at": r.at.isoformat(),
                    "url": f"/api/v1/receipts/{r.id}",
                }
                for r in found
            ]
        }
    )


@routes.get("/api/v1/packages/{id}/files")
@accepts()
async def files(request: web.Request) -> web.Response:
    """What the axis found about the signatures in a document's files when it took it: each PDF
    (also inside zips), each signature's signer, time, and problems, and the verdict."""
    axis, system = caller(request)
    found = await axis.exchange.files(system, request.match_info["id"])
    if found is None:
        return web.json_response({"verdict": None, "checked": False, "files": [], "problems": [], "codes": []})
    return web.json_response({"checked": True, **found.to_json()})


@routes.get("/api/v1/receipts/{id}")
@accepts()
async def receipt(request: web.Request) -> web.Response:
    axis, system = caller(request)
    data = await axis.exchange.receipt(system, request.match_info["id"])
    return web.Response(body=data, content_type=XML, charset="utf-8")


@routes.post("/api/v1/receipts/{id}/ack")
@accepts()
async def acknowledge_receipt(request: web.Request) -> web.Response:
    axis, system = caller(request)
    await axis.exchange.acknowledge_receipt(system, request.match_info["id"])
    return web.Response(status=204)


@routes.get("/api/v1/axis/certificate")
@accepts()
async def axis_certificate(request: web.Request) -> web.Response:
    """The certificate receipts are signed with, to verify them offline."""
    # The certificate alone, not its chain: receipts are verified against this very certificate,
    # and trusting an intermediate CA as well would accept receipts signed by anyone it certified.
    identity = axis_of(request).identity
    return web.Response(body=cert_pem(identity.certificate), content_type="application/x-pem-file")
