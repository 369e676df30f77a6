"""A clerk reads, on a document's page, what the axis found about the signatures inside its files
(Decree 30/2020/NĐ-CP: the signer's own and the issuing agency's): who signed each PDF, as whom,
when, and whether it holds, in Vietnamese; and one line near the top saying it all."""

from __future__ import annotations

import dataclasses
import inspect
import io
import re
import uuid
import zipfile
from typing import Any

import builders
from pdfs import altered_after_signing, blank_pdf, cast_for, decree, with_file
from world import World

from axis import errors
from axis.edxml import model as m
from axis.files import findings, judge
from axis.files import store as files_store
from axis.files.findings import Verdict
from axis.store import db
from axis.web import file_wording, messages, vietnamese

NORTH, SOUTH = "000.00.00.H98", "000.00.00.H99"
NORTH_NAME = "UBND Tỉnh Thử Nghiệm Bắc"
WORD = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def verdict_of(page: str) -> str:
    """The one line near the top, as text."""
    match = re.search(r'<p class="[^"]*" id="file-verdict">.*?</p>', page, flags=re.S)
    assert match, "no verdict line"
    return text_of(match.group(0))


def signatures_of(page: str) -> str:
    """The section on the files' signatures, as text."""
    return text_of(page[page.index('id="file-signatures"') : page.index('id="timeline-title"')])


async def check_of(world: World, package_id: str) -> findings.DocumentCheck:
    conn = await db.connect(world.settings.database_url)
    try:
        check = await files_store.load(conn, uuid.UUID(package_id))
    finally:
        await conn.close()
    assert check is not None
    return check


async def page_of(visit: Any, username: str, package_id: str) -> str:
    clerk = visit()
    await clerk.log_in(username)
    page: str = await clerk.get(f"/ui/documents/{package_id}")
    return page


async def test_the_recipient_reads_who_signed_the_decision_as_whom_and_when_and_that_it_holds(
    world: World, people: Any, visit: Any
) -> None:
    signers = cast_for(world.ca, NORTH, NORTH_NAME)
    package_id = (await world.post(with_file(world, decree(signers))))["package_id"]
    check = await check_of(world, package_id)
    assert check.verdict is Verdict.VALID
    person, agency = check.files[0].signatures

    page = await page_of(visit, "vanthu.nam", package_id)
    line = verdict_of(page)
    assert line.startswith("✓ Chữ ký số trên tệp văn bản hợp lệ.")
    assert f"Tệp chính do Nguyễn Văn An (Chủ tịch) và {NORTH_NAME} ký số." in line
    assert 'class="flash verdict ok"' in page
    # Near the top: right under the title, before the document's fields.
    assert page.index('id="file-verdict"') < page.index('id="header-fields"')

    section = signatures_of(page)
    assert "quyet-dinh.pdf Tệp chính ✓ Chữ ký số hợp lệ" in section
    assert (
        f"Nguyễn Văn An , Chủ tịch Chữ ký cá nhân {NORTH_NAME} {vietnamese.clock(person.signed_at)} ✓ Hợp lệ" in section
    )
    assert (
        f"{NORTH_NAME} Chữ ký của cơ quan {NORTH_NAME} {NORTH} {vietnamese.clock(agency.signed_at)} ✓ Hợp lệ" in section
    )
    assert "Chứng thư số do World CA cấp, hiệu lực đến" in section
    assert f'<time datetime="{vietnamese.iso_vn(agency.signed_at)}">' in page
    assert "Không hợp lệ" not in section
    assert "file." not in section  # no code shown as it is written

    # The sender's clerk reads the same.
    assert verdict_of(await page_of(visit, "vanthu.bac", package_id)).startswith("✓ Chữ ký số trên tệp văn bản hợp lệ.")


