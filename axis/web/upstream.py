"""The administrator's page for the link to the axis above this one (as ``axis upstream``).

The secret the upstream gave is typed into a password field, kept sealed, and never shown again:
the page says only when it was set.

The link's state is read as the page is opened (``axis.federation.records.state``): whether the
upstream answered its last call, what waits for it and since when, what it refused, and the
upstream documents this axis refused (kept with their bytes: ``axis upstream failed --save``).
A failure is stored as ``code: message`` (the worker writes the error's English for the logs);
the page says it in Vietnamese from the error catalogue and shows the stored text beside it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from aiohttp import web

from axis.federation import links, records
from axis.federation.link import UPSTREAM
from axis.http.params import Text, Where, accepts
from axis.vdxp.secret import SecretBox
from axis.web import admin, messages, render, sessions
from axis.web.site import axis_of

routes = web.RouteTableDef()
PAGE = "/ui/admin/upstream"
ENDPOINT, SYSTEM_ID = Text("endpoint", where=Where.FORM, max_length=2000), Text("system_id", where=Where.FORM)
SERVES = Text("serves", where=Where.FORM, max_length=10_000)
SECRET = Text("secret", where=Where.FORM, max_length=1000)
#: How many of the upstream documents refused here the page lists (the CLI lists them all).
KEPT_SHOWN = 20

#: Reasons the worker stores without an error code (``axis.federation.worker``).
_PLAIN_REASONS: Mapping[str, str] = {
    "getEdoc answered OK without the package's bytes": (
        "Trục cấp trên trả lời getEdoc thành công nhưng không kèm nội dung gói tin"
    ),
}


def said(stored: str | None) -> str:
    """A stored failure (``code: message``, or a plain reason) in Vietnamese."""
    if not stored:
        return ""
    code, _, _ = stored.partition(": ")
    template = messages.MESSAGES.get(code.strip())
    if template is not None:
        return messages.fill(template, {})
    return _PLAIN_REASONS.get(stored.strip(), "Lỗi chưa được phân loại (xem chi tiết kỹ thuật bên cạnh).")


def lasted(seconds: float) -> str:
    """A duration as a person says it: ``45 giây``, ``12 phút``, ``3 giờ 5 phút``, ``2 ngày 4 giờ``."""
    whole = max(0, int(seconds))
    days, hours, minutes = whole // 86400, whole % 86400 // 3600, whole % 3600 // 60
    if days:
        return f"{days} ngày" + (f" {hours} giờ" if hours else "")
    if hours:
        return f"{hours} giờ" + (f" {minutes} phút" if minutes else "")
    return f"{minutes} phút" if minutes else f"{whole} giây"


@routes.get("/admin/upstream")
@accepts()
async def upstream_page(request: web.Request) -> web.Response:
    await sessions.require_admin(request)
    axis = axis_of(request)
    async with axis.connection() as conn:
        link = await links.get(conn, UPSTREAM)
        state = await records.state(conn, UPSTREAM) if link else None
        refused_here = await records.kept(conn, UPSTREAM, KEPT_SHOWN) if state and state.failed_inbound else []
    names = {code: agency.name for code, agency in axis.registry.resolver.snapshot.agencies.items()}
    now = dt.datetime.now(dt.UTC)
    context = {
        "link": link,
        "names": names,
        "state": state,
        "up": state.up if state else False,
        "waited": lasted((now - state.oldest_waiting_at).total_seconds()) if state and state.oldest_waiting_at else "",
        "kept": refused_here,
        "said": said,
    }
    return await render.page(request, "upstream.html", context)


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
