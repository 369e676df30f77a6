"""Axis-signed receipts: evidence a sender can keep and check offline.

An acceptance receipt says "the axis accepted package P, whose bytes hash to D, under signature
policy G, at T, for recipients R"; a delivery receipt says "the axis delivered P (D, G) to system S
at T". G is the rule that let the package in (``strict``, or ``legacy:sha1`` / ``legacy:unsigned``
when the sending system's administrator allowed a weaker signature or none), so that the receipt of
a package no proper XML Signature stood behind says so. Receipts made before the axis stated it
carry no policy and read as ``signature_policy=None``: unknown, never "strict".

A sender that later disputes what happened needs proof that does not depend on the axis's
database, so a receipt is a small XML document with an enveloped XML Signature made with the axis's
own key (RSA-SHA256 or ECDSA-SHA256 by key type, exclusive C14N, the axis certificate in KeyInfo):
any XML Signature implementation can check it, ``xmlsec1 --verify`` included.

Verification follows the rules of ``axis.edxml.signature`` and reuses its machinery: exactly one
signature, a child of the root, covering the whole receipt, SHA-2 algorithms only, a certificate
chaining to the caller's anchors; the receipt is read from the tree signxml verified, never from the
input bytes. Receipts made together share one signature over a manifest of their digests
(``sign_batch``); such a receipt is covered by its digest in the verified manifest, and read from
the very tree that digest was computed over. Anchor on the axis certificate itself (``GET
/api/v1/axis/certificate``): a CA that also certifies agencies would let any agency's key pass as
the axis's.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import enum
import functools
import hashlib
import re
import urllib.parse
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.algorithms import SignatureConstructionMethod as methods
from signxml.exceptions import InvalidCertificate, InvalidDigest, InvalidInput, InvalidSignature
from signxml.signer import XMLSigner
from signxml.verifier import SignatureConfiguration, VerifyResult

from axis.edxml import xmlsafe
from axis.edxml.namespaces import DS_NS, ds

# The verifier subclasses and algorithm sets are private to the signature module, but copying them
# would let the package and receipt policies drift apart; both must stay exactly as strict.
from axis.edxml.signature import (
    _STRONG_DIGESTS,
    _STRONG_SIGNATURES,
    SigningKey,
    _Verifier,
    certificates,
    empty_values,
    non_base64_values,
    trusted_leaf,
    validity_problem,
)
from axis.edxml.trust import AppliedPolicy, Signer, TrustAnchors
from axis.errors import AxisError, PackageError, SignatureError

RECEIPT_NS = "urn:axis:receipt:1"
_PREFIX = "r"
_EXC_C14N = CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0
# A receipt is shallow (the deepest element, a batch manifest's DigestMethod, is at level 6).
_LIMITS = xmlsafe.Limits(max_depth=12)
_HEX64 = re.compile(r"[0-9a-f]{64}")
# Characters XML 1.0 cannot carry at all: refused when a receipt is made, not when it is serialized.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _r(local: str) -> str:
    """``{receipt namespace}local``: the tag lxml uses for a receipt element."""
    return f"{{{RECEIPT_NS}}}{local}"


class ReceiptKind(enum.StrEnum):
    """Acceptance when the package's transaction commits; delivery when a recipient system takes it."""

    ACCEPTANCE = "acceptance"
    DELIVERY = "delivery"


class ReceiptError(AxisError):
    """A receipt that cannot be verified or read; its code says which rule it broke."""


