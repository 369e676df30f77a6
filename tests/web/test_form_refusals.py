"""A refused form keeps what was typed and says what is wrong beside the field; an expired session
says so and leads back to where the person was."""

from __future__ import annotations

import json
import re
import urllib.parse
from typing import Any

import pytest
from browsing import PASSWORD
from world import World

from axis.accounts import passwords, users
from axis.store import db
from axis.web import vietnamese


async def expire_sessions_of(world: World, username: str) -> None:
    """As if twelve hours had passed: the server ends the user's sessions, the browser knows nothing."""
    conn = await db.connect(world.settings.database_url)
    try:
        await conn.execute(
            """UPDATE web_sessions SET expires_at = now() - interval '1 second'
                WHERE ended_at IS NULL AND user_id = (SELECT id FROM web_users WHERE username = $1)""",
            username,
        )
    finally:
        await conn.close()


def draft_of(page: str) -> dict[str, Any] | None:
    found = re.search(r'<script type="application/json" id="form-draft">(.*?)</script>', page, flags=re.S)
    return json.loads(found.group(1)) if found else None


def field(page: str, field_id: str) -> str:
    """The opening tag of the input or select with this id."""
    found = re.search(rf'<(?:input|select)[^>]* id="{re.escape(field_id)}"[^>]*>', page)
    assert found is not None, field_id
    return found.group(0)


async def test_a_search_for_a_date_that_does_not_exist_keeps_the_filters_and_says_why(
    world: World, people: Any, visit: Any
) -> None:
    clerk = visit()
    await clerk.log_in("vanthu.bac")
    query = urllib.parse.urlencode({"q": "chu ky so", "from": "31/02/2026", "to": "20/11/2026", "direction": "sent"})
    page = await clerk.get(f"/ui/documents?{query}", expect=400)
    assert "Văn bản của" in page  # the search page itself, not a bare refusal
    assert "Không có ngày 31/02/2026: tháng 2 năm 2026 chỉ có 28 ngày." in page
    assert 'value="chu ky so"' in page
    assert 'value="31/02/2026"' in page  # as typed, to be corrected
    assert 'value="20/11/2026"' in page
    assert '<option value="sent" selected>' in page
    tag = field(page, "from")
    assert 'aria-invalid="true"' in tag
    assert 'aria-describedby="from-error date-hint"' in tag
    assert '<p class="field-error" id="from-error">' in page
    assert 'aria-invalid="true"' not in field(page, "to")
    assert "Chưa tìm được" in page

    # Not a date at all, and an end before the start: each said beside its own field.
    page = await clerk.get("/ui/documents?from=2026%2F13%2F01&counterpart=UBND", expect=400)
    assert "Ngày phải có dạng dd/mm/yyyy, ví dụ 20/11/2026." in page
    assert "«UBND» không phải mã định danh cơ quan" in page
    assert 'aria-invalid="true"' in field(page, "counterpart")
    page = await clerk.get("/ui/documents?from=20%2F11%2F2026&to=01%2F11%2F2026", expect=400)
    assert "Ngày cuối phải từ ngày đầu (20/11/2026) trở đi." in page
    # The register of the same search goes to the page that says what is wrong.
    response = await clerk.response(f"/ui/documents.csv?{query}")
    assert response.status == 303
    assert response.headers["Location"].startswith("/ui/documents?")
    assert "from=31/02/2026" in urllib.parse.unquote(response.headers["Location"])


def test_dates_are_told_apart_a_wrong_form_from_a_day_that_does_not_exist() -> None:
    cases = {
        "31/02/2026": "Không có ngày 31/02/2026: tháng 2 năm 2026 chỉ có 28 ngày.",
        "29/02/2026": "Không có ngày 29/02/2026: tháng 2 năm 2026 chỉ có 28 ngày.",
        "31/04/2026": "Không có ngày 31/04/2026: tháng 4 năm 2026 chỉ có 30 ngày.",
        "01/13/2026": "Không có ngày 01/13/2026: tháng phải từ 1 đến 12.",
        "00/05/2026": "Không có ngày 00/05/2026: ngày phải từ 1 đến 31.",
        "2026-02-30": "Không có ngày 30/02/2026: tháng 2 năm 2026 chỉ có 28 ngày.",
        "20-11": "Ngày phải có dạng dd/mm/yyyy, ví dụ 20/11/2026.",
        "hôm qua": "Ngày phải có dạng dd/mm/yyyy, ví dụ 20/11/2026.",
    }
    for typed, said in cases.items():
        with pytest.raises(vietnamese.DateError) as refused:
            vietnamese.parse_date(typed)
        assert str(refused.value) == said, typed
    assert str(vietnamese.parse_date("29/02/2028")) == "2028-02-29"
    assert str(vietnamese.parse_date(" 1.2.2026 ")) == "2026-02-01"
    assert vietnamese.parse_date("") is None


