"""Security headers on every HTTP response the axis sends.

Registered as an ``on_response_prepare`` signal rather than a middleware: the signal runs for
every response just before its headers go out — handlers' answers, the error middleware's JSON,
exceptions aiohttp turns into responses, streamed and static files — so no path escapes it, and
it sees the headers a handler chose. It only fills gaps (``setdefault``): the web pages set their
own ``Content-Security-Policy`` (and their ``Referrer-Policy``), and those are kept.
"""

from __future__ import annotations

from aiohttp import web

#: API answers are data, never a document to render: nothing may load, nothing may frame them.
API_CSP = "default-src 'none'; frame-ancestors 'none'"
#: An HTML answer whose handler set no policy of its own (the web pages do set one).
PAGE_CSP = "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
#: One year; only sent over HTTPS (browsers ignore it over plain HTTP, and it must not pin a
#: development host that serves plain HTTP).
HSTS = "max-age=31536000"

_ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


async def add_security_headers(request: web.BaseRequest, response: web.StreamResponse) -> None:
    """Fill in the security headers a response lacks (the ``on_response_prepare`` signal)."""
    fill(request, response)


def fill(request: web.BaseRequest, response: web.StreamResponse, path: str | None = None) -> None:
    """The security headers ``response`` lacks; also for the answers aiohttp makes before any
    signal can run (``axis.http.early``, which says the ``path`` aiohttp could not keep)."""
    path = request.path if path is None else path
    headers = response.headers
    for name, value in _ALWAYS.items():
        headers.setdefault(name, value)
    if "Content-Security-Policy" not in headers:
        html = response.content_type == "text/html"
        headers["Content-Security-Policy"] = PAGE_CSP if html else API_CSP
    if request.secure:
        headers.setdefault("Strict-Transport-Security", HSTS)
    if path.startswith("/api/"):
        # Packages, receipts and registry answers are nobody's to cache on the way.
        headers.setdefault("Cache-Control", "no-store")


def install(app: web.Application) -> None:
    """Add the security headers to every response of ``app``."""
    app.on_response_prepare.append(add_security_headers)
