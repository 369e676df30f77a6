"""Receipts: the axis signs what it accepted and delivered; senders check that offline.

A sender in a dispute holds only the receipt and the axis certificate. These stories check that a
receipt verifies with that alone (and with an independent implementation, xmlsec1), and that every
way of changing, re-signing or re-arranging one is refused with its own code.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import datetime as dt
import hashlib
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from axis import pki, receipts
from axis.edxml.namespaces import DS_NS, ds
from axis.edxml.trust import AppliedPolicy, TrustAnchors
from axis.errors import AxisError
from axis.receipts import RECEIPT_NS, Receipt, ReceiptError, ReceiptKind, ReceiptRecipient, receipt_uri

XMLSEC1 = shutil.which("xmlsec1")
DATA = Path(__file__).resolve().parent / "data"
ICT = dt.timezone(dt.timedelta(hours=7))
PACKAGE = "<edXML>… the package bytes exactly as the sender posted them …</edXML>".encode()


@pytest.fixture(scope="module")
def axis_ec(dev_ca: pki.Identity) -> pki.Identity:
    return pki.issue(dev_ca, None, "Trục liên thông", key_type="ec")


@pytest.fixture(scope="module")
def axis_rsa(dev_ca: pki.Identity) -> pki.Identity:
    return pki.issue(dev_ca, None, "Trục liên thông", key_type="rsa")


@pytest.fixture(params=["ec", "rsa"])
def axis_key(request: pytest.FixtureRequest, axis_ec: pki.Identity, axis_rsa: pki.Identity) -> pki.Identity:
    return axis_ec if request.param == "ec" else axis_rsa


def acceptance() -> Receipt:
    return Receipt(
        kind=ReceiptKind.ACCEPTANCE,
        package_id="6f1c1d2e-8a4b-4c3d-9e5f-0a1b2c3d4e5f",
        document_id="000.00.00.H98,2026/11/27,123/QĐ-UBND",
        package_kind="document",
        digest_sha256=hashlib.sha256(PACKAGE).hexdigest(),
        sender_code="000.00.00.H98",
        sender_system="tỉnh-bắc",
        recipients=(
            ReceiptRecipient("000.00.00.H99", "000.00.00.H99", "tỉnh-nam"),
            ReceiptRecipient("000.01.02.H99", "000.01.05.H99", "tỉnh-nam", redirects=("000.01.05.H99",)),
            ReceiptRecipient("000.00.00.G12", "000.00.00.G12", "bộ-thử-nghiệm"),
        ),
        at=dt.datetime(2026, 11, 27, 10, 0, 0, tzinfo=ICT),
        signature_policy=AppliedPolicy.STRICT,
    )


def delivery() -> Receipt:
    """The same package, delivered to the southern province's system (its two agencies)."""
    accepted = acceptance()
    return dataclasses.replace(
        accepted,
        kind=ReceiptKind.DELIVERY,
        recipients=accepted.recipients[:2],
        at=dt.datetime(2026, 11, 27, 10, 5, 30, 250000, tzinfo=ICT),
        delivered_to="tỉnh-nam",
    )


def refused_with(code: str, data: bytes, trust: TrustAnchors) -> None:
    with pytest.raises(ReceiptError) as refused:
        receipts.verify(data, trust)
    assert refused.value.code == code, refused.value.message


