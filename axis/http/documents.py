"""Where documents stand: search the caller's sent and received documents, and per-recipient status."""

from __future__ import annotations

import datetime as dt

from aiohttp import web

from axis.errors import AxisError
from axis.exchange import status
from axis.http.auth import caller
from axis.http.body import int_query

routes = web.RouteTableDef()


def _date(request: web.Request, name: str) -> dt.date | None:
    raw = request.query.get(name)
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise AxisError("http.bad_request", f"The parameter {name!r} must be a date YYYY-MM-DD.") from None


@routes.get("/api/v1/documents")
async def search(request: web.Request) -> web.Response:
    """``?document_id= &number= &notation= &q=`` (subject words, accents optional) ``&from= &to=``
    (promulgation dates) ``&counterpart=`` (agency code) ``&direction=sent|received``
    ``&delivery=failed|waiting|done`` (some recipient failed, some still waits, all took it)."""
    axis, system = caller(request)
    query = request.query
    limit = int_query(request, "limit", 50, low=1, high=500)
    offset = int_query(request, "offset", 0, high=10_000_000)
    async with axis.pool.acquire() as conn:
        found = await status.search(
            conn,
            system.id,
            direction=query.get("direction", "all"),
            document_id=query.get("document_id") or None,
            number=query.get("number") or None,
            notation=query.get("notation") or None,
            words=query.get("q") or None,
            since=_date(request, "from"),
            until=_date(request, "to"),
            counterpart=query.get("counterpart") or None,
            delivery=query.get("delivery") or None,
            limit=limit,
            offset=offset,
        )
    return web.json_response({"documents": found, "limit": limit, "offset": offset})


@routes.get("/api/v1/documents/{document_id:.+}/status")
async def document_status(request: web.Request) -> web.Response:
    axis, system = caller(request)
    async with axis.pool.acquire() as conn:
        timeline = await status.timeline(
            conn,
            request.match_info["document_id"],
            system.id,
            ack_deadline=dt.timedelta(hours=axis.settings.ack_deadline_hours),
        )
    return web.json_response(timeline)
