"""Public look-up of the agency code registry: what a system needs to address documents.

Search results and look-ups also name the agencies this axis knows only from the upstream's lists
(``axis.registry.external``), after the local ones and marked ``"external": true``: documents for
them go through the axis above."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from axis.http.context import axis_of
from axis.http.params import Flag, Integer, Text, accepts
from axis.registry import agencies, external
from axis.registry.model import Agency

routes = web.RouteTableDef()
Q, UNDER, ACTIVE_ONLY = Text("q"), Text("under"), Flag("active_only")
LIMIT, OFFSET = Integer("limit", 50, low=1, high=500), Integer("offset", 0, high=10_000_000)


def agency_json(agency: Agency) -> dict[str, Any]:
    return {
        "code": agency.code,
        "code_qd20": agency.code_qd20,
        "name": agency.name,
        "parent": agency.parent_code,
        "status": agency.status.value,
        "successor": agency.successor_code,
    }


def listed_json(agency: Agency, *, outside: bool = False) -> dict[str, Any]:
    """An agency in the public look-up: ``external`` when only the upstream's lists name it."""
    return {**agency_json(agency), "external": outside}


@routes.get("/api/v1/agencies")
@accepts(Q, UNDER, ACTIVE_ONLY, LIMIT, OFFSET)
async def search(request: web.Request) -> web.Response:
    """``?q=`` code prefix (either form) or name words without accents, best match first (across an
    agency and the agencies above it, ``axis.registry.finder``); ``?under=`` a subtree. The local
    matches come first, then the external ones (``"external": true``)."""
    limit, offset = LIMIT.of(request), OFFSET.of(request)
    q, under = Q.of(request), UNDER.of(request) or None
    include_retired = not ACTIVE_ONLY.of(request)
    outside: list[Agency] = []  # external agencies, once the local matches run out
    if q:
        ranked = axis_of(request).registry.finder.search(q, under=under, include_retired=include_retired)
        page = ranked[offset : offset + limit]
        if len(page) < limit:
            async with axis_of(request).connection() as conn:
                outside = await external.following(conn, len(ranked), q=q, under=under, offset=offset, limit=limit)
    else:
        async with axis_of(request).connection() as conn:
            page = await agencies.search(conn, under=under, include_retired=include_retired, limit=limit, offset=offset)
            if len(page) < limit:
                total = offset + len(page)
                if not page and offset:
                    total = await agencies.count(conn, under=under, include_retired=include_retired)
                outside = await external.following(conn, total, under=under, offset=offset, limit=limit)
    found = [listed_json(a) for a in page] + [listed_json(a, outside=True) for a in outside]
    return web.json_response({"agencies": found, "limit": limit, "offset": offset})


@routes.get("/api/v1/agencies/{code}")
@accepts()
async def show(request: web.Request) -> web.Response:
    code = request.match_info["code"]
    async with axis_of(request).connection() as conn:
        outside = None if await agencies.get(conn, code) else await external.get(conn, code)
        if outside is not None:
            body = listed_json(outside, outside=True)
            body["children"] = [listed_json(a, outside=True) for a in await external.children(conn, outside.code)]
            return web.json_response(body)
        agency = await agencies.require(conn, code)
        children = await agencies.children(conn, agency.code)
    body = listed_json(agency)
    body["children"] = [listed_json(a) for a in children]
    return web.json_response(body)
