"""``/vdxp/<operation>``: the national SDK's own interface (EDXML.md §4), translated.

Software built on the national axis's SDK switches to this axis by changing three settings: the
endpoint, the system id and the secret. Each request is authenticated the SDK's way
(``axis.vdxp.signing``: HMAC of the signed headers, headers held against it, timestamp window,
each signature once), then only translated: packages go through ``Exchange.submit``, downloads
through ``Exchange.body``, ``updateStatus done`` through ``Exchange.acknowledge``, the registry
operations through ``axis.registry`` — the same intake, storage, delivery, receipts and statuses
as ``/api/v1``. Every answer is the SDK's JSON (``axis.vdxp.answers``), refusals included, with
HTTP 200 unless ``AXIS_VDXP_HTTP_ERRORS`` asks for the error's own status.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import structlog
from aiohttp import web

from axis.config import Settings
from axis.errors import AxisError
from axis.exchange.store import package_uuid
from axis.http.body import field, json_object, text
from axis.http.context import axis_of
from axis.http.packages import read_limited, send_package, send_parts
from axis.http.tls import check_client_certificate
from axis.registry import agencies
from axis.registry.model import Agency, System
from axis.vdxp import answers, params, signing, store
from axis.vdxp.secret import SecretBox

if TYPE_CHECKING:
    from axis.app import Axis

log = structlog.get_logger("axis.vdxp")
routes = web.RouteTableDef()

#: Room for a multipart wrapping around a package of the maximum size.
_WRAPPING = 64 * 1024
_FAIL_REASON = "the recipient system reported that it could not process the package (updateStatus fail)"


class Compat:
    """What the endpoint keeps per process: its settings, and the key that opens SDK secrets,
    loaded when first needed (``axis systems secret`` may create it after the axis started)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.spellings = params.spellings(settings.vdxp_docid_spelling)
        self._box: SecretBox | None = None

    def box(self) -> SecretBox:
        if self._box is None:
            self._box = SecretBox.load(self.settings.vdxp_key_path)
        return self._box

    def answer(self, body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
        return web.json_response(body, status=status, headers=headers, dumps=self.dumps)

    @staticmethod
    def dumps(body: dict[str, Any]) -> str:
        return json.dumps(body, ensure_ascii=False)

    def refusal(self, error: AxisError) -> web.Response:
        status = error.http_status if self.settings.vdxp_http_errors else 200
        headers = {"Retry-After": str(error.details["retry_after"])} if "retry_after" in error.details else None
        return self.answer(answers.fail(error), status, headers)


COMPAT: web.AppKey[Compat] = web.AppKey("vdxp", Compat)


def install(app: web.Application, settings: Settings) -> None:
    """Serve ``/vdxp/…`` on ``app`` (called by the composition root)."""
    app[COMPAT] = Compat(settings)
    app.add_routes(routes)


@dataclass(frozen=True, slots=True)
class Call:
    """An authenticated request: who calls, and its signed parameters."""

    request: web.Request
    axis: Axis
    system: System
    envelope: signing.Envelope
    compat: Compat
    operation: str

    def param(self, name: str) -> str | None:
        spelling = self.compat.spellings.get(self.operation.lower()) if name.lower() == "docid" else None
        return self.envelope.param(name, spelling=spelling)

    def required(self, name: str) -> str:
        value = self.param(name)
        if not value:
            raise AxisError(
                "vdxp.param.missing", f"{self.operation} needs {signing.PREFIX}{name}, signed.", parameter=name
            )
        return value


Result = Any  # the answer's ``data``, or a whole response (downloadEdoc)
Operation = Callable[[Call], Awaitable[Result]]
F = TypeVar("F", bound=Operation)
_OPERATIONS: dict[str, Operation] = {}


def operation(name: str) -> Callable[[F], F]:
    def register(handler: F) -> F:
        _OPERATIONS[name.lower()] = handler
        return handler

    return register


@routes.route("*", "/vdxp/{operation}")
async def endpoint(request: web.Request) -> web.StreamResponse:
    compat = request.app[COMPAT]
    name = request.match_info["operation"]
    handler = _OPERATIONS.get(name.lower())
    system_id: str | None = None
    try:
        if handler is None:
            raise AxisError("vdxp.operation.unknown", f"The SDK's interface has no operation {name!r}.", operation=name)
        call = await authenticate(request, compat, name)
        system_id = call.system.id
        result = await handler(call)
    except AxisError as exc:
        log.info("vdxp.refused", operation=name, code=exc.code, system=system_id)
        return compat.refusal(exc)
    if isinstance(result, web.StreamResponse):
        return result
    return compat.answer(answers.ok(result))


async def authenticate(request: web.Request, compat: Compat, operation: str) -> Call:
    """Signature first (over the signed text, with the system's current secrets, in constant time),
    then the headers against it, the timestamp, the system, and finally each signature once."""
    axis = axis_of(request)
    settings = compat.settings
    envelope = signing.read(request.raw_headers)
    snapshot = axis.registry.snapshot
    keys = await _secrets(axis, compat, envelope.system_id) if envelope.system_id in snapshot.systems else []
    signing.verify(envelope, keys, mode=settings.vdxp_signed_text)
    signing.check_headers(envelope)
    window = settings.vdxp_timestamp_window_seconds
    signing.check_time(envelope, dt.datetime.now(dt.UTC), window)
    system = snapshot.systems[envelope.system_id]  # verify() refused ids without a secret
    if not system.active:
        raise AxisError("registry.system.disabled", f"The system {system.id} is disabled.", system=system.id)
    check_client_certificate(request, system, snapshot.certificates)
    axis.rate_limiter.check(system.id)
    async with axis.pool.acquire() as conn:
        fresh = await store.first_use(conn, system.id, envelope.signature, keep_seconds=2 * window + 60)
    if not fresh:
        raise AxisError(
            "vdxp.signature.replayed",
            "This request (its signature) was already received; sign each request afresh.",
        )
    return Call(request, axis, system, envelope, compat, operation)


async def _secrets(axis: Axis, compat: Compat, system_id: str) -> list[bytes]:
    """The system's current SDK secrets, opened (the HMAC keys)."""
    box = compat.box()
    async with axis.pool.acquire() as conn:
        sealed = await store.current_secrets(conn, system_id)
    keys = [key for key in (box.open(system_id, s) for s in sealed) if key is not None]
    if len(keys) < len(sealed):  # rows sealed under another key file: a deployment mistake
        log.warning("vdxp.secret.unopenable", system=system_id, key_id=box.key_id, sealed=len(sealed))
    return keys


# --- packages -----------------------------------------------------------------------------------------


@operation("sendEdoc")
async def send_edoc(call: Call) -> Result:
    """A document or a status package (``messagetype`` edoc or status; the package decides)."""
    axis = call.axis
    declared = params.message_kind(call.param("messagetype"))
    hash_file = call.required("hash-file")
    content_type = call.request.headers.get("Content-Type", "")
    with axis.metrics.intake("vdxp"):
        limit = axis.settings.max_package_bytes + _WRAPPING
        async with axis.intake_gate.enter(min(call.request.content_length or limit, limit)):
            body = await read_limited(call.request, limit)
            data = params.package_bytes(body, content_type, hash_file)
            answer = await axis.exchange.submit(call.system, data, via="http")
    kind = answer.body["kind"]
    if answer.status == 202:
        axis.metrics.accepted.labels(kind, "vdxp").inc()
    if declared is not None and declared != kind:  # a stale or wrong messagetype: the content decides
        log.info("vdxp.messagetype.differs", declared=declared, kind=kind, package_id=str(answer.package_id))
    return {
        "docId": str(answer.package_id),
        "documentId": answer.body["document_id"],
        "messageType": params.MESSAGE_TYPES[kind],
        "to": ";".join(r["agency"] for r in answer.body["recipients"]),
        "repeated": answer.status == 200,
    }


@operation("getReceivedEdocList")
async def received_list(call: Call) -> Result:
    kind = params.message_kind(call.param("messagetype"))
    async with call.axis.pool.acquire() as conn:
        rows = await store.received(conn, call.system.id, kind)
    return [answers.received_item(dict(r)) for r in rows]


@operation("getSentEdocList")
async def sent_list(call: Call) -> Result:
    kind = params.message_kind(call.param("messagetype"))
    async with call.axis.pool.acquire() as conn:
        rows = await store.sent(conn, call.system.id, kind)
    return [answers.sent_item(dict(r)) for r in rows]


async def _count(call: Call, kind: str) -> Result:
    async with call.axis.pool.acquire() as conn:
        return {"total": await store.count_received(conn, call.system.id, kind)}


@operation("countReceiveEdoc")
async def count_documents(call: Call) -> Result:
    return await _count(call, "document")


@operation("countReceiveStatus")
async def count_statuses(call: Call) -> Result:
    return await _count(call, "status")


@operation("getEdoc")
async def get_edoc(call: Call) -> Result:
    """The package base64 in the SDK's JSON. A large one is written as its chunks are read:
    whole, it would be held as bytes, as base64 and as JSON text at once."""
    doc_id = call.required("docId")
    body = await call.axis.exchange.body(call.system, doc_id)
    if body.whole is not None:
        return {"docId": doc_id, "content": base64.b64encode(body.whole).decode("ascii")}
    empty = call.compat.dumps(answers.ok({"docId": doc_id, "content": ""}))
    assert empty.endswith('""}}')  # "content" is the last member: the base64 goes between its quotes
    head, tail = empty[:-3].encode(), b'"}}'
    response = web.StreamResponse()
    response.content_type, response.charset = "application/json", "utf-8"
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


@operation("downloadEdoc")
async def download_edoc(call: Call) -> Result:
    doc_id = str(package_uuid(call.required("docId")))
    body = await call.axis.exchange.body(call.system, doc_id)
    return await send_package(call.request, body, {"Content-Disposition": f'attachment; filename="{doc_id}.edxml"'})


@operation("updateStatus")
async def update_status(call: Call) -> Result:
    """done: acknowledged (delivered, the sender's receipt); processing: taken, still pending;
    fail: the delivery fails with a reason the sender sees."""
    doc_id = call.required("docId")
    status = params.update_status(call.param("status"))
    pid = package_uuid(doc_id)
    if status == "done":
        done = await call.axis.exchange.acknowledge(call.system, doc_id)
        if done["state"] != "delivered":
            raise _conflict(doc_id, status, done["state"])
        at = dt.datetime.fromisoformat(done["delivered_at"]) if done["delivered_at"] else None
        return {"docId": doc_id, "status": "done", "updated_time": answers.sdk_time(at)}
    async with call.axis.pool.acquire() as conn:
        if status == "processing":
            row = await store.mark_processing(conn, pid, call.system.id)
            state = None if row is None else answers.transport_status(row["state"], row["fetched_at"])
        else:
            found = await store.mark_failed(conn, pid, call.system.id, _FAIL_REASON)
            state = None if found is None else answers.transport_status(found, None)
    if state is None:
        raise AxisError("package.unknown", f"No package {doc_id} addressed to this system.", package_id=doc_id)
    if (status == "fail" and state == "done") or (status == "processing" and state == "fail"):
        raise _conflict(doc_id, status, state)
    return {"docId": doc_id, "status": state}


def _conflict(doc_id: str, asked: str, state: str) -> AxisError:
    return AxisError(
        "vdxp.update.conflict",
        f"{doc_id} is already {state}; updateStatus {asked} cannot change that.",
        package_id=doc_id,
        state=state,
    )


# --- the registry ----------------------------------------------------------------------------------------


def _active(call: Call) -> list[Agency]:
    found = call.axis.registry.snapshot.agencies.values()
    return sorted((a for a in found if not a.retired), key=lambda a: a.code)


@operation("getAgenciesList")
async def agencies_list(call: Call) -> Result:
    return [answers.agency_item(a) for a in _active(call)]


@operation("getAgenciesListQD20")
async def agencies_list_qd20(call: Call) -> Result:
    return [answers.agency_item(a, qd20=True) for a in _active(call)]


@operation("getSynchronizeUnit")
async def synchronize_units(call: Call) -> Result:
    """The agencies the calling system serves (its units), retired ones included."""
    resolver = call.axis.registry.resolver
    found = call.axis.registry.snapshot.agencies.values()
    mine = [a for a in found if getattr(resolver.serving_system(a.code), "id", None) == call.system.id]
    return [answers.agency_item(a) for a in sorted(mine, key=lambda a: a.code)]


def _own(call: Call, code: str, *, root_allowed: bool) -> None:
    """The agency (or new code) must lie in a subtree the caller serves; a binding's own root is
    the administrator's to change."""
    if not call.compat.settings.vdxp_agency_changes:
        raise AxisError("vdxp.agency.changes_disabled", "Agencies are changed by the administrator on this axis.")
    serving = call.axis.registry.resolver.serving_system(code)
    bound_here = code.strip() in call.axis.registry.snapshot.bindings
    if serving is None or serving.id != call.system.id or (bound_here and not root_allowed):
        raise AxisError(
            "vdxp.agency.not_served",
            f"{code} is not in a subtree {call.system.id} serves (or is the root of a binding).",
            agency_code=code,
        )


async def _registry_change(call: Call, change: Callable[[Any, str], Awaitable[Agency]]) -> Agency:
    actor = f"vdxp:{call.system.id}"
    async with call.axis.pool.acquire() as conn:
        async with conn.transaction():
            agency = await change(conn, actor)
        await call.axis.registry_changed(conn)
    return agency


@operation("registerAgency")
async def register_agency(call: Call) -> Result:
    """A new agency under one the system serves: JSON body ``{code, name, codeQD20?}``."""
    body = await json_object(call.request)
    code, name = text(body, "code"), text(body, "name")
    qd20 = field(body, "codeQD20", str, required=False) or field(body, "code_qd20", str, required=False)
    _own(call, code, root_allowed=False)
    agency = await _registry_change(call, lambda conn, actor: agencies.add(conn, actor, code, name, code_qd20=qd20))
    return answers.agency_item(agency)


@operation("deleteAgency")
async def delete_agency(call: Call) -> Result:
    """Agencies are never deleted (old documents name them): the agency retires, optionally
    naming a successor the system also serves. The code comes in a JSON body or ``XroadVnpt-code``."""
    body = await json_object(call.request) if call.request.can_read_body else {}
    code = field(body, "code", str, required=False) or call.required("code")
    successor = field(body, "successor", str, required=False)
    agency = call.axis.registry.resolver.agency(code)
    _own(call, agency.code, root_allowed=False)
    if successor is not None:
        _own(call, successor, root_allowed=True)
    retired = await _registry_change(call, lambda conn, actor: agencies.retire(conn, actor, agency.code, successor))
    return answers.agency_item(retired)
