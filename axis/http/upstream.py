"""The admin API for this axis's link to the axis above it: as ``axis upstream`` on the CLI.

``GET`` also says the link's ``state`` (as ``axis upstream show`` and the admin page do): whether
the upstream answered its last call, what waits for it and since when, what it refused, how many
upstream documents this axis refused and keeps, and the upstream's agencies known here.
"""

from __future__ import annotations

import datetime as dt

from aiohttp import web

from axis.errors import AxisError
from axis.federation import links, records
from axis.federation.link import UPSTREAM, UpstreamLink
from axis.federation.records import LinkState
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


def _moment(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def state_json(state: LinkState, now: dt.datetime) -> dict[str, object]:
    """The link's state; ``oldest_waiting_seconds`` is the age of the oldest package waiting."""
    oldest = state.oldest_waiting_at
    return {
        "up": state.up,
        "last_ok_at": _moment(state.last_ok_at),
        "last_error": state.last_error,
        "last_error_at": _moment(state.last_error_at),
        "waiting": state.waiting,
        "oldest_waiting_at": _moment(oldest),
        "oldest_waiting_seconds": round((now - oldest).total_seconds(), 3) if oldest else None,
        "refused": state.refused,
        "failed_inbound": state.failed_inbound,
        "external_agencies": state.external_agencies,
        "agencies_synced_at": _moment(state.agencies_synced_at),
    }


@routes.get("/api/v1/admin/upstream")
@accepts()
async def show(request: web.Request) -> web.Response:
    """The link, without its secret (``secret_set`` says whether there is one), and its ``state``."""

    async def operation(conn: Conn) -> dict[str, object]:
        link = await links.require(conn, UPSTREAM)
        state = await records.state(conn, UPSTREAM)
        now: dt.datetime = await conn.fetchval("SELECT now()")
        return upstream_json(link) | {"state": state_json(state, now) if state else None}

    return web.json_response(await read(request, operation))


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
