"""Destructive changes in two steps: the form's POST shows what will happen, the confirmed POST acts.

A page form (retire, merge, move, unbind, revoke …) posts without ``confirm``: the answer is the
confirmation page of its `axis.web.previews.Preview`, a form carrying the same values and
``confirm=1``. Only that second POST changes anything. No JavaScript dialog: the question is a
page of its own, which works without scripts and names everything the change touches.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from axis.errors import AxisError
from axis.http.params import Flag, Where
from axis.store.db import Conn
from axis.web import admin, render, sessions
from axis.web.messages import refusal
from axis.web.previews import Preview
from axis.web.site import axis_of

#: What the confirmation page's form adds (declare it on every route that asks first).
CONFIRM = Flag("confirm", where=Where.FORM)


async def confirmed(request: web.Request) -> bool:
    """Whether this POST is the confirmation page's, not the first form's."""
    return await CONFIRM.posted(request)


async def ask(request: web.Request, build: Callable[[Conn], Awaitable[Preview]], *, back: str) -> web.Response:
    """The confirmation page built by ``build(conn)``; when the change would be refused anyway
    (an unknown code, a successor chain that leads nowhere active …), that refusal, on `back`."""
    await sessions.require_admin(request)
    try:
        async with axis_of(request).connection() as conn:
            preview = await build(conn)
    except AxisError as exc:
        await admin.flash(request, "error", refusal(exc))
        raise web.HTTPSeeOther(back) from None
    return await render.page(request, "confirm.html", {"preview": preview})
