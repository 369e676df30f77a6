"""Enveloped XML Signatures over whole edXML packages, through signxml.

Signing puts one ``ds:Signature`` at the end of ``edXMLHeader`` covering the whole document
(``Reference URI=""``, enveloped-signature transform, exclusive C14N) — the shape the national SDKs
use, with SHA-256 instead of their SHA-1.

Verification is where forged packages are stopped, so it is deliberately narrow: exactly one
signature, in the place edXML puts it, covering the whole document, with an algorithm the policy
allows and a certificate chaining to a configured anchor. Cheap checks on the *unverified*
signature come first only to give the vendor a precise error code; the decision itself is
signxml's, and the caller reads the package from the tree signxml returns as verified, never from
the bytes it was given (which is what defeats signature-wrapping).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from lxml import etree
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.algorithms import SignatureConstructionMethod as methods
from signxml.exceptions import InvalidCertificate, InvalidDigest, InvalidInput, InvalidSignature
from signxml.signer import XMLSigner
from signxml.util import X509CertChainVerifier
from signxml.verifier import SignatureConfiguration, VerifyResult, XMLVerifier

from axis.edxml import xmlsafe
from axis.edxml.namespaces import DS_NS, ds, ed
from axis.edxml.trust import STRICT, AppliedPolicy, SignaturePolicy, Signer, TrustAnchors
from axis.errors import PackageError, SignatureError

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

_STRONG_SIGNATURES = frozenset(
    {
        SignatureMethod.RSA_SHA256,
        SignatureMethod.RSA_SHA384,
        SignatureMethod.RSA_SHA512,
        SignatureMethod.ECDSA_SHA256,
        SignatureMethod.ECDSA_SHA384,
        SignatureMethod.ECDSA_SHA512,
        SignatureMethod.SHA256_RSA_MGF1,
        SignatureMethod.SHA384_RSA_MGF1,
        SignatureMethod.SHA512_RSA_MGF1,
    }
)
_SHA1_SIGNATURES = frozenset({SignatureMethod.RSA_SHA1, SignatureMethod.ECDSA_SHA1})
_STRONG_DIGESTS = frozenset({DigestAlgorithm.SHA256, DigestAlgorithm.SHA384, DigestAlgorithm.SHA512})
_SHA1_DIGESTS = frozenset({DigestAlgorithm.SHA1})


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    """The outcome of verifying one package's signature.

    ``signed_root`` is the tree signxml verified (None only for an unsigned package accepted under
    a legacy policy); ``policy`` names the rule that let the package in: ``strict``,
    ``legacy:sha1`` or ``legacy:unsigned``.
    """

    signed_root: etree._Element | None
    signer: Signer | None
    policy: str
    signature_method: str = ""
    digest_method: str = ""


def sign(
    data: bytes,
    key: SigningKey,
    cert_chain: Sequence[x509.Certificate],
    *,
    signature_method: SignatureMethod | None = None,
    digest: DigestAlgorithm = DigestAlgorithm.SHA256,
    c14n: CanonicalizationMethod = CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
) -> bytes:
    """Sign package bytes with the agency's key; ``cert_chain`` starts with the key's certificate.

    Any signature already in the header is replaced. The default method follows the key type
    (RSA-SHA256 or ECDSA-SHA256); a SHA-1 method may be asked for to imitate the national SDKs.
    """
    root = xmlsafe.parse(data)
    header = root.find(f"{ed('edXMLEnvelope')}/{ed('edXMLHeader')}")
    if header is None:
        raise PackageError("edxml.kind.unknown", "The package has no edXMLEnvelope/edXMLHeader to sign.")
    for old in (*header.findall(ds("Signature")), *header.findall(ed("DigitalSignature"))):
        header.remove(old)
    for old in header.findall(ed("Signature")):
        header.remove(old)
    etree.SubElement(header, ds("Signature"), Id="placeholder", nsmap={"ds": DS_NS})
    if signature_method is None:
        is_rsa = isinstance(key, rsa.RSAPrivateKey)
        signature_method = SignatureMethod.RSA_SHA256 if is_rsa else SignatureMethod.ECDSA_SHA256
    signer_class = _LegacySigner if method_is_sha1(signature_method, digest) else XMLSigner
    signer = signer_class(
        method=methods.enveloped,
        signature_algorithm=signature_method,
        digest_algorithm=digest,
        c14n_algorithm=c14n,
    )
    # Certificate objects, not PEM text: signxml would re-wrap and re-parse each PEM to check it.
    signed = signer.sign(root, key=key, cert=list(cert_chain))
    return bytes(etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))


def method_is_sha1(method: SignatureMethod, digest: DigestAlgorithm) -> bool:
    return method in _SHA1_SIGNATURES or digest in _SHA1_DIGESTS


class _LegacySigner(XMLSigner):
    """signxml refuses to make SHA-1 signatures; the national SDKs still do, and tests and
    vendors need packages signed exactly like theirs."""

    def check_deprecated_methods(self) -> None:
        return None


def verify_tree(
    root: etree._Element,
    trust: TrustAnchors,
    *,
    policy: SignaturePolicy = STRICT,
    at: dt.datetime | None = None,
) -> SignatureCheck:
    """Verify the signature of an already hardened-parsed, schema-valid package tree.

    signxml works on this very tree (see ``_Verifier.get_root``) and returns the part it verified.
    """
    signature = locate(root)
    if signature is None:
        if policy.allow_unsigned:
            return SignatureCheck(signed_root=None, signer=None, policy=AppliedPolicy.LEGACY_UNSIGNED)
        raise SignatureError(
            "signature.missing",
            "The package has no XML Signature (ds:Signature in the xmldsig namespace); "
            "an edXML-namespace Signature element does not count.",
        )
    method, digest = _precheck(signature, policy)
    chain = certificates(signature)
    when = at or dt.datetime.now(dt.UTC)
    if (problem := validity_problem(chain, when)) is not None:
        subject, message = problem
        raise SignatureError("signature.certificate.expired", message, subject=subject)
    sha1 = method_is_sha1(method, digest)
    config = SignatureConfiguration(
        require_x509=True,
        expect_references=1,
        signature_methods=_STRONG_SIGNATURES | (_SHA1_SIGNATURES if policy.allow_sha1 else frozenset()),
        digest_algorithms=_STRONG_DIGESTS | (_SHA1_DIGESTS if policy.allow_sha1 else frozenset()),
        verification_time=when,
    )
    verifier = _Verifier()
    try:
        # The chain is checked here, once per chain and minute (``_trusted_leaf``), and signxml
        # is handed the leaf it accepted: signxml would re-read the certificates from their PEM
        # text and build the path again for every package.
        leaf = trusted_leaf(trust, chain, when)
        result = verifier.verify(root, x509_cert=leaf, expect_config=config)
    except InvalidDigest as exc:
        raise SignatureError("signature.digest_mismatch", f"The package was changed after signing: {exc}") from None
    except InvalidCertificate as exc:
        text = str(exc)
        code = "signature.certificate.key_usage" if "KeyUsage" in text else "signature.certificate.untrusted"
        raise SignatureError(code, f"The signer's certificate is not accepted: {text}") from None
    except InvalidSignature as exc:
        raise SignatureError("signature.invalid", f"The signature does not verify: {exc}") from None
    except (InvalidInput, etree.DocumentInvalid) as exc:
        raise SignatureError("signature.malformed", f"The signature cannot be processed: {exc}") from None
    signed_root = result.signed_xml if isinstance(result, VerifyResult) else None
    if signed_root is None or signed_root.tag != ed("edXML"):
        raise SignatureError(
            "signature.reference.not_whole_document", "The verified content is not the whole edXML package."
        )
    if trust.revocations:
        _check_revocation(trust, (leaf, *chain))
    return SignatureCheck(
        signed_root=signed_root,
        signer=Signer.from_certificate(leaf),
        policy=AppliedPolicy.LEGACY_SHA1 if sha1 else AppliedPolicy.STRICT,
        signature_method=method.value,
        digest_method=digest.value,
    )


def validity_problem(chain: Sequence[x509.Certificate], when: dt.datetime) -> tuple[str, str] | None:
    """The subject and a message for the first certificate of ``chain`` not valid at ``when``
    (packages and receipts refuse it, each with its own code)."""
    for cert in chain:
        if not cert.not_valid_before_utc <= when <= cert.not_valid_after_utc:
            subject = cert.subject.rfc4514_string()
            return subject, (
                f"Certificate {subject} is valid from {cert.not_valid_before_utc:%Y-%m-%d} to "
                f"{cert.not_valid_after_utc:%Y-%m-%d}, not at {when:%Y-%m-%d %H:%M} UTC."
            )
    return None


def _check_revocation(trust: TrustAnchors, chain: Sequence[x509.Certificate]) -> None:
    """After signxml accepted the signature: neither the signer's certificate nor a CA certificate
    the signature carries may be on its issuer's CRL (``AXIS_CRL_FILES``)."""
    for cert in chain:
        revoked = trust.revocations.revoked(cert)
        if revoked is not None:
            raise SignatureError(
                "signature.certificate.revoked",
                f"Certificate {cert.subject.rfc4514_string()} (serial {revoked.serial}) was revoked by "
                f"{revoked.issuer} on {revoked.revoked_at:%Y-%m-%d %H:%M} UTC.",
                subject=cert.subject.rfc4514_string(),
                serial=revoked.serial,
                issuer=revoked.issuer,
                revoked_at=revoked.revoked_at.isoformat(),
            )


