"""Packages for tests, built from plain values like agency software would."""

from __future__ import annotations

import datetime as dt
import os

from axis.edxml import model as m

NORTH = "000.00.00.H98"
SOUTH = "000.00.00.H99"
MINISTRY = "000.00.00.G98"


def document(
    sender: str = NORTH,
    recipients: tuple[str, ...] = (SOUTH, MINISTRY),
    *,
    number: str = "125",
    notation: str = "UBND-VP",
    subject: str = "V/v triển khai thử nghiệm trục liên thông văn bản điện tử",
    attachments: tuple[m.Attachment, ...] | None = None,
    business: m.Business = m.Business(),
    date: dt.date = dt.date(2026, 11, 20),
) -> m.DocumentPackage:
    code = m.Code(number, notation)
    if attachments is None:
        # Not a PDF's bytes, whatever the name: its signatures are not looked for (verdict none). A
        # story about file signatures attaches a real one (tests/pdfs.py).
        attachments = (m.Attachment.from_bytes("1", "cong-van-125.pdf", "application/pdf", b"noi dung thu"),)
    return m.DocumentPackage(
        sender=m.Organization(sender, "UBND Tỉnh Thử Nghiệm Bắc", "Tỉnh Thử Nghiệm Bắc", email="vt@bac.test"),
        recipients=tuple(m.Organization(code_, f"Cơ quan {code_}") for code_ in recipients),
        code=code,
        promulgation=m.PromulgationInfo("Thành phố Bắc", date),
        document_type=m.DocumentType(1, 0, "Công văn"),
        subject=subject,
        document_id=m.document_id_for(sender, date, code),
        content="Nội dung: đề nghị các cơ quan phối hợp.",
        signer_info=m.SignerInfo("KT. CHỦ TỊCH", "Phó Chủ tịch", "Nguyễn Văn Thử"),
        due_date=date + dt.timedelta(days=10),
        to_places=("Như trên", "Lưu: VT"),
        other_info=m.OtherInfo(priority=1, promulgation_amount=2, page_amount=3, appendixes=("Phụ lục I",)),
        steering_type=0,
        traces=(m.TraceHeader(sender, dt.datetime(2026, 11, 20, 9, 30, tzinfo=m.VN_TZ)),),
        business=business,
        attachments=attachments,
    )


def status(
    code: m.StatusCode = m.StatusCode.ARRIVED,
    *,
    sender: str = SOUTH,
    answering: m.DocumentPackage | None = None,
) -> m.StatusPackage:
    doc = answering or document()
    return m.StatusPackage(
        sender=m.Organization(sender, "UBND Tỉnh Thử Nghiệm Nam"),
        response_for=m.ResponseFor(doc.sender.organ_id, str(doc.code), doc.promulgation.date, doc.document_id),
        status_code=code,
        timestamp=dt.datetime(2026, 11, 20, 10, 15, 0, tzinfo=m.VN_TZ),
        description="Đã đến",
        staff=m.StaffInfo("Văn phòng", "Trần Thị Văn Thư", "0900000000", "vanthu@nam.test"),
    )


def attachment_of_size(size: int, name: str = "phu-luc.pdf") -> m.Attachment:
    """An attachment of ``size`` random-looking bytes (incompressible, like a real PDF)."""
    return m.Attachment.from_bytes("big", name, "application/pdf", os.urandom(size))


def with_edxml_signature(data: bytes) -> bytes:
    """An unsigned package as the national SDK's EdXML102 library writes one: a ``Signature``
    element in the edXML namespace at the end of the header, shaped like a signature and signing
    nothing (the axis counts such a package as unsigned)."""
    dummy = (
        b"<edXML:Signature><edXML:SignedInfo>"
        b'<edXML:SignatureMethod Algorithm="http://www.w3.org/2000/09/xmldsig#rsa-sha1"/>'
        b"</edXML:SignedInfo><edXML:SignatureValue>R2JWYjhuOStxRnh6NDY2QWcw</edXML:SignatureValue>"
        b"</edXML:Signature>"
    )
    end = b"</edXML:edXMLHeader>"
    assert data.count(end) == 1
    return data.replace(end, dummy + end)
