"""Requests aiohttp refuses before any handler runs, answered in the axis's shapes.

A request line or a header over 8190 bytes, a header aiohttp's parser refuses, a bad chunk size,
bytes that are not HTTP: aiohttp answers these itself, from ``RequestHandler.handle_error``, before
any middleware or ``on_response_prepare`` signal runs — a plain-text 400 without ``X-Request-Id``
or security headers, logged with a traceback. aiohttp has no hook for it (aio-libs/aiohttp#3287):
``handler_args`` only hands keyword arguments to the ``RequestHandler`` each connection gets.

So ``install`` makes aiohttp's ``Server`` build ``_Handler`` (as ``axis.http.cut_headers`` swaps
the parser class, which this keeps using), and the composition root passes the application's
``Refusals`` to it through ``handler_args``; a connection of a server built without them is
handled exactly as aiohttp does. ``handle_error`` then answers as ``errors_middleware`` would:
``400 http.bad_request`` (``500 internal`` for a failure outside every middleware) in the
contract's JSON, or the SDK's own answer under ``/vdxp/``, with ``X-Request-Id`` and the security
headers, logged as one event without a traceback.

aiohttp does not keep the path of a request it could not parse. The handler remembers the first
bytes of the last read that starts like a request line (``GET /vdxp/…``) and takes the path from
them; when it cannot (a request line split across reads), the answer is the contract's JSON.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import structlog
from aiohttp import http_exceptions, web, web_protocol, web_server

from axis.errors import AxisError
from axis.http import headers
from axis.http.errors import REQUEST_ID, Refusals

log = structlog.get_logger("axis.http")

#: The handler argument that carries the application's ``Refusals`` (``web.Application(handler_args=…)``).
ARGUMENT = "axis_refusals"
_REQUEST_LINE = re.compile(rb"[A-Z]{3,10} (/[^ ?#]{0,200})")
_HEAD = 256


class _Handler(web_protocol.RequestHandler):
    def __init__(self, manager: web_server.Server, *, axis_refusals: Refusals | None = None, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._axis_refusals = axis_refusals
        self._axis_head = b""

    def data_received(self, data: bytes) -> None:
        if self._axis_refusals is not None and _REQUEST_LINE.match(data, 0, _HEAD):
            self._axis_head = data[:_HEAD]
        super().data_received(data)

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        refusals = self._axis_refusals
        if refusals is None:
            return super().handle_error(request, status, exc, message)
        if request.writer.output_size > 0:  # as aiohttp: an answer has begun, nothing else can be sent
            raise ConnectionError("Response is sent already, cannot send another response with the error message")
        parsed = request.method != web_protocol.ERROR.method
        path = request.path if parsed else self._path()
        request_id = (request.headers.get(REQUEST_ID) if parsed else None) or uuid.uuid4().hex
        if status == 400:
            reason = _reason(exc)
            log.info("request.malformed", path=path, reason=reason, remote=request.remote, request_id=request_id)
            error = AxisError("http.bad_request", f"The request cannot be read: {reason}.", reason=reason)
        else:
            log.error("request.failed", path=path, status=status, request_id=request_id, exc_info=exc)
            error = AxisError("internal", "An internal error occurred.")
        response = refusals.response(path, error, request_id)
        headers.fill(request, response, path)
        response.force_close()
        return response

    def _path(self) -> str:
        found = _REQUEST_LINE.match(self._axis_head)
        return found.group(1).decode("latin-1") if found else "/"


def _reason(exc: BaseException | None) -> str:
    """Why, in words that do not echo the request's bytes back."""
    if isinstance(exc, http_exceptions.LineTooLong):
        return "the request line or a header is longer than the axis reads"
    if isinstance(exc, http_exceptions.BadHttpMethod):
        return "this is not an HTTP request"
    if isinstance(exc, http_exceptions.InvalidHeader):
        return "a header is malformed"
    return "the request is not well-formed HTTP"


def handler_args(refusals: Refusals) -> dict[str, Any]:
    """What ``web.Application(handler_args=…)`` passes each connection's handler."""
    return {ARGUMENT: refusals}


def install() -> None:
    """Make aiohttp's servers build ``_Handler`` (called by the composition root). Idempotent."""
    web_server.RequestHandler = _Handler  # type: ignore[attr-defined]