async def test_a_clerk_is_told_that_a_decision_was_altered_after_it_was_signed(
    world: World, people: Any, visit: Any
) -> None:
    signers = cast_for(world.ca, NORTH, NORTH_NAME)
    altered = altered_after_signing(decree(signers))
    package_id = (await world.post(with_file(world, altered)))["package_id"]
    assert (await check_of(world, package_id)).verdict is Verdict.INVALID

    page = await page_of(visit, "vanthu.nam", package_id)
    line = verdict_of(page)
    assert line.startswith("✗ Chữ ký số trên tệp văn bản không hợp lệ. Tệp đã bị sửa đổi sau khi ký.")
    assert "Tệp chính không có chữ ký số hợp lệ của cơ quan gửi." in line
    assert 'class="flash verdict error"' in page

    section = signatures_of(page)
    assert "Tệp chính không có chữ ký số hợp lệ của cơ quan gửi." in section
    assert "quyet-dinh.pdf Tệp chính ✗ Có chữ ký số không hợp lệ" in section
    assert section.count("✗ Không hợp lệ Tệp đã bị sửa đổi sau khi ký.") == 2  # both signatures
    assert "Nguyễn Văn An , Chủ tịch Chữ ký cá nhân" in section  # still said who signed
    assert "✓" not in section

    # The list of received documents tags it, beside its subject, so it is seen before it is opened.
    clerk = visit()
    await clerk.log_in("vanthu.nam")
    listing = await clerk.get("/ui/documents")
    assert 'class="tag bad"><span aria-hidden="true">✗</span> Chữ ký số trên tệp không hợp lệ</span>' in listing


async def test_a_clerk_sees_the_signer_the_header_names_beside_the_one_who_signed_the_file(
    world: World, people: Any, visit: Any
) -> None:
    """A deputy signs "KT." for the head the header names: a warning, with both names."""
    signers = cast_for(world.ca, NORTH, NORTH_NAME)
    package_id = (await world.post(with_file(world, decree(signers), signer="Trần Thị Bình")))["package_id"]
    assert (await check_of(world, package_id)).verdict is Verdict.WARNING

    page = await page_of(visit, "vanthu.nam", package_id)
    assert verdict_of(page).startswith(
        "⚠ Chữ ký số trên tệp văn bản hợp lệ nhưng có điểm cần lưu ý. "
        "Người ký trong tệp khác người ký ghi trong văn bản (SignerInfo)."
    )
    assert 'class="flash verdict warn"' in page
    assert (
        "Người ký trong tệp khác người ký ghi trong văn bản (SignerInfo): văn bản ghi người ký là Chủ tịch "
        "Trần Thị Bình, tệp chính do Nguyễn Văn An ký."
    ) in signatures_of(page)


async def test_a_pdf_inside_a_zipped_appendix_is_shown_by_its_path(world: World, people: Any, visit: Any) -> None:
    signers = cast_for(world.ca, NORTH, NORTH_NAME)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("phu-luc/phu-luc-1.pdf", blank_pdf(text="Phu luc I"))
    document = dataclasses.replace(
        world.document(to=(SOUTH,), number="140"),
        signer_info=m.SignerInfo("TM. UBND", "Chủ tịch", "Nguyễn Văn An"),
        attachments=(
            m.Attachment.from_bytes("1", "quyet-dinh.pdf", "application/pdf", decree(signers)),
            m.Attachment.from_bytes("2", "phu-luc.zip", "application/zip", archive.getvalue()),
        ),
    )
    package_id = (await world.post(world.signed(document)))["package_id"]

    section = signatures_of(await page_of(visit, "vanthu.nam", package_id))
    assert "quyet-dinh.pdf Tệp chính ✓ Chữ ký số hợp lệ" in section
    assert "phu-luc.zip/phu-luc/phu-luc-1.pdf ⚠ Không có chữ ký số Tệp không có chữ ký số." in section


