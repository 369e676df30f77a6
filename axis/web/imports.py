"""Importing agency codes from CSV in two steps: upload for a dry-run diff, then confirm it.

The upload is kept (``web_import_drafts``) so that confirming applies the very same bytes. At
confirmation the file is planned again against the registry as it is then; when that plan differs
from the one the administrator saw (someone changed the registry in between), nothing is applied
and the new diff is shown to confirm instead. Applying goes through ``axis.registry.imports``,
like ``axis agencies import``: one transaction, one history row per change.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from aiohttp import web

from axis.errors import AxisError
from axis.registry import importer, imports
from axis.registry.importer import ImportPlan
from axis.web import admin, render, sessions, store
from axis.web.site import axis_of
from axis.web.vietnamese import refusal

routes = web.RouteTableDef()
SHOWN = 300
KINDS = {
    "create": "Thêm mới",
    "rename": "Đổi tên",
    "set_qd20": "Đặt mã QĐ 20/2020",
    "retire": "Giải thể",
    "reactivate": "Khôi phục",
    "set_successor": "Đặt cơ quan kế thừa",
    "bad": "Dòng lỗi",
    "unchanged": "Không đổi",
}


def digest(plan: ImportPlan) -> str:
    """What the administrator confirms: the changes and the refused rows, exactly."""
    return hashlib.sha256(repr((plan.changes, plan.bad)).encode("utf-8")).hexdigest()


async def _plan(request: web.Request, body: bytes, filename: str) -> ImportPlan:
    rows = importer.read_csv(body, source=filename or "tệp tải lên")
    async with axis_of(request).pool.acquire() as conn:
        existing = await imports.existing(conn)
    return await asyncio.to_thread(importer.plan, rows, existing)  # 111,000 rows: off the event loop


def _context(plan: ImportPlan, draft_id: object, filename: str, partial: bool) -> dict[str, Any]:
    summary = plan.summary()
    return {
        "draft": str(draft_id),
        "filename": filename,
        "partial": partial,
        "summary": [(KINDS.get(k, k), n) for k, n in summary.items()],
        "changes": len(plan.changes),
        "bad": plan.bad[:SHOWN],
        "bad_total": len(plan.bad),
        "warnings": plan.warnings[:SHOWN],
        "diff": importer.format_diff(plan, limit=SHOWN),
        "blocked": bool(plan.bad) and not partial,
    }


@routes.get("/admin/import")
async def import_form(request: web.Request) -> web.Response:
    await sessions.require_admin(request)
    return await render.page(request, "import.html", {"plan": None})


@routes.post("/admin/import")
async def dry_run(request: web.Request) -> web.Response:
    user = await sessions.require_admin(request)
    form = await request.post()
    upload = form.get("file")
    if not isinstance(upload, web.FileField):
        await admin.flash(request, "error", "Hãy chọn một tệp CSV.")
        raise web.HTTPSeeOther("/ui/admin/import")
    body, filename, partial = upload.file.read(), upload.filename, form.get("partial") == "1"
    try:
        plan = await _plan(request, body, filename)
    except AxisError as exc:
        await admin.flash(request, "error", refusal(exc))
        raise web.HTTPSeeOther("/ui/admin/import") from None
    async with axis_of(request).pool.acquire() as conn:
        draft_id = await store.save_draft(conn, user.id, filename, body, partial, digest(plan))
    return await render.page(request, "import.html", {"plan": _context(plan, draft_id, filename, partial)})


@routes.post("/admin/import/{draft}")
async def confirm(request: web.Request) -> web.Response:
    user = await sessions.require_admin(request)
    axis = axis_of(request)
    async with axis.pool.acquire() as conn:
        draft = await store.draft(conn, request.match_info["draft"], user.id)
    if draft is None:
        await admin.flash(request, "error", "Bản nháp nhập danh mục không còn; hãy tải tệp lên lại.")
        raise web.HTTPSeeOther("/ui/admin/import")
    plan = await _plan(request, draft.body, draft.filename)
    if digest(plan) != draft.plan_digest:
        async with axis.pool.acquire() as conn:
            await store.drop_draft(conn, draft.id)
            draft_id = await store.save_draft(conn, user.id, draft.filename, draft.body, draft.partial, digest(plan))
        stale = AxisError("web.import.stale", "Danh bạ đã thay đổi từ lúc chạy thử: hãy xem lại thay đổi và xác nhận.")
        context = {"plan": _context(plan, draft_id, draft.filename, draft.partial), "stale": stale.message}
        return await render.page(request, "import.html", context, status=stale.http_status)
    if plan.bad and not draft.partial:
        await admin.flash(request, "error", f"Tệp có {len(plan.bad)} dòng lỗi; chưa nhập gì.")
        raise web.HTTPSeeOther("/ui/admin/import")
    applied = await admin.change(request, user, lambda conn, actor: imports.apply(conn, actor, plan))
    async with axis.pool.acquire() as conn:
        await store.drop_draft(conn, draft.id)
    await admin.flash(request, "ok", f"Đã nhập {applied} thay đổi; {plan.unchanged} dòng không đổi.")
    raise web.HTTPSeeOther("/ui/admin/history?action=agency")
