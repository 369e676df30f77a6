"""Trust anchors, signature policy, and who a certificate says its holder is.

Kept apart from the signature mechanics: administrators configure anchors and policies, the
registry binds certificates to systems, and both need to read a certificate's identity the same way.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from axis.edxml import revocation
from axis.edxml.revocation import Revocations
from axis.errors import AxisError

_AGENCY_CODE = re.compile(r"\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}")


@dataclass(frozen=True)
class TrustAnchors:
    """The CA certificates a signer's chain must end in, and the CRLs of those CAs (each verified
    against its issuer among the anchors). Built once; the store is reused per call."""

    certificates: tuple[x509.Certificate, ...]
    crls: tuple[x509.CertificateRevocationList, ...] = field(default=(), hash=False)  # CRLs are unhashable
    store: x509.verification.Store = field(init=False, repr=False, compare=False)
    revocations: Revocations = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.certificates:
            raise AxisError("config.invalid", "At least one trust anchor certificate is needed.")
        object.__setattr__(self, "store", x509.verification.Store(list(self.certificates)))
        object.__setattr__(self, "revocations", Revocations.verified(self.crls, self.certificates))

    @classmethod
    def from_pem(cls, *pems: bytes, crls: Iterable[x509.CertificateRevocationList] = ()) -> TrustAnchors:
        certs: list[x509.Certificate] = []
        for pem in pems:
            certs.extend(x509.load_pem_x509_certificates(pem))
        return cls(tuple(certs), tuple(crls))

    @classmethod
    def from_files(cls, paths: Iterable[str | Path], crl_files: Iterable[str | Path] = ()) -> TrustAnchors:
        """Anchors from PEM files; ``crl_files`` (PEM or DER) must each be signed by one of them."""
        pems = []
        for path in paths:
            try:
                pems.append(Path(path).read_bytes())
            except FileNotFoundError:
                raise AxisError("keys.missing", f"Trust anchor file {path} does not exist.") from None
        return cls.from_pem(*pems, crls=revocation.load_files(crl_files))


@dataclass(frozen=True, slots=True)
class SignaturePolicy:
    """What the axis accepts beyond the default (RSA/ECDSA with SHA-256 or better, signed).

    The national SDKs still sign with RSA-SHA1 and some older systems send unsigned packages; both
    are accepted only where an administrator said so for that sender's system, and the relaxation
    actually used is recorded with the package.
    """

    allow_sha1: bool = False
    allow_unsigned: bool = False

    @property
    def name(self) -> str:
        relaxed = [n for n, on in (("sha1", self.allow_sha1), ("unsigned", self.allow_unsigned)) if on]
        return "strict" if not relaxed else "legacy:" + "+".join(relaxed)


STRICT = SignaturePolicy()
LEGACY_SHA1 = SignaturePolicy(allow_sha1=True)


class AppliedPolicy(enum.StrEnum):
    """The rule that let one package in, as it is stored with the package, shown to the people who
    read it and stated in its receipts. Anything but ``STRICT`` means no SHA-2 XML Signature stood
    behind the package: the reader should check the signature on the attached files instead."""

    STRICT = "strict"  # an XML Signature with SHA-256 or better, chaining to the trust anchors
    LEGACY_SHA1 = "legacy:sha1"  # an XML Signature that used SHA-1 (the national SDKs' default)
    LEGACY_UNSIGNED = "legacy:unsigned"  # no XML Signature at all (an edXML-namespace Signature counts as none)

    @property
    def legacy(self) -> bool:
        return self is not AppliedPolicy.STRICT


@dataclass(frozen=True, slots=True)
class Signer:
    """Who signed, as the verified certificate says. ``agency_code`` is None when the subject names none."""

    subject: str
    common_name: str
    organization: str
    agency_code: str | None
    issuer: str
    serial: str
    fingerprint_sha256: str
    not_before: dt.datetime
    not_after: dt.datetime
    certificate_pem: str

    @classmethod
    def from_certificate(cls, cert: x509.Certificate) -> Signer:
        return _signer_of(cert.public_bytes(serialization.Encoding.DER))

    @classmethod
    def _build(cls, cert: x509.Certificate) -> Signer:
        return cls(
            subject=cert.subject.rfc4514_string(),
            common_name=_attribute(cert.subject, NameOID.COMMON_NAME),
            organization=_attribute(cert.subject, NameOID.ORGANIZATION_NAME),
            agency_code=agency_code_of(cert),
            issuer=cert.issuer.rfc4514_string(),
            serial=format(cert.serial_number, "x"),
            fingerprint_sha256=fingerprint(cert),
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            certificate_pem=cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        )


@functools.lru_cache(maxsize=4096)
def _signer_of(der: bytes) -> Signer:
    """Agencies sign thousands of packages with one certificate: read each certificate once."""
    return Signer._build(x509.load_der_x509_certificate(der))


def _attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else ""


def agency_code_of(cert: x509.Certificate) -> str | None:
    """The agency code a certificate names: UID first (what ``axis keys`` writes), then any attribute.

    Vietnamese CAs place the code in different subject attributes, so after UID every attribute
    value is searched for one QCVN 102 code; a subject naming two different codes names none.
    """
    uid = _attribute(cert.subject, NameOID.USER_ID)
    if _AGENCY_CODE.fullmatch(uid):
        return uid
    found = {match for attr in cert.subject for match in _AGENCY_CODE.findall(str(attr.value))}
    return found.pop() if len(found) == 1 else None


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the DER certificate, lower-case hex: how the registry identifies certificates."""
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