async def test_a_document_without_a_pdf_or_without_a_check_shows_its_page_as_before(
    world: World, people: Any, visit: Any
) -> None:
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w", zipfile.ZIP_DEFLATED) as word:  # a Word file is a zip, with no PDF in it
        word.writestr("word/document.xml", "<w:document/>")
    letter = m.Attachment.from_bytes("thu", "cong-van.docx", WORD, docx.getvalue())
    package_id = (await world.post(world.signed(world.document(to=(SOUTH,), attachments=(letter,)))))["package_id"]
    assert (await check_of(world, package_id)).verdict is Verdict.NONE
    page = await page_of(visit, "vanthu.nam", package_id)
    assert "Không có tệp PDF để kiểm tra chữ ký số." in text_of(page)
    assert 'id="file-signatures"' not in page
    assert "cơ quan gửi" not in text_of(page)  # nothing to complain about

    # A package from before the checks (or with AXIS_FILE_CHECK=0) has none: the page says nothing of it.
    older = (await world.post(world.signed(world.document(to=(SOUTH,), number="141"))))["package_id"]
    conn = await db.connect(world.settings.database_url)
    try:
        await conn.execute("DELETE FROM file_checks WHERE package_id = $1", uuid.UUID(older))
    finally:
        await conn.close()
    page = await page_of(visit, "vanthu.nam", older)
    assert "cong-van-125.pdf" in page
    for absent in ('id="file-verdict"', 'id="file-signatures"', "Không có tệp PDF"):
        assert absent not in page, absent


def test_every_file_problem_code_reads_in_vietnamese() -> None:
    """A new ``file.*`` code cannot ship unworded: the clerk would read the code."""
    found = {
        value
        for name, value in inspect.getmembers(findings)
        if name.isupper() and isinstance(value, str) and value.startswith("file.")
    }
    catalogued = {code for code in errors.CATALOGUE if code.startswith("file.")}
    # A refusal answered to the sending system, never a finding kept with a package.
    catalogued.discard("file.signature.required")
    assert len(found) >= 15
    assert found <= catalogued
    for code in found | catalogued:
        text = file_wording.PROBLEMS.get(code)
        assert text, f"{code} has no Vietnamese text in axis.web.file_wording.PROBLEMS"
        assert not text.isascii(), code
        assert not text.endswith("."), code  # the page adds the stop
        assert messages.MESSAGES[code] == f"{text}.", code  # the catalogue's Vietnamese is the same text
    assert set(file_wording.VERDICTS) == set(Verdict)
    assert file_wording.problem(findings.SIGNATURE_MODIFIED) == "Tệp đã bị sửa đổi sau khi ký"
    assert file_wording.issuer_name("CN=Ban Cơ yếu\\, Chính phủ,O=BCY,C=VN") == "Ban Cơ yếu, Chính phủ"
    assert file_wording.issuer_name("O=BCY,C=VN") == "O=BCY,C=VN"


def test_a_main_file_that_cannot_be_read_is_not_compared_with_the_header() -> None:
    """Unreadable, it has no signer to differ from the header's: its own problem says it all."""
    package = builders.document()
    unread = findings.FileCheck("cong-van-125.pdf", problems=(findings.FILE_MALFORMED,), detail="not a PDF")
    shown = file_wording.view(judge.judge([unread], package), package)
    assert shown.verdict is Verdict.INVALID
    assert shown.line.kind == "bad"
    assert shown.line.reasons == (file_wording.PROBLEMS[findings.FILE_MALFORMED],)
    assert shown.notes == ()
    assert shown.files[0].outcome.text == "Không đọc được tệp"

    # Signed by the person alone: the sending agency's signature is missing, said in the headline.
    person = findings.Signer("Nguyễn Văn Thử", "Phó Chủ tịch", organisation="UBND Tỉnh Thử Nghiệm Bắc")
    alone = findings.FileCheck("quyet-dinh.pdf", signatures=(findings.SignatureCheck("CaNhan", person, None),))
    shown = file_wording.view(judge.judge([alone], package), package)
    assert shown.verdict is Verdict.UNSIGNED
    assert shown.line.text == "Tệp văn bản không có chữ ký số hợp lệ của cơ quan gửi"
    assert shown.line.reasons == ()
    assert [note.text for note in shown.notes] == ["Tệp chính không có chữ ký số hợp lệ của cơ quan gửi"]
    assert shown.files[0].signatures[0].outcome.text == "Hợp lệ"
