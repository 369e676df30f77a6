"""Administrator pages for agencies: browse the tree, search, create, rename, retire with successor.

Retiring, merging and moving ask first (`axis.web.confirm`): the form's POST answers with what
will happen, by name, and only the confirmed POST changes the registry. A retired agency can be
brought back the same way (``…/reactivate``).

A search also lists, after the local agencies, those this axis knows only from the upstream's
lists (``axis.registry.external``): marked as agencies outside the province, reached through the
axis above, and read-only (no link to a page that could change them).
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from aiohttp import web

from axis.errors import AxisError
from axis.http.params import Choice, Integer, Text, Where, accepts
from axis.registry import agencies, browse, external
from axis.registry.model import Agency
from axis.registry.resolve import Resolver
from axis.store.db import Conn
from axis.web import admin, confirm, forms, previews, render, sessions
from axis.web.messages import refusal
from axis.web.site import axis_of

routes = web.RouteTableDef()
PAGE_SIZE = 50
Q, RETIRED, PAGE = Text("q"), Choice("retired", ("0", "1")), Integer("page", 1, low=1, high=100_000)
CODE, NAME, CODE_QD20, BACK, SUCCESSOR, INTO, NEW_CODE = (
    Text(name, where=Where.FORM, max_length=1000 if name in ("name", "back") else 300)
    for name in ("code", "name", "code_qd20", "back", "successor", "into", "new_code")
)
CONFIRM = confirm.CONFIRM


def agency_url(code: str) -> str:
    return f"/ui/admin/agencies/{quote(code, safe='')}"


@routes.get("/admin")
@accepts()
async def admin_home(request: web.Request) -> web.Response:
    await sessions.require_admin(request)
    raise web.HTTPSeeOther("/ui/admin/agencies")


@routes.get("/admin/agencies")
@accepts(Q, RETIRED, PAGE)
async def agency_list(request: web.Request) -> web.Response:
    """The tree's top level, or the results of a search by code prefix or name words (accents optional)."""
    await sessions.require_admin(request)
    q, page = Q.of(request), PAGE.of(request)
    # An unticked box is absent from a submitted form (which always sends q): absent then means
    # "no". A first visit, with no query at all, shows retired agencies too.
    submitted = "q" in request.query
    include_retired = (RETIRED.of(request) or ("0" if submitted else "1")) == "1"
    outside: list[Agency] = []
    async with axis_of(request).connection() as conn:
        if q:  # best match first, words across an agency and its parents (axis.registry.finder)
            ranked = axis_of(request).registry.finder.search(q, include_retired=include_retired)
            found = ranked[(page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1]
            outside = await external.following(
                conn, len(ranked), q=q, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE + 1
            )
        else:
            found = [a for a in await browse.roots(conn) if include_retired or not a.retired]
        counts = await browse.child_counts(conn, [a.code for a in found])
    found += outside

    def link(number: int) -> str:
        return "/ui/admin/agencies?" + urlencode({"q": q, "retired": "1" if include_retired else "0", "page": number})

    context = {
        "q": q,
        "include_retired": include_retired,
        "agencies": found[:PAGE_SIZE],
        "counts": counts,
        "served": _served_by(request, found),
        "external": {a.code for a in outside},
        "previous": link(page - 1) if q and page > 1 else None,
        "next": link(page + 1) if q and len(found) > PAGE_SIZE else None,
    }
    return await render.page(request, "agencies.html", context)


def _served_by(request: web.Request, found: list[Agency]) -> dict[str, str]:
    """Which system serves each agency (the most specific binding at or above it)."""
    resolver = axis_of(request).registry.resolver
    served = {agency.code: resolver.serving_system(agency.code) for agency in found}
    return {code: system.id for code, system in served.items() if system is not None}


@routes.get("/admin/agencies/{code}")
@accepts()
async def agency_page(request: web.Request) -> web.Response:
    await sessions.require_admin(request)
    code = request.match_info["code"]
    async with axis_of(request).connection() as conn:
        agency = await agencies.require(conn, code)
        children = await agencies.children(conn, agency.code)
        counts = await browse.child_counts(conn, [c.code for c in children])
        bound = await browse.bindings_of(conn)
        successor = await agencies.get(conn, agency.successor_code) if agency.successor_code else None
        ancestors = await _ancestors(conn, agency)
    context = {
        "agency": agency,
        "children": children,
        "counts": counts,
        "ancestors": ancestors,
        "successor": successor,
        "bound": bound.get(agency.code),
        "serving": _serving(agency, ancestors, bound),
        "redirects_to": _final(request, agency),
    }
    return await render.page(request, "agency.html", context)


async def _ancestors(conn: Conn, agency: Agency) -> list[Agency]:
    chain: list[Agency] = []
    parent = agency.parent_code
    while parent is not None and len(chain) < 8:
        found = await agencies.get(conn, parent)
        if found is None:
            break
        chain.insert(0, found)
        parent = found.parent_code
    return chain


def _serving(agency: Agency, ancestors: list[Agency], bound: dict[str, str]) -> tuple[str, str] | None:
    """(system, the agency whose binding applies): the most specific binding wins."""
    for candidate in (agency, *reversed(ancestors)):
        if candidate.code in bound:
            return bound[candidate.code], candidate.code
    return None


def _final(request: web.Request, agency: Agency) -> str | None:
    """Where documents addressed to a retired agency end up, following successors."""
    if not agency.retired or agency.successor_code is None:
        return None
    try:
        return axis_of(request).registry.resolver.resolve(agency.code).agency.code
    except AxisError as exc:
        return f"({exc.code})"


@routes.post("/admin/agencies")
@accepts(CODE, NAME, CODE_QD20, BACK)
async def create_agency(request: web.Request) -> web.Response:
    code, name = await admin.form_text(request, "code"), await admin.form_text(request, "name")
    qd20 = await admin.form_text(request, "code_qd20") or None
    back = forms.local_target(await admin.form_text(request, "back")) or "/ui/admin/agencies"
    return await admin.act(
        request,
        lambda conn, actor: agencies.add(conn, actor, code, name, code_qd20=qd20),
        done=f"Đã thêm cơ quan {code} — {name}.",
        back=agency_url(code) if code else back,
    )


@routes.post("/admin/agencies/{code}/rename")
@accepts(NAME)
async def rename_agency(request: web.Request) -> web.Response:
    code, name = request.match_info["code"], await admin.form_text(request, "name")
    return await admin.act(
        request,
        lambda conn, actor: agencies.rename(conn, actor, code, name),
        done=f"Đã đổi tên {code} thành “{name}”.",
        back=agency_url(code),
    )


@routes.post("/admin/agencies/{code}/retire")
@accepts(SUCCESSOR, CONFIRM)
async def retire_agency(request: web.Request) -> web.Response:
    code = request.match_info["code"]
    successor = (await admin.form_text(request, "successor")).split(" ")[0] or None
    if not await confirm.confirmed(request):
        return await confirm.ask(
            request,
            lambda conn: previews.retire(
                conn, _resolver(request), code, successor, action=request.url.raw_path, merge=False
            ),
            back=agency_url(code),
        )
    done = f"Đã giải thể {code}" + (f"; văn bản gửi đến sẽ chuyển cho {successor}." if successor else ".")
    return await admin.act(
        request,
        lambda conn, actor: agencies.retire(conn, actor, code, successor),
        done=done,
        back=agency_url(code),
    )


@routes.post("/admin/agencies/{code}/merge")
@accepts(INTO, CONFIRM)
async def merge_agency(request: web.Request) -> web.Response:
    """As ``axis agencies merge``: retired into an agency that exists, recorded as a merger."""
    code = request.match_info["code"]
    into = (await admin.form_text(request, "into")).split(" ")[0]
    if not await confirm.confirmed(request):
        return await confirm.ask(
            request,
            lambda conn: previews.retire(conn, _resolver(request), code, into, action=request.url.raw_path, merge=True),
            back=agency_url(code),
        )
    return await admin.act(
        request,
        lambda conn, actor: agencies.merge(conn, actor, code, into),
        done=f"Đã sáp nhập {code} vào {into}; văn bản gửi đến sẽ chuyển cho {into}.",
        back=agency_url(code),
    )


@routes.post("/admin/agencies/{code}/move")
@accepts(NEW_CODE, CONFIRM)
async def move_agency(request: web.Request) -> web.Response:
    """As ``axis agencies move``: a new code elsewhere in the tree (a code implies its parent); the
    old code retires with the new one as successor, so documents sent to it still arrive."""
    user = await sessions.require_admin(request)
    code = request.match_info["code"]
    new_code = (await admin.form_text(request, "new_code")).split(" ")[0]
    if not await confirm.confirmed(request):
        return await confirm.ask(
            request,
            lambda conn: previews.move(conn, _resolver(request), code, new_code, action=request.url.raw_path),
            back=agency_url(code),
        )
    try:
        moved = await admin.change(request, user, lambda conn, actor: agencies.move(conn, actor, code, new_code))
    except AxisError as exc:  # back to the agency being moved, not to the code that was refused
        await admin.flash(request, "error", refusal(exc))
        raise web.HTTPSeeOther(agency_url(code)) from None
    done = f"Đã chuyển {code} sang mã {moved.code}; văn bản gửi tới mã cũ sẽ chuyển cho mã mới."
    await admin.flash(request, "ok", done)
    raise web.HTTPSeeOther(agency_url(moved.code))


@routes.post("/admin/agencies/{code}/reactivate")
@accepts(CONFIRM)
async def reactivate_agency(request: web.Request) -> web.Response:
    """As ``axis agencies reactivate``: a retired agency active again, without successor."""
    code = request.match_info["code"]
    if not await confirm.confirmed(request):
        return await confirm.ask(
            request,
            lambda conn: previews.reactivate(conn, _resolver(request), code, action=request.url.raw_path),
            back=agency_url(code),
        )
    return await admin.act(
        request,
        lambda conn, actor: agencies.reactivate(conn, actor, code),
        done=f"Đã khôi phục hoạt động của {code}; văn bản gửi tới {code} sẽ đến chính cơ quan này.",
        back=agency_url(code),
    )


def _resolver(request: web.Request) -> Resolver:
    return axis_of(request).registry.resolver


@routes.post("/admin/agencies/{code}/qd20")
@accepts(CODE_QD20)
async def set_code_qd20(request: web.Request) -> web.Response:
    """The agency's code in the Decision 20/2020 form (empty: none)."""
    code = request.match_info["code"]
    value = await admin.form_text(request, "code_qd20") or None
    return await admin.act(
        request,
        lambda conn, actor: agencies.set_code_qd20(conn, actor, code, value),
        done=f"Đã đặt mã QĐ 20/2020 của {code}: {value}." if value else f"Đã bỏ mã QĐ 20/2020 của {code}.",
        back=agency_url(code),
    )