@dataclass(frozen=True, slots=True)
class ReceiptRecipient:
    """One addressee: the code the sender asked for, the agency it resolved to (after ``redirects``,
    the successor codes followed from a retired agency), and the system serving that agency."""

    requested_code: str
    agency_code: str
    system_id: str
    redirects: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("requested_code", "agency_code", "system_id"):
            _check_text(f"ReceiptRecipient.{name}", getattr(self, name))
        if not isinstance(self.redirects, tuple):
            raise ValueError("ReceiptRecipient.redirects must be a tuple")
        for code in self.redirects:
            _check_text("ReceiptRecipient.redirects", code)


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the axis attests. Invalid combinations cannot be built, so neither ``build`` nor the
    reader can produce a receipt that says something impossible (a delivery to no system, a naive
    time, a digest that is not SHA-256)."""

    kind: ReceiptKind
    package_id: str  # canonical UUID text
    document_id: str  # the edXML DocumentId (for a status package: the DocumentId it answers)
    package_kind: str  # "document" | "status"
    digest_sha256: str  # lower-case hex SHA-256 of the package bytes exactly as received
    sender_code: str
    sender_system: str
    recipients: tuple[ReceiptRecipient, ...]  # acceptance: all; delivery: those served by delivered_to
    at: dt.datetime  # aware; accepted-at or delivered-at
    delivered_to: str | None = None  # delivery receipts: the recipient system id
    #: The rule the package was accepted under; None in receipts made before the axis stated it
    #: (unknown: such a package may have been accepted under a legacy policy as well).
    signature_policy: AppliedPolicy | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.kind, ReceiptKind):
            raise ValueError(f"Receipt.kind must be a ReceiptKind, not {self.kind!r}")
        try:
            canonical = str(uuid.UUID(self.package_id))
        except (ValueError, TypeError, AttributeError):
            canonical = None
        if canonical != self.package_id:
            raise ValueError(f"Receipt.package_id {self.package_id!r} is not canonical UUID text")
        for name in ("document_id", "sender_code", "sender_system"):
            _check_text(f"Receipt.{name}", getattr(self, name))
        if self.package_kind not in ("document", "status"):
            raise ValueError(f"Receipt.package_kind {self.package_kind!r} is not 'document' or 'status'")
        if not isinstance(self.digest_sha256, str) or not _HEX64.fullmatch(self.digest_sha256):
            raise ValueError("Receipt.digest_sha256 must be 64 lower-case hex digits")
        if not isinstance(self.recipients, tuple) or not self.recipients:
            raise ValueError("Receipt.recipients must be a non-empty tuple")
        if not all(isinstance(each, ReceiptRecipient) for each in self.recipients):
            raise ValueError("Receipt.recipients must hold ReceiptRecipient values")
        offset = self.at.utcoffset() if isinstance(self.at, dt.datetime) else None
        if offset is None:
            raise ValueError("Receipt.at must be an aware datetime")
        if offset % dt.timedelta(minutes=1):
            # ISO 8601 and XML Schema offsets are hours and minutes; other readers would choke.
            raise ValueError(f"Receipt.at has a UTC offset of {offset}, not a whole number of minutes")
        if self.kind is ReceiptKind.DELIVERY:
            if self.delivered_to is None:
                raise ValueError("A delivery receipt needs delivered_to")
            _check_text("Receipt.delivered_to", self.delivered_to)
            others = {each.system_id for each in self.recipients} - {self.delivered_to}
            if others:
                raise ValueError(f"A delivery receipt lists recipients of other systems: {sorted(others)}")
        elif self.delivered_to is not None:
            raise ValueError("An acceptance receipt has no delivered_to")
        if self.signature_policy is not None:
            try:  # text from a reader or a caller becomes the enum; anything else is refused
                object.__setattr__(self, "signature_policy", AppliedPolicy(self.signature_policy))
            except ValueError:
                known = ", ".join(p.value for p in AppliedPolicy)
                raise ValueError(f"Receipt.signature_policy {self.signature_policy!r} is not one of {known}") from None


def _check_text(name: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be non-blank text, not {value!r}")
    bad = _NOT_XML.search(value)
    if bad:
        raise ValueError(f"{name} holds {bad.group()!r}, which XML cannot carry")


# --- making receipts ----------------------------------------------------------------------------------


def build(receipt: Receipt) -> bytes:
    """The unsigned receipt document (UTF-8, with an XML declaration): what ``sign`` signs."""
    return _serialize(_tree(receipt))


def sign(receipt: Receipt, key: SigningKey, cert_chain: Sequence[x509.Certificate]) -> bytes:
    """The receipt with the axis's enveloped signature; ``cert_chain`` starts with the key's certificate.

    A key that does not belong to the first certificate would make receipts nobody can verify, and
    the first sender to notice would be the one in a dispute: that is refused here, as a setting error.
    """
    _check_key(key, cert_chain)
    signer = _signer(key, methods.enveloped)
    return _serialize(signer.sign(_tree(receipt, signed=True), key=key, cert=list(cert_chain)))


def sign_batch(batch: Sequence[Receipt], key: SigningKey, cert_chain: Sequence[x509.Certificate]) -> list[bytes]:
    """Each receipt of ``batch`` signed, with one signature for them all: what a recipient's batch
    acknowledgement makes (a delivery receipt per package), at the cost of one.

    The signature signs a ``ds:Manifest`` (in a ``ds:Object`` of the signature, ``URI="#object"``)
    listing each receipt's digest: SHA-256 of the receipt's exclusive C14N without its signature
    (the enveloped-signature transform), under the URI ``receipt_uri`` names. Every receipt
    carries that same signature, manifest included, so each stands alone: an XML Signature tool
    checks the signature (xmlsec1 included), and the receipt's own digest, compared with its
    entry, binds it to the manifest (``verify`` does both; ``docs/api.md`` shows it by hand). The
    entries state no transforms (the recipe is the format's, written once in ``docs/api.md``):
    they would double the manifest every receipt carries. A batch of one is signed as ``sign``
    signs a receipt.
    """
    if len(batch) == 1:
        return [sign(batch[0], key, cert_chain)]
    _check_key(key, cert_chain)
    trees, uris = [], set()
    manifest = etree.Element(ds("Manifest"), nsmap={"ds": DS_NS})
    for receipt in batch:
        uri = receipt_uri(receipt)
        if uri in uris:
            raise ValueError(f"Two receipts of one batch would both be {uri}")
        uris.add(uri)
        tree = _tree(receipt)
        # The signature goes after the last element, indented like it, and the closing tag follows
        # it directly: removing the signature (the enveloped-signature transform) then gives back
        # exactly the tree digested here.
        tree[-1].tail = "\n  "
        trees.append(tree)
        reference = etree.SubElement(manifest, ds("Reference"), URI=uri)
        etree.SubElement(reference, ds("DigestMethod"), Algorithm=DigestAlgorithm.SHA256.value)
        etree.SubElement(reference, ds("DigestValue")).text = _digest(tree)
    signature = _signer(key, methods.enveloping).sign(manifest, key=key, cert=list(cert_chain))
    signed = []
    for tree in trees:
        tree.append(copy.deepcopy(signature))
        signed.append(_serialize(tree))
    return signed


def receipt_uri(receipt: Receipt) -> str:
    """The name of a receipt in a batch's manifest: its kind, package and, for a delivery, the
    system it was delivered to (percent-encoded: system ids may hold any letter)."""
    uri = f"urn:axis:receipt:{receipt.kind.value}:{receipt.package_id}"
    if receipt.delivered_to is not None:
        uri += ":" + urllib.parse.quote(receipt.delivered_to, safe="")
    return uri


def _check_key(key: SigningKey, cert_chain: Sequence[x509.Certificate]) -> None:
    if not cert_chain:
        raise AxisError("config.invalid", "Signing a receipt needs the axis certificate.")
    _key_fits(key, cert_chain[0])


@functools.lru_cache(maxsize=8)
def _key_fits(key: SigningKey, cert: x509.Certificate) -> None:
    """Checked once per key and certificate (the axis signs every receipt with the same pair,
    and serialising both public keys was a tenth of signing one receipt); a misfit is not kept."""
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(*spki) != cert.public_key().public_bytes(*spki):
        raise AxisError(
            "config.invalid",
            f"The axis signing key does not belong to the axis certificate ({cert.subject.rfc4514_string()}).",
        )


def _signer(key: SigningKey, method: methods) -> XMLSigner:
    is_rsa = isinstance(key, rsa.RSAPrivateKey)
    return XMLSigner(
        method=method,
        signature_algorithm=SignatureMethod.RSA_SHA256 if is_rsa else SignatureMethod.ECDSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=_EXC_C14N,
    )


def _digest(root: etree._Element) -> str:
    """Base64 SHA-256 of the exclusive C14N of a receipt without its signature."""
    canonical = etree.tostring(root, method="c14n", exclusive=True, with_comments=False)
    return base64.b64encode(hashlib.sha256(canonical).digest()).decode("ascii")


def _tree(receipt: Receipt, *, signed: bool = False) -> etree._Element:
    root = etree.Element(_r("Receipt"), nsmap={_PREFIX: RECEIPT_NS}, kind=receipt.kind.value)
    etree.SubElement(root, _r("PackageId")).text = receipt.package_id
    etree.SubElement(root, _r("DocumentId")).text = receipt.document_id
    etree.SubElement(root, _r("PackageKind")).text = receipt.package_kind
    etree.SubElement(root, _r("Digest"), algorithm="sha256").text = receipt.digest_sha256
    if receipt.signature_policy is not None:
        etree.SubElement(root, _r("SignaturePolicy")).text = receipt.signature_policy.value
    etree.SubElement(root, _r("Sender"), code=receipt.sender_code, system=receipt.sender_system)
    recipients = etree.SubElement(root, _r("Recipients"))
    for each in receipt.recipients:
        recipient = etree.SubElement(
            recipients,
            _r("Recipient"),
            code=each.requested_code,
            agency=each.agency_code,
            system=each.system_id,
        )
        for code in each.redirects:
            etree.SubElement(recipient, _r("Redirect")).text = code
    etree.SubElement(root, _r("At")).text = receipt.at.isoformat()
    if receipt.delivered_to is not None:
        etree.SubElement(root, _r("DeliveredTo"), system=receipt.delivered_to)
    if signed:
        # signxml fills the placeholder in place, so the signature gets the layout of its siblings.
        etree.SubElement(root, ds("Signature"), nsmap={"ds": DS_NS}, Id="placeholder")
    etree.indent(root)  # people open receipts in a text editor; c14n keeps the layout signed
    return root


def _serialize(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


# --- checking receipts --------------------------------------------------------------------------------


def verify(data: bytes, trust: TrustAnchors, *, at: dt.datetime | None = None) -> tuple[Receipt, Signer]:
    """The receipt the axis signed, and who signed it; or a ``ReceiptError``.

    ``at`` is when the certificate must have been valid (default: now); a sender checking an old
    receipt after the axis certificate expired passes the time it received the receipt.
    """
    if at is not None and at.utcoffset() is None:
        raise ValueError("verify(at=...) needs an aware datetime")
    root = _parse(data)
    signature = _signature(root)
    batch = _is_batch(signature)
    _precheck(signature, batch=batch)
    when = at or dt.datetime.now(dt.UTC)
    try:
        chain = certificates(signature)
    except SignatureError as exc:
        raise ReceiptError("receipt.malformed", f"The receipt's certificate: {exc.message}") from None
    if (problem := validity_problem(chain, when)) is not None:
        subject, message = problem
        raise ReceiptError("receipt.certificate.expired", message, subject=subject)
    config = SignatureConfiguration(
        require_x509=True,
        expect_references=1,
        signature_methods=_STRONG_SIGNATURES,
        digest_algorithms=_STRONG_DIGESTS,
        verification_time=when,
    )
    verifier = _Verifier()
    try:
        leaf = trusted_leaf(trust, chain, when)
        result = verifier.verify(data, x509_cert=leaf, expect_config=config)
    except InvalidDigest as exc:
        raise ReceiptError("receipt.invalid", f"The receipt was changed after signing: {exc}") from None
    except InvalidCertificate as exc:
        # The chain in KeyInfo was checked above; this is the anchor's own validity period.
        expired = "valid at validation time" in str(exc)
        code = "receipt.certificate.expired" if expired else "receipt.certificate.untrusted"
        raise ReceiptError(code, f"The receipt's certificate is not accepted: {exc}") from None
    except InvalidSignature as exc:
        raise ReceiptError("receipt.invalid", f"The receipt's signature does not verify: {exc}") from None
    except (InvalidInput, etree.DocumentInvalid) as exc:
        raise ReceiptError("receipt.malformed", f"The receipt's signature cannot be processed: {exc}") from None
    signed = result.signed_xml if isinstance(result, VerifyResult) else None
    if batch and signed is not None:
        return _in_manifest(root, signature, signed), Signer.from_certificate(leaf)
    if signed is None or signed.tag != _r("Receipt"):
        raise ReceiptError("receipt.signature.partial", "The verified content is not the whole receipt.")
    return _read(signed), Signer.from_certificate(leaf)


def _remove_keeping_tail(element: etree._Element) -> None:
    """Remove an element node only, as XPath's data model does: the text after it stays (lxml's
    ``remove`` would take it along, and the digest would not be the one any other tool computes)."""
    parent, previous, tail = element.getparent(), element.getprevious(), element.tail or ""
    assert parent is not None
    if previous is not None:
        previous.tail = (previous.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(element)


def _is_batch(signature: etree._Element) -> bool:
    """Whether the signature is a batch's (``sign_batch``): it signs its own ``ds:Object``."""
    uris = [each.get("URI") for each in signature.iterfind(f"{ds('SignedInfo')}/{ds('Reference')}")]
    return uris == ["#object"] and signature.find(ds("Object")) is not None


