"""Log-in, log-out, the start page, and changing one's own password."""

from __future__ import annotations

from collections.abc import Awaitable

from aiohttp import web

from axis.accounts import signin
from axis.accounts.users import User
from axis.errors import AxisError
from axis.http.params import Text, Where, accepts
from axis.web import forms, render, sessions
from axis.web.site import axis_of, site_of
from axis.web.vietnamese import SESSION_ENDED

routes = web.RouteTableDef()
NEXT, POSTED_NEXT = Text("next", max_length=2000), Text("next", max_length=2000, where=Where.FORM)
USERNAME = Text("username", where=Where.FORM)
#: Passwords are checked for characters and length only (passwords.MAX_LENGTH decides the rest).
PASSWORD, CURRENT, NEW, AGAIN = (
    Text(name, where=Where.FORM, max_length=1024) for name in ("password", "current", "new", "again")
)


def home(user: User) -> str:
    return "/ui/admin/agencies" if user.is_admin else "/ui/documents"


def safe_next(target: str | None) -> str | None:
    """Only a path of these pages: never another site (``//evil``, ``https://…``, ``/\\evil``)."""
    return forms.local_target(target)


@routes.get("/")
@accepts()
async def index(request: web.Request) -> web.Response:
    user = await sessions.current_user(request)
    raise web.HTTPSeeOther(home(user) if user else "/ui/login")


@routes.get("/login")
@accepts(NEXT)
async def login_form(request: web.Request) -> web.Response:
    user = await sessions.current_user(request)
    target = safe_next(NEXT.of(request))
    if user is not None:
        raise web.HTTPSeeOther(target or home(user))
    return await _login_page(request, error=None, username="", target=target)


async def _login_page(
    request: web.Request, *, error: str | None, username: str, target: str | None, status: int = 200
) -> web.Response:
    """The log-in form; it says why when the browser's session ended on the server."""
    why = await sessions.ended(request)
    context = {
        "error": error,
        "ended": SESSION_ENDED.get(why, SESSION_ENDED["expired"]) if why else None,
        "username": username,
        "next": target,
    }
    return await render.page(request, "login.html", context, status=status)


@routes.post("/login")
@accepts(USERNAME, PASSWORD, POSTED_NEXT)
async def login(request: web.Request) -> web.Response:
    form = await request.post()
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    target = safe_next(str(form.get("next", "")))
    try:
        user = await sessions.log_in(request, username, password)
    except AxisError as exc:
        return await _login_page(request, error=exc.message, username=username, target=target, status=exc.http_status)
    raise web.HTTPSeeOther(target or home(user))


@routes.post("/logout")
@accepts()
async def logout(request: web.Request) -> web.Response:
    await sessions.log_out(request)
    raise web.HTTPSeeOther("/ui/login")


def _account_page(
    request: web.Request, user: User, *, errors: dict[str, str] | None = None, done: bool = False, status: int = 200
) -> Awaitable[web.Response]:
    context = {"account": user, "errors": errors or {}, "done": done}
    return render.page(request, "account.html", context, status=status)


@routes.get("/account")
@accepts()
async def account(request: web.Request) -> web.Response:
    return await _account_page(request, await sessions.require_user(request))


@routes.post("/account")
@accepts(CURRENT, NEW, AGAIN)
async def change_password(request: web.Request) -> web.Response:
    """A user changes their own password: the current one first; then every other session ends.
    A refusal says what is wrong beside the field it is about (passwords are never sent back)."""
    user = await sessions.require_user(request)
    form = await request.post()
    current, new, again = (str(form.get(k, "")) for k in ("current", "new", "again"))
    axis, hasher = axis_of(request), site_of(request).hasher
    try:
        await signin.change_password(axis.connection, hasher, user, current=current, new=new, again=again)
    except AxisError as exc:
        field = exc.details.get("field") or ("new" if exc.code == "web.password.weak" else "")
        return await _account_page(request, user, errors={field: exc.message}, status=exc.http_status)
    await sessions.log_out(request)
    return await _account_page(request, user, done=True)
