"""An administrator keeps the registry in a real browser (Debian's chromium, through Playwright):
the import dry run hides nothing, destructive changes ask first, a retired agency comes back.

These tests also save the screenshots of those pages in docs/screenshots/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from excel import FORMS
from playwright.async_api import Browser, Page, expect
from tayninh import RENAMED_BY_TAYNINH, TAYNINH
from test_browser import SHOTS, log_in, new_page
from world import World

from axis.registry import agencies, history, importer, imports
from axis.store import db
from axis.web.import_view import ENCODINGS

NATIONAL = Path(__file__).resolve().parents[2] / "axis" / "registry" / "agency_codes" / "national.csv"
TALL = {"width": 1280, "height": 1400}


async def shot(page: Page, name: str, *, full_page: bool = True) -> None:
    """As test_browser's, but a page of 400 additions is shown by its top (what is read first)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


async def in_registry(world: World, operation: Any) -> None:
    conn = await db.connect(world.settings.database_url)
    try:
        async with conn.transaction():
            await operation(conn)
        await world.axis.registrar.caught_up(await history.version(conn))
    finally:
        await conn.close()


async def import_national(conn: db.Conn) -> None:
    existing = await imports.existing(conn)
    await imports.apply(conn, "test", importer.plan(importer.read_csv(NATIONAL.read_bytes()), existing))


async def name_of(world: World, code: str) -> str:
    conn = await db.connect(world.settings.database_url)
    try:
        return (await agencies.require(conn, code)).name
    finally:
        await conn.close()


async def test_tayninh_dry_run_shows_all_eight_renames_and_the_outside_warning_must_be_ticked(
    world: World, people: Any, browser: Browser
) -> None:
    if not TAYNINH.is_file():
        pytest.skip(f"real sample not present at {TAYNINH}")
    await in_registry(world, import_national)
    page = await new_page(browser, world, TALL)
    await log_in(page, "quantri")
    await page.goto("/ui/admin/import")
    await page.get_by_label("Tệp CSV").set_input_files(TAYNINH)
    await page.get_by_label("Chỉ nhập các dòng hợp lệ nếu có dòng lỗi").check()
    await page.get_by_role("button", name="Chạy thử").click()

    renames = page.locator("#group-rename")
    await expect(renames.get_by_role("heading", name="Đổi tên (8)")).to_be_visible()
    for code, (old, new) in RENAMED_BY_TAYNINH.items():  # each old → new name, nothing to expand
        row = renames.locator(f'[id="change-rename-{code}"]')
        await expect(row.get_by_role("cell", name=old, exact=True)).to_be_visible()
        await expect(row.get_by_role("cell", name=new, exact=True)).to_be_visible()
    await expect(page.locator("#group-create").get_by_role("heading", name="Thêm mới (415)")).to_be_visible()
    warning = page.locator("#outside")
    await expect(warning.get_by_role("heading")).to_have_text("Cảnh báo: tệp thay đổi 7 cơ quan ngoài phạm vi của nó")
    await expect(warning).to_contain_text("Bộ Y tế: Đổi tên thành “Bộ Y Tế”")
    await expect(page.get_by_text("Bỏ qua cột in_charge: trục không dùng cột này.")).to_be_visible()
    await shot(page, "admin-import-dry-run", full_page=False)

    confirm = page.get_by_role("button", name="Xác nhận nhập 423 thay đổi")
    tick = page.get_by_label("Tôi đã xem 7 thay đổi ngoài phạm vi")
    url = page.url
    await confirm.click()  # not ticked: the browser does not send the form
    assert await tick.evaluate("box => box.validity.valueMissing") is True
    assert page.url == url
    assert await name_of(world, "000.00.00.G18") == "Bộ Y tế"
    await tick.check()
    await confirm.click()
    await expect(page.get_by_role("status").filter(has_text="Đã nhập 423 thay đổi")).to_be_visible()
    assert await name_of(world, "000.00.00.G18") == "Bộ Y Tế"


