"""The web pages in a real browser: Debian's chromium driven by Playwright (no downloaded browser).

These tests also save the screenshots shown in the README (docs/screenshots/). If chromium cannot
start, they fail and say why: a browser test that silently skips proves nothing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pdfs
from browsing import PASSWORD
from pdfs import altered_after_signing, cast_for, decree, with_file
from playwright.async_api import Browser, Page, expect
from world import World, status_of

from axis.edxml import model as m
from axis.store import db

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


async def new_page(browser: Browser, world: World, viewport: dict[str, int] = DESKTOP) -> Page:
    context = await browser.new_context(
        base_url=str(world.client.make_url("/")), viewport=viewport, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh"
    )
    page = await context.new_page()
    page.set_default_timeout(10_000)
    return page


async def log_in(page: Page, username: str) -> None:
    await page.goto("/ui/")
    await page.get_by_label("Tên đăng nhập").fill(username)
    await page.get_by_label("Mật khẩu").fill(PASSWORD)
    await page.get_by_role("button", name="Đăng nhập").click()
    await expect(page.get_by_role("button", name="Đăng xuất")).to_be_visible()


async def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


async def test_clerk_finds_a_document_without_accents_and_watches_a_status_arrive(
    world: World, people: Any, browser: Browser
) -> None:
    document = world.document(
        to=("000.00.00.H99", "000.00.00.G98"), subject="V/v tăng cường ứng dụng chữ ký số trong công tác văn thư"
    )
    document = pdfs.carrying(document, pdfs.north_decree(world))  # signed by its signer and its agency
    package_id = (await world.post(world.signed(document)))["package_id"]
    await world.post(world.signed(world.document(number="126", subject="Kế hoạch diễn tập phòng cháy")))
    await world.ack(package_id, "south")
    arrived = status_of(document, m.StatusCode.ARRIVED, "south", "000.00.00.H99")
    await world.post(world.signed(arrived, by="south"), by="south")

    page = await new_page(browser, world)
    await log_in(page, "vanthu.bac")
    await page.get_by_label("Trích yếu").fill("chu ky so")  # typed without accents
    await page.get_by_label("Trích yếu").press("Enter")
    results = page.get_by_role("table")
    await expect(results.get_by_role("link", name="V/v tăng cường ứng dụng chữ ký số")).to_be_visible()
    await expect(results).not_to_contain_text("phòng cháy")
    await shot(page, "clerk-documents")

    await results.get_by_role("link", name="V/v tăng cường ứng dụng chữ ký số").click()
    await expect(page).to_have_url(str(world.client.make_url(f"/ui/documents/{package_id}")))
    timeline = page.locator("#timeline")
    await expect(timeline).to_contain_text("Đã đến")
    await expect(timeline).not_to_contain_text("Đã tiếp nhận")
    await page.evaluate("window.stillTheSamePage = true")

    # The southern province registers the document (03) through the API while the page is open.
    accepted = status_of(document, m.StatusCode.ACCEPTED, "south", "000.00.00.H99")
    await world.post(world.signed(accepted, by="south"), by="south")
    await expect(timeline).to_contain_text("Đã tiếp nhận", timeout=15_000)
    assert await page.evaluate("window.stillTheSamePage") is True  # updated in place, not reloaded
    await expect(page.get_by_role("status").filter(has_text="Đã cập nhật")).to_be_visible()
    await shot(page, "clerk-document")

    phone = await new_page(browser, world, PHONE)
    await log_in(phone, "vanthu.bac")
    await phone.goto(f"/ui/documents/{package_id}")
    await expect(phone.locator("#timeline")).to_contain_text("Đã tiếp nhận")
    await assert_fits(phone, "the document page")  # the screenshots at this width: below


async def test_a_clerk_reads_who_signed_a_decision_and_sees_another_was_altered_after_signing(
    world: World, people: Any, browser: Browser
) -> None:
    signers = cast_for(world.ca, "000.00.00.H98", "UBND Tỉnh Thử Nghiệm Bắc")
    signed = decree(signers)
    valid = (await world.post(with_file(world, signed)))["package_id"]
    altered = (await world.post(with_file(world, altered_after_signing(signed), number="126")))["package_id"]

    page = await new_page(browser, world)
    await log_in(page, "vanthu.nam")
    await page.goto(f"/ui/documents/{valid}")
    verdict = page.locator("#file-verdict")
    await expect(verdict).to_contain_text("Chữ ký số trên tệp văn bản hợp lệ.")
    section = page.get_by_role("region", name="Chữ ký số trên tệp văn bản")
    await expect(section.get_by_role("row", name="Nguyễn Văn An")).to_contain_text("Chữ ký cá nhân")
    await expect(section.get_by_role("row").filter(has_text="Chữ ký của cơ quan")).to_contain_text("000.00.00.H98")
    await expect(page.locator("#timeline")).to_contain_text("Đang chờ nhận")
    await shot(page, "clerk-document-signed")

    await page.goto(f"/ui/documents/{altered}")
    await expect(verdict).to_contain_text("Chữ ký số trên tệp văn bản không hợp lệ. Tệp đã bị sửa đổi sau khi ký.")
    await verdict.get_by_role("link", name="Xem chi tiết chữ ký số").click()
    await expect(section).to_be_in_viewport()
    await expect(section.get_by_text("Tệp đã bị sửa đổi sau khi ký.")).to_have_count(2)  # both signatures
    await page.evaluate("window.scrollTo(0, 0)")
    await expect(page.locator("#timeline")).to_contain_text("Đang chờ nhận")
    await shot(page, "clerk-document-altered")

    phone = await new_page(browser, world, PHONE)
    await log_in(phone, "vanthu.nam")
    for package_id in (valid, altered):
        await phone.goto(f"/ui/documents/{package_id}")
        await expect(phone.locator("#file-verdict")).to_be_visible()
        await assert_fits(phone, "the signatures in a document's files")


async def test_administrator_retires_an_agency_with_a_successor_and_the_history_shows_it(
    world: World, people: Any, browser: Browser
) -> None:
    page = await new_page(browser, world)
    await log_in(page, "quantri")
    await expect(page.get_by_role("heading", name="Danh bạ cơ quan")).to_be_visible()
    await page.get_by_label("Mã (tiền tố").fill("tai chinh")
    await page.get_by_role("button", name="Tìm").click()
    await shot(page, "admin-agencies")
    await page.get_by_role("link", name="000.00.11.H99").click()
    await expect(page.get_by_role("heading", name="Sở Tài chính Tỉnh Thử Nghiệm Nam")).to_be_visible()

    await page.get_by_label("Cơ quan kế thừa").fill("000.00.00.H99")
    await page.get_by_role("button", name="Giải thể").click()
    await page.get_by_role("button", name="Xác nhận giải thể").click()  # what will happen is shown first
    await expect(page.get_by_role("status").filter(has_text="Đã giải thể 000.00.11.H99")).to_be_visible()
    await expect(page.locator("#agency-status")).to_have_text("Đã giải thể")
    await shot(page, "admin-agency")

    await page.get_by_role("navigation", name="Điều hướng chính").get_by_role("link", name="Lịch sử").click()
    await page.get_by_label("Hành động").fill("agency.retire")
    await page.get_by_role("button", name="Lọc").click()
    entry = page.locator("ol.history > li").first
    await expect(entry).to_contain_text("Giải thể cơ quan")
    await expect(entry).to_contain_text("000.00.11.H99")
    await expect(entry).to_contain_text("web:quantri")
    await expect(entry.get_by_role("row", name="Cơ quan kế thừa")).to_contain_text("000.00.00.H99")
    await shot(page, "admin-history")

    await page.goto("/ui/admin/systems/bac")
    await shot(page, "admin-system")


async def test_a_clerk_cannot_open_another_systems_document_by_guessing_its_url(
    world: World, people: Any, browser: Browser
) -> None:
    secret = world.document(to=("000.00.00.G98",), subject="Báo cáo riêng gửi Bộ")
    package_id = (await world.post(world.signed(secret)))["package_id"]

    page = await new_page(browser, world)
    await log_in(page, "vanthu.nam")
    await page.get_by_label("Trích yếu").fill("bao cao rieng")
    await page.get_by_role("button", name="Tìm").click()
    await expect(page.get_by_text("Không có văn bản nào khớp điều kiện tìm.")).to_be_visible()

    answer = await page.goto(f"/ui/documents/{package_id}")
    assert answer is not None
    assert answer.status == 404
    await expect(page.get_by_role("heading", name="Không tìm thấy")).to_be_visible()
    await expect(page.locator("body")).not_to_contain_text("Báo cáo riêng")
    download = await page.request.get(f"/ui/documents/{package_id}/attachments/1")
    assert download.status == 404
    stranger = await new_page(browser, world, PHONE)
    await stranger.goto(f"/ui/documents/{package_id}")  # not logged in: the log-in page, nothing else
    await expect(stranger.get_by_role("heading", name="Đăng nhập")).to_be_visible()
    await shot(stranger, "login-phone")


# --- refusals that keep what was typed, sessions that expire, a phone's width ---------------------------


WORD = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


async def expire_sessions_of(world: World, username: str) -> None:
    """The server ends the user's sessions (their twelve hours are over); the browser knows nothing."""
    conn = await db.connect(world.settings.database_url)
    try:
        await conn.execute(
            """UPDATE web_sessions SET expires_at = now() - interval '1 second'
                WHERE ended_at IS NULL AND user_id = (SELECT id FROM web_users WHERE username = $1)""",
            username,
        )
    finally:
        await conn.close()