def _in_manifest(root: etree._Element, signature: etree._Element, signed: etree._Element) -> Receipt:
    """The receipt of a batch, read from the tree whose digest the verified manifest lists under
    its name; the manifest is taken from what signxml verified, never from the input bytes."""
    entries = signed.findall(ds("Manifest")) if signed.tag == ds("Object") else []
    if len(entries) != 1 or len(signed) != 1 or (signed.text or "").strip():
        raise ReceiptError("receipt.signature.partial", "A batch signature signs one ds:Manifest and nothing else.")
    digests: dict[str, str] = {}
    for reference in entries[0]:
        uri = reference.get("URI")
        method = reference.find(ds("DigestMethod"))
        value = reference.find(ds("DigestValue"))
        if (
            reference.tag != ds("Reference")
            or uri is None
            or uri in digests
            or [each.tag for each in reference] != [ds("DigestMethod"), ds("DigestValue")]
            or method is None
            or method.get("Algorithm") != DigestAlgorithm.SHA256.value
            or value is None
        ):
            raise ReceiptError("receipt.malformed", "The batch manifest's entries are not those an axis makes.")
        digests[uri] = (value.text or "").strip()
    _remove_keeping_tail(signature)  # the enveloped-signature transform
    receipt = _read(copy.deepcopy(root))
    expected = digests.get(receipt_uri(receipt))
    if expected is None:
        raise ReceiptError("receipt.invalid", "The batch signature does not list this receipt.")
    if expected != _digest(root):
        message = "The receipt was changed after signing (its digest is not the one listed)."
        raise ReceiptError("receipt.invalid", message)
    return receipt


