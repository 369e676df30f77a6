"""The administrator's page for the link to the axis above this one (as ``axis upstream``).

The secret the upstream gave is typed into a password field, kept sealed, and never shown again:
the page says only when it was set.
"""

from __future__ import annotations

from aiohttp import web

from axis.federation import links
from axis.federation.link import UPSTREAM
from axis.http.params import Text, Where, accepts
from axis.vdxp.secret import SecretBox
from axis.web import admin, render, sessions
from axis.web.site import axis_of

routes = web.RouteTableDef()
PAGE = "/ui/admin/upstream"
ENDPOINT, SYSTEM_ID = Text("endpoint", where=Where.FORM, max_length=2000), Text("system_id", where=Where.FORM)
SERVES = Text("serves", where=Where.FORM, max_length=10_000)
SECRET = Text("secret", where=Where.FORM, max_length=1000)


@routes.get("/admin/upstream")
@accepts()
async def upstream_page(request: web.Request) -> web.Response:
    await sessions.require_admin(request)
    axis = axis_of(request)
    async with axis.connection() as conn:
        link = await links.get(conn, UPSTREAM)
    names = {code: agency.name for code, agency in axis.registry.resolver.snapshot.agencies.items()}
    return await render.page(request, "upstream.html", {"link": link, "names": names})


@routes.post("/admin/upstream")
@accepts(ENDPOINT, SYSTEM_ID, SERVES)
async def configure(request: web.Request) -> web.Response:
    endpoint, system_id = await ENDPOINT.posted(request), await SYSTEM_ID.posted(request)
    serves = tuple((await SERVES.posted(request)).replace(",", " ").split())
    return await admin.act(
        request,
        lambda conn, actor: links.configure(
            conn, actor, UPSTREAM, endpoint=endpoint, system_id=system_id, serves=serves
        ),
        done="Đã lưu kết nối lên trục cấp trên.",
        back=PAGE,
    )


@routes.post("/admin/upstream/secret")
@accepts(SECRET)
async def set_secret(request: web.Request) -> web.Response:
    secret = await SECRET.posted(request)
    box, _ = SecretBox.load_or_create(axis_of(request).settings.vdxp_key_path)
    return await admin.act(
        request,
        lambda conn, actor: links.set_secret(conn, actor, UPSTREAM, secret, box),
        done="Đã lưu khóa bí mật của trục cấp trên; khóa không hiển thị lại.",
        back=PAGE,
    )
