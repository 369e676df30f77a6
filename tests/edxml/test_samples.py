"""The public SDK samples parse, with their quirks reported as warnings rather than crashes.

The samples live in ../shared (they name sample persons); these tests skip when it is absent.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from axis.edxml import model as m
from axis.edxml import parse
from axis.errors import SignatureError


def quirk_codes(data: bytes) -> set[str]:
    return {q.code for q in parse(data).quirks}


def test_new_document_sample_reads_with_its_quirks(samples: Path) -> None:
    parsed = parse((samples / "bkav_edoc_new.edxml").read_bytes())
    doc = parsed.package
    assert isinstance(doc, m.DocumentPackage)
    assert doc.sender.organ_id == "000.00.11.H53"
    assert [r.organ_id for r in doc.recipients] == ["000.00.01.A53"]
    assert doc.document_id == "000.00.11.H53,2020/10/30,2491/STC-BCTC"
    assert doc.promulgation.date == dt.date(2020, 10, 30)  # written 30/10/2020
    assert doc.due_date is None  # written <DueDate></DueDate>
    assert doc.business.doc_type is m.BusinessDocType.NEW
    (attachment,) = doc.attachments
    assert attachment.content_id == "209"
    assert attachment.content().startswith(b"PK")  # a zip, as the content type says
    assert {"quirk.date.dmy", "quirk.signature.not_xmldsig", "quirk.attachment.zipped"} <= {
        q.code for q in parsed.quirks
    }


def test_update_sample_carries_its_receiver_list(samples: Path) -> None:
    doc = parse((samples / "bkav_edoc_update.edxml").read_bytes()).package
    assert isinstance(doc, m.DocumentPackage)
    assert doc.business.doc_type is m.BusinessDocType.UPDATE
    assert doc.business.document_info is not None
    assert [r.organ_id for r in doc.business.document_info.receivers] == ["000.00.00.H41", "000.00.00.H14"]
    assert len(doc.recipients) == 3


def test_status_sample_reads_as_processing(samples: Path) -> None:
    status = parse((samples / "bkav_status_processing_05.edxml").read_bytes()).package
    assert isinstance(status, m.StatusPackage)
    assert status.status_code is m.StatusCode.PROCESSING
    assert status.document_id == "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT"
    assert status.timestamp == dt.datetime(2015, 9, 20, 11, 8, 36, tzinfo=m.VN_TZ)
    assert status.staff is not None
    assert status.staff.department == "Phong hanh chinh"


def test_sample_signature_outside_xmldsig_namespace_counts_as_unsigned(samples: Path, trust) -> None:  # type: ignore[no-untyped-def]
    from axis.edxml import verify

    with pytest.raises(SignatureError) as refused:
        verify((samples / "bkav_edoc_new.edxml").read_bytes(), trust)
    assert refused.value.code == "signature.missing"


def test_sdk_shape_with_another_prefix_reads_the_same(samples: Path) -> None:
    original = (samples / "bkav_edoc_update.edxml").read_bytes()
    renamed = re.sub(rb"edXML:", b"q:", original).replace(b"xmlns:q=", b"xmlns:q=")
    renamed = renamed.replace(b"xmlns:edXML=", b"xmlns:q=")
    assert b"edXML:" not in renamed
    assert parse(renamed).package == parse(original).package
