"""Every page renders for the role it is for: clerks see their documents, administrators the registry."""

from __future__ import annotations

import csv
import dataclasses
import io
import urllib.parse
from typing import Any

import builders
from world import World, status_of, wait_until

from axis.edxml import model as m


async def test_clerk_searches_opens_and_downloads_a_document(world: World, people: Any, visit: Any) -> None:
    document = world.document(to=("000.00.00.H99", "000.00.00.G98"), subject="Về việc tăng cường ứng dụng chữ ký số")
    accepted = await world.post(world.signed(document))
    package_id = accepted["package_id"]
    await world.post(
        world.signed(status_of(document, m.StatusCode.ARRIVED, "south", "000.00.00.H99"), by="south"), by="south"
    )

    clerk = visit()
    await clerk.log_in("vanthu.bac")
    page = await clerk.get("/ui/documents?q=chu+ky+so")
    assert "Về việc tăng cường ứng dụng chữ ký số" in page
    assert f"/ui/documents/{package_id}" in page
    assert "Về việc" not in await clerk.get("/ui/documents?q=khong+co+tu+nay")
    for query in (
        "code=125%2FUBND-VP",
        "from=20%2F11%2F2026&to=20%2F11%2F2026",
        "counterpart=000.00.00.H99",
        "direction=sent",
    ):
        assert f"/ui/documents/{package_id}" in await clerk.get(f"/ui/documents?{query}"), query
    assert f"/ui/documents/{package_id}" not in await clerk.get("/ui/documents?direction=received")
    # Where it stands, from the list: the southern province has it, the ministry not yet.
    assert '<span class="tag warn">1 chờ nhận</span> <span class="tag ok">1 đã nhận</span>' in page
    assert f"/ui/documents/{package_id}" in await clerk.get("/ui/documents?delivery=waiting")
    for query in ("delivery=failed", "delivery=done"):
        assert f"/ui/documents/{package_id}" not in await clerk.get(f"/ui/documents?{query}"), query

    page = await clerk.get(f"/ui/documents/{package_id}")
    assert "125/UBND-VP" in page
    assert "20/11/2026" in page
    assert "Đã đến" in page
    assert "Nguyễn Thị Thử" in page
    assert "cong-van-125.pdf" in page

    response = await clerk.response(f"/ui/documents/{package_id}/attachments/1")
    assert response.status == 200
    assert await response.read() == b"noi dung thu"
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="cong-van-125.pdf"')
    assert (await clerk.response(f"/ui/documents/{package_id}/attachments/2")).status == 404


async def test_administrator_pages_render(world: World, people: Any, visit: Any) -> None:
    admin = visit()
    await admin.log_in("quantri")
    assert "000.00.00.H98" in await admin.get("/ui/admin/agencies")
    assert "Tây" not in await admin.get("/ui/admin/agencies?q=thu+nghiem+nam")
    assert "000.00.11.H99" in await admin.get("/ui/admin/agencies?q=tai+chinh")
    page = await admin.get("/ui/admin/agencies/000.00.00.H99")
    assert "000.00.11.H99" in page  # its child
    page = await admin.get("/ui/admin/systems")
    assert "nam-stc" in page
    page = await admin.get("/ui/admin/systems/bac")
    assert "Còn hiệu lực" in page
    assert "000.00.00.H98" in page
    assert "agency.create" in await admin.get("/ui/admin/history")
    assert "vanthu.bac" in await admin.get("/ui/admin/users")
    assert "Tải tệp lên" in await admin.get("/ui/admin/import")
    quoted = urllib.parse.quote("000.00.00.H98")
    assert "Lịch sử" in await admin.get(f"/ui/admin/history?kind=agency&id={quoted}")