def locate(root: etree._Element) -> etree._Element | None:
    """The package's one ``ds:Signature``: in ``edXMLHeader``, or in its ``DigitalSignature`` wrapper."""
    found = root.findall(f".//{ds('Signature')}")
    if len(found) > 1:
        raise SignatureError(
            "signature.multiple", f"The package carries {len(found)} XML Signatures; edXML allows one."
        )
    if not found:
        return None
    signature = found[0]
    parent = signature.getparent()
    if parent is not None and parent.tag == ed("DigitalSignature"):
        parent = parent.getparent()
    envelope = parent.getparent() if parent is not None else None
    if (
        parent is None
        or parent.tag != ed("edXMLHeader")
        or envelope is None
        or envelope.tag != ed("edXMLEnvelope")
        or envelope.getparent() is not root
    ):
        raise SignatureError(
            "signature.location",
            "The XML Signature must be a child of edXMLEnvelope/edXMLHeader (or of its DigitalSignature).",
            path=signature.getroottree().getpath(signature),
        )
    return signature


def _precheck(signature: etree._Element, policy: SignaturePolicy) -> tuple[SignatureMethod, DigestAlgorithm]:
    """Name the problem precisely before signxml decides; these reads of unverified data only pick
    the error code, they never admit anything."""
    signed_info = signature.find(ds("SignedInfo"))
    method_el = signed_info.find(ds("SignatureMethod")) if signed_info is not None else None
    if signed_info is None or method_el is None:
        raise SignatureError("signature.malformed", "The signature has no SignedInfo/SignatureMethod.")
    references = signed_info.findall(ds("Reference"))
    if len(references) != 1 or references[0].get("URI") != "":
        uris = [r.get("URI") for r in references]
        raise SignatureError(
            "signature.reference.not_whole_document",
            f'The signature must have one Reference with URI="" (the whole package); it has {uris}.',
            references=uris,
        )
    if (missing := empty_values(signature)) is not None:
        raise SignatureError("signature.malformed", f"The signature's {missing} is empty.", element=missing)
    if (garbled := non_base64_values(signature)) is not None:
        raise SignatureError("signature.malformed", f"The signature's {garbled} is not base64.", element=garbled)
    digest_el = references[0].find(ds("DigestMethod"))
    method = _algorithm(SignatureMethod, method_el.get("Algorithm"), policy, _STRONG_SIGNATURES, _SHA1_SIGNATURES)
    digest = _algorithm(
        DigestAlgorithm,
        digest_el.get("Algorithm") if digest_el is not None else None,
        policy,
        _STRONG_DIGESTS,
        _SHA1_DIGESTS,
    )
    return method, digest


