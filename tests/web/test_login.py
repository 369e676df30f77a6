"""Logging in and out: sessions in encrypted cookies backed by PostgreSQL, lock-out, CSRF."""

from __future__ import annotations

import urllib.parse
from typing import Any

from browsing import PASSWORD
from world import World

from axis.accounts import passwords, users
from axis.store import db


async def stored_hash(world: World, username: str) -> str:
    conn = await db.connect(world.settings.database_url)
    try:
        value: str = await conn.fetchval("SELECT password_hash FROM web_users WHERE username = $1", username)
        return value
    finally:
        await conn.close()


async def test_clerk_logs_in_gets_a_hardened_cookie_and_logs_out(world: World, people: Any, visit: Any) -> None:
    clerk = visit()
    page = await clerk.get("/ui/documents")  # not logged in: sent to the log-in page, with the way back
    assert "Đăng nhập" in page
    response = await clerk.response("/ui/documents?q=x")
    assert response.status == 303
    assert urllib.parse.unquote(response.headers["Location"]) == "/ui/login?next=/ui/documents?q=x"

    async with clerk.session.get(world.client.make_url("/ui/login")) as login_page:
        headers = login_page.headers
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        clerk._remember(await login_page.text())
    before = clerk.cookie()
    async with clerk.session.post(
        world.client.make_url("/ui/login"),
        data={"username": "vanthu.bac", "password": PASSWORD, "csrf": clerk.csrf, "next": "/ui/documents?q=x"},
        allow_redirects=False,
    ) as answer:
        assert answer.status == 303
        assert answer.headers["Location"] == "/ui/documents?q=x"
        cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Path=/ui/" in cookie
    assert clerk.cookie() != before  # a new session at log-in: nothing from before carries over
    assert "Văn bản của" in await clerk.get("/ui/documents")
    # The cheap fixture hash was upgraded to the real cost at this first log-in.
    assert not passwords.needs_rehash(await stored_hash(world, "vanthu.bac"))

    stolen = clerk.cookie()
    await clerk.post("/ui/logout")
    assert "Đăng nhập" in await clerk.get("/ui/documents")
    # A copy of the cookie taken before log-out is worth nothing: the session ended in PostgreSQL.
    thief = visit()
    thief.session.cookie_jar.update_cookies({"axis_session": stolen}, world.client.make_url("/ui/"))
    assert (await thief.response("/ui/documents")).status == 303


async def test_unknown_users_and_wrong_passwords_get_the_same_answer(world: World, people: Any, visit: Any) -> None:
    someone = visit()
    wrong = await someone.log_in("vanthu.bac", "sai-mat-khau-roi", expect=401)
    unknown = await someone.log_in("khong-co-ai", "sai-mat-khau-roi", expect=401)
    assert "Sai tên đăng nhập hoặc mật khẩu." in wrong
    assert "Sai tên đăng nhập hoặc mật khẩu." in unknown


async def test_five_failures_lock_the_account_for_fifteen_minutes(world: World, people: Any, visit: Any) -> None:
    attacker = visit()
    for _ in range(users.MAX_FAILURES - 1):
        await attacker.log_in("vanthu.nam", "doan-mat-khau", expect=401)
    page = await attacker.log_in("vanthu.nam", "doan-mat-khau", expect=429)
    assert "tạm khóa" in page
    # Even the right password is refused while locked, and another browser is no way round it.
    owner = visit()
    assert "tạm khóa" in await owner.log_in("vanthu.nam", PASSWORD, expect=429)
    conn = await db.connect(world.settings.database_url)
    try:
        locked = await users.require(conn, "vanthu.nam")
        assert locked.locked_until is not None
        # 15 minutes, by the database clock
        span = await conn.fetchval("SELECT locked_until - now() FROM web_users WHERE username = 'vanthu.nam'")
        assert 14 * 60 < span.total_seconds() <= 15 * 60
        # An administrator (or the clock) lifts it; a success resets the count.
        await users.unlock(conn, "test", "vanthu.nam")
    finally:
        await conn.close()
    await owner.log_in("vanthu.nam")
    assert "Văn bản của" in await owner.get("/ui/documents")


