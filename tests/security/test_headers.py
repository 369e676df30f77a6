"""Every answer carries the security headers; a page's own Content-Security-Policy is kept."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from multidict import CIMultiDictProxy
from security_world import sent_now
from world import World

from axis.http import headers

PAGE_POLICY = "default-src 'none'; style-src 'self'"


def assert_secured(found: CIMultiDictProxy[str], *, csp: str = headers.API_CSP) -> None:
    assert found["X-Content-Type-Options"] == "nosniff"
    assert found["X-Frame-Options"] == "DENY"
    assert found["Referrer-Policy"] == "no-referrer"
    assert found["Content-Security-Policy"] == csp
    assert "Strict-Transport-Security" not in found  # plain HTTP: HSTS only over TLS (see test_mutual_tls)


async def test_api_answers_errors_and_package_bytes_carry_the_headers(world: World) -> None:
    accepted = await world.post(world.signed(sent_now(world.document())))
    for path, by, status in (
        ("/healthz", None, 200),
        ("/api/v1/agencies?q=H98", None, 200),
        ("/api/v1/inbox", None, 401),
        ("/api/v1/nowhere", None, 404),
        ("/api/v1/inbox", "south", 200),
        (f"/api/v1/packages/{accepted['package_id']}", "south", 200),
        (f"/api/v1/packages/{accepted['package_id']}/receipt", "north", 200),
        ("/api/v1/axis/certificate", None, 200),
    ):
        response = await world.client.get(path, headers=world[by].headers if by else {})
        assert response.status == status, (path, await response.text())
        assert_secured(response.headers)
        if path.startswith("/api/"):
            assert response.headers["Cache-Control"] == "no-store"
    wrong_method = await world.client.put("/api/v1/inbox")
    assert wrong_method.status == 405
    assert_secured(wrong_method.headers)


async def test_a_handler_policy_is_kept_and_html_without_one_gets_the_page_default() -> None:
    async def page(_: web.Request) -> web.Response:
        return web.Response(
            text="<p>trang</p>", content_type="text/html", headers={"Content-Security-Policy": PAGE_POLICY}
        )

    async def bare_page(_: web.Request) -> web.Response:
        return web.Response(text="<p>trang</p>", content_type="text/html")

    async def redirect(_: web.Request) -> web.Response:
        raise web.HTTPFound("/page")

    app = web.Application()
    headers.install(app)
    app.router.add_get("/page", page)
    app.router.add_get("/bare", bare_page)
    app.router.add_get("/redirect", redirect)
    async with TestClient(TestServer(app)) as client:
        kept = await client.get("/page")
        assert_secured(kept.headers, csp=PAGE_POLICY)
        bare = await client.get("/bare")
        assert_secured(bare.headers, csp=headers.PAGE_CSP)
        moved = await client.get("/redirect", allow_redirects=False)
        assert moved.status == 302
        assert_secured(moved.headers)