#: What base64 text may hold (whitespace between lines included).
_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*")


def non_base64_values(signature: etree._Element) -> str | None:
    """The first of SignatureValue and the Reference's DigestValue whose text is not base64.
    signxml decodes them with ``b64decode``, which raises a bare ValueError on a non-ASCII
    character (found by the fuzz test: a right-to-left override in SignatureValue)."""
    reference = signature.find(f"{ds('SignedInfo')}/{ds('Reference')}")
    for name, element in (
        ("SignatureValue", signature.find(ds("SignatureValue"))),
        ("DigestValue", reference.find(ds("DigestValue")) if reference is not None else None),
    ):
        if element is not None and not _BASE64.fullmatch(element.text or ""):
            return name
    return None


def empty_values(signature: etree._Element) -> str | None:
    """The first of SignatureValue and the Reference's DigestValue that is absent or empty. The
    schema lets an empty base64 value through, and signxml then fails on it with a TypeError."""
    reference = signature.find(f"{ds('SignedInfo')}/{ds('Reference')}")
    for name, element in (
        ("SignatureValue", signature.find(ds("SignatureValue"))),
        ("DigestValue", reference.find(ds("DigestValue")) if reference is not None else None),
    ):
        if element is None or not (element.text or "").strip():
            return name
    return None


