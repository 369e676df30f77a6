"""The edXML XML Schemas accept what real SDKs send and refuse the rest with a stable, located code.

Packages here are written as raw XML on purpose: the schema is about spellings (prefixes, element
order, empty elements), which a builder from model values would normalise away.
"""

from __future__ import annotations

import re
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import xmlschema
from lxml import etree

from axis.edxml.namespaces import EDXML_NS
from axis.edxml.schema import DEFAULT_DIRECTORY, Kind, Schemas
from axis.errors import PackageError

DS = "http://www.w3.org/2000/09/xmldsig#"

# "px:" is replaced by the prefix under test; the envelope and the attachments declare it themselves,
# as the SDKs do, so the root may be written with or without a prefix.
DOCUMENT = f"""<?xml version="1.0" encoding="UTF-8"?>
ROOT_OPEN
  <px:edXMLEnvelope xmlns:px="{EDXML_NS}">
    <px:edXMLHeader>
      <px:MessageHeader>
        <px:From>
          <px:OrganId>000.00.00.G22</px:OrganId>
          <px:OrganName>Văn phòng Chính phủ</px:OrganName>
          <px:OrganAdd/>
        </px:From>
        <px:To>
          <px:OrganId>000.00.00.H53</px:OrganId>
        </px:To>
        <px:Code>
          <px:CodeNumber>7816</px:CodeNumber>
          <px:CodeNotation>VPCP-TTĐT</px:CodeNotation>
        </px:Code>
        <px:PromulgationInfo>
          <px:Place>Hà Nội</px:Place>
          <px:PromulgationDate>2015/09/30</px:PromulgationDate>
        </px:PromulgationInfo>
        <px:DocumentType>
          <px:Type>1</px:Type>
          <px:TypeDetail></px:TypeDetail>
          <px:TypeName>Công văn</px:TypeName>
        </px:DocumentType>
        <px:Subject>V/v kết nối, liên thông phần mềm quản lý văn bản</px:Subject>
        <px:Content></px:Content>
        <px:SignerInfo>
          <px:Competence>TL. BỘ TRƯỞNG</px:Competence>
          <px:Position>Cục trưởng</px:Position>
          <px:FullName>Nguyễn Văn A</px:FullName>
        </px:SignerInfo>
        <px:DueDate>2015/10/30</px:DueDate>
        <px:ToPlaces>
          <px:Place>Các bộ và cơ quan ngang bộ</px:Place>
        </px:ToPlaces>
        <px:OtherInfo>
          <px:Priority>0</px:Priority>
          <px:PromulgationAmount>2</px:PromulgationAmount>
          <px:Direction>false</px:Direction>
          <px:Appendixes>
            <px:Appendix/>
          </px:Appendixes>
        </px:OtherInfo>
        <px:SteeringType>0</px:SteeringType>
        <px:DocumentId>000.00.00.G22,2015/09/30,7816/VPCP-TTĐT</px:DocumentId>
      </px:MessageHeader>
      <px:TraceHeaderList>
        <px:TraceHeader>
          <px:OrganId>000.00.00.G22</px:OrganId>
          <px:Timestamp>2015/09/30 08:00:00</px:Timestamp>
        </px:TraceHeader>
        <px:Bussiness>
          <px:BussinessDocType>0</px:BussinessDocType>
          <px:BussinessDocReason>Văn bản điện tử mới</px:BussinessDocReason>
          <px:Paper>0</px:Paper>
        </px:Bussiness>
      </px:TraceHeaderList>
      SIGNATURE
    </px:edXMLHeader>
    <px:edXMLBody>
      <px:edXMLManifest version="1.0">
        <px:Reference xmlns:xlink="http://www.w3.org/1999/xlink" xlink:href="cid:1">
          <px:ContentId>cid:1</px:ContentId>
          <px:ContentType>application/pdf</px:ContentType>
          <px:AttachmentName>cong-van.pdf</px:AttachmentName>
        </px:Reference>
      </px:edXMLManifest>
    </px:edXMLBody>
  </px:edXMLEnvelope>
  <px:AttachmentEncoded xmlns:px="{EDXML_NS}">
    <px:Attachment>
      <px:ContentId>cid:1</px:ContentId>
      <px:ContentType>application/pdf</px:ContentType>
      <px:AttachmentName>cong-van.pdf</px:AttachmentName>
      <px:ContentTransferEncoded>JVBERi0xLjcgbm9pIGR1bmcgdGh1</px:ContentTransferEncoded>
    </px:Attachment>
  </px:AttachmentEncoded>
ROOT_CLOSE
"""