async def test_the_add_user_form_keeps_what_was_typed_when_the_passwords_differ(
    world: World, people: Any, visit: Any
) -> None:
    admin = visit()
    await admin.log_in("quantri")
    await admin.get("/ui/admin/users")
    form = {
        "username": "vanthu.moi",
        "full_name": "Phạm Văn Mới",
        "role": "clerk",
        "system": "nam",
        "password": "mat-khau-dai-mot",
        "again": "mat-khau-dai-hai",
    }
    page = await admin.post("/ui/admin/users", form, expect=422)
    assert 'value="vanthu.moi"' in field(page, "username")
    assert 'value="Phạm Văn Mới"' in field(page, "full_name")
    assert '<option value="nam" selected>' in page
    assert "Hai lần nhập mật khẩu không giống nhau." in page
    assert 'aria-invalid="true"' in field(page, "again")
    assert 'aria-describedby="again-error password-note"' in field(page, "again")
    assert "autofocus" in field(page, "again")
    assert "mat-khau-dai" not in page  # passwords are never sent back
    assert "vanthu.moi" not in await admin.get("/ui/admin/users")  # nothing was created

    # A name already taken is said beside the name; the rest stays.
    page = await admin.post("/ui/admin/users", form | {"username": "vanthu.nam", "again": form["password"]}, expect=409)
    assert 'aria-invalid="true"' in field(page, "username")
    assert 'value="vanthu.nam"' in field(page, "username")
    assert 'value="Phạm Văn Mới"' in field(page, "full_name")
    # A short new password for someone else: said beside that user's field, their form open.
    page = await admin.post("/ui/admin/users/vanthu.bac/password", {"password": "ngan", "again": "ngan"}, expect=422)
    assert "Mật khẩu phải có ít nhất 10 ký tự." in page
    assert 'aria-invalid="true"' in field(page, "pw-vanthu.bac")
    assert "<details open><summary>Đặt lại mật khẩu" in page


async def test_an_expired_session_says_so_and_the_log_in_returns_to_the_page_asked_for(
    world: World, people: Any, visit: Any
) -> None:
    clerk = visit()
    await clerk.log_in("vanthu.bac")
    await clerk.get("/ui/documents")
    await expire_sessions_of(world, "vanthu.bac")
    response = await clerk.response("/ui/documents?q=ngan+sach")
    assert response.status == 303
    assert urllib.parse.unquote(response.headers["Location"]) == "/ui/login?next=/ui/documents?q=ngan+sach"
    page = await clerk.get(response.headers["Location"])
    assert "Phiên làm việc đã hết hạn, hãy đăng nhập lại." in page
    assert 'name="next" value="/ui/documents?q=ngan+sach"' in page
    async with clerk.session.post(
        world.client.make_url("/ui/login"),
        data={"username": "vanthu.bac", "password": PASSWORD, "csrf": clerk.csrf, "next": "/ui/documents?q=ngan+sach"},
        allow_redirects=False,
    ) as answer:
        assert answer.status == 303
        assert answer.headers["Location"] == "/ui/documents?q=ngan+sach"
    assert "hết hạn" not in await clerk.get("/ui/login?next=/ui/documents")  # logged in: straight back

    # Someone who never logged in is not told that a session expired.
    stranger = visit()
    assert "hết hạn" not in await stranger.get("/ui/documents")


