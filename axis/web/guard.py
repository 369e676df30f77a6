"""What every web page passes through: security headers, error pages, and the CSRF check.

The API's ``errors_middleware`` answers JSON; under ``/ui/`` a refusal is a page in Vietnamese
with the same status (a clerk guessing another system's document gets the same 404 as an unknown
one). Every POST must carry the session's CSRF token and, when the browser says where the form
came from (``Origin``), come from this site. A form of this site refused for its token (a page
opened before logging in again, say) keeps what was typed (``axis.web.forms``): the refusal page
leads back to the form, filled in again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import structlog
from aiohttp import web

from axis.errors import AxisError
from axis.http import params
from axis.http.errors import UNAVAILABLE
from axis.web import forms, render, sessions
from axis.web.messages import refusal

log = structlog.get_logger("axis.web")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: No inline script or style anywhere: the pages load /ui/static/ files only.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
_TITLES = {
    400: "Yêu cầu không hợp lệ",
    401: "Cần đăng nhập",
    403: "Không có quyền",
    404: "Không tìm thấy",
    405: "Không được phép",
    409: "Xung đột dữ liệu",
    413: "Tệp quá lớn",
    422: "Không thực hiện được",
    429: "Tạm khóa",
    500: "Lỗi hệ thống",
    502: "Lỗi dịch vụ liên quan",
    503: "Dịch vụ tạm thời không sẵn sàng",
}
#: What the static files' route (aiohttp's own handler, not declared with ``accepts``) takes: a
#: name no file has (NUL, or too long for the file system) is refused here, not an OSError there.
STATIC = (params.Text("filename", where=params.Where.PATH, max_length=255),)


def secure(response: web.StreamResponse, *, private: bool = True) -> None:
    """Set the security headers (before a streamed response is prepared, by its handler)."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if private:
        response.headers.setdefault("Cache-Control", "no-store")


UNAVAILABLE_PAGE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Dịch vụ tạm thời không sẵn sàng · Trục liên thông văn bản</title></head>
<body><main><h1>Dịch vụ tạm thời không sẵn sàng</h1>
<p>Trục chưa kết nối được cơ sở dữ liệu. Hãy thử lại sau ít giây.</p></main></body></html>
"""


async def error_page(
    request: web.Request, status: int, message: str, code: str, *, back: str | None = None
) -> web.Response:
    """A refusal as a page; ``back``: the form's page, where what was typed is filled in again."""
    context = {"status": status, "title": _TITLES.get(status, "Lỗi"), "message": message, "code": code, "back": back}
    return await render.page(request, "error.html", context, status=status)


@web.middleware
async def pages_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    static = request.path.startswith("/ui/static/")
    try:
        if static:
            await params.check(request, STATIC)
        response = await handler(request)
    except AxisError as exc:
        log.info("page.refused", code=exc.code, path=request.path, method=request.method)
        response = await error_page(request, exc.http_status, refusal(exc), exc.code)
    except UNAVAILABLE as exc:  # rendered without the database: the page's layout would need it
        log.warning("page.unavailable", path=request.path, error=repr(exc))
        response = web.Response(
            text=UNAVAILABLE_PAGE, content_type="text/html", status=503, headers={"Retry-After": "5"}
        )
    except web.HTTPException as exc:
        if exc.status in (404, 405):
            response = await error_page(request, exc.status, "Trang này không tồn tại.", "http.not_found")
        else:
            secure(exc)
            raise
    if not response.prepared:
        secure(response, private=not static)
    return response


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        return origin is None  # "null": a sandboxed or privacy-stripped context; refuse it
    return urlsplit(origin).netloc == request.host


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        if not _same_origin(request):
            raise AxisError("web.csrf", "Biểu mẫu này không gửi từ trang của trục liên thông.")
        try:
            await sessions.check_csrf(request)
        except AxisError as exc:
            back = await forms.keep(request, await sessions.owner(request))
            if back is None:
                raise
            log.info("page.refused", code=exc.code, path=request.path, method=request.method, kept=True)
            if await sessions.current_user(request) is None:
                back = sessions.login_target(back)
            return await error_page(request, exc.http_status, refusal(exc), exc.code, back=back)
    return await handler(request)
