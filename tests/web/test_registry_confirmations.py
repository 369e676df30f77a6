"""Administrators see what a destructive registry change will do, by name, before it is done; a
retired agency comes back; the import page speaks Vietnamese and asks about changes beyond its file."""

from __future__ import annotations

import re
from typing import Any

from excel import windows_1258
from world import World

from axis.registry import agencies, history, systems
from axis.store import db


async def actions(world: World, actor: str = "web:quantri") -> list[str]:
    conn = await db.connect(world.settings.database_url)
    try:
        return [e.action for e in reversed(await history.entries(conn, actor=actor, limit=100))]
    finally:
        await conn.close()


async def agency(world: World, code: str) -> tuple[str, str | None, str]:
    conn = await db.connect(world.settings.database_url)
    try:
        found = await agencies.require(conn, code)
        return found.status.value, found.successor_code, found.name
    finally:
        await conn.close()


def hidden(page: str, name: str) -> str:
    found = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)">', page)
    assert found is not None, name
    return found.group(1)


async def test_retiring_asks_first_naming_what_happens_and_a_retired_agency_can_be_reactivated(
    world: World, people: Any, visit: Any
) -> None:
    admin = visit()
    await admin.log_in("quantri")
    await admin.get("/ui/admin/agencies/000.00.11.H99")
    page = await admin.post("/ui/admin/agencies/000.00.11.H99/retire", {"successor": "000.00.00.H98"})
    assert "<h1>Xác nhận giải thể cơ quan</h1>" in page
    assert "«Sở Tài chính Tỉnh Thử Nghiệm Nam» (000.00.11.H99) thôi hoạt động (Đã giải thể)." in page
    assert (
        "Văn bản gửi tới 000.00.11.H99 từ nay chuyển cho «UBND Tỉnh Thử Nghiệm Bắc» (000.00.00.H98), "
        "do Hệ thống bac (bac) nhận." in page
    )
    assert hidden(page, "confirm") == "1"
    assert hidden(page, "successor") == "000.00.00.H98"
    assert await agency(world, "000.00.11.H99") == ("active", None, "Sở Tài chính Tỉnh Thử Nghiệm Nam")

    page = await admin.post("/ui/admin/agencies/000.00.11.H99/retire", {"successor": "000.00.00.H98", "confirm": "1"})
    assert "Đã giải thể 000.00.11.H99" in page
    assert "Khôi phục hoạt động" in page
    page = await admin.post("/ui/admin/agencies/000.00.11.H99/reactivate")
    assert "<h1>Xác nhận khôi phục hoạt động</h1>" in page
    assert "«Sở Tài chính Tỉnh Thử Nghiệm Nam» (000.00.11.H99) hoạt động trở lại và không còn cơ quan kế thừa." in page
    assert "thay vì chuyển cho «UBND Tỉnh Thử Nghiệm Bắc» (000.00.00.H98), do Hệ thống nam-stc (nam-stc) nhận" in page
    assert (await agency(world, "000.00.11.H99"))[0] == "retired"
    page = await admin.post("/ui/admin/agencies/000.00.11.H99/reactivate", {"confirm": "1"})
    assert "Đã khôi phục hoạt động của 000.00.11.H99" in page
    assert '<dd id="agency-status">Đang hoạt động</dd>' in page
    assert await actions(world) == ["agency.retire", "agency.reactivate"]


