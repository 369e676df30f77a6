"""Packages written the way the public SDK examples write them parse and validate."""

from __future__ import annotations

import datetime as dt

import builders
import pytest

from axis.edxml import build, parse
from axis.edxml import model as m
from axis.edxml.namespaces import EDXML_NS

# The shape of EDXML.md's SDK examples: unprefixed root with a default namespace, prefixed
# children, AttachmentEncoded outside the envelope, "Bussiness", YYYY/MM/DD dates, components out
# of the standard's order (DocumentId right after To).
SDK_STYLE = f"""<?xml version="1.0" encoding="UTF-8"?>
<edXML xmlns="{EDXML_NS}">
  <edXML:edXMLEnvelope xmlns:edXML="{EDXML_NS}">
    <edXML:edXMLHeader>
      <edXML:MessageHeader>
        <edXML:From><edXML:OrganId>000.00.00.H98</edXML:OrganId><edXML:OrganName>UBND Tỉnh Thử Nghiệm Bắc</edXML:OrganName></edXML:From>
        <edXML:To><edXML:OrganId>000.00.00.H99</edXML:OrganId></edXML:To>
        <edXML:DocumentId>000.00.00.H98,2026/11/20,125/UBND-VP</edXML:DocumentId>
        <edXML:Code><edXML:CodeNumber>125</edXML:CodeNumber><edXML:CodeNotation>UBND-VP</edXML:CodeNotation></edXML:Code>
        <edXML:PromulgationInfo><edXML:Place>Bắc</edXML:Place><edXML:PromulgationDate>2026/11/20</edXML:PromulgationDate></edXML:PromulgationInfo>
        <edXML:DocumentType><edXML:Type>1</edXML:Type><edXML:TypeDetail>0</edXML:TypeDetail><edXML:TypeName>Công văn</edXML:TypeName></edXML:DocumentType>
        <edXML:Subject>V/v thử nghiệm</edXML:Subject>
        <edXML:DueDate/>
        <edXML:SteeringType>0</edXML:SteeringType>
      </edXML:MessageHeader>
      <edXML:TraceHeaderList>
        <edXML:TraceHeader><edXML:OrganId>000.00.00.H98</edXML:OrganId><edXML:Timestamp>2026/11/20 09:30:00</edXML:Timestamp></edXML:TraceHeader>
        <edXML:Bussiness><edXML:BussinessDocType>0</edXML:BussinessDocType><edXML:BussinessDocReason>Văn bản mới</edXML:BussinessDocReason><edXML:Paper>0</edXML:Paper></edXML:Bussiness>
      </edXML:TraceHeaderList>
    </edXML:edXMLHeader>
    <edXML:edXMLBody>
      <edXML:edXMLManifest version="1.0">
        <edXML:Reference><edXML:ContentId>cid:1</edXML:ContentId><edXML:ContentType>application/pdf</edXML:ContentType><edXML:AttachmentName>cv.pdf</edXML:AttachmentName></edXML:Reference>
      </edXML:edXMLManifest>
    </edXML:edXMLBody>
  </edXML:edXMLEnvelope>
  <AttachmentEncoded>
    <Attachment><ContentId>cid:1</ContentId><AttachmentName>cv.pdf</AttachmentName><ContentType>application/pdf</ContentType>
      <edXML:ContentTransferEncoded xmlns:edXML="{EDXML_NS}">JVBERi0xLjcK</edXML:ContentTransferEncoded></Attachment>
  </AttachmentEncoded>
</edXML>"""


def test_sdk_example_shape_parses() -> None:
    doc = parse(SDK_STYLE.encode()).package
    assert isinstance(doc, m.DocumentPackage)
    assert doc.document_id == "000.00.00.H98,2026/11/20,125/UBND-VP"
    assert doc.promulgation.date == dt.date(2026, 11, 20)
    assert doc.attachments[0].content() == b"%PDF-1.7\n"


@pytest.mark.parametrize("prefix", ["ns0", "q", "x1"])
def test_same_package_with_another_prefix_parses_the_same(prefix: str) -> None:
    renamed = SDK_STYLE.replace("edXML:", f"{prefix}:").replace("xmlns:edXML=", f"xmlns:{prefix}=")
    assert parse(renamed.encode()).package == parse(SDK_STYLE.encode()).package


def test_fully_prefixed_package_as_the_axis_writes_it_parses() -> None:
    data = build(builders.document())
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<edXML:edXML")
    assert parse(data).package == builders.document()


def test_dmy_dates_are_read_and_reported() -> None:
    dmy = SDK_STYLE.replace("<edXML:PromulgationDate>2026/11/20", "<edXML:PromulgationDate>20/11/2026")
    parsed = parse(dmy.encode())
    assert isinstance(parsed.package, m.DocumentPackage)
    assert parsed.package.promulgation.date == dt.date(2026, 11, 20)
    assert [q.code for q in parsed.quirks] == ["quirk.date.dmy"]


def test_iso_timestamps_are_accepted() -> None:
    iso = SDK_STYLE.replace("2026/11/20 09:30:00", "2026-11-20T02:30:00Z")
    doc = parse(iso.encode()).package
    assert isinstance(doc, m.DocumentPackage)
    assert doc.traces[0].timestamp == dt.datetime(2026, 11, 20, 9, 30, tzinfo=m.VN_TZ)


def test_status_fourteen_is_read_as_fifteen() -> None:
    status = build(builders.status(m.StatusCode.AGREED)).replace(b">15<", b">14<")
    parsed = parse(status)
    assert isinstance(parsed.package, m.StatusPackage)
    assert parsed.package.status_code is m.StatusCode.AGREED
    assert "quirk.status.alias_14" in {q.code for q in parsed.quirks}