def _algorithm(
    enum: Any, uri: str | None, policy: SignaturePolicy, strong: frozenset[Any], sha1: frozenset[Any]
) -> Any:
    try:
        value = enum(uri)
    except ValueError:
        value = None
    if value in strong or (value in sha1 and policy.allow_sha1):
        return value
    hint = " (SHA-1 is accepted only under a legacy policy)" if value in sha1 else ""
    raise SignatureError(
        "signature.algorithm.forbidden",
        f"Algorithm {uri!r} is not allowed by policy {policy.name!r}{hint}.",
        algorithm=uri,
        policy=policy.name,
    )


def certificates(signature: etree._Element) -> list[x509.Certificate]:
    texts = [el.text or "" for el in signature.iterfind(f"{ds('KeyInfo')}/{ds('X509Data')}/{ds('X509Certificate')}")]
    if not texts:
        raise SignatureError(
            "signature.certificate.missing",
            "The signature carries no KeyInfo/X509Data/X509Certificate: the axis needs the signer's certificate.",
        )
    return [_certificate("".join(text.split())) for text in texts]


@functools.lru_cache(maxsize=4096)
def _certificate(body: str) -> x509.Certificate:
    """Parse one X509Certificate value; cached because agencies reuse one certificate for years."""
    try:
        cert = x509.load_der_x509_certificate(base64.b64decode(body, validate=True))
        # cryptography decodes names lazily: decode them now, so that a malformed subject is this
        # refusal rather than a ValueError in whatever reads it later (found by fuzzing).
        cert.subject.rfc4514_string()
        cert.issuer.rfc4514_string()
        return cert
    except (ValueError, binascii.Error, x509.InvalidVersion) as exc:
        raise SignatureError("signature.certificate.malformed", f"A certificate cannot be read: {exc}") from None


class _StoreChainVerifier(X509CertChainVerifier):
    """signxml's chain check against our prebuilt store (signxml would re-read a PEM file per call)."""

    def __init__(self, store: x509.verification.Store, verification_time: dt.datetime) -> None:
        super().__init__(ca_pem_file="unused", verification_time=verification_time)  # type: ignore[no-untyped-call]
        self._store = store

    @property
    def store(self) -> x509.verification.Store:
        return self._store


def trusted_leaf(trust: TrustAnchors, chain: Sequence[x509.Certificate], when: dt.datetime) -> x509.Certificate:
    """The signer's certificate of ``chain`` once it builds to one of ``trust``'s anchors at
    ``when`` (signxml's chain check, key usage included); ``InvalidCertificate`` otherwise."""
    return _trusted_leaf(trust.store, tuple(chain), when.replace(second=0, microsecond=0))


@functools.lru_cache(maxsize=1024)
def _trusted_leaf(
    store: x509.verification.Store, chain: tuple[x509.Certificate, ...], minute: dt.datetime
) -> x509.Certificate:
    """The leaf of a chain that builds to an anchor of ``store`` at ``minute``, remembered: an
    agency's system signs every package with the same chain, and building the path each time was
    a tenth of verifying a package. Only successes are kept (a refusal is checked again each
    time); a chain is checked again every minute, and the presented certificates' own validity is
    checked at the exact time by ``verify_tree`` before this. ``store`` is one ``TrustAnchors``'
    (a new one, after a reload, misses the cache)."""
    leaf: x509.Certificate = _StoreChainVerifier(store, minute).verify(list(chain))  # type: ignore[no-untyped-call]
    return leaf