async def test_a_retired_successor_is_replaced_by_the_active_end_of_its_chain_shown_before_confirming(
    world: World, people: Any, visit: Any
) -> None:
    admin = visit()
    await admin.log_in("quantri")
    await admin.get("/ui/admin/agencies/000.00.00.G98")
    await admin.post("/ui/admin/agencies/000.00.00.G98/merge", {"into": "000.00.00.H98", "confirm": "1"})
    page = await admin.post("/ui/admin/agencies/000.00.11.H99/retire", {"successor": "000.00.00.G98"})
    chain = re.search(r'<ol class="chain"[^>]*>(.*?)</ol>', page, re.S)
    assert chain is not None
    assert re.findall(r"<li><code>([^<]+)</code> ([^<]+) — ([^<]+)</li>", chain.group(1)) == [
        ("000.00.00.G98", "Bộ Thử Nghiệm", "Đã giải thể"),
        ("000.00.00.H98", "UBND Tỉnh Thử Nghiệm Bắc", "Đang hoạt động"),
    ]
    assert (
        "Trục sẽ ghi «UBND Tỉnh Thử Nghiệm Bắc» (000.00.00.H98), cơ quan đang hoạt động ở cuối chuỗi, "
        "làm cơ quan kế thừa." in page
    )
    assert hidden(page, "successor") == "000.00.00.H98"  # what the confirmation sends
    await admin.post("/ui/admin/agencies/000.00.11.H99/retire", {"successor": "000.00.00.H98", "confirm": "1"})
    assert (await agency(world, "000.00.11.H99"))[:2] == ("retired", "000.00.00.H98")

    # A chain that leads to no active agency is shown, and there is nothing to confirm.
    await admin.post("/ui/admin/agencies/000.00.00.H99/retire", {"successor": "", "confirm": "1"})
    page = await admin.post("/ui/admin/agencies/000.00.00.H98/merge", {"into": "000.00.00.H99"})
    assert "không dẫn tới cơ quan nào đang hoạt động" in page
    assert "Xác nhận sáp nhập</button>" not in page
    assert (await agency(world, "000.00.00.H98"))[0] == "active"


async def test_moving_unbinding_and_revoking_ask_first_and_change_nothing_until_confirmed(
    world: World, people: Any, visit: Any
) -> None:
    admin = visit()
    await admin.log_in("quantri")
    await admin.get("/ui/admin/agencies/000.00.11.H99")
    page = await admin.post("/ui/admin/agencies/000.00.11.H99/move", {"new_code": "000.00.11.H98"})
    assert "<h1>Xác nhận chuyển mã cơ quan</h1>" in page
    assert (
        "«Sở Tài chính Tỉnh Thử Nghiệm Nam» (000.00.11.H99) nhận mã mới 000.00.11.H98, thuộc "
        "«UBND Tỉnh Thử Nghiệm Bắc» (000.00.00.H98) (thay vì «UBND Tỉnh Thử Nghiệm Nam» (000.00.00.H99))." in page
    )
    refused = await admin.post("/ui/admin/agencies/000.00.11.H99/move", {"new_code": "000.00.00.H98"})
    assert "Đã có cơ quan mang mã «000.00.00.H98»." in refused  # refused before asking

    await admin.get("/ui/admin/systems/nam-stc")
    page = await admin.post("/ui/admin/systems/nam-stc/bindings/remove", {"agency_code": "000.00.11.H99"})
    assert "<h1>Xác nhận bỏ phạm vi phục vụ</h1>" in page
    assert "Hệ thống nam-stc (nam-stc) thôi phục vụ «Sở Tài chính Tỉnh Thử Nghiệm Nam» (000.00.11.H99)" in page
    assert "do Hệ thống nam (nam) nhận (qua phạm vi 000.00.00.H99)" in page

    page = await admin.get("/ui/admin/systems/nam-stc")
    token_id = hidden(page, "token_id")
    fingerprint = hidden(page, "fingerprint")
    page = await admin.post("/ui/admin/systems/nam-stc/tokens/revoke", {"token_id": token_id})
    assert "<h1>Xác nhận thu hồi token</h1>" in page
    assert "Đây là token còn hiệu lực cuối cùng của hệ thống" in page
    page = await admin.post("/ui/admin/systems/nam-stc/certificates/revoke", {"fingerprint": fingerprint})
    assert "<h1>Xác nhận thu hồi chứng thư số</h1>" in page
    assert "Sở Tài chính Nam" in page  # the certificate's subject
    response = await world.client.get("/api/v1/inbox", headers=world["dept"].headers)
    assert response.status == 200  # nothing was revoked by asking
    assert await actions(world) == []

    await admin.post("/ui/admin/systems/nam-stc/bindings/remove", {"agency_code": "000.00.11.H99", "confirm": "1"})
    assert "Đã bỏ phạm vi 000.00.11.H99 khỏi nam-stc." in admin.last
    await admin.post("/ui/admin/systems/nam-stc/tokens/revoke", {"token_id": token_id, "confirm": "1"})
    response = await world.client.get("/api/v1/inbox", headers=world["dept"].headers)
    assert response.status == 401
    await admin.post("/ui/admin/systems/nam-stc/certificates/revoke", {"fingerprint": fingerprint, "confirm": "1"})
    assert await actions(world) == ["system.unbind", "system.token.revoke", "system.certificate.revoke"]
    conn = await db.connect(world.settings.database_url)
    try:
        assert await systems.bindings(conn, "nam-stc") == []
    finally:
        await conn.close()