async def assert_fits(page: Page, what: str) -> None:
    """No sideways scrolling: the page is no wider than the window."""
    scroll, client = await page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert scroll <= client, f"{what} scrolls sideways at {client}px: {scroll}px wide"


async def test_a_clerk_searches_for_a_date_that_does_not_exist_and_corrects_it_in_the_same_form(
    world: World, people: Any, browser: Browser
) -> None:
    await world.post(world.signed(world.document(subject="V/v ứng dụng chữ ký số")))
    page = await new_page(browser, world)
    await log_in(page, "vanthu.bac")
    await page.get_by_label("Trích yếu").fill("chu ky so")
    await page.get_by_label("Ban hành từ ngày").fill("31/02/2026")
    await page.get_by_label("Chiều").select_option("sent")
    await page.get_by_role("button", name="Tìm").click()

    start = page.get_by_label("Ban hành từ ngày")
    await expect(start).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#from-error")).to_have_text("Không có ngày 31/02/2026: tháng 2 năm 2026 chỉ có 28 ngày.")
    await expect(start).to_have_accessible_description(re.compile("^Không có ngày 31/02/2026"))
    await expect(start).to_have_value("31/02/2026")  # kept, to be corrected
    await expect(start).to_be_focused()
    await expect(page.get_by_label("Trích yếu")).to_have_value("chu ky so")
    await expect(page.get_by_label("Chiều")).to_have_value("sent")
    await expect(page.get_by_role("alert")).to_contain_text("Chưa tìm được")
    await shot(page, "clerk-documents-refused")

    await start.fill("28/02/2026")
    await page.get_by_role("button", name="Tìm").click()
    await expect(page.get_by_role("table").get_by_role("link", name="V/v ứng dụng chữ ký số")).to_be_visible()
    await expect(page.get_by_label("Ban hành từ ngày")).not_to_have_attribute("aria-invalid", "true")