async def test_every_form_needs_the_sessions_csrf_token(world: World, people: Any, visit: Any) -> None:
    admin = visit()
    await admin.log_in("quantri")
    await admin.get("/ui/admin/agencies/000.00.00.G98")
    # No token, a wrong token, or a form posted from another site: refused, nothing changed.
    page = await admin.post(
        "/ui/admin/agencies/000.00.00.G98/rename", {"name": "Bộ Bị Giả Mạo"}, csrf=False, expect=403
    )
    assert "web.csrf" in page
    await admin.post("/ui/admin/agencies/000.00.00.G98/rename", {"name": "Bộ Bị Giả Mạo", "csrf": "x" * 43}, expect=403)
    await admin.post(
        "/ui/admin/agencies/000.00.00.G98/rename",
        {"name": "Bộ Bị Giả Mạo"},
        headers={"Origin": "https://evil.example"},
        expect=403,
    )
    # The log-in form too (login CSRF), and log-out.
    stranger = visit()
    await stranger.post("/ui/login", {"username": "quantri", "password": PASSWORD}, csrf=False, expect=403)
    await admin.post("/ui/logout", csrf=False, expect=403)
    assert "Bộ Bị Giả Mạo" not in await admin.get("/ui/admin/agencies/000.00.00.G98")
    # With the page's token, the change goes through (and is in the history as web:quantri).
    await admin.post("/ui/admin/agencies/000.00.00.G98/rename", {"name": "Bộ Thử Nghiệm Mới"})
    assert "Bộ Thử Nghiệm Mới" in admin.last
    history = await admin.get("/ui/admin/history?action=agency.rename")
    assert "web:quantri" in history
    assert "Bộ Thử Nghiệm Mới" in history


async def test_disabling_a_user_or_changing_the_password_ends_sessions(world: World, people: Any, visit: Any) -> None:
    clerk, admin = visit(), visit()
    await clerk.log_in("vanthu.bac")
    await admin.log_in("quantri")
    await admin.get("/ui/admin/users")
    await admin.post("/ui/admin/users/vanthu.bac/status", {"status": "disabled"})
    assert (await clerk.response("/ui/documents")).status == 303
    assert "vô hiệu hóa" in await clerk.log_in("vanthu.bac", expect=403)
    await admin.post("/ui/admin/users/vanthu.bac/status", {"status": "active"})

    await clerk.log_in("vanthu.bac")
    await admin.post(
        "/ui/admin/users/vanthu.bac/password", {"password": "mot-mat-khau-moi", "again": "mot-mat-khau-moi"}
    )
    assert (await clerk.response("/ui/documents")).status == 303
    await clerk.log_in("vanthu.bac", expect=401)
    await clerk.log_in("vanthu.bac", "mot-mat-khau-moi")

    # A clerk changes their own password: the current one first, then every session ends.
    await clerk.get("/ui/account")
    await clerk.post(
        "/ui/account", {"current": "sai", "new": "ba-mat-khau-moi", "again": "ba-mat-khau-moi"}, expect=401
    )
    await clerk.post("/ui/account", {"current": "mot-mat-khau-moi", "new": "ngan", "again": "ngan"}, expect=422)
    page = await clerk.post(
        "/ui/account", {"current": "mot-mat-khau-moi", "new": "ba-mat-khau-moi", "again": "ba-mat-khau-moi"}
    )
    assert "Đã đổi mật khẩu" in page
    await clerk.log_in("vanthu.bac", "ba-mat-khau-moi")


async def test_log_in_returns_only_to_pages_of_this_site(world: World, people: Any, visit: Any) -> None:
    for target in ("https://evil.example/ui/", "//evil.example/ui/", "/ui/\\evil", "/api/v1/inbox"):
        clerk = visit()
        await clerk.get("/ui/login")
        async with clerk.session.post(
            world.client.make_url("/ui/login"),
            data={"username": "vanthu.bac", "password": PASSWORD, "csrf": clerk.csrf, "next": target},
            allow_redirects=False,
        ) as answer:
            assert answer.headers["Location"] == "/ui/documents", target
