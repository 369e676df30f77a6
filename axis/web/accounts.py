"""Administrator pages for web users: create clerks and administrators, reset passwords, disable, unlock.

The same operations as ``axis users``; each is audited (actor ``web:<username>``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from aiohttp import web

from axis.accounts import passwords, users
from axis.accounts.users import Role
from axis.errors import AxisError
from axis.http.params import Choice, Text, Where, accepts
from axis.registry import systems
from axis.store.db import Conn
from axis.web import admin, render, sessions
from axis.web.messages import refusal
from axis.web.site import axis_of, site_of

routes = web.RouteTableDef()
USERS = "/ui/admin/users"
USERNAME, FULL_NAME, SYSTEM = (Text(name, where=Where.FORM) for name in ("username", "full_name", "system"))
ROLE, STATUS = Choice("role", tuple(Role), where=Where.FORM), Choice("status", ("active", "disabled"), where=Where.FORM)
#: Passwords are checked for characters and length only (passwords.MAX_LENGTH decides the rest).
PASSWORD, AGAIN = (Text(name, where=Where.FORM, max_length=1024) for name in ("password", "again"))


async def _act(request: web.Request, operation: Callable[[Conn, str], Awaitable[Any]], done: str) -> web.Response:
    user = await sessions.require_admin(request)
    try:
        await axis_of(request).registrar.change(user.actor, operation)
    except AxisError as exc:
        await admin.flash(request, "error", refusal(exc))
    else:
        await admin.flash(request, "ok", done)
    raise web.HTTPSeeOther(USERS)


async def _new_password(request: web.Request, username: str) -> str:
    """The hash of the form's new password, typed twice."""
    password, again = await admin.form_text(request, "password"), await admin.form_text(request, "again")
    if password != again:
        raise AxisError("web.password.weak", "Hai lần nhập mật khẩu không giống nhau.", field="again")
    passwords.check_strength(password, username)
    return await site_of(request).hasher.hash(password)


def _field(error: AxisError) -> str:
    """The form field a refusal is about ("" for the form as a whole)."""
    if isinstance(error.details.get("field"), str):
        return str(error.details["field"])
    if error.code == "web.user.invalid":
        return "username" if "username" in error.details else "system"
    return {"web.password.weak": "password", "web.user.exists": "username", "registry.system.unknown": "system"}.get(
        error.code, ""
    )


async def _page(
    request: web.Request,
    me: users.User,
    *,
    typed: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    reset: tuple[str, dict[str, str]] = ("", {}),
    status: int = 200,
) -> web.Response:
    """The users page; after a refused form, with what was typed (never the passwords) and what
    is wrong beside the field: ``errors`` for the new-user form, ``reset`` for one user's."""
    async with axis_of(request).connection() as conn:
        found = await users.all_users(conn)
        known = await systems.all_systems(conn)
    context = {
        "people": found,
        "systems": known,
        "me": me,
        "typed": typed or {},
        "errors": errors or {},
        "reset_user": reset[0],
        "reset_errors": reset[1],
    }
    return await render.page(request, "users.html", context, status=status)


@routes.get("/admin/users")
@accepts()
async def user_list(request: web.Request) -> web.Response:
    return await _page(request, await sessions.require_admin(request))


@routes.post("/admin/users")
@accepts(USERNAME, FULL_NAME, ROLE, SYSTEM, PASSWORD, AGAIN)
async def create_user(request: web.Request) -> web.Response:
    me = await sessions.require_admin(request)
    typed = {name: await admin.form_text(request, name) for name in ("username", "full_name", "role", "system")}
    role = Role.ADMIN if typed["role"] == "admin" else Role.CLERK
    system_id = typed["system"] if role is Role.CLERK else ""
    username = typed["username"]
    try:
        password_hash = await _new_password(request, username)
        await axis_of(request).registrar.change(
            me.actor,
            lambda conn, actor: users.add(
                conn, actor, username, password_hash, role=role, system_id=system_id, full_name=typed["full_name"]
            ),
        )
    except AxisError as exc:
        errors = {_field(exc): refusal(exc)}
        return await _page(request, me, typed=typed, errors=errors, status=exc.http_status)
    await admin.flash(request, "ok", f"Đã tạo tài khoản {username.strip().lower()}.")
    raise web.HTTPSeeOther(USERS)


@routes.post("/admin/users/{username}/password")
@accepts(PASSWORD, AGAIN)
async def reset_password(request: web.Request) -> web.Response:
    me = await sessions.require_admin(request)
    username = request.match_info["username"]
    try:
        password_hash = await _new_password(request, username)
    except AxisError as exc:
        return await _page(request, me, reset=(username, {_field(exc): refusal(exc)}), status=exc.http_status)
    return await _act(
        request,
        lambda conn, actor: users.set_password(conn, actor, username, password_hash),
        f"Đã đặt mật khẩu mới cho {username}; các phiên đăng nhập cũ đã kết thúc.",
    )


@routes.post("/admin/users/{username}/status")
@accepts(STATUS)
async def set_status(request: web.Request) -> web.Response:
    me = await sessions.require_admin(request)
    username, status = request.match_info["username"], await admin.form_text(request, "status")
    if username == me.username and status != "active":
        await admin.flash(request, "error", "Không thể tự vô hiệu hóa tài khoản đang dùng.")
        raise web.HTTPSeeOther(USERS)
    done = f"Đã {'kích hoạt' if status == 'active' else 'vô hiệu hóa'} tài khoản {username}."
    return await _act(request, lambda conn, actor: users.set_status(conn, actor, username, status), done)


@routes.post("/admin/users/{username}/unlock")
@accepts()
async def unlock(request: web.Request) -> web.Response:
    username = request.match_info["username"]
    return await _act(request, lambda conn, actor: users.unlock(conn, actor, username), f"Đã mở khóa {username}.")


def user_url(username: str) -> str:
    return f"{USERS}#{quote(username, safe='')}"