async def test_a_form_posted_after_the_session_expired_comes_back_filled_in_after_log_in(
    world: World, people: Any, visit: Any
) -> None:
    admin = visit()
    await admin.log_in("quantri")
    await admin.get("/ui/admin/users")
    await expire_sessions_of(world, "quantri")
    users_page = str(world.client.make_url("/ui/admin/users"))
    form = {
        "csrf": admin.csrf,
        "username": "vanthu.moi",
        "full_name": "Phạm Văn Mới",
        "role": "clerk",
        "system": "nam",
        "password": "mat-khau-dai-mot",
        "again": "mat-khau-dai-mot",
    }
    async with admin.session.post(
        world.client.make_url("/ui/admin/users"), data=form, headers={"Referer": users_page}, allow_redirects=False
    ) as answer:
        assert answer.status == 303
        assert urllib.parse.unquote(answer.headers["Location"]) == "/ui/login?next=/ui/admin/users"
    page = await admin.get("/ui/login?next=%2Fui%2Fadmin%2Fusers")
    assert "Phiên làm việc đã hết hạn, hãy đăng nhập lại." in page
    await admin.post("/ui/login", {"username": "quantri", "password": PASSWORD, "next": "/ui/admin/users"})
    assert "<h1>Người dùng trang web</h1>" in admin.last  # back on the form's page
    draft = draft_of(admin.last)
    assert draft == {
        "action": "/ui/admin/users",
        "fields": {"username": ["vanthu.moi"], "full_name": ["Phạm Văn Mới"], "role": ["clerk"], "system": ["nam"]},
    }
    assert "mat-khau-dai" not in admin.last
    assert draft_of(await admin.get("/ui/admin/users")) is None  # once
    assert "vanthu.moi" not in admin.last  # nothing was created by the refused form


async def test_a_draft_goes_to_nobody_else_and_never_from_another_site(world: World, people: Any, visit: Any) -> None:
    browser = visit()
    await browser.log_in("quantri")
    await browser.get("/ui/admin/users")
    await expire_sessions_of(world, "quantri")
    form = {"csrf": browser.csrf, "username": "ke.la", "full_name": "Kẻ Lạ", "role": "admin"}
    async with browser.session.post(
        world.client.make_url("/ui/admin/users"),
        data=form,
        headers={"Referer": str(world.client.make_url("/ui/admin/users"))},
        allow_redirects=False,
    ):
        pass
    # Another administrator logs in on the same browser: the form is not filled in for them.
    conn = await db.connect(world.settings.database_url)
    try:
        await users.add(conn, "test", "quantri2", passwords.hash_password(PASSWORD), role=users.Role.ADMIN)
    finally:
        await conn.close()
    await browser.log_in("quantri2")
    assert draft_of(await browser.get("/ui/admin/users")) is None

    # A form that says it came from another site leaves no draft and no way back there.
    await expire_sessions_of(world, "quantri2")
    async with browser.session.post(
        world.client.make_url("/ui/admin/users"),
        data=form | {"csrf": browser.csrf},
        headers={"Referer": "https://evil.example/ui/admin/users"},
        allow_redirects=False,
    ) as answer:
        assert answer.headers["Location"] == "/ui/login"
    await browser.log_in("quantri2")
    assert draft_of(await browser.get("/ui/admin/users")) is None


async def test_a_form_with_a_stale_token_is_refused_and_leads_back_to_the_form_filled_in(
    world: World, people: Any, visit: Any
) -> None:
    """Two tabs: the session expired, the person logged in again in the other tab; the first tab's
    form still carries the old session's token."""
    admin = visit()
    await admin.log_in("quantri")
    await admin.get("/ui/admin/users")
    stale = admin.csrf
    await admin.log_in("quantri")  # a new session, a new token
    form = {"csrf": stale, "username": "vanthu.moi", "full_name": "Phạm Văn Mới", "role": "clerk", "system": "nam"}
    page = await admin.post(
        "/ui/admin/users", form, headers={"Referer": str(world.client.make_url("/ui/admin/users"))}, expect=403
    )
    assert "web.csrf" in page
    assert '<a class="button" href="/ui/admin/users">Quay lại biểu mẫu</a>' in page
    draft = draft_of(await admin.get("/ui/admin/users"))
    assert draft is not None
    assert draft["fields"]["username"] == ["vanthu.moi"]
    assert "csrf" not in draft["fields"]
    # The log-in form too: the name typed comes back, never the password.
    stranger = visit()
    await stranger.get("/ui/login")
    login_page = str(world.client.make_url("/ui/login"))
    typed = {"csrf": "x" * 43, "username": "vanthu.bac", "password": PASSWORD}
    page = await stranger.post("/ui/login", typed, headers={"Referer": login_page}, expect=403)
    assert '<a class="button" href="/ui/login">Quay lại biểu mẫu</a>' in page
    assert draft_of(await stranger.get("/ui/login")) == {"action": "/ui/login", "fields": {"username": ["vanthu.bac"]}}