STATUS = f"""<?xml version="1.0" encoding="UTF-8"?>
ROOT_OPEN
  <px:edXMLEnvelope xmlns:px="{EDXML_NS}">
    <px:edXMLHeader>
      <px:MessageHeader>
        <px:From>
          <px:OrganId>000.00.00.H53</px:OrganId>
        </px:From>
        <px:ResponseFor>
          <px:OrganId>000.00.00.G22</px:OrganId>
          <px:Code>7816/VPCP-TTĐT</px:Code>
          <px:PromulgationDate>2015/09/30</px:PromulgationDate>
          <px:DocumentId>000.00.00.G22,2015/09/30,7816/VPCP-TTĐT</px:DocumentId>
        </px:ResponseFor>
        <px:StatusCode>03</px:StatusCode>
        <px:Description>Đã tiếp nhận</px:Description>
        <px:Timestamp>2015/10/01 09:30:00</px:Timestamp>
        <px:StaffInfo>
          <px:Department>Văn thư</px:Department>
          <px:Staff>Nguyễn Thị B</px:Staff>
        </px:StaffInfo>
      </px:MessageHeader>
      SIGNATURE
    </px:edXMLHeader>
  </px:edXMLEnvelope>
ROOT_CLOSE
"""

DS_SIGNATURE = f"""<ds:Signature xmlns:ds="{DS}">
        <ds:SignedInfo>
          <ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
          <ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>
          <ds:Reference URI="">
            <ds:Transforms>
              <ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>
            </ds:Transforms>
            <ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
            <ds:DigestValue>q1e7X1yVZ5yTiU0xtkWfXsNdDzmXbRSQ2OyVKb9NuAs=</ds:DigestValue>
          </ds:Reference>
        </ds:SignedInfo>
        <ds:SignatureValue>AAECAwQFBgcICQ==</ds:SignatureValue>
      </ds:Signature>"""

# The SDK quirk: Signature written without the xmldsig namespace, so it is in the edXML one.
SDK_UNSIGNED_SIGNATURE = """<Signature xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">
        <SignedInfo><SignatureMethod Algorithm="http://www.w3.org/2000/09/xmldsig#rsa-sha1"/></SignedInfo>
        <SignatureValue>GbVb8n9+</SignatureValue>
      </Signature>"""


def package(template: str, prefix: str = "edXML", *, root: str = "prefixed", signature: str = "") -> str:
    """``template`` written with ``prefix``; ``root="default"`` is the SDK shape (unprefixed root)."""
    if root == "default":
        opening, closing = f'<edXML xmlns="{EDXML_NS}">', "</edXML>"
    else:
        opening, closing = f'<px:edXML xmlns:px="{EDXML_NS}">', "</px:edXML>"
    text = template.replace("ROOT_OPEN", opening).replace("ROOT_CLOSE", closing)
    text = text.replace("SIGNATURE", signature)
    return text.replace("xmlns:px=", f"xmlns:{prefix}=").replace("px:", f"{prefix}:")


