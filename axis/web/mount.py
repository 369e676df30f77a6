"""Mounting the web pages: the ``/ui/`` sub-application, its middlewares, templates and routes."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web
from aiohttp_session import session_middleware

from axis.config import Settings
from axis.http.params import accepts
from axis.web import (
    accounts,
    agencies,
    documents,
    guard,
    history,
    imports,
    live,
    login,
    render,
    sessions,
    systems,
    upstream,
)
from axis.web.site import SITE, Site

STATIC = Path(__file__).parent / "static"


def setup(app: web.Application, settings: Settings) -> web.Application:
    """Mount the web pages on ``app`` at ``/ui/``; returns the sub-application."""
    storage = sessions.CookieStorage(sessions.load_key(settings.keys_dir))
    # Outermost first: the session is saved on every answer, error pages included; the CSRF check
    # runs inside the error pages, so that a refused form gets a page, not a stack trace.
    ui = web.Application(
        middlewares=[session_middleware(storage), guard.pages_middleware, guard.csrf_middleware],
        client_max_size=settings.max_package_bytes + 1,
    )
    site = Site(settings)
    ui[SITE] = site
    render.setup(ui)
    for module in (login, documents, live, agencies, systems, upstream, imports, history, accounts):
        ui.add_routes(module.routes)
    ui.router.add_static("/static/", STATIC, name="static")

    async def stop_live_pages(_: web.Application) -> None:
        site.stopping.set()

    ui.on_shutdown.append(stop_live_pages)
    app.add_subapp("/ui/", ui)
    app.router.add_get("/ui", _to_ui)
    app.router.add_get("/favicon.ico", _favicon)  # browsers ask the site's root for it, whatever the page
    return ui


@accepts()
async def _to_ui(_: web.Request) -> web.Response:
    raise web.HTTPPermanentRedirect("/ui/")


@accepts()
async def _favicon(_: web.Request) -> web.FileResponse:
    return web.FileResponse(
        STATIC / "favicon.ico",
        headers={"Content-Type": "image/x-icon", "Cache-Control": "public, max-age=86400"},
    )