def serialize(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


# --- what a sender gets ---------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [acceptance, delivery], ids=["acceptance", "delivery"])
def test_sender_verifies_receipt_signed_by_the_axis(
    make: Callable[[], Receipt], axis_key: pki.Identity, trust: TrustAnchors
) -> None:
    receipt = make()
    signed = receipts.sign(receipt, axis_key.key, axis_key.cert_chain)
    verified, signer = receipts.verify(signed, trust)
    assert verified == receipt
    assert signer.common_name == "Trục liên thông"
    assert signer.agency_code is None


def test_sender_verifies_receipt_with_the_axis_certificate_alone(axis_ec: pki.Identity) -> None:
    """What GET /api/v1/axis/certificate serves is all a sender needs to keep."""
    only_the_axis = TrustAnchors.from_pem(pki.cert_pem(axis_ec.certificate))
    signed = receipts.sign(delivery(), axis_ec.key, axis_ec.cert_chain)
    assert receipts.verify(signed, only_the_axis)[0] == delivery()


def test_receipt_reads_as_what_it_attests(axis_ec: pki.Identity) -> None:
    signed = receipts.sign(delivery(), axis_ec.key, axis_ec.cert_chain)
    assert signed.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    root = etree.fromstring(signed)
    ns = {"r": RECEIPT_NS, "ds": DS_NS}
    assert root.tag == f"{{{RECEIPT_NS}}}Receipt"
    assert root.get("kind") == "delivery"
    assert root.findtext("r:DocumentId", namespaces=ns) == "000.00.00.H98,2026/11/27,123/QĐ-UBND"
    assert root.find("r:Digest", ns).get("algorithm") == "sha256"  # type: ignore[union-attr]
    assert root.findtext("r:Digest", namespaces=ns) == hashlib.sha256(PACKAGE).hexdigest()
    assert root.findtext("r:At", namespaces=ns) == "2026-11-27T10:05:30.250000+07:00"
    assert root.find("r:DeliveredTo", ns).get("system") == "tỉnh-nam"  # type: ignore[union-attr]
    redirected = root.find("r:Recipients/r:Recipient[@code='000.01.02.H99']", ns)
    assert redirected is not None
    assert redirected.get("agency") == "000.01.05.H99"
    assert redirected.findtext("r:Redirect", namespaces=ns) == "000.01.05.H99"
    signature = root[-1]
    assert signature.tag == ds("Signature")
    assert signature.get("Id") is None
    assert signature.xpath("ds:SignedInfo/ds:Reference/@URI", namespaces=ns) == [""]
    assert signature.xpath("ds:SignedInfo/ds:SignatureMethod/@Algorithm", namespaces=ns) == [
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
    ]


def test_unsigned_receipt_is_built_without_signature_and_reads_back() -> None:
    built = receipts.build(acceptance())
    assert b"xmldsig" not in built
    assert receipts.parse_unverified(built) == acceptance()


def test_receipt_from_an_untrusted_signer_can_still_be_shown(stranger: pki.Identity) -> None:
    signed = receipts.sign(acceptance(), stranger.key, stranger.cert_chain)
    assert receipts.parse_unverified(signed) == acceptance()


def test_old_receipt_verifies_at_the_time_it_was_received(dev_ca: pki.Identity, trust: TrustAnchors) -> None:
    issued = dt.datetime.now(dt.UTC) - dt.timedelta(days=800)
    old_axis = pki.issue(dev_ca, None, "Trục liên thông", key_type="ec", not_before=issued, days=365)
    signed = receipts.sign(acceptance(), old_axis.key, old_axis.cert_chain)
    refused_with("receipt.certificate.expired", signed, trust)
    # The development CA is younger than this certificate; the sender kept the axis certificate.
    kept = TrustAnchors((old_axis.certificate,))
    received = issued + dt.timedelta(days=30)
    assert receipts.verify(signed, kept, at=received)[0] == acceptance()
    with pytest.raises(ReceiptError) as refused:
        receipts.verify(signed, trust, at=received)
    assert refused.value.code == "receipt.certificate.expired"


# --- the signature policy the package was accepted under ------------------------------------------------


@pytest.mark.parametrize("policy", list(AppliedPolicy), ids=str)
def test_a_receipt_states_the_signature_policy_the_package_was_accepted_under(
    policy: AppliedPolicy, axis_ec: pki.Identity, trust: TrustAnchors
) -> None:
    """A sender holding the receipt of a package no XML Signature stood behind can show it."""
    for made in (acceptance(), delivery()):
        receipt = dataclasses.replace(made, signature_policy=policy)
        signed = receipts.sign(receipt, axis_ec.key, axis_ec.cert_chain)
        root = etree.fromstring(signed)
        names = [etree.QName(each).localname for each in root]
        assert names[names.index("Digest") + 1] == "SignaturePolicy"  # beside the digest of what it judged
        assert root.findtext(f"{{{RECEIPT_NS}}}SignaturePolicy") == policy.value
        verified, _ = receipts.verify(signed, trust)
        assert verified == receipt
        assert verified.signature_policy is policy


def test_a_receipt_issued_before_the_axis_stated_the_signature_policy_still_verifies_and_reads_as_unknown() -> None:
    """``data/receipt-before-signature-policy.xml`` was signed by the axis as it was before receipts
    stated the policy: a sender's stored evidence stays good, and it claims nothing about the policy."""
    data = (DATA / "receipt-before-signature-policy.xml").read_bytes()
    axis_certificate = TrustAnchors.from_pem((DATA / "receipt-before-signature-policy.axis.pem").read_bytes())
    at = etree.fromstring(data).findtext(f"{{{RECEIPT_NS}}}At")
    assert at is not None
    verified, signer = receipts.verify(data, axis_certificate, at=dt.datetime.fromisoformat(at))
    assert (verified.kind, verified.delivered_to, signer.common_name) == (
        ReceiptKind.DELIVERY,
        "nam",
        "Trục liên thông (test)",
    )
    assert verified.signature_policy is None  # unknown: not "strict"
    assert receipts.parse_unverified(data).signature_policy is None
    # A receipt with no policy to state is written exactly as before.
    unstated = dataclasses.replace(acceptance(), signature_policy=None)
    assert b"SignaturePolicy" not in receipts.build(unstated)
    assert receipts.parse_unverified(receipts.build(unstated)) == unstated


def test_a_receipt_whose_signature_policy_was_changed_or_removed_is_refused(
    axis_ec: pki.Identity, trust: TrustAnchors
) -> None:
    receipt = dataclasses.replace(acceptance(), signature_policy=AppliedPolicy.LEGACY_UNSIGNED)
    signed = receipts.sign(receipt, axis_ec.key, axis_ec.cert_chain)
    refused_with("receipt.invalid", signed.replace(b">legacy:unsigned<", b">strict<"), trust)
    root = etree.fromstring(signed)
    root.remove(root.find(f"{{{RECEIPT_NS}}}SignaturePolicy"))  # type: ignore[arg-type]
    refused_with("receipt.invalid", serialize(root), trust)


def test_a_signature_policy_out_of_place_repeated_or_unknown_is_malformed() -> None:
    built = receipts.build(acceptance())
    element = b"<r:SignaturePolicy>strict</r:SignaturePolicy>"
    assert element in built
    moved = built.replace(b"  " + element + b"\n", b"").replace(b"<r:At>", element + b"<r:At>")
    twice = built.replace(element, element + element)
    unknown = built.replace(b">strict<", b">legacy:md5<")
    empty = built.replace(b">strict<", b"><")
    for data in (moved, twice, unknown, empty):
        with pytest.raises(ReceiptError) as refused:
            receipts.parse_unverified(data)
        assert refused.value.code == "receipt.malformed"
    with pytest.raises(ValueError, match="signature_policy"):
        dataclasses.replace(acceptance(), signature_policy="lax")  # type: ignore[arg-type]


# --- an independent implementation agrees ---------------------------------------------------------------


@pytest.mark.skipif(XMLSEC1 is None, reason="xmlsec1 is not installed (./dev test installs it)")
@pytest.mark.parametrize("make", [acceptance, delivery], ids=["acceptance", "delivery"])
def test_receipt_verifies_with_xmlsec1(
    make: Callable[[], Receipt], axis_key: pki.Identity, dev_ca: pki.Identity, tmp_path: Path
) -> None:
    assert XMLSEC1 is not None
    ca = tmp_path / "ca.pem"
    ca.write_bytes(pki.cert_pem(dev_ca.certificate))
    receipt = tmp_path / "receipt.xml"
    receipt.write_bytes(receipts.sign(make(), axis_key.key, axis_key.cert_chain))
    args = [XMLSEC1, "--verify", "--trusted-pem", str(ca), str(receipt)]
    result = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout + result.stderr

    receipt.write_bytes(receipt.read_bytes().replace(b'system="t', b'system="T', 1))
    tampered = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    assert tampered.returncode != 0


# --- what is refused ------------------------------------------------------------------------------------


def test_tampered_digest_is_refused(axis_key: pki.Identity, trust: TrustAnchors) -> None:
    signed = receipts.sign(acceptance(), axis_key.key, axis_key.cert_chain)
    forged = hashlib.sha256(b"another package").hexdigest().encode()
    refused_with("receipt.invalid", signed.replace(acceptance().digest_sha256.encode(), forged), trust)


def test_tampered_recipient_is_refused(axis_ec: pki.Identity, trust: TrustAnchors) -> None:
    signed = receipts.sign(acceptance(), axis_ec.key, axis_ec.cert_chain)
    refused_with("receipt.invalid", signed.replace(b'agency="000.01.05.H99"', b'agency="000.01.06.H99"'), trust)
    root = etree.fromstring(signed)
    recipients = root.find(f"{{{RECEIPT_NS}}}Recipients")
    assert recipients is not None
    recipients.remove(recipients[-1])
    refused_with("receipt.invalid", serialize(root), trust)


def test_a_receipt_with_an_empty_signature_value_is_malformed_not_a_crash(
    axis_ec: pki.Identity, trust: TrustAnchors
) -> None:
    root = etree.fromstring(receipts.sign(acceptance(), axis_ec.key, axis_ec.cert_chain))
    value = root.find(".//{http://www.w3.org/2000/09/xmldsig#}SignatureValue")
    assert value is not None
    value.text = ""
    refused_with("receipt.malformed", serialize(root), trust)


def test_receipt_signed_by_a_key_from_another_ca_is_refused(stranger: pki.Identity, trust: TrustAnchors) -> None:
    refused_with("receipt.certificate.untrusted", receipts.sign(acceptance(), stranger.key, stranger.cert_chain), trust)


def test_agency_key_cannot_pass_for_the_axis_when_anchored_on_the_axis_certificate(
    north: pki.Identity, axis_ec: pki.Identity
) -> None:
    """The dev CA certifies agencies too: anchoring on it would accept this forgery."""
    forged = receipts.sign(acceptance(), north.key, north.cert_chain)
    refused_with("receipt.certificate.untrusted", forged, TrustAnchors((axis_ec.certificate,)))


def test_receipt_with_two_signatures_is_refused(axis_ec: pki.Identity, trust: TrustAnchors) -> None:
    root = etree.fromstring(receipts.sign(acceptance(), axis_ec.key, axis_ec.cert_chain))
    root.append(copy.deepcopy(root[-1]))
    refused_with("receipt.signature.misplaced", serialize(root), trust)


def test_receipt_with_its_signature_elsewhere_is_refused(axis_ec: pki.Identity, trust: TrustAnchors) -> None:
    root = etree.fromstring(receipts.sign(acceptance(), axis_ec.key, axis_ec.cert_chain))
    root.find(f"{{{RECEIPT_NS}}}Recipients").append(root[-1])  # type: ignore[union-attr]
    refused_with("receipt.signature.misplaced", serialize(root), trust)


def test_genuine_receipt_wrapped_inside_a_forged_one_is_refused(axis_ec: pki.Identity, trust: TrustAnchors) -> None:
    genuine = etree.fromstring(receipts.sign(delivery(), axis_ec.key, axis_ec.cert_chain))
    forged = etree.fromstring(receipts.build(acceptance()))
    forged.find(f"{{{RECEIPT_NS}}}Recipients")[0].append(genuine)  # type: ignore[index]
    refused_with("receipt.signature.misplaced", serialize(forged), trust)


def test_receipt_is_read_from_what_was_signed_not_from_the_bytes(axis_ec: pki.Identity, trust: TrustAnchors) -> None:
    """A comment is not signed (exclusive C14N drops it) and splits the text a naive reader sees."""
    signed = receipts.sign(acceptance(), axis_ec.key, axis_ec.cert_chain)
    split = signed.replace(b"000.00.00.H98,2026", b"000.00.00.H98<!-- -->,2026", 1)
    assert etree.fromstring(split).findtext(f"{{{RECEIPT_NS}}}DocumentId") == "000.00.00.H98"
    assert receipts.verify(split, trust)[0].document_id == acceptance().document_id


def test_unsigned_receipt_is_refused(trust: TrustAnchors) -> None:
    refused_with("receipt.unsigned", receipts.build(acceptance()), trust)


def test_signature_over_part_of_the_receipt_is_refused(axis_ec: pki.Identity, trust: TrustAnchors) -> None:
    signed = receipts.sign(acceptance(), axis_ec.key, axis_ec.cert_chain)
    refused_with("receipt.signature.partial", signed.replace(b'URI=""', b'URI="#recipients"'), trust)


def test_sha1_signature_is_refused(axis_rsa: pki.Identity, trust: TrustAnchors) -> None:
    signed = receipts.sign(acceptance(), axis_rsa.key, axis_rsa.cert_chain)
    sha1 = signed.replace(b"xmldsig-more#rsa-sha256", b"xmldsig#rsa-sha1")
    refused_with("receipt.algorithm.forbidden", sha1, trust)
    refused_with("receipt.algorithm.forbidden", signed.replace(b"xmlenc#sha256", b"xmldsig#sha1"), trust)


def test_hostile_or_foreign_xml_is_refused_as_malformed(axis_ec: pki.Identity, trust: TrustAnchors) -> None:
    signed = receipts.sign(acceptance(), axis_ec.key, axis_ec.cert_chain)
    doctype = signed.replace(b"?>", b'?><!DOCTYPE r:Receipt [<!ENTITY x "x">]>', 1)
    foreign = signed.replace(b"urn:axis:receipt:1", b"urn:axis:receipt:2")
    for data in (b"", b"<r:Receipt", doctype, foreign, "<Receipt/>".encode("utf-16")):
        refused_with("receipt.malformed", data, trust)
        with pytest.raises(ReceiptError):
            receipts.parse_unverified(data)


def test_receipt_with_an_unknown_element_is_malformed_even_for_display() -> None:
    built = receipts.build(acceptance()).replace(b"<r:At>", b"<r:Note>x</r:Note><r:At>")
    with pytest.raises(ReceiptError) as refused:
        receipts.parse_unverified(built)
    assert refused.value.code == "receipt.malformed"


def test_impossible_receipts_cannot_be_made() -> None:
    with pytest.raises(ValueError, match="aware"):
        dataclasses.replace(acceptance(), at=dt.datetime(2026, 11, 27, 10))
    with pytest.raises(ValueError, match="delivered_to"):
        dataclasses.replace(acceptance(), kind=ReceiptKind.DELIVERY)
    with pytest.raises(ValueError, match="hex"):
        dataclasses.replace(acceptance(), digest_sha256="ABC")
    with pytest.raises(ValueError, match="other systems"):
        dataclasses.replace(delivery(), recipients=acceptance().recipients)
    with pytest.raises(ValueError, match="UUID"):
        dataclasses.replace(acceptance(), package_id="6F1C1D2E-8A4B-4C3D-9E5F-0A1B2C3D4E5F")
    with pytest.raises(ValueError, match="non-empty"):
        dataclasses.replace(acceptance(), recipients=())


def test_axis_key_that_does_not_match_its_certificate_is_a_setting_error(
    axis_ec: pki.Identity, axis_rsa: pki.Identity
) -> None:
    with pytest.raises(AxisError) as refused:
        receipts.sign(acceptance(), axis_rsa.key, axis_ec.cert_chain)
    assert refused.value.code == "config.invalid"


# --- any receipt round-trips ----------------------------------------------------------------------------

# Any text XML can carry, blank-only excepted (no identifier is blank).
texts = st.text(
    st.characters(blacklist_categories=("Cs", "Cn", "Co"), blacklist_characters="\x00").filter(
        lambda c: c in "\t\n\r" or ord(c) >= 0x20
    ),
    min_size=1,
    max_size=24,
).filter(str.strip)
offsets = st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(lambda m: dt.timezone(dt.timedelta(minutes=m)))
recipients = st.builds(ReceiptRecipient, texts, texts, texts, st.lists(texts, max_size=3).map(tuple))


@st.composite
def any_receipt(draw: st.DrawFn) -> Receipt:
    kind = draw(st.sampled_from(ReceiptKind))
    addressed = draw(st.lists(recipients, min_size=1, max_size=6))
    delivered_to = None
    if kind is ReceiptKind.DELIVERY:
        delivered_to = draw(texts)
        addressed = [ReceiptRecipient(a.requested_code, a.agency_code, delivered_to, a.redirects) for a in addressed]
    return Receipt(
        kind=kind,
        package_id=str(draw(st.uuids())),
        document_id=draw(texts),
        package_kind=draw(st.sampled_from(["document", "status"])),
        digest_sha256=hashlib.sha256(draw(st.binary(max_size=64))).hexdigest(),
        sender_code=draw(texts),
        sender_system=draw(texts),
        recipients=tuple(addressed),
        at=draw(st.datetimes(timezones=offsets)),
        delivered_to=delivered_to,
        signature_policy=draw(st.sampled_from([None, *AppliedPolicy])),
    )


@settings(max_examples=60, deadline=None)
@given(receipt=any_receipt())
def test_any_receipt_round_trips_through_sign_and_verify(
    receipt: Receipt, axis_ec: pki.Identity, trust: TrustAnchors
) -> None:
    signed = receipts.sign(receipt, axis_ec.key, axis_ec.cert_chain)
    verified, _ = receipts.verify(signed, trust)
    assert verified == receipt
    assert verified.at.utcoffset() == receipt.at.utcoffset()
    assert receipts.parse_unverified(signed) == receipt == receipts.parse_unverified(receipts.build(receipt))


# --- the receipts of one acknowledgement: one signature for the batch -----------------------------------


def deliveries_to(system: str, count: int) -> list[Receipt]:
    """What a recipient system's batch acknowledgement makes: a delivery receipt per package."""
    served = tuple(dataclasses.replace(each, system_id=system) for each in delivery().recipients)
    return [
        dataclasses.replace(
            delivery(), package_id=f"6f1c1d2e-8a4b-4c3d-9e5f-0a1b2c3d4e{n:02}", recipients=served, delivered_to=system
        )
        for n in range(count)
    ]


def listed_digest(data: bytes) -> str:
    """A sender's own check, as docs/api.md shows it: the receipt without its signature, in
    exclusive C14N, hashed with SHA-256 and written in base64."""
    root = etree.fromstring(data)
    root.remove(root.find(ds("Signature")))
    return base64.b64encode(hashlib.sha256(etree.tostring(root, method="c14n", exclusive=True)).digest()).decode()


def manifest_entry(data: bytes, receipt: Receipt) -> str:
    entry = etree.fromstring(data).find(f".//{ds('Manifest')}/{ds('Reference')}[@URI='{receipt_uri(receipt)}']")
    assert entry is not None
    return str(entry.findtext(ds("DigestValue")))


def test_the_receipts_of_one_acknowledgement_share_one_signature_and_each_verifies_alone(
    axis_key: pki.Identity, trust: TrustAnchors
) -> None:
    batch = deliveries_to("tỉnh-nam", 3)
    signed = receipts.sign_batch(batch, axis_key.key, axis_key.cert_chain)
    values = {etree.fromstring(data).findtext(f"{ds('Signature')}/{ds('SignatureValue')}") for data in signed}
    assert len(values) == 1  # one signature made for the three
    for receipt, data in zip(batch, signed, strict=True):
        assert receipts.verify(data, trust)[0] == receipt
        assert listed_digest(data) == manifest_entry(data, receipt)
    # A batch of one is an ordinary receipt.
    (alone,) = receipts.sign_batch(batch[:1], axis_key.key, axis_key.cert_chain)
    assert b"Manifest" not in alone
    assert receipts.verify(alone, trust)[0] == batch[0]


@pytest.mark.skipif(XMLSEC1 is None, reason="xmlsec1 is not installed (./dev test installs it)")
def test_a_batch_receipt_verifies_with_xmlsec1_and_one_digest_comparison(
    axis_key: pki.Identity, dev_ca: pki.Identity, tmp_path: Path
) -> None:
    assert XMLSEC1 is not None
    ca = tmp_path / "ca.pem"
    ca.write_bytes(pki.cert_pem(dev_ca.certificate))
    batch = deliveries_to("tỉnh-nam", 2)
    data = receipts.sign_batch(batch, axis_key.key, axis_key.cert_chain)[1]
    receipt = tmp_path / "receipt.xml"
    receipt.write_bytes(data)
    args = [XMLSEC1, "--verify", "--ignore-manifests", "--trusted-pem", str(ca), str(receipt)]
    result = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert listed_digest(data) == manifest_entry(data, batch[1])

    # A changed receipt still carries a genuine signature: the digest comparison is what finds it.
    changed = data.replace(b'system="t', b'system="T', 1)
    assert listed_digest(changed) != manifest_entry(changed, batch[1])
    # A changed manifest is the signature's to find.
    entry = manifest_entry(data, batch[0]).encode()
    receipt.write_bytes(data.replace(entry, base64.b64encode(hashlib.sha256(b"other").digest())))
    assert subprocess.run(args, capture_output=True, text=True, timeout=60, check=False).returncode != 0


def test_a_changed_batch_receipt_or_one_under_another_batchs_signature_is_refused(
    axis_ec: pki.Identity, trust: TrustAnchors
) -> None:
    first = receipts.sign_batch(deliveries_to("tỉnh-nam", 2), axis_ec.key, axis_ec.cert_chain)
    other = receipts.sign_batch(deliveries_to("bộ-thử-nghiệm", 2), axis_ec.key, axis_ec.cert_chain)
    refused_with("receipt.invalid", first[0].replace(b'system="t', b'system="T', 1), trust)
    refused_with("receipt.invalid", first[0].replace(b"10:05:30.250000", b"10:05:31.250000"), trust)
    # The genuine signature of another batch, grafted onto this receipt: it does not list it.
    receipt, grafted = etree.fromstring(first[0]), etree.fromstring(other[0])
    receipt.replace(receipt.find(ds("Signature")), grafted.find(ds("Signature")))
    refused_with("receipt.invalid", serialize(receipt), trust)
    # An entry of the manifest changed: the batch signature no longer verifies.
    entry = manifest_entry(first[0], deliveries_to("tỉnh-nam", 2)[1]).encode()
    refused_with("receipt.invalid", first[0].replace(entry, base64.b64encode(b"\0" * 32)), trust)