async def test_clerk_opens_a_large_document_and_downloads_its_attachments(
    world: World, people: Any, visit: Any
) -> None:
    """A package stored in chunks shows like any other: its attachments named, sized, downloadable.
    The scan's base64 is wrapped in lines of 76 characters, as mail-minded SDKs write it."""
    scan = builders.attachment_of_size(1_300_000, "ban-ve.pdf")
    lines = [scan.encoded[i : i + 76] for i in range(0, len(scan.encoded), 76)]
    scan = dataclasses.replace(scan, encoded="\r\n".join(lines))
    letter = m.Attachment.from_bytes("thu", "cong-van.pdf", "application/pdf", b"%PDF-1.7 thu")
    document = world.document(to=("000.00.00.H99",), number="77", attachments=(letter, scan))
    package_id = (await world.post(world.signed(document)))["package_id"]

    clerk = visit()
    await clerk.log_in("vanthu.bac")
    page = await clerk.get(f"/ui/documents/{package_id}")
    assert "ban-ve.pdf" in page
    assert "1,2 MB" in page  # the size is known although the page never keeps the base64
    assert "12 B" in page
    for index, attachment in enumerate((letter, scan), start=1):
        response = await clerk.response(f"/ui/documents/{package_id}/attachments/{index}")
        assert response.status == 200
        assert response.content_length == attachment.size
        assert await response.read() == attachment.content()

    # While the process receives as many bytes as its operators allow, a large document waits.
    gate = world.axis.intake_gate
    await wait_until(lambda: gate.bytes_in_flight == 0)  # the downloads' handlers let their budget go
    async with gate.enter(gate.byte_budget):
        page = await clerk.get(f"/ui/documents/{package_id}", expect=503)
        assert "Trục đang xử lý nhiều gói tin cùng lúc; hãy thử lại sau" in page
    assert "ban-ve.pdf" in await clerk.get(f"/ui/documents/{package_id}")


async def test_clerk_downloads_the_register_of_what_the_search_found(world: World, people: Any, visit: Any) -> None:
    """The list as a file for a spreadsheet: every match, Vietnamese intact, no formulas."""
    plain = world.document(to=("000.00.00.H99",), number="31", subject="Về việc lập sổ văn bản")
    hostile = world.document(to=("000.00.00.H99",), number="32", subject='=HYPERLINK("http://x.test","Bấm")')
    for document in (plain, hostile):
        await world.post(world.signed(document))

    clerk = visit()
    await clerk.log_in("vanthu.bac")
    page = await clerk.get("/ui/documents?direction=sent")
    assert 'href="/ui/documents.csv?direction=sent"' in page
    response = await clerk.response("/ui/documents.csv?direction=sent")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-16"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="so-van-ban-bac-')
    data = await response.read()
    assert data.startswith(b"\xff\xfe")  # UTF-16LE with its mark, tab-separated: as Excel writes it
    header, *rows = list(csv.reader(io.StringIO(data.decode("utf-16")), delimiter="\t"))
    assert header[:4] == ["Số/ký hiệu", "Trích yếu", "Ngày ban hành", "Chiều"]
    by_number = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    first = by_number["31/UBND-VP"]
    assert (first["Trích yếu"], first["Ngày ban hành"], first["Chiều"]) == (
        "Về việc lập sổ văn bản",
        "20/11/2026",
        "Đã gửi",
    )
    assert (first["Mã cơ quan gửi"], first["Nơi nhận chờ nhận"], first["Mã văn bản (DocumentId)"]) == (
        "000.00.00.H98",
        "1",
        plain.document_id,
    )
    assert by_number["32/UBND-VP"]["Trích yếu"] == '\'=HYPERLINK("http://x.test","Bấm")'  # shown, never run
    # The recipient's clerk keeps the same documents in the register of what came in.
    other = visit()
    await other.log_in("vanthu.nam")
    assert await register_rows(other, "direction=sent") == []
    incoming = await register_rows(other, "direction=received")
    assert sorted((row[0], row[3]) for row in incoming) == [("31/UBND-VP", "Đã nhận"), ("32/UBND-VP", "Đã nhận")]


async def register_rows(clerk: Any, query: str) -> list[list[str]]:
    """The register's rows, without its header."""
    response = await clerk.response(f"/ui/documents.csv?{query}")
    _, *rows = csv.reader(io.StringIO((await response.read()).decode("utf-16")), delimiter="\t")
    return rows


async def test_the_search_form_suggests_the_agencies_a_system_exchanged_documents_with(
    world: World, people: Any, visit: Any
) -> None:
    """The sender's clerk is offered the recipients; a recipient's clerk the sender, and not the
    other recipients, with whom it exchanged nothing (kept at intake: migration 018)."""
    await world.post(world.signed(world.document(to=("000.00.00.H99", "000.00.00.G98"))))
    sender = visit()
    await sender.log_in("vanthu.bac")
    offered = await sender.get("/ui/documents")
    assert '<option value="000.00.00.H99">' in offered
    assert '<option value="000.00.00.G98">' in offered
    recipient = visit()
    await recipient.log_in("vanthu.nam")
    offered = await recipient.get("/ui/documents")
    assert '<option value="000.00.00.H98">' in offered
    assert '<option value="000.00.00.G98">' not in offered
