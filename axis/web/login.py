"""Log-in, log-out, the start page, and changing one's own password."""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from axis.errors import AxisError
from axis.web import passwords, render, sessions, users
from axis.web.site import axis_of, site_of
from axis.web.users import User

routes = web.RouteTableDef()


def home(user: User) -> str:
    return "/ui/admin/agencies" if user.is_admin else "/ui/documents"


def safe_next(target: str | None) -> str | None:
    """Only a path of these pages: never another site (``//evil``, ``https://…``, ``/\\evil``)."""
    if not target or not target.startswith("/ui/") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


@routes.get("/")
async def index(request: web.Request) -> web.Response:
    user = await sessions.current_user(request)
    raise web.HTTPSeeOther(home(user) if user else "/ui/login")


@routes.get("/login")
async def login_form(request: web.Request) -> web.Response:
    user = await sessions.current_user(request)
    if user is not None:
        raise web.HTTPSeeOther(safe_next(request.query.get("next")) or home(user))
    return await render.page(request, "login.html", {"error": None, "username": "", "next": request.query.get("next")})


@routes.post("/login")
async def login(request: web.Request) -> web.Response:
    form = await request.post()
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    target = safe_next(str(form.get("next", "")))
    try:
        user = await sessions.log_in(request, username, password)
    except AxisError as exc:
        context = {"error": exc.message, "username": username, "next": target}
        return await render.page(request, "login.html", context, status=exc.http_status)
    raise web.HTTPSeeOther(target or home(user))


@routes.post("/logout")
async def logout(request: web.Request) -> web.Response:
    await sessions.log_out(request)
    raise web.HTTPSeeOther("/ui/login")


@routes.get("/account")
async def account(request: web.Request) -> web.Response:
    user = await sessions.require_user(request)
    return await render.page(request, "account.html", {"account": user, "error": None, "done": False})


@routes.post("/account")
async def change_password(request: web.Request) -> web.Response:
    """A user changes their own password: the current one first; then every other session ends."""
    user = await sessions.require_user(request)
    form = await request.post()
    current, new, again = (str(form.get(k, "")) for k in ("current", "new", "again"))
    axis, hasher = axis_of(request), site_of(request).hasher
    try:
        async with axis.pool.acquire() as conn:
            attempt = await users.begin_attempt(conn, user.username)
        if attempt is None or attempt.user.locked() or attempt.over_limit:
            raise AxisError("web.login.locked", "Tài khoản đang tạm khóa do nhập sai mật khẩu nhiều lần.")
        if not await hasher.verify(current, attempt.password_hash):
            async with axis.pool.acquire() as conn:
                await users.attempt_failed(conn, attempt)  # guesses here count towards the lock-out too
            raise AxisError("web.login.failed", "Mật khẩu hiện tại không đúng.")
        if new != again:
            raise AxisError("web.password.weak", "Hai lần nhập mật khẩu mới không giống nhau.")
        passwords.check_strength(new, user.username)
        new_hash = await hasher.hash(new)
        async with axis.pool.acquire() as conn, conn.transaction():
            await users.attempt_succeeded(conn, user)
            await users.set_password(conn, user.actor, user.username, new_hash)
    except AxisError as exc:
        context = {"account": user, "error": exc.message, "done": False}
        return await render.page(request, "account.html", context, status=exc.http_status)
    await sessions.log_out(request)
    return await render.page(request, "account.html", {"account": user, "error": None, "done": True})
