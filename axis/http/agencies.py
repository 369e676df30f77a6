"""Public look-up of the agency code registry: what a system needs to address documents."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from axis.http.body import flag, int_query
from axis.http.context import axis_of
from axis.registry import agencies
from axis.registry.model import Agency

routes = web.RouteTableDef()


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
async def search(request: web.Request) -> web.Response:
    """``?q=`` code prefix (either form) or name words without accents, best match first (across an
    agency and the agencies above it, ``axis.registry.finder``); ``?under=`` a subtree."""
    limit = int_query(request, "limit", 50, low=1, high=500)
    offset = int_query(request, "offset", 0, high=10_000_000)
    q, under = request.query.get("q", "").strip(), request.query.get("under") or None
    if q:
        found = axis_of(request).registry.finder.search(
            q, under=under, include_retired=not flag(request, "active_only")
        )
        page = found[offset : offset + limit]
        return web.json_response({"agencies": [agency_json(a) for a in page], "limit": limit, "offset": offset})
    async with axis_of(request).pool.acquire() as conn:
        found = await agencies.search(
            conn,
            under=under,
            include_retired=not flag(request, "active_only"),
            limit=limit,
            offset=offset,
        )
    return web.json_response({"agencies": [agency_json(a) for a in found], "limit": limit, "offset": offset})


@routes.get("/api/v1/agencies/{code}")
async def show(request: web.Request) -> web.Response:
    async with axis_of(request).pool.acquire() as conn:
        agency = await agencies.require(conn, request.match_info["code"])
        children = await agencies.children(conn, agency.code)
    body = agency_json(agency)
    body["children"] = [agency_json(a) for a in children]
    return web.json_response(body)