def mutate(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"{old!r} must occur exactly once"
    return text.replace(old, new)


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def tree(data: str | bytes) -> etree._Element:
    raw = data.encode() if isinstance(data, str) else data
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    return etree.fromstring(raw, parser)


def refusal(schemas: Schemas, text: str, kind: Kind) -> PackageError:
    with pytest.raises(PackageError) as caught:
        schemas.validate(tree(text), kind)
    return caught.value


@pytest.fixture(scope="module")
def schemas() -> Schemas:
    return Schemas.load()


# --------------------------------------------------------------------------- real SDK samples


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("bkav_edoc_new.edxml", Kind.DOCUMENT),
        ("bkav_edoc_update.edxml", Kind.DOCUMENT),
        ("bkav_status_processing_05.edxml", Kind.STATUS),
    ],
)
def test_real_sdk_sample_validates(schemas: Schemas, samples: Path, name: str, kind: Kind) -> None:
    schemas.validate(tree((samples / name).read_bytes()), kind)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("bkav_edoc_new.edxml", Kind.DOCUMENT),
        ("bkav_edoc_update.edxml", Kind.DOCUMENT),
        ("bkav_status_processing_05.edxml", Kind.STATUS),
    ],
)
def test_explaining_engine_agrees_that_real_sdk_samples_are_valid(samples: Path, name: str, kind: Kind) -> None:
    # If xmlschema disagreed with libxml2 about a valid package, an invalid one could be explained by
    # a "problem" that is not one.
    explainer = xmlschema.XMLSchema10(str(DEFAULT_DIRECTORY / f"edxml-{kind}.xsd"))
    assert explainer.is_valid(xmlschema.XMLResource(tree((samples / name).read_bytes())))


def test_real_sdk_document_sample_is_not_a_status_package(schemas: Schemas, samples: Path) -> None:
    error = refusal(schemas, (samples / "bkav_edoc_new.edxml").read_text(encoding="utf-8"), Kind.STATUS)
    assert error.code == "edxml.schema.invalid"


# --------------------------------------------------------------------------- spellings accepted


def test_document_written_with_edxml_prefix_everywhere_validates(schemas: Schemas) -> None:
    schemas.validate(tree(package(DOCUMENT, "edXML")), Kind.DOCUMENT)


def test_document_written_with_another_prefix_validates(schemas: Schemas) -> None:
    schemas.validate(tree(package(DOCUMENT, "q")), Kind.DOCUMENT)


def test_document_in_sdk_shape_with_default_namespace_root_validates(schemas: Schemas) -> None:
    schemas.validate(tree(package(DOCUMENT, "edXML", root="default")), Kind.DOCUMENT)


def test_status_package_in_each_prefix_shape_validates(schemas: Schemas) -> None:
    for text in (package(STATUS), package(STATUS, "q"), package(STATUS, root="default")):
        schemas.validate(tree(text), Kind.STATUS)


def test_document_with_empty_due_date_validates(schemas: Schemas) -> None:
    text = mutate(package(DOCUMENT), "<edXML:DueDate>2015/10/30</edXML:DueDate>", "<edXML:DueDate></edXML:DueDate>")
    schemas.validate(tree(text), Kind.DOCUMENT)


def test_header_components_in_sdk_order_validate(schemas: Schemas) -> None:
    # The SDK samples put DocumentId right after To and ToPlaces after SteeringType.
    text = package(DOCUMENT)
    document_id = "<edXML:DocumentId>000.00.00.G22,2015/09/30,7816/VPCP-TTĐT</edXML:DocumentId>"
    to_places = re.search(r"<edXML:ToPlaces>.*?</edXML:ToPlaces>", text, re.S)
    assert to_places is not None
    text = mutate(text, document_id, "")
    text = mutate(text, to_places.group(0), "")
    text = mutate(text, "</edXML:To>", "</edXML:To>" + document_id)
    text = mutate(
        text,
        "<edXML:SteeringType>0</edXML:SteeringType>",
        "<edXML:SteeringType>0</edXML:SteeringType>" + to_places.group(0),
    )
    schemas.validate(tree(text), Kind.DOCUMENT)


