"""``/vdxp/<operation>``: the national SDK's own interface, translated (sdk-wire README).

Software built on the national axis's SDK (``SDKVXP-2.0.1.jar``) switches to this axis by
changing three settings: the endpoint, the system id and the secret. Each request is
authenticated the SDK's way (``call.authenticate``), then only translated: packages go through
``Exchange.submit``, downloads through ``Exchange.body``, ``updateStatus done`` through
``Exchange.acknowledge``, the registry lists through the registry snapshot — the same intake,
storage, delivery, receipts and statuses as ``/api/v1``.

Every answer has the shape the SDK reads (``axis.vdxp.answers``), refusals included: the SDK
ignores HTTP statuses and turns anything it cannot read into nulls or, for the lists, into a
fake empty success. So this endpoint never lets an error escape as HTML or as the native API's
error body: whatever happens, the caller gets ``{status: "FAIL", ErrorCode, ErrorDesc}`` (with
``DocId`` for sendEdoc) — except downloadEdoc, whose body the SDK saves as the document whatever
it is: its refusals have an empty body, which the SDK reports as a failure.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiohttp import web

from axis.config import Settings
from axis.errors import AxisError
from axis.http.errors import REQUEST_ID, UNAVAILABLE, unavailable
from axis.http.params import accepts
from axis.http.vdxp import mail, registry
from axis.http.vdxp.call import COMPAT, Call, Compat, authenticate
from axis.vdxp import answers

log = structlog.get_logger("axis.vdxp")
routes = web.RouteTableDef()

Operation = Callable[[Call], Awaitable[Any]]
OPERATIONS: dict[str, Operation] = {
    name.lower(): handler
    for name, handler in (
        ("sendEdoc", mail.send_edoc),
        ("getReceivedEdocList", mail.received_list),
        ("getSentEdocList", mail.sent_list),
        ("getEdoc", mail.get_edoc),
        ("downloadEdoc", mail.download_edoc),
        ("updateStatus", mail.update_status),
        ("countReceiveEdoc", mail.count_documents),
        ("countReceiveStatus", mail.count_statuses),
        ("getAgenciesList", registry.agencies_list),
        ("getAgenciesListQD20", registry.agencies_list_qd20),
        ("getSynchronizeUnit", registry.synchronize_units),
        ("registerAgency", registry.register_agency),
        ("deleteAgency", registry.delete_agency),
    )
}


def install(app: web.Application, settings: Settings) -> None:
    """Serve ``/vdxp/…`` on ``app`` (called by the composition root)."""
    app[COMPAT] = Compat(settings)
    app.add_routes(routes)


@routes.route("*", "/vdxp/{operation}")
@accepts()  # the SDK's parameters are its signed headers (call.authenticate); the path is checked
async def endpoint(request: web.Request) -> web.StreamResponse:
    compat = request.app[COMPAT]
    name = request.match_info["operation"]
    handler = OPERATIONS.get(name.lower())
    system_id: str | None = None
    try:
        if handler is None:
            raise AxisError("vdxp.operation.unknown", f"The SDK's interface has no operation {name!r}.", operation=name)
        call = await authenticate(request, compat, name)
        system_id = call.system.id
        result = await handler(call)
    except AxisError as exc:
        log.info("vdxp.refused", operation=name, code=exc.code, system=system_id)
        return refusal(request, compat, name, exc)
    except UNAVAILABLE as exc:
        log.warning("vdxp.unavailable", operation=name, system=system_id, error=repr(exc))
        return refusal(request, compat, name, unavailable())
    except Exception:  # a bug: logged with its traceback, answered in the SDK's shape, never as HTML
        log.exception("vdxp.failed", operation=name, system=system_id)
        return refusal(request, compat, name, AxisError("internal", "An internal error occurred."))
    if isinstance(result, web.StreamResponse):
        return result
    return answer(result)


def answer(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=answers.dumps(body), status=status, content_type="application/json", headers=headers)


def refusal(request: web.Request, compat: Compat, operation: str, error: AxisError) -> web.Response:
    status = error.http_status if compat.settings.vdxp_http_errors else 200
    headers = {"X-Axis-Error": error.code}
    if "retry_after" in error.details:
        headers["Retry-After"] = str(error.details["retry_after"])
    body, content_type = answers.refused(operation, error)
    if not body:  # downloadEdoc: only an empty body reads as a failure to the SDK
        request_id = request.headers.get(REQUEST_ID, "")
        log.info("vdxp.download_refused", code=error.code, request_id=request_id)
        return web.Response(body=b"", status=error.http_status, headers=headers)
    return web.Response(body=body, status=status, content_type=content_type, headers=headers)
