"""The history log: every registry change (and web user change), newest first, with filters."""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from axis.http.params import Choice, Integer, Text, accepts
from axis.registry import history
from axis.web import render, sessions, wording
from axis.web.site import axis_of

routes = web.RouteTableDef()
PAGE_SIZE = 50
KINDS = {
    "agency": "Cơ quan",
    "system": "Hệ thống",
    "admin": "Token quản trị",
    "user": "Người dùng",
    "upstream": "Trục cấp trên",
    "external": "Cơ quan ngoài tỉnh",
}
FILTERS = (Choice("kind", history.SUBJECT_KINDS), Text("id"), Text("action"), Text("actor"))
BEFORE = Integer("before", 0, high=2**62)


@routes.get("/admin/history")
@accepts(*FILTERS, BEFORE)
async def history_page(request: web.Request) -> web.Response:
    await sessions.require_admin(request)
    filters = {parameter.name: parameter.of(request) for parameter in FILTERS}
    before = BEFORE.of(request) or None
    async with axis_of(request).connection() as conn:
        entries = await history.entries(
            conn,
            subject_kind=filters["kind"] or None,
            subject_id=filters["id"] or None,
            action=filters["action"] or None,
            actor=filters["actor"] or None,
            limit=PAGE_SIZE + 1,
            before_id=before,
        )
    shown = entries[:PAGE_SIZE]
    older = None
    if len(entries) > PAGE_SIZE:
        kept = {k: v for k, v in filters.items() if v}
        older = "/ui/admin/history?" + urlencode({**kept, "before": shown[-1].id})
    context = {
        "filters": filters,
        "kinds": KINDS,
        "entries": [(e, wording.changes(e.before, e.after)) for e in shown],
        "older": older,
        "first_page": before is None,
    }
    return await render.page(request, "history.html", context)