async def test_an_administrator_adds_a_user_with_passwords_that_differ_and_keeps_the_rest_of_the_form(
    world: World, people: Any, browser: Browser
) -> None:
    page = await new_page(browser, world)
    await log_in(page, "quantri")
    await page.goto("/ui/admin/users")
    form = page.locator("form[action='/ui/admin/users']")
    await form.get_by_label("Tên đăng nhập").fill("vanthu.moi")
    await form.get_by_label("Họ tên").fill("Phạm Văn Mới")
    await form.get_by_label("Hệ thống").select_option("nam")
    await form.get_by_label("Mật khẩu ban đầu").fill("mat-khau-dai-mot")
    await form.get_by_label("Nhập lại mật khẩu").fill("mat-khau-dai-hai")
    await form.get_by_role("button", name="Thêm").click()

    again = form.get_by_label("Nhập lại mật khẩu")
    await expect(again).to_have_attribute("aria-invalid", "true")
    await expect(again).to_have_accessible_description(re.compile("^Hai lần nhập mật khẩu không giống nhau"))
    await expect(again).to_be_focused()
    await expect(form.get_by_label("Tên đăng nhập")).to_have_value("vanthu.moi")
    await expect(form.get_by_label("Họ tên")).to_have_value("Phạm Văn Mới")
    await expect(form.get_by_label("Hệ thống")).to_have_value("nam")
    await expect(form.get_by_label("Mật khẩu ban đầu")).to_have_value("")  # never sent back
    await shot(page, "admin-users-refused")

    await form.get_by_label("Mật khẩu ban đầu").fill("mat-khau-dai-mot")
    await again.fill("mat-khau-dai-mot")
    await form.get_by_role("button", name="Thêm").click()
    await expect(page.get_by_role("status").filter(has_text="Đã tạo tài khoản vanthu.moi.")).to_be_visible()


