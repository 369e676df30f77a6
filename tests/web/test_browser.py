"""The web pages in a real browser: Debian's chromium driven by Playwright (no downloaded browser).

These tests also save the screenshots shown in the README (docs/screenshots/). If chromium cannot
start, they fail and say why: a browser test that silently skips proves nothing.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from browsing import PASSWORD
from playwright.async_api import Browser, Error, Page, async_playwright, expect
from world import World, status_of

from axis.edxml import model as m

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
FLAGS = [
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need Debian's chromium (./dev test installs it)")
    args = FLAGS + (["--no-sandbox"] if os.geteuid() == 0 else [])  # chromium's sandbox refuses to run as root
    async with async_playwright() as playwright:
        try:
            launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
        except Error as exc:
            pytest.fail(f"chromium ({CHROMIUM}) could not start: {exc}")
        try:
            yield launched
        finally:
            await launched.close()


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
    width = await phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the document page scrolls sideways on a phone ({width}px)"
    await shot(phone, "clerk-document-phone")
    await phone.goto("/ui/documents")
    await shot(phone, "clerk-documents-phone")


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
    await expect(entry.get_by_role("row", name="successor_code")).to_contain_text("000.00.00.H99")
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
