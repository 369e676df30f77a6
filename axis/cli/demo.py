"""``axis demo``: agencies exchanging signed documents, shown step by step.

So far the demo runs the package format end to end without servers: two fictitious provinces get
certificates from a development CA, one signs a document with an attachment, the other verifies
it, and a forged copy is refused with its stable code.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from axis import pki
from axis.edxml import build, sign, verify
from axis.edxml import model as m
from axis.edxml.trust import TrustAnchors
from axis.errors import AxisError

NORTH, SOUTH = "000.00.00.H98", "000.00.00.H99"


def register(sub: Any) -> None:
    demo = sub.add_parser("demo", help="agencies exchanging signed documents, step by step")
    demo.set_defaults(handler=run)


def step(text: str) -> None:
    print(f"\n== {text}")


def run(_: argparse.Namespace) -> int:
    step("A development CA issues signing certificates to two fictitious provinces")
    ca = pki.new_ca("axis demo CA")
    north = pki.issue(ca, NORTH, "UBND Tỉnh Thử Nghiệm Bắc")
    trust = TrustAnchors((ca.certificate,))
    print(f"   {north.certificate.subject.rfc4514_string()}")

    step(f"{NORTH} writes an official letter with an attachment and signs it")
    today = dt.datetime.now(m.VN_TZ).date()
    code = m.Code("125", "UBND-VP")
    letter = m.DocumentPackage(
        sender=m.Organization(NORTH, "UBND Tỉnh Thử Nghiệm Bắc"),
        recipients=(m.Organization(SOUTH, "UBND Tỉnh Thử Nghiệm Nam"),),
        code=code,
        promulgation=m.PromulgationInfo("Thành phố Bắc", today),
        document_type=m.DocumentType(1, 0, "Công văn"),
        subject="V/v phối hợp thử nghiệm trục liên thông văn bản",
        document_id=m.document_id_for(NORTH, today, code),
        traces=(m.TraceHeader(NORTH, dt.datetime.now(m.VN_TZ).replace(microsecond=0)),),
        attachments=(m.Attachment.from_bytes("1", "cong-van-125.pdf", "application/pdf", b"%PDF-1.7 demo"),),
    )
    signed = sign(build(letter), north.key, north.cert_chain)
    print(f"   {letter.document_id}: {len(signed):,} bytes, RSA-SHA256 enveloped XML Signature")

    step(f"{SOUTH} verifies it: schema, signature, certificate chain")
    verified = verify(signed, trust)
    assert verified.signer is not None
    print(f"   signed by {verified.signer.subject} (agency code {verified.signer.agency_code})")
    print(
        f"   subject: {verified.package.subject if isinstance(verified.package, m.DocumentPackage) else ''}"
    )

    step("A forged copy with one more recipient is refused")
    forged = signed.replace(
        b"<edXML:Code>", b"<edXML:To><edXML:OrganId>000.00.00.G01</edXML:OrganId></edXML:To><edXML:Code>", 1
    )
    try:
        verify(forged, trust)
    except AxisError as exc:
        print(f"   refused: {exc.code}")
    return 0
