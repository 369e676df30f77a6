"""The one place where failures become HTTP responses.

``AxisError`` becomes the contract's JSON body with the catalogue's status; aiohttp's own 404/405
get the same shape; anything else is a bug: logged with its traceback and the request id, and
answered with a 500 that names the id (never the traceback).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import asyncpg
import structlog
from aiohttp import web

from axis.errors import AxisError

log = structlog.get_logger("axis.http")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
REQUEST_ID = "X-Request-Id"


def error_response(error: AxisError, request_id: str) -> web.Response:
    body = error.as_dict()
    body["error"]["request_id"] = request_id
    headers = {REQUEST_ID: request_id}
    if "retry_after" in error.details:
        headers["Retry-After"] = str(error.details["retry_after"])
    return web.json_response(body, status=error.http_status, headers=headers)


#: A dependency that is down or too slow is the caller's "try again later", not a bug.
UNAVAILABLE = (
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,  # see axis.store.db.UNAVAILABLE
    ConnectionError,
    TimeoutError,
)


_HTTP_CODES = {404: "http.not_found", 405: "http.method_not_allowed", 400: "http.bad_request"}


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    request_id = request.headers.get(REQUEST_ID) or uuid.uuid4().hex
    structlog.contextvars.bind_contextvars(request_id=request_id)
    try:
        response = await handler(request)
    except AxisError as exc:
        log.info("request.refused", code=exc.code, path=request.path, method=request.method)
        return error_response(exc, request_id)
    except web.HTTPException as exc:
        code = _HTTP_CODES.get(exc.status)
        if code is None:
            raise
        return error_response(AxisError(code, exc.reason or code), request_id)
    except UNAVAILABLE as exc:
        log.warning("request.unavailable", path=request.path, method=request.method, error=repr(exc))
        unavailable = AxisError("service.unavailable", "The axis cannot reach its database right now.", retry_after=5)
        return error_response(unavailable, request_id)
    except Exception:  # the one catch-all: a bug must not become a stack trace for the caller
        log.exception("request.failed", path=request.path, method=request.method)
        return error_response(AxisError("internal", "An internal error occurred."), request_id)
    finally:
        structlog.contextvars.unbind_contextvars("request_id")
    response.headers.setdefault(REQUEST_ID, request_id)
    return response