@pytest.mark.parametrize(
    "signature",
    [
        DS_SIGNATURE,
        f'<edXML:DigitalSignature xmlns:edXML="{EDXML_NS}">{DS_SIGNATURE}</edXML:DigitalSignature>',
        SDK_UNSIGNED_SIGNATURE,
    ],
    ids=["ds-signature", "digital-signature-wrapper", "sdk-signature-in-edxml-namespace"],
)
def test_every_signature_form_seen_in_the_wild_validates(schemas: Schemas, signature: str) -> None:
    schemas.validate(tree(package(DOCUMENT, signature=signature)), Kind.DOCUMENT)
    schemas.validate(tree(package(STATUS, signature=signature)), Kind.STATUS)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("<edXML:PromulgationDate>2015/09/30", "<edXML:PromulgationDate>30/09/2015"),
        ("<edXML:PromulgationDate>2015/09/30", "<edXML:PromulgationDate>2015-09-30"),
        ("2015/09/30 08:00:00", "2015-09-30T08:00:00"),
        ("2015/09/30 08:00:00", "2015-09-30T08:00:00.123+07:00"),
        ("2015/09/30 08:00:00", "2015-09-30T01:00:00Z"),
        ("2015/09/30 08:00:00", "30/09/2015 08:00:00"),
        ("JVBERi0xLjcgbm9pIGR1bmcgdGh1", "JVBERi0xLjcg\r\nbm9pIGR1bmcg\r\ndGh1\r\n"),
        ("<edXML:PromulgationAmount>2", "<edXML:PromulgationAmount>"),
    ],
    ids=[
        "dmy-date",
        "iso-date",
        "iso-timestamp",
        "iso-fraction-offset",
        "iso-utc",
        "dmy-timestamp",
        "wrapped-base64",
        "empty-number",
    ],
)
def test_spellings_real_traffic_uses_validate(schemas: Schemas, old: str, new: str) -> None:
    schemas.validate(tree(mutate(package(DOCUMENT), old, new)), Kind.DOCUMENT)


def test_status_code_14_is_accepted_as_the_known_alias_of_15(schemas: Schemas) -> None:
    text = mutate(package(STATUS), "<edXML:StatusCode>03", "<edXML:StatusCode>14")
    schemas.validate(tree(text), Kind.STATUS)


# --------------------------------------------------------------------------- refusals, with codes


