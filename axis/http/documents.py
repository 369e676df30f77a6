"""Where documents stand: search the caller's sent and received documents, and per-recipient status."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from aiohttp import web

from axis.exchange import status
from axis.http.auth import caller
from axis.http.params import Choice, Date, Integer, Text, accepts

routes = web.RouteTableDef()
DIRECTION = Choice("direction", ("all", "sent", "received"), default="all")
DELIVERY = Choice("delivery", status.DELIVERY_FILTERS)
DOCUMENT_ID, NUMBER, NOTATION, COUNTERPART = (
    Text(name) for name in ("document_id", "number", "notation", "counterpart")
)
WORDS = Text("q", max_length=1000)  # a whole subject line
SINCE, UNTIL = Date("from"), Date("to")
LIMIT, OFFSET = Integer("limit", 50, low=1, high=500), Integer("offset", 0, high=10_000_000)


@routes.get("/api/v1/documents")
@accepts(DIRECTION, DELIVERY, DOCUMENT_ID, NUMBER, NOTATION, WORDS, COUNTERPART, SINCE, UNTIL, LIMIT, OFFSET)
async def search(request: web.Request) -> web.Response:
    """``?document_id= &number= &notation= &q=`` (subject words, accents optional) ``&from= &to=``
    (promulgation dates) ``&counterpart=`` (agency code) ``&direction=sent|received``
    ``&delivery=failed|waiting|done`` (some recipient failed, some still waits, all took it)."""
    axis, system = caller(request)
    limit, offset = LIMIT.of(request), OFFSET.of(request)
    found = await axis.exchange.documents(
        system,
        direction=DIRECTION.of(request),
        document_id=DOCUMENT_ID.of(request) or None,
        number=NUMBER.of(request) or None,
        notation=NOTATION.of(request) or None,
        words=WORDS.of(request) or None,
        since=SINCE.of(request),
        until=UNTIL.of(request),
        counterpart=COUNTERPART.of(request) or None,
        delivery=DELIVERY.of(request) or None,
        limit=limit,
        offset=offset,
    )
    return web.json_response({"documents": [jsonable(d) for d in found], "limit": limit, "offset": offset})


@routes.get("/api/v1/documents/{document_id:.+}/status")
@accepts()
async def document_status(request: web.Request) -> web.Response:
    axis, system = caller(request)
    timeline = await axis.exchange.timeline(system, request.match_info["document_id"])
    return web.json_response(jsonable(timeline))


def jsonable(value: Any) -> Any:
    """A result of ``axis.exchange.status`` as the API writes it: its fields by name, times and
    dates in ISO 8601, sequences as arrays."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [jsonable(item) for item in value]
    if isinstance(value, dt.date):  # datetimes too
        return value.isoformat()
    return value