def parse_unverified(data: bytes) -> Receipt:
    """What a receipt claims, without checking who signed it: for display only, never as evidence."""
    root = _parse(data)
    etree.strip_elements(root, ds("Signature"), with_tail=False)
    return _read(root)


def _parse(data: bytes) -> etree._Element:
    try:
        root = xmlsafe.parse(data, _LIMITS)
    except PackageError as exc:
        raise ReceiptError("receipt.malformed", f"The receipt is not acceptable XML: {exc}") from None
    if root.tag != _r("Receipt"):
        raise ReceiptError(
            "receipt.malformed",
            f"The root element is {root.tag!r}; a receipt is {_r('Receipt')!r}.",
            element=root.tag,
        )
    return root


def _signature(root: etree._Element) -> etree._Element:
    """The one signature, a child of the root: anything else is how signature wrapping starts."""
    found = list(root.iter(ds("Signature")))
    if not found:
        raise ReceiptError("receipt.unsigned", "The receipt carries no XML Signature (ds:Signature).")
    if len(found) > 1 or found[0].getparent() is not root:
        paths = [root.getroottree().getpath(each) for each in found]
        raise ReceiptError(
            "receipt.signature.misplaced",
            f"A receipt has one XML Signature, a child of its root; this one has {paths}.",
            paths=paths,
        )
    return found[0]