@pytest.mark.parametrize(
    ("template", "kind", "old", "new", "code", "path"),
    [
        (
            DOCUMENT,
            Kind.DOCUMENT,
            "<edXML:OrganId>000.00.00.H53</edXML:OrganId>",
            "<edXML:OrganId>00.00.H53</edXML:OrganId>",
            "edxml.agency_code.malformed",
            "/edXML:edXML/edXML:edXMLEnvelope/edXML:edXMLHeader/edXML:MessageHeader/edXML:To/edXML:OrganId",
        ),
        (
            STATUS,
            Kind.STATUS,
            "<edXML:StatusCode>03",
            "<edXML:StatusCode>07",
            "edxml.status_code.unknown",
            "/edXML:edXML/edXML:edXMLEnvelope/edXML:edXMLHeader/edXML:MessageHeader/edXML:StatusCode",
        ),
        (
            DOCUMENT,
            Kind.DOCUMENT,
            "<edXML:BussinessDocType>0",
            "<edXML:BussinessDocType>5",
            "edxml.business_doc_type.unknown",
            "/edXML:edXML/edXML:edXMLEnvelope/edXML:edXMLHeader/edXML:TraceHeaderList/edXML:Bussiness/edXML:BussinessDocType",
        ),
        (
            DOCUMENT,
            Kind.DOCUMENT,
            "<edXML:PromulgationDate>2015/09/30",
            "<edXML:PromulgationDate>2020.10.30",
            "edxml.date.invalid",
            "/edXML:edXML/edXML:edXMLEnvelope/edXML:edXMLHeader/edXML:MessageHeader/edXML:PromulgationInfo/edXML:PromulgationDate",
        ),
        (
            DOCUMENT,
            Kind.DOCUMENT,
            "<edXML:DueDate>2015/10/30",
            "<edXML:DueDate>tomorrow",
            "edxml.date.invalid",
            "/edXML:edXML/edXML:edXMLEnvelope/edXML:edXMLHeader/edXML:MessageHeader/edXML:DueDate",
        ),
        (
            STATUS,
            Kind.STATUS,
            "2015/10/01 09:30:00",
            "hôm qua lúc 9 giờ",
            "edxml.timestamp.invalid",
            "/edXML:edXML/edXML:edXMLEnvelope/edXML:edXMLHeader/edXML:MessageHeader/edXML:Timestamp",
        ),
        (
            DOCUMENT,
            Kind.DOCUMENT,
            "<edXML:DocumentId>000.00.00.G22,2015/09/30,7816/VPCP-TTĐT",
            "<edXML:DocumentId>7816/VPCP-TTĐT",
            "edxml.document_id.malformed",
            "/edXML:edXML/edXML:edXMLEnvelope/edXML:edXMLHeader/edXML:MessageHeader/edXML:DocumentId",
        ),
        (
            DOCUMENT,
            Kind.DOCUMENT,
            "<edXML:Subject>",
            "<edXML:Paper>0</edXML:Paper><edXML:Subject>",
            "edxml.schema.invalid",
            "/edXML:edXML/edXML:edXMLEnvelope/edXML:edXMLHeader/edXML:MessageHeader/edXML:Paper",
        ),
        (
            DOCUMENT,
            Kind.DOCUMENT,
            "<ds:DigestValue>q1e7X1yVZ5yTiU0xtkWfXsNdDzmXbRSQ2OyVKb9NuAs=</ds:DigestValue>",
            "",
            "signature.malformed",
            "/edXML:edXML/edXML:edXMLEnvelope/edXML:edXMLHeader/ds:Signature/ds:SignedInfo/ds:Reference",
        ),
    ],
    ids=[
        "agency-code",
        "status-code-07",
        "business-doc-type-5",
        "date-shape",
        "due-date-shape",
        "timestamp",
        "document-id",
        "element-out-of-place",
        "broken-ds-signature",
    ],
)
def test_broken_package_is_refused_with_a_stable_code_and_location(
    schemas: Schemas, template: str, kind: Kind, old: str, new: str, code: str, path: str
) -> None:
    text = mutate(package(template, signature=DS_SIGNATURE), old, new)
    error = refusal(schemas, text, kind)
    assert error.code == code
    assert error.details["path"] == path
    assert error.details["line"] == line_of(text, new or '<ds:Reference URI="">')
    assert error.details["reason"]
    assert path in error.message


def test_the_location_is_reported_with_edxml_prefixes_whatever_the_package_wrote(schemas: Schemas) -> None:
    text = mutate(package(DOCUMENT, "q", root="default"), "<q:BussinessDocType>0", "<q:BussinessDocType>9")
    error = refusal(schemas, text, Kind.DOCUMENT)
    assert error.code == "edxml.business_doc_type.unknown"
    assert error.details["path"].endswith("/edXML:TraceHeaderList/edXML:Bussiness/edXML:BussinessDocType")
    assert "'9'" in error.details["reason"]


def test_a_repeated_element_is_located_by_its_position(schemas: Schemas) -> None:
    second = "<edXML:To><edXML:OrganId>000.00.00.H5</edXML:OrganId></edXML:To>"
    text = mutate(package(DOCUMENT), "<edXML:Code>", second + "<edXML:Code>")
    error = refusal(schemas, text, Kind.DOCUMENT)
    assert error.code == "edxml.agency_code.malformed"
    assert error.details["path"].endswith("/edXML:MessageHeader/edXML:To[2]/edXML:OrganId")


def test_an_element_out_of_place_says_what_was_expected(schemas: Schemas) -> None:
    text = mutate(package(DOCUMENT), "<edXML:Subject>", "<edXML:Paper>0</edXML:Paper><edXML:Subject>")
    error = refusal(schemas, text, Kind.DOCUMENT)
    assert "edXML:DocumentId" in error.details["expected"]
    assert "edXML:Paper" not in error.details["expected"]


