"""Build → sign → verify gives back exactly the package that was built, whatever the header says."""

from __future__ import annotations

import datetime as dt

import builders
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from axis import pki
from axis.edxml import build, parse, sign, verify
from axis.edxml import model as m
from axis.edxml.trust import TrustAnchors

# Vietnamese letters with their tone marks, plus the punctuation of official document headers.
VIETNAMESE = "aăâbcdđeêghiklmnoôơpqrstuưvxyAĂÂBCDĐEÊGHIKLMNOÔƠPQRSTUƯVXYàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
TEXT_ALPHABET = VIETNAMESE + "0123456789 .,;:-/()\"'&<>%"

text = st.text(alphabet=TEXT_ALPHABET, max_size=60).map(str.strip)
words = st.text(alphabet=VIETNAMESE, min_size=1, max_size=12)


@st.composite
def agency_codes(draw: st.DrawFn) -> str:
    letter = draw(st.sampled_from("AGHIK"))
    top = f"{letter}{draw(st.integers(1, 99)):02d}"
    levels = draw(st.lists(st.integers(1, 99), max_size=3))
    groups = [*levels, 0, 0, 0][:3]  # used levels first, then unused ones
    return f"{groups[2]:03d}.{groups[1]:02d}.{groups[0]:02d}.{top}"


dates = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31))
times = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 1, 1)).map(
    lambda t: t.replace(microsecond=0, tzinfo=m.VN_TZ)
)
organizations = st.builds(m.Organization, organ_id=agency_codes(), organ_name=text, email=text, website=text)
attachments = st.lists(st.tuples(words, st.binary(max_size=2000)), max_size=3, unique_by=lambda t: t[0]).map(
    lambda items: tuple(
        m.Attachment.from_bytes(str(i), f"{name}.pdf", "application/pdf", data)
        for i, (name, data) in enumerate(items, start=1)
    )
)


@st.composite
def documents(draw: st.DrawFn) -> m.DocumentPackage:
    sender = draw(organizations)
    date = draw(dates)
    code = m.Code(draw(st.integers(1, 99999).map(str)), draw(words))
    return m.DocumentPackage(
        sender=sender,
        recipients=tuple(draw(st.lists(organizations, min_size=1, max_size=4))),
        code=code,
        promulgation=m.PromulgationInfo(draw(text), date),
        document_type=m.DocumentType(draw(st.integers(0, 99)), None, draw(text)),
        subject=draw(text.filter(bool)),
        document_id=m.document_id_for(sender.organ_id, date, code),
        content=draw(text),
        signer_info=m.SignerInfo(draw(text), draw(text), draw(text)),
        due_date=draw(st.none() | dates),
        to_places=tuple(draw(st.lists(text, max_size=3))),
        other_info=m.OtherInfo(priority=draw(st.integers(0, 3)), page_amount=draw(st.none() | st.integers(1, 500))),
        steering_type=draw(st.none() | st.integers(0, 1)),
        traces=(m.TraceHeader(sender.organ_id, draw(times)),),
        business=m.Business(
            doc_type=m.BusinessDocType.NEW,
            reason=draw(text),
            staff=draw(st.none() | st.builds(m.StaffInfo, staff=text, department=text)),
        ),
        attachments=draw(attachments),
    )


@st.composite
def statuses(draw: st.DrawFn) -> m.StatusPackage:
    answered = draw(documents())
    return m.StatusPackage(
        sender=draw(organizations),
        response_for=m.ResponseFor(
            answered.sender.organ_id, str(answered.code), answered.promulgation.date, answered.document_id
        ),
        status_code=draw(st.sampled_from(list(m.StatusCode))),
        timestamp=draw(times),
        description=draw(text),
        staff=draw(st.none() | st.builds(m.StaffInfo, staff=text, mobile=text)),
    )


ROUND_TRIP = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@ROUND_TRIP
@given(document=documents())
def test_any_document_survives_build_sign_verify(
    document: m.DocumentPackage, north: pki.Identity, trust: TrustAnchors
) -> None:
    signed = sign(build(document), north.key, north.cert_chain)
    verified = verify(signed, trust)
    assert verified.package == document
    assert verified.policy == "strict"
    assert verified.signer is not None
    assert verified.signer.agency_code == "000.00.00.H98"


@ROUND_TRIP
@given(status=statuses())
def test_any_status_survives_build_sign_verify(
    status: m.StatusPackage, south_ec: pki.Identity, trust: TrustAnchors
) -> None:
    signed = sign(build(status), south_ec.key, south_ec.cert_chain)
    verified = verify(signed, trust)
    assert verified.package == status
    assert verified.signature_method.endswith("ecdsa-sha256")


def test_unsigned_document_parses_to_what_was_built() -> None:
    document = builders.document()
    assert parse(build(document)).package == document


def test_attachment_content_comes_back_byte_for_byte(north: pki.Identity, trust: TrustAnchors) -> None:
    payload = bytes(range(256)) * 100
    document = builders.document(
        attachments=(m.Attachment.from_bytes("a1", "bảng-số-liệu.xlsx", "application/vnd.ms-excel", payload),)
    )
    verified = verify(sign(build(document), north.key, north.cert_chain), trust)
    assert isinstance(verified.package, m.DocumentPackage)
    (attachment,) = verified.package.attachments
    assert attachment.content() == payload
    assert attachment.size == len(payload)
    assert attachment.name == "bảng-số-liệu.xlsx"