def _precheck(signature: etree._Element, *, batch: bool = False) -> None:
    """Name the problem before signxml decides; these reads of unverified data only pick the code."""
    signed_info = signature.find(ds("SignedInfo"))
    if signed_info is None:
        raise ReceiptError("receipt.malformed", "The receipt's signature has no SignedInfo.")
    references = signed_info.findall(ds("Reference"))
    uris = [each.get("URI") for each in references]
    if uris != [""] and not batch:
        raise ReceiptError(
            "receipt.signature.partial",
            f'A receipt signature has one Reference with URI="" (the whole receipt); it has {uris}.',
            references=uris,
        )
    if (missing := empty_values(signature)) is not None:
        raise ReceiptError("receipt.malformed", f"The receipt's {missing} is empty.", element=missing)
    if (garbled := non_base64_values(signature)) is not None:
        raise ReceiptError("receipt.malformed", f"The receipt's {garbled} is not base64.", element=garbled)
    algorithms = [
        (CanonicalizationMethod, signed_info.find(ds("CanonicalizationMethod")), set(CanonicalizationMethod)),
        (SignatureMethod, signed_info.find(ds("SignatureMethod")), _STRONG_SIGNATURES),
        (DigestAlgorithm, references[0].find(ds("DigestMethod")), _STRONG_DIGESTS),
    ]
    for enum_type, element, allowed in algorithms:
        uri = element.get("Algorithm") if element is not None else None
        try:
            value = enum_type(uri)
        except ValueError:
            value = None
        if value not in allowed:
            raise ReceiptError(
                "receipt.algorithm.forbidden",
                f"Algorithm {uri!r} is not allowed in a receipt signature (RSA/ECDSA with SHA-2 only).",
                algorithm=uri,
            )