async def test_administrator_retires_after_confirming_then_reactivates_the_agency(
    world: World, people: Any, browser: Browser
) -> None:
    await in_registry(world, lambda conn: agencies.merge(conn, "test", "000.00.00.G98", "000.00.00.H98"))
    page = await new_page(browser, world)
    await log_in(page, "quantri")
    await page.goto("/ui/admin/agencies/000.00.11.H99")
    await page.get_by_label("Cơ quan kế thừa").fill("000.00.00.G98")  # retired itself: merged into H98
    await page.get_by_role("button", name="Giải thể").click()

    await expect(page.get_by_role("heading", name="Xác nhận giải thể cơ quan")).to_be_visible()
    chain = page.get_by_role("list", name="Chuỗi kế thừa")
    await expect(chain.get_by_role("listitem")).to_have_text(
        ["000.00.00.G98 Bộ Thử Nghiệm — Đã giải thể", "000.00.00.H98 UBND Tỉnh Thử Nghiệm Bắc — Đang hoạt động"]
    )
    consequences = page.locator("#consequences")
    await expect(consequences).to_contain_text("«Sở Tài chính Tỉnh Thử Nghiệm Nam» (000.00.11.H99) thôi hoạt động")
    await expect(consequences).to_contain_text("Trục sẽ ghi «UBND Tỉnh Thử Nghiệm Bắc» (000.00.00.H98)")
    await shot(page, "admin-confirm-retire")
    await page.get_by_role("button", name="Xác nhận giải thể").click()
    await expect(page.get_by_role("status").filter(has_text="Đã giải thể 000.00.11.H99")).to_be_visible()
    await expect(page.locator("#agency-status")).to_have_text("Đã giải thể")
    await expect(page.get_by_role("form", name="Khôi phục hoạt động")).to_be_visible()
    await shot(page, "admin-agency-retired")

    await page.get_by_role("button", name="Khôi phục hoạt động").click()
    await expect(page.get_by_role("heading", name="Xác nhận khôi phục hoạt động")).to_be_visible()
    await expect(page.locator("#consequences")).to_contain_text(
        "Văn bản gửi tới 000.00.11.H99 sẽ đến chính cơ quan này thay vì chuyển cho «UBND Tỉnh Thử Nghiệm Bắc»"
    )
    await shot(page, "admin-confirm-reactivate")
    await page.get_by_role("button", name="Xác nhận khôi phục").click()
    await expect(page.get_by_role("status").filter(has_text="Đã khôi phục hoạt động của 000.00.11.H99")).to_be_visible()
    await expect(page.locator("#agency-status")).to_have_text("Đang hoạt động")
    conn = await db.connect(world.settings.database_url)
    try:
        entries = await history.entries(conn, subject_kind="agency", subject_id="000.00.11.H99", limit=5)
    finally:
        await conn.close()
    assert [(e.action, e.actor) for e in entries[:2]] == [
        ("agency.reactivate", "web:quantri"),
        ("agency.retire", "web:quantri"),
    ]
    assert entries[1].after is not None
    assert entries[1].after["successor_code"] == "000.00.00.H98"  # the chain's active end, as shown


async def test_administrator_unticks_the_retired_filter_and_retired_agencies_leave_the_results(
    world: World, people: Any, browser: Browser
) -> None:
    await in_registry(world, lambda conn: agencies.retire(conn, "test", "000.00.00.G98"))
    page = await new_page(browser, world)
    await log_in(page, "quantri")
    retired_too = page.get_by_label("Gồm cả cơ quan đã giải thể")
    await expect(retired_too).to_be_checked()  # a first visit shows retired agencies
    await expect(page.get_by_role("link", name="000.00.00.G98")).to_be_visible()

    await page.get_by_label("Mã (tiền tố").fill("thu nghiem")
    await page.get_by_role("button", name="Tìm").click()
    await expect(page.get_by_role("link", name="000.00.00.G98")).to_be_visible()
    await retired_too.uncheck()
    await page.get_by_role("button", name="Tìm").click()
    await expect(retired_too).not_to_be_checked()
    await expect(page.get_by_role("link", name="000.00.00.H98")).to_be_visible()
    await expect(page.get_by_role("link", name="000.00.00.G98")).to_have_count(0)
    await retired_too.check()
    await page.get_by_role("button", name="Tìm").click()
    await expect(page.get_by_role("link", name="000.00.00.G98")).to_be_visible()


@pytest.mark.parametrize(
    "form", ["comma UTF-8", "semicolon UTF-8 with BOM", "UTF-16 tab Unicode text", "semicolon Windows-1258"]
)
async def test_administrator_imports_the_list_as_excel_saved_it(
    world: World, people: Any, browser: Browser, tmp_path: Path, form: str
) -> None:
    write, encoding, _ = FORMS[form]
    rows = [
        ("code", "name", "parent"),
        ("000.00.16.H98", "Sở Văn hóa, Thể thao và Du lịch Tỉnh Thử Nghiệm Bắc", "000.00.00.H98"),
        ("000.01.16.H98", "Thư viện tỉnh; Bảo tàng “Đồng Khởi”", "000.00.16.H98"),
    ]
    source = tmp_path / f"danh-muc-{encoding.split()[0].lower()}.csv"
    source.write_bytes(write(rows))
    page = await new_page(browser, world)
    await log_in(page, "quantri")
    await page.goto("/ui/admin/import")
    await page.get_by_label("Tệp CSV").set_input_files(source)
    await page.get_by_role("button", name="Chạy thử").click()
    await expect(page.get_by_text(f"Đọc tệp theo bảng mã {ENCODINGS[encoding]}")).to_be_visible()
    added = page.locator("#group-create")
    for code, name, _ in rows[1:]:
        await expect(added.locator(f'[id="change-create-{code}"]').get_by_role("cell", name=name)).to_be_visible()
    await page.get_by_role("button", name="Xác nhận nhập 2 thay đổi").click()
    await expect(page.get_by_role("status").filter(has_text="Đã nhập 2 thay đổi")).to_be_visible()
    for code, name, _ in rows[1:]:
        assert await name_of(world, code) == name