async def test_a_clerk_whose_session_expires_is_told_and_after_logging_in_is_back_where_they_were(
    world: World, people: Any, browser: Browser
) -> None:
    document = world.document(to=("000.00.00.H99",), subject="Về việc kiểm tra phiên làm việc")
    package_id = (await world.post(world.signed(document)))["package_id"]
    await world.post(world.signed(world.document(number="127", subject="Kế hoạch năm 2027")))
    page = await new_page(browser, world)
    await log_in(page, "vanthu.bac")
    await page.goto(f"/ui/documents/{package_id}")
    note = page.locator("#live-note")
    await expect(note).to_have_text("Trang tự cập nhật khi có trạng thái mới.")

    await expire_sessions_of(world, "vanthu.bac")
    # The open page stops listening and says why.
    await expect(note).to_contain_text("Đã dừng cập nhật tự động: Phiên làm việc đã hết hạn, hãy đăng nhập lại.")
    await expect(note.get_by_role("link", name="Đăng nhập lại")).to_be_visible()

    await page.get_by_role("link", name="← Văn bản").click()  # a click after expiry
    await expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()
    await expect(page.get_by_role("alert")).to_contain_text("Phiên làm việc đã hết hạn, hãy đăng nhập lại.")
    await shot(page, "login-expired")
    await page.get_by_label("Tên đăng nhập").fill("vanthu.bac")
    await page.get_by_label("Mật khẩu").fill(PASSWORD)
    await page.get_by_role("button", name="Đăng nhập").click()
    await expect(page).to_have_url(str(world.client.make_url("/ui/documents")))  # where the click went
    await expect(page.get_by_role("link", name="Kế hoạch năm 2027")).to_be_visible()


async def test_an_administrator_whose_session_expired_posts_a_form_and_gets_it_back_filled_in(
    world: World, people: Any, browser: Browser
) -> None:
    page = await new_page(browser, world)
    await log_in(page, "quantri")
    await page.goto("/ui/admin/users")
    form = page.locator("form[action='/ui/admin/users']")
    await form.get_by_label("Tên đăng nhập").fill("vanthu.sau")
    await form.get_by_label("Họ tên").fill("Đỗ Thị Sau")
    await form.get_by_label("Hệ thống").select_option("nam")
    await form.get_by_label("Mật khẩu ban đầu").fill("mat-khau-dai-mot")
    await form.get_by_label("Nhập lại mật khẩu").fill("mat-khau-dai-mot")
    await expire_sessions_of(world, "quantri")  # lunch
    await form.get_by_role("button", name="Thêm").click()

    await expect(page.get_by_role("alert")).to_contain_text("Phiên làm việc đã hết hạn, hãy đăng nhập lại.")
    await page.get_by_label("Tên đăng nhập").fill("quantri")
    await page.get_by_label("Mật khẩu").fill(PASSWORD)
    await page.get_by_role("button", name="Đăng nhập").click()
    await expect(page).to_have_url(str(world.client.make_url("/ui/admin/users")))
    await expect(page.locator("#form-draft-note")).to_contain_text("Đã điền lại những gì bạn nhập trước đó")
    await expect(form.get_by_label("Tên đăng nhập")).to_have_value("vanthu.sau")
    await expect(form.get_by_label("Họ tên")).to_have_value("Đỗ Thị Sau")
    await expect(form.get_by_label("Hệ thống")).to_have_value("nam")
    await expect(form.get_by_label("Mật khẩu ban đầu")).to_have_value("")
    await expect(page.get_by_role("row", name="vanthu.sau")).to_have_count(0)  # nothing was created


