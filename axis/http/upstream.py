"""The admin API for this axis's link to the axis above it: as ``axis upstream`` on the CLI."""

from __future__ import annotations

from aiohttp import web

from axis.errors import AxisError
from axis.federation import links
from axis.federation.link import UPSTREAM, UpstreamLink
from axis.http.admin import change, read
from axis.http.body import field, json_object, text
from axis.http.context import axis_of
from axis.http.params import accepts
from axis.store.db import Conn
from axis.vdxp.secret import SecretBox

routes = web.RouteTableDef()


def upstream_json(link: UpstreamLink) -> dict[str, object]:
    return links.as_json(link) | {
        "secret_set_at": link.secret_set_at.isoformat() if link.secret_set_at else None,
        "updated_at": link.updated_at.isoformat(),
    }


@routes.get("/api/v1/admin/upstream")
@accepts()
async def show(request: web.Request) -> web.Response:
    """The link, without its secret (``secret_set`` says whether there is one)."""
    return web.json_response(upstream_json(await read(request, lambda conn: links.require(conn, UPSTREAM))))


@routes.put("/api/v1/admin/upstream")
@accepts()
async def configure(request: web.Request) -> web.Response:
    """``{"endpoint": "https://…/vdxp", "system_id": "…", "serves": ["000.00.00.H53"]}``."""
    body = await json_object(request)
    endpoint, system_id = text(body, "endpoint"), text(body, "system_id")
    serves = field(body, "serves", list)
    if not serves or not all(isinstance(code, str) for code in serves):
        raise AxisError("upstream.serves.invalid", "serves is a list of agency codes this axis serves itself.")

    async def operation(conn: Conn, actor: str) -> UpstreamLink:
        return await links.configure(
            conn, actor, UPSTREAM, endpoint=endpoint, system_id=system_id, serves=tuple(serves)
        )

    return web.json_response(upstream_json(await change(request, operation)))


@routes.put("/api/v1/admin/upstream/secret")
@accepts()
async def set_secret(request: web.Request) -> web.Response:
    """``{"secret": "…"}``: the secret the upstream gave this axis, kept sealed, never shown again."""
    secret = text(await json_object(request), "secret")
    box, _ = SecretBox.load_or_create(axis_of(request).settings.vdxp_key_path)

    async def operation(conn: Conn, actor: str) -> UpstreamLink:
        return await links.set_secret(conn, actor, UPSTREAM, secret, box)

    return web.json_response(upstream_json(await change(request, operation)))