def test_a_missing_required_child_is_named(schemas: Schemas) -> None:
    text = mutate(package(DOCUMENT), "<edXML:CodeNumber>7816</edXML:CodeNumber>", "")
    error = refusal(schemas, text, Kind.DOCUMENT)
    assert error.code == "edxml.schema.invalid"
    assert error.details["expected"] == ["edXML:CodeNumber"]
    assert error.details["path"].endswith("/edXML:MessageHeader/edXML:Code")


def test_signature_wrapper_without_a_signature_is_a_malformed_signature(schemas: Schemas) -> None:
    wrapper = f'<edXML:DigitalSignature xmlns:edXML="{EDXML_NS}"/>'
    error = refusal(schemas, package(DOCUMENT, signature=wrapper), Kind.DOCUMENT)
    assert error.code == "signature.malformed"


def test_signature_hidden_in_an_attachment_is_a_misplaced_signature(schemas: Schemas) -> None:
    text = mutate(package(DOCUMENT), "</edXML:Attachment>", DS_SIGNATURE + "</edXML:Attachment>")
    error = refusal(schemas, text, Kind.DOCUMENT)
    assert error.code == "signature.location"
    assert error.details["path"] == "/edXML:edXML/edXML:AttachmentEncoded/edXML:Attachment/ds:Signature"


def test_second_signature_after_the_first_is_reported_as_multiple(schemas: Schemas) -> None:
    wrapped = f'<edXML:DigitalSignature xmlns:edXML="{EDXML_NS}">{DS_SIGNATURE}</edXML:DigitalSignature>'
    error = refusal(schemas, package(DOCUMENT, signature=DS_SIGNATURE + wrapped), Kind.DOCUMENT)
    assert error.code == "signature.multiple"


def test_signature_nested_in_a_text_element_is_reported_as_multiple(schemas: Schemas) -> None:
    text = mutate(
        package(DOCUMENT, signature=DS_SIGNATURE),
        "<edXML:Content></edXML:Content>",
        f"<edXML:Content>{DS_SIGNATURE}</edXML:Content>",
    )
    error = refusal(schemas, text, Kind.DOCUMENT)
    assert error.code == "signature.multiple"
    assert error.details["path"].endswith("/edXML:MessageHeader/edXML:Content")


def test_certificate_that_is_not_base64_is_a_malformed_certificate(schemas: Schemas) -> None:
    certificate = "<ds:X509Certificate>MIIFqTCCBJG</ds:X509Certificate>"  # truncated, as in the SDK samples
    key_info = f"<ds:KeyInfo><ds:X509Data>{certificate}</ds:X509Data></ds:KeyInfo>"
    signature = mutate(DS_SIGNATURE, "</ds:SignatureValue>", "</ds:SignatureValue>" + key_info)
    error = refusal(schemas, package(DOCUMENT, signature=signature), Kind.DOCUMENT)
    assert error.code == "signature.certificate.malformed"
    assert error.details["path"].endswith("/ds:Signature/ds:KeyInfo/ds:X509Data/ds:X509Certificate")


def test_status_package_with_a_body_is_invalid(schemas: Schemas) -> None:
    body = '<edXML:edXMLBody><edXML:edXMLManifest version="1.0"/></edXML:edXMLBody>'
    text = mutate(package(STATUS), "</edXML:edXMLHeader>", "</edXML:edXMLHeader>" + body)
    error = refusal(schemas, text, Kind.STATUS)
    assert error.code == "edxml.schema.invalid"
    assert error.details["path"] == "/edXML:edXML/edXML:edXMLEnvelope/edXML:edXMLBody"


def test_status_package_with_attachments_is_invalid(schemas: Schemas) -> None:
    attachments = f'<edXML:AttachmentEncoded xmlns:edXML="{EDXML_NS}"/>'
    text = mutate(package(STATUS), "</edXML:edXMLEnvelope>", "</edXML:edXMLEnvelope>" + attachments)
    assert refusal(schemas, text, Kind.STATUS).code == "edxml.schema.invalid"


