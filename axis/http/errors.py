"""The one place where failures become HTTP responses.

``AxisError`` becomes the contract's JSON body with the catalogue's status; aiohttp's own 404/405
get the same shape; anything else is a bug: logged with its traceback and the request id, and
answered with a 500 that names the id (never the traceback). Under ``/vdxp/`` a refusal that the
SDK's endpoint did not make itself (no such route, a parameter refused before it ran) is in the
SDK's shape (``Refusals``), which is also what ``axis.http.early`` answers requests aiohttp
could not parse with. Every answer carries ``X-Request-Id``, redirects and aiohttp's other
statuses included.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from aiohttp import web

from axis.errors import AxisError
from axis.store import db
from axis.vdxp import answers

log = structlog.get_logger("axis.http")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
REQUEST_ID = "X-Request-Id"


def unavailable() -> AxisError:
    """What a caller hears when the store is ``UNAVAILABLE``: the same request later succeeds."""
    return AxisError("service.unavailable", "The axis's database cannot answer right now; try again.", retry_after=5)


def error_response(error: AxisError, request_id: str) -> web.Response:
    body = error.as_dict()
    body["error"]["request_id"] = request_id
    headers = {REQUEST_ID: request_id}
    if "retry_after" in error.details:
        headers["Retry-After"] = str(error.details["retry_after"])
    return web.json_response(body, status=error.http_status, headers=headers)


#: A dependency that is down or too slow is the caller's "try again later", not a bug: the store's
#: one decision of it (axis.store.db.UNAVAILABLE).
UNAVAILABLE = db.UNAVAILABLE


_HTTP_CODES = {404: "http.not_found", 405: "http.method_not_allowed", 400: "http.bad_request"}


def sdk_path(path: str) -> bool:
    """Whether ``path`` is the national SDK's (``/vdxp/…``), which reads only its own answers."""
    return path == "/vdxp" or path.startswith("/vdxp/")


@dataclass(frozen=True, slots=True)
class Refusals:
    """Refusals in the shape of the path they answer: the SDK's under ``/vdxp/`` (HTTP 200 unless
    ``AXIS_VDXP_HTTP_ERRORS``, as its endpoint answers), the contract's JSON elsewhere."""

    sdk_http_errors: bool = False

    def response(self, path: str, error: AxisError, request_id: str) -> web.Response:
        if not sdk_path(path):
            return error_response(error, request_id)
        operation = path.rstrip("/").rsplit("/", 1)[-1]
        status = error.http_status if self.sdk_http_errors else 200
        headers = {REQUEST_ID: request_id, "X-Axis-Error": error.code}
        body, content_type = answers.refused(operation, error)
        if not body:
            status = error.http_status  # downloadEdoc: an empty body is the refusal the SDK sees
        return web.Response(body=body, status=status, content_type=content_type, headers=headers)


REFUSALS: web.AppKey[Refusals] = web.AppKey("axis.refusals", Refusals)


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    request_id = request.headers.get(REQUEST_ID) or uuid.uuid4().hex
    refusals = request.config_dict.get(REFUSALS) or Refusals()
    structlog.contextvars.bind_contextvars(request_id=request_id)
    try:
        response = await handler(request)
    except AxisError as exc:
        log.info("request.refused", code=exc.code, path=request.path, method=request.method)
        return refusals.response(request.path, exc, request_id)
    except web.HTTPException as exc:
        code = _HTTP_CODES.get(exc.status)
        if code is None:
            exc.headers.setdefault(REQUEST_ID, request_id)
            raise
        return refusals.response(request.path, AxisError(code, exc.reason or code), request_id)
    except UNAVAILABLE as exc:
        log.warning("request.unavailable", path=request.path, method=request.method, error=repr(exc))
        return refusals.response(request.path, unavailable(), request_id)
    except Exception:  # the one catch-all: a bug must not become a stack trace for the caller
        log.exception("request.failed", path=request.path, method=request.method)
        return refusals.response(request.path, AxisError("internal", "An internal error occurred."), request_id)
    finally:
        structlog.contextvars.unbind_contextvars("request_id")
    response.headers.setdefault(REQUEST_ID, request_id)
    return response