# A receipt's elements in their order; the optional ones may be absent: ``DeliveredTo`` (acceptance
# receipts) and ``SignaturePolicy`` (receipts made before the axis stated it).
_ELEMENTS = (
    ("PackageId", True),
    ("DocumentId", True),
    ("PackageKind", True),
    ("Digest", True),
    ("SignaturePolicy", False),
    ("Sender", True),
    ("Recipients", True),
    ("At", True),
    ("DeliveredTo", False),
)


def _parts(children: list[etree._Element]) -> dict[str, etree._Element]:
    """The receipt's elements by name: each known one at most once, in order, none missing."""
    part: dict[str, etree._Element] = {}
    rest = iter(children)
    child = next(rest, None)
    missing = False
    for name, required in _ELEMENTS:
        if child is not None and child.tag == _r(name):
            part[name] = child
            child = next(rest, None)
        elif required:
            missing = True
            break
    if missing or child is not None:
        found = [_local(each) for each in children]
        expected = [name if required else f"[{name}]" for name, required in _ELEMENTS]
        raise ReceiptError(
            "receipt.malformed", f"The receipt's elements are {found}; expected {expected}.", elements=found
        )
    return part


def _read(root: etree._Element) -> Receipt:
    """A ``Receipt`` from a receipt tree whose signature, if any, was removed: strictly, in order."""
    etree.strip_tags(root, etree.Comment, etree.ProcessingInstruction)
    part = _parts(_elements(root))
    (kind,) = _attributes(root, "kind")
    sender_code, sender_system = _attributes(part["Sender"], "code", "system")
    (algorithm,) = _attributes(part["Digest"], "algorithm")
    if algorithm != "sha256":
        raise ReceiptError("receipt.malformed", f"The receipt's Digest algorithm is {algorithm!r}, not 'sha256'.")
    delivered_to = _attributes(part["DeliveredTo"], "system")[0] if "DeliveredTo" in part else None
    policy = _value(part["SignaturePolicy"]) if "SignaturePolicy" in part else None
    try:
        return Receipt(
            kind=ReceiptKind(kind),
            package_id=_value(part["PackageId"]),
            document_id=_value(part["DocumentId"]),
            package_kind=_value(part["PackageKind"]),
            digest_sha256=_value(part["Digest"], "algorithm"),
            sender_code=sender_code,
            sender_system=sender_system,
            recipients=tuple(_recipients(part["Recipients"])),
            at=dt.datetime.fromisoformat(_value(part["At"])),
            delivered_to=delivered_to,
            signature_policy=AppliedPolicy(policy) if policy is not None else None,
        )
    except ValueError as exc:
        raise ReceiptError("receipt.malformed", f"The receipt says something impossible: {exc}") from None


def _recipients(container: etree._Element) -> Iterator[ReceiptRecipient]:
    _attributes(container)
    for recipient in _elements(container, "Recipient"):
        code, agency, system = _attributes(recipient, "code", "agency", "system")
        redirects = tuple(_value(each) for each in _elements(recipient, "Redirect"))
        yield ReceiptRecipient(code, agency, system, redirects)


def _elements(parent: etree._Element, only: str | None = None) -> list[etree._Element]:
    """The element children of a container, which may hold layout whitespace and nothing else."""
    if any((text or "").strip() for text in (parent.text, *(each.tail for each in parent))):
        raise ReceiptError("receipt.malformed", f"{_local(parent)} holds text; it is a container.")
    children = list(parent)
    if only is not None and any(each.tag != _r(only) for each in children):
        raise ReceiptError("receipt.malformed", f"{_local(parent)} may hold only {only} elements.")
    return children


def _value(element: etree._Element, *attributes: str) -> str:
    """The text of a leaf element (an empty element reads as empty text, which no field allows)."""
    _attributes(element, *attributes)
    if len(element):
        raise ReceiptError("receipt.malformed", f"{_local(element)} must hold text only.")
    return element.text or ""


def _attributes(element: etree._Element, *names: str) -> list[str]:
    """Exactly these attributes, in this order: an unknown one is a format this reader does not know."""
    present = sorted(str(key) for key in element.attrib)
    if present != sorted(names):
        raise ReceiptError(
            "receipt.malformed", f"{_local(element)} has attributes {present}; expected {sorted(names)}."
        )
    return [str(element.attrib[name]) for name in names]


def _local(element: etree._Element) -> str:
    qname = etree.QName(element)
    return qname.localname if qname.namespace == RECEIPT_NS else element.tag
