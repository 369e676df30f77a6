"""The SDK's package operations, translated onto the exchange.

The rule that shapes them: no answer may let the SDK believe it has a document it does not, nor
let the vendor's loop (list → getEdoc → updateStatus done, or fail when getEdoc was not OK)
lose one. getEdoc says OK only with the bytes; downloadEdoc refuses with an empty body (see the
endpoint); ``done`` is refused for a package the system never fetched; ``fail`` from a system
that never fetched the package (its getEdoc failed, whoever's fault that was) leaves it listed.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator
from typing import Any

import structlog
from aiohttp import web

from axis.errors import AxisError
from axis.exchange.reports import Report
from axis.exchange.store import package_uuid
from axis.http.packages import read_limited, send_parts
from axis.http.vdxp.call import Call
from axis.vdxp import answers, params

log = structlog.get_logger("axis.vdxp")

#: The CRLF the SDK writes after the file.
_FRAMING = 2
_FAIL_REASON = "hệ thống nhận báo không xử lý được gói tin (updateStatus fail)"
_MAX_DESCRIPTION = 500
_UNSIGNED_HINT = (
    " Packages built by the SDK's EdXML102 library carry only a placeholder Signature in the edXML namespace,"
    " which signs nothing: sign each package with the agency's certificate, or ask the administrator of this"
    " axis for the migration policy (axis systems policy {system} --allow-unsigned)."
)


async def send_edoc(call: Call) -> dict[str, Any]:
    """A document or a status package; the package decides which (``messagetype`` may be a
    leftover of the SDK's map). ``from`` and ``to`` are the package's business too."""
    axis = call.axis
    declared = params.message_kind(call.param("messagetype"))
    hash_file = call.required("hash-file")
    with axis.metrics.intake("vdxp"):
        limit = axis.settings.max_package_bytes + _FRAMING
        async with axis.intake_gate.enter(min(call.request.content_length or limit, limit)):
            body = await read_limited(call.request, limit)
            data = params.package_bytes(body, hash_file)
            try:
                submitted = await axis.exchange.submit(call.system, data, via="http")
            except AxisError as exc:
                if exc.code == "signature.missing" and not call.system.allow_unsigned:
                    raise AxisError(exc.code, exc.message + _UNSIGNED_HINT.format(system=call.system.id)) from exc
                raise
    kind = submitted.kind.value
    if not submitted.repeated:
        axis.metrics.accepted.labels(kind, "vdxp").inc()
    if declared is not None and declared != kind:
        log.info("vdxp.messagetype.differs", declared=declared, kind=kind, package_id=str(submitted.package_id))
    return answers.ok(DocId=str(submitted.package_id))


async def received_list(call: Call) -> dict[str, Any]:
    kind = params.message_kind(call.param("messagetype"))
    rows = await call.axis.exchange.waiting(call.system, kind)
    return answers.ok(data=[answers.received_item(row) for row in rows])


async def sent_list(call: Call) -> dict[str, Any]:
    """Newest first, one item per recipient. A ``docId`` that names a package this system sent
    narrows the list to it; any other (the SDK's map keeps the last getEdoc's) is a leftover."""
    kind = params.message_kind(call.param("messagetype"))
    named = _uuid(call.param("docId"))
    exchange = call.axis.exchange
    rows = await exchange.sent(call.system, kind, package_id=named) if named else []
    if not rows:
        rows = await exchange.sent(call.system, kind)
    return answers.ok(data=[item for row in rows for item in answers.sent_items(row)])


def _uuid(text: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(text.strip()) if text else None
    except ValueError:
        return None


async def _count(call: Call, kind: str) -> dict[str, Any]:
    return answers.ok(count=await call.axis.exchange.count_waiting(call.system, kind))


async def count_documents(call: Call) -> dict[str, Any]:
    return await _count(call, "document")


async def count_statuses(call: Call) -> dict[str, Any]:
    return await _count(call, "status")


async def get_edoc(call: Call) -> web.StreamResponse | dict[str, Any]:
    """The package as a base64 string in ``data``. A large one is written as its chunks are read:
    whole, it would be held as bytes, as base64 and as JSON text at once."""
    doc_id = call.required("docId")
    body = await call.axis.exchange.body(call.system, doc_id)
    if body.whole is not None:
        return answers.ok(data=base64.b64encode(body.whole).decode("ascii"))
    empty = answers.dumps(answers.ok(data=""))
    assert empty.endswith(b'""}')  # "data" is the last member: the base64 goes between its quotes
    head, tail = empty[:-2], b'"}'
    response = web.StreamResponse()
    response.content_type = "application/json"
    response.content_length = len(head) + 4 * ((body.size + 2) // 3) + len(tail)
    return await send_parts(call.request, response, _base64_between(head, body.parts(), tail))


async def _base64_between(head: bytes, parts: AsyncIterator[bytes], tail: bytes) -> AsyncIterator[bytes]:
    """``head``, the base64 of the parts as one text (a part's last bytes wait for the next, to
    make whole groups of three), then ``tail``."""
    yield head
    carry = b""
    async for part in parts:
        data = carry + part
        cut = len(data) - len(data) % 3
        yield base64.b64encode(data[:cut])
        carry = data[cut:]
    yield base64.b64encode(carry) + tail


async def download_edoc(call: Call) -> web.StreamResponse:
    """The package's bytes as the body: the SDK saves them as ``<docId>.edxml``."""
    doc_id = str(package_uuid(call.required("docId")))
    body = await call.axis.exchange.body(call.system, doc_id)
    headers = {"Content-Disposition": f'attachment; filename="{doc_id}.edxml"'}
    if body.whole is not None:
        return web.Response(body=body.whole, content_type="application/octet-stream", headers=headers)
    response = web.StreamResponse(headers=headers)
    response.content_type, response.content_length = "application/octet-stream", body.size
    return await send_parts(call.request, response, body.parts())


async def update_status(call: Call) -> dict[str, Any]:
    """done: acknowledged (delivered, the sender's receipt), once the system fetched the package;
    processing: taken, still listed; fail: the delivery fails with a reason the sender sees — or,
    from a system that never fetched the package, is noted and the package stays listed."""
    doc_id = call.required("docId")
    report = Report(params.update_status(call.param("status")))
    call.may_change()
    # A vendor may pass a ``description`` in the header it gives the SDK (signed with the rest, as
    # every key of that map is): the axis above a province does, to say why it refused a package.
    said = (call.param("description") or "").strip()[:_MAX_DESCRIPTION]
    reason = f"{_FAIL_REASON}: {said}" if said else _FAIL_REASON
    reported = await call.axis.exchange.report(call.system, doc_id, report, reason=reason, via="vdxp updateStatus")
    if reported.noted_only:
        return answers.ok(ErrorDesc="Noted; the package was never fetched, so it stays listed: fetch it again.")
    return answers.ok()
