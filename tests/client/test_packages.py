"""The client's pure core, without servers: packages from plain values, and the axis's JSON read into
typed answers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import builders
import pytest

from axis.client import DocumentRef, File, Timeline
from axis.client import packages as p
from axis.edxml import build, parse
from axis.edxml import model as m
from axis.errors import AxisError

NORTH, SOUTH, DEPT = "000.00.00.H98", "000.00.00.H99", "000.00.11.H99"


def test_a_document_id_names_its_sender_date_and_code() -> None:
    ref = DocumentRef.parse("000.00.00.G22,2015/09/30,7816/VPCP-TTĐT")
    assert (ref.sender, ref.date, ref.code) == ("000.00.00.G22", dt.date(2015, 9, 30), m.Code("7816", "VPCP-TTĐT"))
    # Real traffic writes DD/MM/YYYY too; the DocumentId itself is kept as written.
    legacy = DocumentRef.parse("000.00.00.G22,30/09/2015,7816/VPCP-TTĐT")
    assert (legacy.date, legacy.document_id) == (dt.date(2015, 9, 30), "000.00.00.G22,30/09/2015,7816/VPCP-TTĐT")


@pytest.mark.parametrize("text", ["", "000.00.00.H98", "000.00.00.H98,2026/13/01,1/X", "000.00.00.H98,2026/01/01,"])
def test_a_malformed_document_id_is_refused_with_the_intake_code(text: str) -> None:
    with pytest.raises(AxisError) as refused:
        DocumentRef.parse(text)
    assert refused.value.code == "edxml.document_id.malformed"


def test_a_status_answers_the_document_its_id_names() -> None:
    document = builders.document()
    status = p.status(m.Organization(SOUTH), DocumentRef.parse(document.document_id), "03", description="Vào sổ")
    assert status.response_for == m.ResponseFor(
        document.sender.organ_id, str(document.code), document.promulgation.date, document.document_id
    )
    read = parse(build(status)).package
    assert isinstance(read, m.StatusPackage)
    assert (read.status_code, read.sender.organ_id, read.description) == (m.StatusCode.ACCEPTED, SOUTH, "Vào sổ")


def test_an_unknown_status_code_is_refused_before_sending() -> None:
    with pytest.raises(AxisError) as refused:
        p.status(m.Organization(SOUTH), DocumentRef.parse(builders.document().document_id), "07")
    assert refused.value.code == "edxml.status_code.unknown"


def test_only_the_sender_may_act_on_its_document() -> None:
    with pytest.raises(AxisError) as refused:
        DocumentRef.parse(f"{NORTH},2026/11/20,1/X").check_sender(SOUTH)
    assert refused.value.code == "edxml.document_id.sender_mismatch"


def test_a_revocation_repeats_the_document_id_verbatim_and_reads_back_schema_valid() -> None:
    ref = DocumentRef.parse(f"{NORTH},20/11/2026,125/UBND-VP")
    letter = p.Letter(subject="V/v", code=ref.code, date=ref.date, to=[SOUTH, SOUTH], document_id=ref.document_id)
    business = m.Business(doc_type=m.BusinessDocType.REVOKE, reason="Sai thẩm quyền", document_id=ref.document_id)
    revocation = p.document(m.Organization(NORTH), letter, business)
    assert revocation.document_id == f"{NORTH},20/11/2026,125/UBND-VP"
    assert [r.organ_id for r in revocation.recipients] == [SOUTH]  # each recipient once
    read = parse(build(revocation)).package
    assert isinstance(read, m.DocumentPackage)
    assert (read.business.doc_type, read.business.reason) == (m.BusinessDocType.REVOKE, "Sai thẩm quyền")


def test_an_update_lists_receivers_only_when_they_change() -> None:
    same = p.update_info([SOUTH, DEPT], [DEPT, SOUTH])
    assert (same.document_receiver, same.receivers) == ("0", ())
    changed = p.update_info([SOUTH], [SOUTH, DEPT])
    assert (changed.document_receiver, [r.organ_id for r in changed.receivers]) == ("1", [SOUTH, DEPT])


def test_attachments_take_their_name_and_a_guessed_content_type(tmp_path: Path) -> None:
    scan = tmp_path / "cong-van.pdf"
    scan.write_bytes(b"%PDF-1.7")
    assert (p.attachment(scan, "1").name, p.attachment(scan, "1").content_type) == ("cong-van.pdf", "application/pdf")
    assert p.attachment(File("bang-ke.xyz", b"?"), "2").content_type == "application/octet-stream"  # everywhere
    assert p.attachment(File("bao-cao.docx", b"PK"), "2").content_type.endswith("wordprocessingml.document")
    assert p.attachment(File("x.bin", b"\x00", "application/zip"), "3").content() == b"\x00"
    with pytest.raises(AxisError) as refused:
        p.attachment(tmp_path / "missing.pdf", "4")
    assert refused.value.code == "cli.file_not_found"


def test_a_document_needs_a_recipient() -> None:
    letter = p.Letter(subject="V/v", code=m.Code("1", "X"), date=dt.date(2026, 1, 1), to=[])
    with pytest.raises(AxisError) as refused:
        p.document(m.Organization(NORTH), letter)
    assert refused.value.code == "edxml.header.missing"


def test_a_timeline_reads_what_the_axis_says_and_tolerates_what_it_does_not() -> None:
    row = {
        "package_id": "p1",
        "business_type": 0,
        "requested": SOUTH,
        "agency": SOUTH,
        "name": "Nam",
        "system": "nam",
        "redirects": [],
        "delivery": {"state": "delivered", "delivered_at": "2026-11-20T02:30:00+00:00"},
        "statuses": [{"code": "01", "description": "Đã đến", "time": "2026-11-20T09:31:00+07:00", "staff": "VT"}],
    }
    revocation_row = {**row, "package_id": "p2", "business_type": 1, "delivery": {"state": "queued"}, "statuses": []}
    timeline = Timeline.from_json(
        {"document_id": "d", "sender": NORTH, "recipients": [row, revocation_row], "new_field": 1}
    )
    assert timeline.addressed == (SOUTH,)
    assert timeline.recipient(SOUTH).package_id == "p2"  # the newest row
    first = timeline.recipients[0]
    assert first.delivery.delivered_at == dt.datetime(2026, 11, 20, 2, 30, tzinfo=dt.UTC)
    assert first.statuses[0].status is m.StatusCode.ARRIVED
    assert (timeline.state, timeline.raw["new_field"]) == ("", 1)
    with pytest.raises(KeyError):
        timeline.recipient(DEPT)
    # An axis that does not state signature policies claims nothing about them, strict included.
    assert (timeline.signature_policy, timeline.legacy, timeline.legacy_packages) == (None, False, ())
    assert (first.delivery.signature_policy, first.statuses[0].signature_policy) == (None, None)
    assert not first.statuses[0].legacy


def test_a_timeline_points_out_the_packages_accepted_under_a_legacy_policy() -> None:
    unsigned_status = {
        "package_id": "s1",
        "kind": "status",
        "document_id": "d",
        "business_type": None,
        "status_code": "01",
        "sender": SOUTH,
        "sender_system": "nam",
        "signature_policy": "legacy:unsigned",
        "received_at": "2026-11-20T02:31:00+00:00",
    }
    row = {
        "package_id": "p1",
        "agency": SOUTH,
        "delivery": {"state": "delivered", "signature_policy": "strict"},
        "statuses": [{"code": "01", "package_id": "s1", "signature_policy": "legacy:unsigned"}],
    }
    timeline = Timeline.from_json(
        {"document_id": "d", "signature_policy": "strict", "legacy_packages": [unsigned_status], "recipients": [row]}
    )
    assert timeline.legacy
    [legacy] = timeline.legacy_packages
    assert (legacy.kind, legacy.status_code, legacy.sender_system, legacy.signature_policy) == (
        "status",
        "01",
        "nam",
        "legacy:unsigned",
    )
    assert legacy.received_at == dt.datetime(2026, 11, 20, 2, 31, tzinfo=dt.UTC)
    [entry] = timeline.recipients[0].statuses
    assert (entry.package_id, entry.legacy) == ("s1", True)
    assert timeline.recipients[0].delivery.signature_policy == "strict"
