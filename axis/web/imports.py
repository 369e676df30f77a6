"""Importing agency codes from CSV in two steps: upload for a dry-run diff, then confirm it.

The upload is kept (``web_import_drafts``) so that confirming applies the very same bytes. At
confirmation the file is planned again against the registry as it is then; when that plan differs
from the one the administrator saw (someone changed the registry in between), nothing is applied
and the new diff is shown to confirm instead. Applying goes through ``axis.registry.imports``,
like ``axis agencies import``: one transaction, one history row per change.

The dry run lists every change, grouped by kind (`axis.web.import_view`, in Vietnamese). When the
file changes agencies outside the subtree it mostly covers, the confirmation needs a ticked box
saying the administrator has seen them (``outside_ok``); without it nothing is applied.
"""

from __future__ import annotations

import asyncio
import hashlib

from aiohttp import web

from axis.errors import AxisError
from axis.http.params import File, Flag, Where, accepts
from axis.registry import drafts, importer, imports
from axis.registry.importer import ImportPlan, Rows
from axis.registry.model import Agency
from axis.web import admin, import_view, render, sessions
from axis.web.messages import refusal
from axis.web.site import axis_of

routes = web.RouteTableDef()
FILE, PARTIAL, OUTSIDE_OK = File("file"), Flag("partial", where=Where.FORM), Flag("outside_ok", where=Where.FORM)


def digest(plan: ImportPlan) -> str:
    """What the administrator confirms: the changes and the refused rows, exactly."""
    return hashlib.sha256(repr((plan.changes, plan.bad)).encode("utf-8")).hexdigest()


async def _plan(request: web.Request, body: bytes, filename: str) -> tuple[Rows, dict[str, Agency], ImportPlan]:
    rows = importer.read_csv(body, source=filename or "tệp tải lên")
    async with axis_of(request).connection() as conn:
        existing = await imports.existing(conn)
    plan = await asyncio.to_thread(importer.plan, rows, existing)  # 111,000 rows: off the event loop
    return rows, existing, plan


async def _page(
    request: web.Request,
    planned: tuple[Rows, dict[str, Agency], ImportPlan],
    draft_id: object,
    filename: str,
    partial: bool,
    *,
    alert: AxisError | None = None,
) -> web.Response:
    rows, existing, plan = planned
    view = import_view.context(plan, rows, existing, draft=str(draft_id), filename=filename, partial=partial)
    context = {"plan": view, "alert": alert.message if alert else None}
    return await render.page(request, "import.html", context, status=alert.http_status if alert else 200)


@routes.get("/admin/import")
@accepts()
async def import_form(request: web.Request) -> web.Response:
    await sessions.require_admin(request)
    return await render.page(request, "import.html", {"plan": None, "alert": None})


@routes.post("/admin/import")
@accepts(FILE, PARTIAL)
async def dry_run(request: web.Request) -> web.Response:
    user = await sessions.require_admin(request)
    upload = await FILE.posted(request)
    if upload is None:
        await admin.flash(request, "error", "Hãy chọn một tệp CSV.")
        raise web.HTTPSeeOther("/ui/admin/import")
    body, filename, partial = upload.file.read(), upload.filename, await PARTIAL.posted(request)
    try:
        planned = await _plan(request, body, filename)
    except AxisError as exc:
        await admin.flash(request, "error", refusal(exc))
        raise web.HTTPSeeOther("/ui/admin/import") from None
    async with axis_of(request).connection() as conn:
        draft_id = await drafts.save_draft(conn, user.id, filename, body, partial, digest(planned[2]))
    return await _page(request, planned, draft_id, filename, partial)


@routes.post("/admin/import/{draft}")
@accepts(OUTSIDE_OK)
async def confirm(request: web.Request) -> web.Response:
    user = await sessions.require_admin(request)
    axis = axis_of(request)
    async with axis.connection() as conn:
        draft = await drafts.draft(conn, request.match_info["draft"], user.id)
    if draft is None:
        await admin.flash(request, "error", "Bản nháp nhập danh mục không còn; hãy tải tệp lên lại.")
        raise web.HTTPSeeOther("/ui/admin/import")
    planned = await _plan(request, draft.body, draft.filename)
    plan = planned[2]
    if digest(plan) != draft.plan_digest:
        async with axis.connection() as conn:
            await drafts.drop_draft(conn, draft.id)
            draft_id = await drafts.save_draft(conn, user.id, draft.filename, draft.body, draft.partial, digest(plan))
        stale = AxisError("web.import.stale", "Danh bạ đã thay đổi từ lúc chạy thử: hãy xem lại thay đổi và xác nhận.")
        return await _page(request, planned, draft_id, draft.filename, draft.partial, alert=stale)
    if plan.bad and not draft.partial:
        await admin.flash(request, "error", f"Tệp có {len(plan.bad)} dòng lỗi; chưa nhập gì.")
        raise web.HTTPSeeOther("/ui/admin/import")
    if plan.outside and not await OUTSIDE_OK.posted(request):
        unaccepted = AxisError(
            "registry.import.outside_scope",
            f"Tệp thay đổi {len(plan.outside)} cơ quan ngoài phạm vi {plan.scope.root if plan.scope else ''}: "
            "hãy xem lại và đánh dấu ô “Tôi đã xem các thay đổi này” trước khi xác nhận. Chưa nhập gì.",
        )
        return await _page(request, planned, draft.id, draft.filename, draft.partial, alert=unaccepted)
    applied = await admin.change(request, user, lambda conn, actor: imports.apply(conn, actor, plan))
    async with axis.connection() as conn:
        await drafts.drop_draft(conn, draft.id)
    await admin.flash(request, "ok", f"Đã nhập {applied} thay đổi; {plan.unchanged} dòng không đổi.")
    raise web.HTTPSeeOther("/ui/admin/history?action=agency")
