"""What the administrator pages share: registry changes as ``web:<username>``, and flash messages.

A change runs in one transaction through the registry's own functions (so its history row and
version bump commit with it), then waits until this process's registry cache has it, exactly as
the admin API does. After a POST the browser is sent back to a page (POST/redirect/GET) that shows
what happened, or why it did not.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web
from aiohttp_session import get_session

from axis.accounts.users import User
from axis.errors import AxisError
from axis.store.db import Conn
from axis.web import sessions
from axis.web.messages import refusal
from axis.web.site import axis_of

T = TypeVar("T")
_FLASH = "flash"


async def flash(request: web.Request, kind: str, message: str) -> None:
    """A message for the next page (``ok`` or ``error``), kept in the session cookie."""
    session = await get_session(request)
    session[_FLASH] = [*session.get(_FLASH, [])[-4:], [kind, message]]


async def take_flashes(request: web.Request) -> list[list[str]]:
    session = await get_session(request)
    messages: list[list[str]] = session.pop(_FLASH, []) if _FLASH in session else []
    return messages


async def change(request: web.Request, user: User, operation: Callable[[Conn, str], Awaitable[T]]) -> T:
    """``operation(conn, actor)`` as ``web:<username>``, through the registrar like the admin API."""
    return await axis_of(request).registrar.change(user.actor, operation)


async def act(
    request: web.Request,
    operation: Callable[[Conn, str], Awaitable[Any]],
    *,
    done: str,
    back: str,
) -> web.Response:
    """Run a registry change for the logged-in administrator; flash ``done`` or the refusal, go ``back``."""
    user = await sessions.require_admin(request)
    try:
        await change(request, user, operation)
    except AxisError as exc:
        await flash(request, "error", refusal(exc))
    else:
        await flash(request, "ok", done)
    raise web.HTTPSeeOther(back)


async def form_text(request: web.Request, name: str) -> str:
    value = (await request.post()).get(name, "")
    return value.strip() if isinstance(value, str) else ""
