"""Public look-up of the agency code registry: what a system needs to address documents."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from axis.http.context import axis_of
from axis.http.params import Flag, Integer, Text, accepts
from axis.registry import agencies
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


@routes.get("/api/v1/agencies")
@accepts(Q, UNDER, ACTIVE_ONLY, LIMIT, OFFSET)
async def search(request: web.Request) -> web.Response:
    """``?q=`` code prefix (either form) or name words without accents, best match first (across an
    agency and the agencies above it, ``axis.registry.finder``); ``?under=`` a subtree."""
    limit, offset = LIMIT.of(request), OFFSET.of(request)
    q, under = Q.of(request), UNDER.of(request) or None
    if q:
        found = axis_of(request).registry.finder.search(q, under=under, include_retired=not ACTIVE_ONLY.of(request))
        page = found[offset : offset + limit]
        return web.json_response({"agencies": [agency_json(a) for a in page], "limit": limit, "offset": offset})
    async with axis_of(request).connection() as conn:
        found = await agencies.search(
            conn,
            under=under,
            include_retired=not ACTIVE_ONLY.of(request),
            limit=limit,
            offset=offset,
        )
    return web.json_response({"agencies": [agency_json(a) for a in found], "limit": limit, "offset": offset})


@routes.get("/api/v1/agencies/{code}")
@accepts()
async def show(request: web.Request) -> web.Response:
    async with axis_of(request).connection() as conn:
        agency = await agencies.require(conn, request.match_info["code"])
        children = await agencies.children(conn, agency.code)
    body = agency_json(agency)
    body["children"] = [agency_json(a) for a in children]
    return web.json_response(body)