async def test_the_retired_filter_can_be_unticked_and_a_first_visit_shows_retired_agencies(
    world: World, people: Any, visit: Any
) -> None:
    admin = visit()
    await admin.log_in("quantri")
    await admin.get("/ui/admin/agencies/000.00.00.G98")
    await admin.post("/ui/admin/agencies/000.00.11.H99/retire", {"successor": "", "confirm": "1"})
    await admin.post("/ui/admin/agencies/000.00.00.G98/retire", {"successor": "", "confirm": "1"})
    ticked = '<input type="checkbox" name="retired" value="1" checked>'

    first = await admin.get("/ui/admin/agencies")
    assert ticked in first
    assert "000.00.00.G98" in first
    with_retired = await admin.get("/ui/admin/agencies?q=H99&retired=1")
    assert "000.00.11.H99" in with_retired
    unticked = await admin.get("/ui/admin/agencies?q=H99")  # the form, submitted with the box unticked
    assert "000.00.00.H99" in unticked
    assert "000.00.11.H99" not in unticked
    assert ticked not in unticked
    top = await admin.get("/ui/admin/agencies?q=")
    assert "000.00.00.H98" in top
    assert "000.00.00.G98" not in top


async def test_import_page_speaks_vietnamese_and_changes_outside_the_files_subtree_need_a_tick(
    world: World, people: Any, visit: Any
) -> None:
    admin = visit()
    await admin.log_in("quantri")
    await admin.get("/ui/admin/import")
    text = (
        "code;name;in_charge\n"
        "000.00.11.H98;Sở Tài chính Bắc;Bắc\n"
        "000.00.12.H98;Sở Tư pháp Bắc;Bắc\n"
        "000.1137.H98;Phòng Y tế;Bắc\n"
        "000.00.00.H99;UBND Tỉnh Nam (đổi tên);Nam\n"
    )
    page = await admin.post("/ui/admin/import", {"file": windows_1258(text), "partial": "1"})
    assert (
        "Đọc tệp theo bảng mã Windows-1258 (bảng mã tiếng Việt của Windows), các cột phân cách bằng dấu chấm phẩy"
        in (page)
    )
    assert "Bỏ qua cột in_charge: trục không dùng cột này." in page
    assert "Mã định danh sai định dạng: không theo dạng DDD.CC.BB.LNN." in page
    shown = re.sub(r"<[^>]+>", " ", page.split("<main", 1)[1])  # the words on the page, not its markup
    for english in ("ignored", "malformed", "rename", "create", "line", "fields"):
        assert english not in shown, english
    assert "Cảnh báo: tệp thay đổi 1 cơ quan ngoài phạm vi của nó" in page
    assert '<input type="checkbox" name="outside_ok" value="1" required>' in page
    confirm = re.search(r'action="(/ui/admin/import/[0-9a-f-]{36})"', page)
    assert confirm is not None

    refused = await admin.post(confirm.group(1), expect=409)
    assert "Chưa nhập gì." in refused
    assert (await agency(world, "000.00.00.H99"))[2] == "UBND Tỉnh Thử Nghiệm Nam"
    await admin.post(confirm.group(1), {"outside_ok": "1"})
    assert "Đã nhập 3 thay đổi" in admin.last
    assert (await agency(world, "000.00.00.H99"))[2] == "UBND Tỉnh Nam (đổi tên)"

    page = await admin.post("/ui/admin/import", {"file": b"code,name\n000.00.00.H98,\x81\n"})
    assert "Không đọc được bảng mã của tệp (dòng 2): nội dung không phải UTF-8, UTF-16 có BOM hay Windows-1258" in page