class _Verifier(XMLVerifier):
    """One per verification (it remembers the canonical form it made)."""

    def __init__(self) -> None:
        super().__init__()
        self._canonical: tuple[bytes | _Canonical, etree._Element] | None = None

    @property
    def parser(self) -> etree.XMLParser:
        return xmlsafe.hardened_parser()

    def get_root(self, data: Any) -> Any:
        """Use the tree we parsed (hardened, schema-checked) instead of a copy."""
        if isinstance(data, etree._Element):
            return data
        return super().get_root(data)  # type: ignore[no-untyped-call]

    # signxml copies the whole document twice by serialising and re-parsing it (so that namespaces
    # inherited from a parent cannot leak into the canonical form), and builds the tree it returns
    # by parsing the canonical bytes (so that comments, which the canonical form drops, cannot
    # split the text the caller reads). For a 50 MB package that is three more 50 MB trees and
    # their serialisations: most of the axis's peak memory. The hooks below skip the copies where
    # they change nothing: the node is the root of a tree that is ours alone (no parent to inherit
    # from, and nobody else reads it), and the tree signxml canonicalised has no comments, so it is
    # exactly the tree the canonical bytes would parse into. The canonical form itself is written
    # by lxml straight into the hash. The digests are still compared, and the signature checked,
    # by signxml, over the same canonical bytes as without the hooks.

    def _tostring(self, xml_node: Any, **kwargs: Any) -> Any:
        if not kwargs and _is_document_root(xml_node):
            return _Whole(xml_node)
        return super()._tostring(xml_node, **kwargs)  # type: ignore[no-untyped-call]

    def _fromstring(self, xml_string: Any, **kwargs: Any) -> Any:
        if isinstance(xml_string, _Whole) and not kwargs:
            return xml_string.root
        if self._canonical is not None and xml_string is self._canonical[0] and not kwargs:
            return self._canonical[1]
        if isinstance(xml_string, _Canonical):  # a tree with comments: parse what was signed
            xml_string = bytes(xml_string)
        return super()._fromstring(xml_string, **kwargs)  # type: ignore[no-untyped-call]

    def _c14n(self, nodes: Any, algorithm: CanonicalizationMethod, inclusive_ns_prefixes: Any = None) -> Any:
        exclusive = algorithm.value.startswith("http://www.w3.org/2001/10/xml-exc-c14n#")
        canonical: bytes | _Canonical
        if exclusive and _is_document_root(nodes) and nodes.getprevious() is None and nodes.getnext() is None:
            # The same bytes as signxml's ``tostring(method="c14n")`` (the root has no siblings for
            # the document form to add), produced only as they are hashed (``_get_digest``): the
            # canonical form of a 50 MB package is never held whole.
            canonical = _Canonical(nodes, algorithm.value.endswith("#WithComments"), inclusive_ns_prefixes)
        else:
            canonical = super()._c14n(nodes, algorithm, inclusive_ns_prefixes)
        if (
            _is_document_root(nodes)
            and not algorithm.value.endswith("#WithComments")
            and next(nodes.iter(etree.Comment), None) is None
        ):
            self._canonical = (canonical, nodes)
        return canonical

    def _get_digest(self, data: Any, algorithm: DigestAlgorithm) -> bytes:
        if isinstance(data, _Canonical):
            return data.digest(algorithm)
        digest: bytes = super()._get_digest(data, algorithm)
        return digest


@dataclass(frozen=True, slots=True)
class _Whole:
    """What ``_Verifier._tostring`` hands back for a whole tree: the tree itself, not its bytes."""

    root: etree._Element


class _Canonical:
    """The exclusive canonical form of a whole tree, written out only when it is hashed (or, for
    the rare reader that wants it whole, by ``bytes()``). signxml hands it back as the verified
    result's ``signed_data``."""

    def __init__(self, root: etree._Element, with_comments: bool, inclusive_ns_prefixes: Any) -> None:
        self._root = root
        self._with_comments = with_comments
        self._prefixes = inclusive_ns_prefixes

    def _write(self, sink: Any) -> None:
        etree.ElementTree(self._root).write_c14n(  # type: ignore[call-arg]  # lxml-stubs lack exclusive=
            sink, exclusive=True, with_comments=self._with_comments, inclusive_ns_prefixes=self._prefixes
        )

    def digest(self, algorithm: DigestAlgorithm) -> bytes:
        hasher = hashes.Hash(algorithm.implementation())
        self._write(_HashSink(hasher))
        return hasher.finalize()

    def __bytes__(self) -> bytes:
        buffer = io.BytesIO()
        self._write(buffer)
        return buffer.getvalue()


class _HashSink:
    """A file-like object lxml writes the canonical form into, a few kilobytes at a time."""

    def __init__(self, hasher: hashes.Hash) -> None:
        self.write = hasher.update


def _is_document_root(node: Any) -> bool:
    return isinstance(node, etree._Element) and node.getparent() is None and node.getroottree().getroot() is node