async def test_a_clerks_pages_fit_a_phone_without_scrolling_sideways(
    world: World, people: Any, browser: Browser
) -> None:
    """25 exchanged documents; one carries a Word file whose MIME type is 71 characters long."""
    word = m.Attachment.from_bytes(
        "w", "Quyet-dinh-so-125-QD-UBND-ve-viec-phe-duyet-ke-hoach-chuyen-doi-so.docx", WORD, b"PK\x03\x04 docx"
    )
    document = world.document(
        to=("000.00.00.H99", "000.00.00.G98"),
        subject="V/v phê duyệt kế hoạch chuyển đổi số năm 2027 của các cơ quan chuyên môn thuộc UBND tỉnh",
        attachments=(word,),
    )
    package_id = (await world.post(world.signed(document)))["package_id"]
    for number in range(200, 224):
        await world.post(world.signed(world.document(number=str(number), subject=f"Công văn số {number} gửi tỉnh Nam")))
    arrived = status_of(document, m.StatusCode.ARRIVED, "south", "000.00.00.H99")
    await world.post(world.signed(arrived, by="south"), by="south")

    phone = await new_page(browser, world, PHONE)
    await log_in(phone, "vanthu.bac")
    await phone.goto(f"/ui/documents/{package_id}")
    files = phone.locator("ul.files")
    await expect(files).to_contain_text("Word")
    await expect(files).to_contain_text(WORD)  # still there for whoever needs it, wrapped
    await expect(phone.locator("#timeline")).to_contain_text("Đã đến")
    await assert_fits(phone, "the document page")
    await shot(phone, "clerk-document-phone")

    await phone.goto("/ui/documents")
    await assert_fits(phone, "the documents list")
    first = phone.get_by_role("table").get_by_role("link").first
    await expect(first).to_be_in_viewport()  # the results start on the first screen
    await expect(phone.get_by_label("Ban hành từ ngày")).to_be_hidden()  # folded away
    await shot(phone, "clerk-documents-phone")
    await phone.get_by_text("Điều kiện khác").click()
    await expect(phone.get_by_label("Ban hành từ ngày")).to_be_visible()
    await phone.goto("/ui/documents?from=31%2F02%2F2026")
    await expect(phone.get_by_label("Ban hành từ ngày")).to_be_visible()  # unfolded where it is wrong
    await assert_fits(phone, "the refused search")
    for path in ("/ui/account", "/ui/documents/00000000-0000-0000-0000-000000000000"):
        await phone.goto(path)
        await assert_fits(phone, path)

    admin = await new_page(browser, world, PHONE)
    await log_in(admin, "quantri")
    await admin.goto("/ui/admin/users")
    await assert_fits(admin, "the users page")
    stranger = await new_page(browser, world, PHONE)
    await stranger.goto("/ui/login")
    await assert_fits(stranger, "the log-in page")


async def test_an_administrators_pages_fit_a_phone_without_scrolling_sideways(
    world: World, people: Any, browser: Browser
) -> None:
    """Every administrator page, at 390 px: lists, an agency, a system with its certificates and
    tokens, the import page, the history (long JSON-free values), a confirmation."""
    phone = await new_page(browser, world, PHONE)
    await log_in(phone, "quantri")
    for path in (
        "/ui/admin/agencies",
        "/ui/admin/agencies?q=thu+nghiem&retired=1",
        "/ui/admin/agencies/000.00.11.H99",
        "/ui/admin/systems",
        "/ui/admin/systems/bac",
        "/ui/admin/import",
        "/ui/admin/history",
        "/ui/admin/users",
        "/ui/admin/upstream",
    ):
        await phone.goto(path)
        await assert_fits(phone, path)
    await phone.fill("#endpoint", "https://truc-lien-thong-van-ban-quoc-gia.example.gov.vn/vdxp")
    await phone.fill("#system_id", "000.00.00.H99")
    await phone.fill("#serves", "000.00.00.H99")
    await phone.get_by_role("button", name="Lưu kết nối").click()
    await expect(phone.get_by_role("status").first).to_contain_text("Đã lưu kết nối")
    await assert_fits(phone, "the upstream link, configured")
    await phone.goto("/ui/admin/agencies/000.00.11.H99")
    await phone.get_by_role("button", name="Giải thể").click()
    await expect(phone.get_by_role("heading", level=1)).to_contain_text("Xác nhận")
    await assert_fits(phone, "the confirmation of a retirement")
