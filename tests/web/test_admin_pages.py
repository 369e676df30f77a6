"""Administrators keep the registry from the web pages; every change is in the history as web:<name>."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from world import World

from axis import pki
from axis.broker.management import Management
from axis.registry import history, systems
from axis.store import db
from axis.vdxp.secret import SecretBox


async def actions(world: World, actor: str = "web:quantri") -> list[str]:
    conn = await db.connect(world.settings.database_url)
    try:
        return [e.action for e in reversed(await history.entries(conn, actor=actor, limit=100))]
    finally:
        await conn.close()


async def test_csv_import_shows_a_dry_run_diff_and_applies_it_only_when_confirmed(
    world: World, people: Any, visit: Any
) -> None:
    admin = visit()
    await admin.log_in("quantri")
    await admin.get("/ui/admin/import")
    csv = "code,name,parent\n000.00.00.H97,UBND Tỉnh Thử Nghiệm Tây,\n000.00.21.H97,Sở Nội vụ Tây,000.00.00.H97\n"
    page = await admin.post("/ui/admin/import", {"file": csv.encode(), "partial": ""})
    assert 'id="change-create-000.00.00.H97"' in page
    assert "UBND Tỉnh Thử Nghiệm Tây" in page
    confirm = re.search(r'action="(/ui/admin/import/[0-9a-f-]{36})"', page)
    assert confirm is not None
    assert "Không có cơ quan nào." in await admin.get("/ui/admin/agencies?q=H97")  # a dry run changes nothing

    await admin.post(confirm.group(1))
    assert "Đã nhập 2 thay đổi" in admin.last
    assert "Sở Nội vụ Tây" in await admin.get("/ui/admin/agencies?q=noi+vu+tay")
    assert await actions(world) == ["agency.create", "agency.create"]
    # The draft is gone once applied: confirming twice does nothing more.
    await admin.post(confirm.group(1))
    assert "không còn" in admin.last


async def test_a_confirmation_after_the_registry_changed_shows_the_new_diff_instead(
    world: World, people: Any, visit: Any
) -> None:
    admin = visit()
    await admin.log_in("quantri")
    await admin.get("/ui/admin/import")
    page = await admin.post("/ui/admin/import", {"file": b"code,name\n000.00.00.H97,Tay\n"})
    confirm = re.search(r'action="(/ui/admin/import/[0-9a-f-]{36})"', page)
    assert confirm is not None
    await admin.get("/ui/admin/agencies")
    await admin.post("/ui/admin/agencies", {"code": "000.00.00.H97", "name": "Tây (đã thêm tay)"})
    page = await admin.post(confirm.group(1), expect=409)
    assert "Danh bạ đã thay đổi" in page
    assert 'id="change-rename-000.00.00.H97"' in page
    # Bad rows block the import unless the administrator asks for the good rows only.
    page = await admin.post("/ui/admin/import", {"file": b"code,name\nnot-a-code,X\n"})
    assert "Dòng lỗi" in page
    assert "chưa thể nhập" in page


async def test_system_page_binds_adds_a_certificate_issues_and_revokes_a_token_and_grants_amqp(
    world: World, people: Any, visit: Any
) -> None:
    admin = visit()
    await admin.log_in("quantri")
    await admin.get("/ui/admin/systems")
    await admin.post("/ui/admin/systems", {"id": "tay-eoffice", "name": "eOffice Tây", "delivery": "http"})
    await admin.post("/ui/admin/agencies", {"code": "000.00.00.H97", "name": "UBND Tỉnh Thử Nghiệm Tây"})
    await admin.get("/ui/admin/systems/tay-eoffice")
    page = await admin.post("/ui/admin/systems/tay-eoffice/bindings", {"agency_code": "000.00.00.H97"})
    assert "nay phục vụ 000.00.00.H97" in page
    refused = await admin.post("/ui/admin/systems/tay-eoffice/bindings", {"agency_code": "000.00.00.H98"})
    assert "«000.00.00.H98» đã do" in refused  # by name: which system holds it

    certificate = pki.cert_pem(pki.issue(world.ca, "000.00.00.H97", "UBND Tây", days=10).certificate)
    page = await admin.post("/ui/admin/systems/tay-eoffice/certificates", {"pem": certificate.decode()})
    assert "Sắp hết hạn" in page  # ten days left: the page warns

    page = await admin.post("/ui/admin/systems/tay-eoffice/tokens", {"label": "máy chủ chính"})
    token = re.search(r'class="wrap secret-value">(axs_[^<]+)<', page)
    assert token is not None
    assert "Chỉ hiển thị một lần" in page
    response = await world.client.get("/api/v1/inbox", headers={"Authorization": f"Bearer {token.group(1)}"})
    assert response.status == 200
    assert token.group(1) not in await admin.get("/ui/admin/systems/tay-eoffice")  # shown once only
    await admin.post("/ui/admin/systems/tay-eoffice/tokens/revoke", {"token_id": _token_id(page), "confirm": "1"})
    response = await world.client.get("/api/v1/inbox", headers={"Authorization": f"Bearer {token.group(1)}"})
    assert response.status == 401

    page = await admin.post("/ui/admin/systems/tay-eoffice/amqp")
    assert "axis-sys-tay-eoffice" in page
    assert "axis.system.tay-eoffice" in page
    async with Management(world.settings.amqp_management_url) as management:
        await management.revoke_system(world.vhost, "tay-eoffice")

    assert await actions(world) == [
        "system.create",
        "agency.create",
        "system.bind",
        "system.certificate.add",
        "system.token.issue",
        "system.token.revoke",
        "system.update",
    ]


def _token_id(page: str) -> str:
    found = re.search(r"Token #(\d+) mới", page)
    assert found is not None
    return found.group(1)


async def test_failed_deliveries_are_listed_on_the_system_page_and_sent_again_once_it_is_active(
    world: World, people: Any, visit: Any
) -> None:
    document = world.document(to=("000.00.00.H99",))
    package_id = (await world.post(world.signed(document)))["package_id"]
    admin = visit()
    await admin.log_in("quantri")
    await admin.get("/ui/admin/systems/nam")
    assert "Không có văn bản nào chuyển thất bại." in admin.last
    off = {"name": "Hệ thống nam", "contact": "", "delivery": "http", "allow_sha1": "", "allow_unsigned": ""}
    page = await admin.post("/ui/admin/systems/nam/settings", off)  # "active" unticked: disabled
    assert "1 văn bản chưa đến được hệ thống này" in page
    assert "Hệ thống nhận đã bị vô hiệu hóa" in page
    assert "Gửi lại tất cả" not in page  # it would only fail again
    assert '<a href="/ui/admin/systems/nam#failed-title"><span class="tag bad">1</span></a>' in await admin.get(
        "/ui/admin/systems"
    )
    await admin.get("/ui/admin/systems/nam")
    refused = await admin.post("/ui/admin/systems/nam/requeue", {"package_id": package_id})
    assert "đang bị vô hiệu hóa; quản trị viên cần kích hoạt lại trước." in refused

    await admin.post("/ui/admin/systems/nam/settings", off | {"active": "1"})
    assert "Gửi lại tất cả (1)" in admin.last
    page = await admin.post("/ui/admin/systems/nam/requeue", {"package_id": package_id})
    assert "Đã gửi lại 1 văn bản cho hệ thống nam." in page
    assert "Không có văn bản nào chuyển thất bại." in page
    assert (await actions(world))[-1] == "system.requeue"
    inbox = await world.get("/api/v1/inbox", "south")
    assert [i["package_id"] for i in inbox["items"]] == [package_id]
    # Waiting longer than the acknowledgement deadline (none, here) is flagged in the list.
    assert "quá hạn nhận" not in await admin.get("/ui/admin/systems")
    world.axis.settings = dataclasses.replace(world.axis.settings, ack_deadline_hours=0.0)
    assert "quá hạn nhận" in await admin.get("/ui/admin/systems")

    # The sender's clerk sees on the document's timeline that the axis sent it again, and why.
    clerk = visit()
    await clerk.log_in("vanthu.bac")
    page = await clerk.get(f"/ui/documents/{package_id}")
    assert "Trục gửi lại lúc" in page
    assert "trước đó thất bại: Hệ thống nhận đã bị vô hiệu hóa" in page


async def test_an_agency_gets_its_qd20_code_moves_elsewhere_in_the_tree_and_another_merges(
    world: World, people: Any, visit: Any
) -> None:
    admin = visit()
    await admin.log_in("quantri")
    await admin.get("/ui/admin/agencies")
    for code, name in (
        ("000.00.00.H97", "UBND Tỉnh Thử Nghiệm Tây"),
        ("000.00.21.H97", "Sở Nội vụ Tây"),
        ("000.00.22.H97", "Sở Tư pháp Tây"),
    ):
        await admin.post("/ui/admin/agencies", {"code": code, "name": name})

    page = await admin.post("/ui/admin/agencies/000.00.21.H97/qd20", {"code_qd20": "H97.21"})
    assert "Đã đặt mã QĐ 20/2020 của 000.00.21.H97: H97.21." in page
    refused = await admin.post("/ui/admin/agencies/000.00.21.H97/move", {"new_code": "000.00.22.H97", "confirm": "1"})
    assert "Đã có cơ quan mang mã «000.00.22.H97»." in refused
    assert "<h1>Sở Nội vụ Tây</h1>" in refused  # back on the agency being moved
    page = await admin.post("/ui/admin/agencies/000.00.21.H97/move", {"new_code": "000.00.31.H98", "confirm": "1"})
    assert "Đã chuyển 000.00.21.H97 sang mã 000.00.31.H98" in page
    assert "Sở Nội vụ Tây" in page
    assert "UBND Tỉnh Thử Nghiệm Bắc" in page  # its parent now: the northern province
    old = await admin.get("/ui/admin/agencies/000.00.21.H97")
    assert 'href="/ui/admin/agencies/000.00.31.H98"' in old  # its successor: documents still arrive

    await admin.post("/ui/admin/agencies/000.00.22.H97/merge", {"into": "000.00.00.H97", "confirm": "1"})
    assert "Đã sáp nhập 000.00.22.H97 vào 000.00.00.H97" in admin.last
    assert await actions(world) == [
        "agency.create",
        "agency.create",
        "agency.create",
        "agency.set_qd20",
        "agency.create",
        "agency.move",
        "agency.merge",
    ]


async def test_system_page_requires_mutual_tls_and_issues_an_sdk_secret_shown_once(
    world: World, people: Any, visit: Any
) -> None:
    admin = visit()
    await admin.log_in("quantri")
    await admin.get("/ui/admin/systems/nam")
    settings = {"name": "Hệ thống nam", "contact": "", "delivery": "http", "active": "1"}
    await admin.post("/ui/admin/systems/nam/settings", settings | {"require_client_certificate": "1"})
    assert 'name="require_client_certificate" value="1" checked' in admin.last
    conn = await db.connect(world.settings.database_url)
    try:
        assert (await systems.require(conn, "nam")).require_client_certificate
    finally:
        await conn.close()

    # No key to seal SDK secrets yet: the page does not make one the other processes would lack.
    refused = await admin.post("/ui/admin/systems/nam/sdk-secret", {"keep_hours": "0"})
    assert "Trục chưa có khóa niêm phong khóa bí mật SDK" in refused
    SecretBox.load_or_create(world.settings.vdxp_key_path)
    # A typo in the hours would revoke the secret in use at once: nothing is issued.
    typo = await admin.post("/ui/admin/systems/nam/sdk-secret", {"keep_hours": "2h"})
    assert "Số giờ «2h» không hợp lệ (từ 0 đến 720); chưa cấp khóa nào." in typo
    page = await admin.post("/ui/admin/systems/nam/sdk-secret", {"keep_hours": "2"})
    found = re.search(r'<dt>secret</dt><dd><code class="wrap secret-value">([^<]+)</code>', page)
    assert found is not None
    assert "còn dùng được 2 giờ" in page
    assert found.group(1) not in await admin.get("/ui/admin/systems/nam")  # shown once
    assert (await actions(world))[-2:] == ["system.update", "system.sdk_secret.issue"]


async def test_the_administrator_connects_this_axis_to_the_national_one_from_its_page(
    world: World, people: Any, visit: Any
) -> None:
    """The link to the axis above: where it is, who this axis is there, what stays here; then its
    secret, typed once and never shown again. A wrong address is refused in Vietnamese."""
    admin = visit()
    await admin.log_in("quantri")
    page = await admin.get("/ui/admin/upstream")
    assert "chưa được kết nối lên trục cấp trên" in page
    assert "Khóa bí mật do trục cấp trên cấp" not in page  # a secret only for a link that exists

    refused = await admin.post(
        "/ui/admin/upstream",
        {"endpoint": "truc.example.gov.vn", "system_id": "000.00.00.H98", "serves": "000.00.00.H98"},
    )
    assert "URL http(s) đầy đủ" in refused

    page = await admin.post(
        "/ui/admin/upstream",
        {
            "endpoint": "https://truc.example.gov.vn/vdxp",
            "system_id": "000.00.00.H98",
            "serves": "000.00.00.H98\n000.00.11.H98",
        },
    )
    assert "Đã lưu kết nối lên trục cấp trên." in page
    assert "https://truc.example.gov.vn/vdxp" in page
    assert "000.00.11.H98" not in page.split("Phạm vi tự phục vụ")[1].split("</dd>")[0]  # within the province
    assert "Chưa đặt" in page

    page = await admin.post("/ui/admin/upstream/secret", {"secret": "do-truc-quoc-gia-cap"})
    assert "khóa không hiển thị lại" in page
    assert "do-truc-quoc-gia-cap" not in page
    assert "Đã đặt lúc" in page
    assert (await actions(world))[-2:] == ["upstream.configure", "upstream.secret"]
