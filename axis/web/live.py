"""The live timeline: server-sent events while a clerk has a document open.

Kept simple and bounded: once a second the handler asks PostgreSQL for the document's newest
event id (one index look-up) and, when it moved, sends the re-rendered timeline fragment (the
same template as the page, autoescaped). Every stream ends after five minutes or when the axis
shuts down, and the browser's EventSource reconnects by itself with ``Last-Event-ID``.

Watching is not using: these requests do not keep a session alive (an open page left alone for
an hour ends its session like any other). When the session ends — expired, logged out, password
changed, user disabled — the stream sends one ``ended`` event saying why and closes; the page
then stops listening and says so. A reconnection after the session ended gets that event too.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from aiohttp import web

from axis.accounts.users import SessionState
from axis.http.params import Integer, accepts
from axis.web import documents, guard, render, sessions
from axis.web.site import axis_of, site_of
from axis.web.vietnamese import SESSION_ENDED

log = structlog.get_logger("axis.web.live")
routes = web.RouteTableDef()

POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0
STREAM_SECONDS = 300.0
RETRY_MILLISECONDS = 3000
SINCE = Integer("since", 0, high=2**62)


def event(name: str, data: str, event_id: int) -> bytes:
    lines = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
    return f"id: {event_id}\nevent: {name}\n{lines}\n".encode()


def _since(request: web.Request) -> int:
    """Where the browser's EventSource left off (its ``Last-Event-ID``), else ``?since=``."""
    raw = request.headers.get("Last-Event-ID", "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else SINCE.of(request)


@routes.get("/documents/{package_id}/live")
@accepts(SINCE)
async def live(request: web.Request) -> web.StreamResponse:
    if await sessions.current_user(request, touch=False) is None and (why := await sessions.ended(request)):
        return await _ended(request, why)
    _, system = await sessions.require_clerk(request, touch=False)
    axis, site = axis_of(request), site_of(request)
    stored = await axis.exchange.document(system, request.match_info["package_id"])
    session = await sessions.session_secret_digest(request)
    template = render.environment(request).get_template("_timeline.html")
    since = _since(request)

    response = await _stream(request)
    loop = asyncio.get_running_loop()
    deadline, quiet_since = loop.time() + STREAM_SECONDS, loop.time()
    try:
        await response.write(f"retry: {RETRY_MILLISECONDS}\n\n".encode())
        while loop.time() < deadline and not site.stopping.is_set():
            state = await sessions.state_of(request, session)
            if state is not SessionState.ALIVE:
                await response.write(event("ended", SESSION_ENDED[state], since))
                log.info("live.session_ended", document_id=stored.document_id, why=str(state))
                break
            mark = await axis.exchange.watermark(stored)
            if mark > since:
                context = await documents.timeline_context(
                    request, system, stored.document_id, shown=str(stored.package_id)
                )
                await response.write(event("timeline", template.render(context), context["watermark"]))
                since, quiet_since = context["watermark"], loop.time()
            elif loop.time() - quiet_since > HEARTBEAT_SECONDS:
                await response.write(b": ping\n\n")  # keeps proxies from closing an idle stream
                quiet_since = loop.time()
            with contextlib.suppress(TimeoutError):  # (not wait_for: it can swallow a cancel on 3.11)
                async with asyncio.timeout(POLL_SECONDS):
                    await site.stopping.wait()
    except ConnectionResetError:
        log.debug("live.closed", document_id=stored.document_id)  # the page was closed: nothing to do
    return response


async def _stream(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "X-Accel-Buffering": "no"})
    guard.secure(response)
    await response.prepare(request)
    return response


async def _ended(request: web.Request, why: SessionState) -> web.StreamResponse:
    """The browser reconnected after its session ended: say why, once, and close (the page stops
    listening; a redirect to the log-in page would only read as a broken connection)."""
    response = await _stream(request)
    with contextlib.suppress(ConnectionResetError):
        await response.write(event("ended", SESSION_ENDED.get(why, SESSION_ENDED["expired"]), _since(request)))
    return response
