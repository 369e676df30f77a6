"""A development certificate authority and agency signing certificates.

Tests, demos and vendors trying the axis need keys that chain to a trust anchor without asking a
real CA. The certificates look like what the axis expects in production: a CA with the extensions
the chain check requires, and leaf certificates whose subject names the agency code (as ``UID``)
and allows digital signatures.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from axis.errors import AxisError
from axis.registry import codes

KeyType = Literal["rsa", "ec"]
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class Identity:
    """A private key, its certificate, and the certificates between it and the anchor."""

    key: PrivateKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()

    @property
    def cert_chain(self) -> tuple[x509.Certificate, ...]:
        """The certificate first, then its issuers: what goes into a signature's X509Data."""
        return (self.certificate, *self.chain)


def _fit(text: str, limit: int = 64) -> str:
    """X.509 caps O and CN at 64 (cryptography counts UTF-8 bytes); Vietnamese names often exceed it."""
    while len(text.encode("utf-8")) > limit:
        text = text[:-1]
    return text.rstrip()


def _new_key(key_type: KeyType) -> PrivateKey:
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _key_usage(*, signing: bool, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signing,
        content_commitment=signing,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def new_ca(
    name: str = "Axis Development CA",
    *,
    days: int = 3650,
    key_type: KeyType = "ec",
    not_before: dt.datetime | None = None,
) -> Identity:
    """A self-signed CA for development. Never a production trust anchor.

    ``not_before`` lets tests date the CA back, to sign with it (and check) at a time in the past.
    """
    key = _new_key(key_type)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "axis (development only)"),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )
    start = not_before or dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_key_usage(signing=False, ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Identity(key, cert)


def issue(
    ca: Identity,
    agency_code: str | None,
    name: str,
    *,
    days: int = 365,
    key_type: KeyType = "rsa",
    not_before: dt.datetime | None = None,
    title: str | None = None,
    organisation: str | None = None,
    ocsp_url: str | None = None,
    crl_url: str | None = None,
) -> Identity:
    """A signing certificate issued by ``ca`` for one agency (or, without a code, for a service
    such as the axis itself, which signs receipts but is no agency, or for a person).

    ``not_before`` lets tests make certificates that are already expired or not yet valid.
    ``title`` makes it a person's certificate, as a document's individual signer holds (Decree
    30/2020): their title (X.509 ``title``, 2.5.4.12) in the subject and, with ``organisation``,
    the agency they work for as ``O``; a person's certificate carries no agency code.
    ``ocsp_url`` and ``crl_url`` name where to ask whether it is revoked (Authority Information
    Access, CRL Distribution Points), as a real CA's certificates do.
    """
    key = _new_key(key_type)
    start = not_before or dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, _fit(organisation or name)),
        x509.NameAttribute(NameOID.COMMON_NAME, _fit(name)),
    ]
    if agency_code is not None:
        code = codes.parse(agency_code).text
        attributes[2:] = [
            x509.NameAttribute(NameOID.USER_ID, code),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{_fit(name, 64 - len(code) - 3)} ({code})"),
        ]
    if title is not None:
        attributes.append(x509.NameAttribute(NameOID.TITLE, _fit(title)))
    subject = x509.Name(attributes)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signing=True, ca=False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.EMAIL_PROTECTION]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)
    )
    if ocsp_url is not None:
        access = x509.AccessDescription(AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url))
        builder = builder.add_extension(x509.AuthorityInformationAccess([access]), critical=False)
    if crl_url is not None:
        point = x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)
        builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
    cert = builder.sign(ca.key, hashes.SHA256())
    # A self-signed CA is the trust anchor itself, so it is not repeated in the chain.
    self_signed = ca.certificate.issuer == ca.certificate.subject
    return Identity(key, cert, () if self_signed else ca.cert_chain)


# --- files ------------------------------------------------------------------------------------------


def key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def cert_pem(*certs: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def save(identity: Identity, directory: Path, stem: str) -> tuple[Path, Path]:
    """Write ``<stem>.key.pem`` (mode 0600) and ``<stem>.pem`` (certificate, then its chain)."""
    directory.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = directory / f"{stem}.key.pem", directory / f"{stem}.pem"
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key_pem(identity.key))
    cert_path.write_bytes(cert_pem(*identity.cert_chain))
    return key_path, cert_path


def load(key_path: Path, cert_path: Path) -> Identity:
    """Read a key and its certificate file (certificate first, then any chain)."""
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        certs = x509.load_pem_x509_certificates(cert_path.read_bytes())
    except FileNotFoundError as exc:
        raise AxisError("keys.missing", f"{exc.filename} does not exist.") from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise AxisError("keys.missing", f"{key_path} holds neither an RSA nor an EC private key.")
    return Identity(key, certs[0], tuple(certs[1:]))