def test_attachment_content_is_left_to_the_reader(schemas: Schemas) -> None:
    # libxml2's base64Binary would skip "@@@"; the reader's strict binascii check refuses it.
    schemas.validate(tree(mutate(package(DOCUMENT), "JVBERi0xLjcgbm9pIGR1bmcgdGh1", "@@@")), Kind.DOCUMENT)


# --------------------------------------------------------------------------- operation


def test_validation_is_safe_from_many_threads(schemas: Schemas) -> None:
    cases: list[tuple[str, Kind, str | None]] = [
        (package(DOCUMENT), Kind.DOCUMENT, None),
        (package(STATUS), Kind.STATUS, None),
        (
            mutate(package(STATUS), "<edXML:StatusCode>03", "<edXML:StatusCode>07"),
            Kind.STATUS,
            "edxml.status_code.unknown",
        ),
        (
            mutate(package(DOCUMENT), "000.00.00.H53<", "H53<"),
            Kind.DOCUMENT,
            "edxml.agency_code.malformed",
        ),
    ]

    def outcome(index: int) -> tuple[int, str | None]:
        text, kind, _ = cases[index % len(cases)]
        try:
            schemas.validate(tree(text), kind)
        except PackageError as error:
            return index, error.code
        return index, None

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(outcome, range(200)))
    assert all(code == cases[index % len(cases)][2] for index, code in results)


def test_schema_files_have_no_dtd_and_reference_only_each_other() -> None:
    files = sorted(DEFAULT_DIRECTORY.glob("*.xsd"))
    names = {path.name for path in files}
    assert {"edxml-common.xsd", "edxml-document.xsd", "edxml-status.xsd", "xmldsig-core-schema.xsd"} <= names
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    for path in files:
        document = etree.parse(str(path), parser)
        assert not document.docinfo.doctype, f"{path.name} declares a DTD"
        assert b"<!DOCTYPE" not in path.read_bytes(), f"{path.name} declares a DTD"
        locations = document.xpath("//@schemaLocation")
        assert isinstance(locations, list)
        assert {str(location) for location in locations} <= names, f"{path.name} refers outside schemas/"


def test_vendored_xmldsig_schema_keeps_the_w3c_notice() -> None:
    text = (DEFAULT_DIRECTORY / "xmldsig-core-schema.xsd").read_text(encoding="utf-8")
    assert "Copyright 2001 The Internet Society and W3C" in text
    assert "W3C Software License" in text


def test_schemas_load_in_both_xsd_1_0_engines() -> None:
    for kind in Kind:
        path = DEFAULT_DIRECTORY / f"edxml-{kind}.xsd"
        etree.XMLSchema(etree.parse(str(path)))
        assert xmlschema.XMLSchema10(str(path)).built


def test_loading_and_explaining_never_open_a_network_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    fresh = Schemas.load()
    # A hint pointing at a remote schema must be ignored, and explaining builds the xmlschema copy.
    hinted = mutate(
        package(DOCUMENT),
        f'<edXML:edXML xmlns:edXML="{EDXML_NS}">',
        f'<edXML:edXML xmlns:edXML="{EDXML_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        f' xsi:schemaLocation="{EDXML_NS} http://example.invalid/edxml.xsd">',
    )
    fresh.validate(tree(hinted), Kind.DOCUMENT)
    broken = mutate(hinted, "<edXML:BussinessDocType>0", "<edXML:BussinessDocType>5")
    assert refusal(fresh, broken, Kind.DOCUMENT).code == "edxml.business_doc_type.unknown"


def test_schemas_load_from_an_explicit_directory(tmp_path: Path) -> None:
    for path in DEFAULT_DIRECTORY.glob("*.xsd"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    loaded = Schemas.load(tmp_path)
    assert loaded.directory == tmp_path.resolve()
    loaded.validate(tree(package(STATUS)), Kind.STATUS)
