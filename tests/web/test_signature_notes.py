"""A clerk is told when no proper XML signature stood behind what they read: a document accepted
without one (``legacy:unsigned``) or with a SHA-1 one (``legacy:sha1``) under the sending system's
legacy policy, and statuses, updates or replacements that came in that way. Strictly signed
packages show nothing new."""

from __future__ import annotations

import re
from typing import Any

import builders
from world import World, status_of

from axis.edxml import build
from axis.edxml import model as m
from axis.web import vietnamese

SOUTH = "000.00.00.H99"
UNSIGNED_TAG = '<span class="tag warn">Không có chữ ký số XML</span>'
SHA1_TAG = '<span class="tag warn">Chữ ký số SHA-1 (lỗi thời)</span>'


def row_of(page: str, package_id: str) -> str:
    """The list's table row that links to the package."""
    rows = [row for row in re.findall(r"<tr>.*?</tr>", page, flags=re.S) if f"/ui/documents/{package_id}" in row]
    assert len(rows) == 1, rows
    return rows[0]


def text_of(html: str) -> str:
    """The page's text as a person reads it: no tags, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


async def test_a_clerk_sees_that_a_document_arrived_without_an_xml_signature(
    world: World, people: Any, visit: Any
) -> None:
    await world.relax_signature_policy("north", unsigned=True)
    document = world.document(to=(SOUTH,), subject="Về việc gửi văn bản không ký số")
    package_id = (await world.post(build(document)))["package_id"]

    clerk = visit()
    await clerk.log_in("vanthu.nam")
    page = await clerk.get(f"/ui/documents/{package_id}")
    words = text_of(page)
    assert "Văn bản không có chữ ký số XML" in words
    assert (
        "Gói tin không có chữ ký số XML; trục chấp nhận theo chính sách chuyển tiếp của Hệ thống bac (bac)."
    ) in words
    assert "Hãy kiểm tra chữ ký số trên tệp văn bản đính kèm." in words
    # Near the top: right under the title, before the document's fields.
    assert page.index('id="signature-note"') < page.index('id="header-fields"')
    assert 'aria-labelledby="signature-note"' in page
    # The page says it once: the document's own deliveries are not marked again in the timeline.
    assert UNSIGNED_TAG not in page

    listed = await clerk.get("/ui/documents")
    assert UNSIGNED_TAG in row_of(listed, package_id)

    # The sender's clerk sees it too, told that the recipients are warned.
    sender = visit()
    await sender.log_in("vanthu.bac")
    words = text_of(await sender.get(f"/ui/documents/{package_id}"))
    assert "Văn bản không có chữ ký số XML" in words
    assert "Nơi nhận cũng thấy lưu ý này và được đề nghị kiểm tra chữ ký số trên tệp văn bản đính kèm." in words
    assert UNSIGNED_TAG in row_of(await sender.get("/ui/documents"), package_id)


async def test_a_clerk_sees_that_a_document_from_the_national_sdk_carries_no_xml_signature(
    world: World, people: Any, visit: Any
) -> None:
    """The EdXML102 library writes a Signature in the edXML namespace: it signs nothing."""
    await world.relax_signature_policy("north", unsigned=True)
    document = world.document(to=(SOUTH,), number="102")
    package_id = (await world.post(builders.with_edxml_signature(build(document))))["package_id"]
    clerk = visit()
    await clerk.log_in("vanthu.nam")
    assert "Văn bản không có chữ ký số XML" in text_of(await clerk.get(f"/ui/documents/{package_id}"))


async def test_a_clerk_sees_that_a_document_was_signed_with_sha1(world: World, people: Any, visit: Any) -> None:
    await world.relax_signature_policy("north", sha1=True)
    document = world.document(to=(SOUTH,), number="11")
    package_id = (await world.post(world.signed(document, sha1=True)))["package_id"]

    clerk = visit()
    await clerk.log_in("vanthu.nam")
    page = await clerk.get(f"/ui/documents/{package_id}")
    words = text_of(page)
    assert "Văn bản ký số bằng thuật toán SHA-1 đã lỗi thời" in words
    assert (
        "Chữ ký số XML của gói tin dùng thuật toán SHA-1, nay không còn đủ an toàn; trục chấp nhận theo chính "
        "sách chuyển tiếp của Hệ thống bac (bac)."
    ) in words
    assert "Hãy kiểm tra chữ ký số trên tệp văn bản đính kèm." in words
    assert "Văn bản không có chữ ký số XML" not in words
    assert SHA1_TAG in row_of(await clerk.get("/ui/documents"), package_id)


async def test_a_clerk_sees_which_status_and_update_came_without_an_xml_signature(
    world: World, people: Any, visit: Any
) -> None:
    """The document was signed; the recipient's 01 and the sender's update were not."""
    document = world.document(to=(SOUTH,), number="13")
    package_id = (await world.post(world.signed(document)))["package_id"]
    await world.relax_signature_policy("south", unsigned=True)
    await world.post(build(status_of(document, m.StatusCode.ARRIVED, "south", SOUTH)), by="south")
    await world.relax_signature_policy("north", unsigned=True)
    update = builders.document(
        sender=document.sender.organ_id,
        recipients=(SOUTH,),
        number="13",
        business=m.Business(doc_type=m.BusinessDocType.UPDATE, reason="Bổ sung phụ lục"),
    )
    update_id = (await world.post(build(update)))["package_id"]

    clerk = visit()
    await clerk.log_in("vanthu.bac")
    page = await clerk.get(f"/ui/documents/{package_id}")
    assert 'id="signature-note"' not in page  # the document itself was signed
    steps = re.findall(r'<li class="step[^"]*">.*?</li>', page, flags=re.S)
    marked = [text_of(step) for step in steps if UNSIGNED_TAG in step]
    assert len(marked) == 3, marked
    delivery, request, arrived = marked
    assert delivery.startswith("Cập nhật: Đang chờ nhận Không có chữ ký số XML")
    assert request.startswith("Yêu cầu cập nhật")
    assert arrived.startswith("01 Đã đến")
    listed = await clerk.get("/ui/documents")
    assert UNSIGNED_TAG not in row_of(listed, package_id)
    assert UNSIGNED_TAG in row_of(listed, update_id)

    # The update's own page says it at the top, and does not mark its own delivery again.
    page = await clerk.get(f"/ui/documents/{update_id}")
    assert "Văn bản không có chữ ký số XML" in text_of(page)
    steps = re.findall(r'<li class="step[^"]*">.*?</li>', page, flags=re.S)
    marked = [text_of(step) for step in steps if UNSIGNED_TAG in step]
    assert [step.split()[:2] for step in marked] == [["Yêu", "cầu"], ["01", "Đã"]]


async def test_a_strictly_signed_document_shows_no_signature_note(world: World, people: Any, visit: Any) -> None:
    document = world.document(to=(SOUTH,), number="12")
    package_id = (await world.post(world.signed(document)))["package_id"]
    await world.post(world.signed(status_of(document, m.StatusCode.ARRIVED, "south", SOUTH), by="south"), by="south")

    clerk = visit()
    await clerk.log_in("vanthu.nam")
    page = await clerk.get(f"/ui/documents/{package_id}")
    for text in ("chữ ký số XML", "SHA-1", "chính sách chuyển tiếp", 'class="card notice"'):
        assert text not in page, text
    assert "tag warn" not in row_of(await clerk.get("/ui/documents"), package_id)


def test_the_note_names_the_sending_system_as_a_sentence_would() -> None:
    assert vietnamese.system_label("bac", "eOffice Tỉnh Bắc") == "hệ thống eOffice Tỉnh Bắc (bac)"
    assert vietnamese.system_label("bac", "Hệ thống quản lý văn bản Bắc") == "Hệ thống quản lý văn bản Bắc (bac)"
    assert vietnamese.system_label("bac", "") == "hệ thống bac"
