"""Jinja2 templates (autoescaped) and the one helper every page handler answers with."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

from axis.web import admin, file_wording, forms, reasons, sessions, vietnamese, wording
from axis.web.site import axis_of

FILTERS: dict[str, Callable[..., str]] = {
    "date": vietnamese.date,
    "clock": vietnamese.clock,
    "iso_vn": vietnamese.iso_vn,
    "overdue": reasons.reason,
    "failure": reasons.reason,
    "size": vietnamese.size,
    "status_note": vietnamese.status_note,
    "file_kind": vietnamese.file_kind,
}
GLOBALS = {
    "STATUS": vietnamese.STATUS,
    "BUSINESS": vietnamese.BUSINESS,
    "DOCUMENT_STATE": vietnamese.DOCUMENT_STATE,
    "DELIVERY": vietnamese.DELIVERY,
    "DIRECTION": vietnamese.DIRECTION,
    "SIGNATURE_POLICY": vietnamese.SIGNATURE_POLICY,
    "FILE_TAGS": file_wording.LIST_TAGS,
    "SYMBOLS": file_wording.SYMBOLS,
    "ROLE": vietnamese.ROLE,
    "USER_STATUS": vietnamese.USER_STATUS,
    "AGENCY_STATUS": vietnamese.AGENCY_STATUS,
    "ACTIONS": vietnamese.ACTIONS,
}


def setup(app: web.Application) -> jinja2.Environment:
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("axis.web", "templates"),
        autoescape=jinja2.select_autoescape(("html",), default=True),
        undefined=jinja2.StrictUndefined,  # a misspelt name is a test failure, not an empty cell
        filters=FILTERS,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(GLOBALS)
    return env


def environment(request: web.Request) -> jinja2.Environment:
    return aiohttp_jinja2.get_env(request.app)


async def page(request: web.Request, template: str, context: dict[str, Any], *, status: int = 200) -> web.Response:
    """The page, with what the layout needs: the user, the CSRF token for forms, where we are,
    and what was typed into one of its forms before a refusal that was not about it (a draft)."""
    user = await sessions.current_user(request)
    base = {
        "user": user,
        "csrf": await sessions.csrf_token(request),
        "path": request.path,
        "flashes": await admin.take_flashes(request),
        "draft": await forms.take(request, user.id if user else None),
        # Names before codes: an agency as a person recognises it (with its province for a short name).
        "agency_label": functools.partial(wording.agency_label, agencies=axis_of(request).registry.snapshot.agencies),
    }
    response = aiohttp_jinja2.render_template(template, request, base | context, status=status)
    return response
