"""Certificate revocation lists: the signer certificates their CAs have withdrawn.

Operators name CRL files (``AXIS_CRL_FILES``, PEM or DER); they are read at start, and each must
be signed by the trust anchor it names as its issuer: a CRL nobody can vouch for is refused at
start (``config.invalid``) rather than half-trusted. After signxml has accepted a signature, the
signer's certificate (and any CA certificate its chain carries) is looked up by serial number in
its issuer's lists. A CRL past its ``nextUpdate`` still counts: what it revokes stays revoked,
and a stale list is the operator's to refresh (the axis reads the files again at restart).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from axis.errors import AxisError

CRL = x509.CertificateRevocationList
_PEM_CRL = re.compile(rb"-----BEGIN X509 CRL-----.+?-----END X509 CRL-----", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Revoked:
    """A certificate found on its issuer's CRL."""

    serial: str
    issuer: str
    revoked_at: dt.datetime


@dataclass(frozen=True)
class Revocations:
    """CRLs indexed by issuer name, each verified against a trust anchor when built."""

    crls: tuple[CRL, ...] = field(default=(), hash=False)  # cryptography's CRLs are unhashable
    _by_issuer: Mapping[bytes, tuple[CRL, ...]] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def verified(cls, crls: Sequence[CRL], anchors: Sequence[x509.Certificate]) -> Revocations:
        """The CRLs, each checked to be signed by the anchor it names as issuer (else ``config.invalid``)."""
        for crl in crls:
            _check_issuer(crl, anchors)
        built = cls(tuple(crls))
        index: dict[bytes, tuple[CRL, ...]] = {}
        for crl in crls:
            key = crl.issuer.public_bytes()
            index[key] = (*index.get(key, ()), crl)
        object.__setattr__(built, "_by_issuer", index)
        return built

    def __bool__(self) -> bool:
        return bool(self.crls)

    def revoked(self, cert: x509.Certificate) -> Revoked | None:
        """The revocation of ``cert`` on its issuer's lists, or None (also when no list covers it)."""
        for crl in self._by_issuer.get(cert.issuer.public_bytes(), ()):
            entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
            if entry is not None:
                return Revoked(
                    serial=format(cert.serial_number, "x"),
                    issuer=cert.issuer.rfc4514_string(),
                    revoked_at=entry.revocation_date_utc,
                )
        return None


def _check_issuer(crl: CRL, anchors: Sequence[x509.Certificate]) -> None:
    issuer = crl.issuer.rfc4514_string()
    candidates = [a for a in anchors if a.subject == crl.issuer]
    for anchor in candidates:
        key = anchor.public_key()
        if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
            continue
        if crl.is_signature_valid(key):
            try:
                usage = anchor.extensions.get_extension_for_class(x509.KeyUsage).value
            except x509.ExtensionNotFound:
                return
            if usage.crl_sign:
                return
            raise AxisError(
                "config.invalid",
                f"The CRL of {issuer} is signed by a trust anchor whose key usage does not allow signing CRLs.",
                issuer=issuer,
            )
    raise AxisError(
        "config.invalid",
        f"The CRL of {issuer} is not signed by a configured trust anchor "
        f"({'no anchor has that name' if not candidates else 'the signature does not verify'}); refusing to load it.",
        issuer=issuer,
    )


def load(data: bytes, source: str = "CRL") -> list[CRL]:
    """The CRLs in ``data``: one or more PEM blocks, or one DER list."""
    try:
        if b"-----BEGIN" in data:
            blocks = _PEM_CRL.findall(data)
            if not blocks:
                raise ValueError("no 'BEGIN X509 CRL' block")
            return [x509.load_pem_x509_crl(block) for block in blocks]
        return [x509.load_der_x509_crl(data)]
    except ValueError as exc:
        raise AxisError("config.invalid", f"{source} is not a readable CRL (PEM or DER): {exc}") from None


def load_files(paths: Iterable[str | Path]) -> list[CRL]:
    crls: list[CRL] = []
    for path in paths:
        try:
            data = Path(path).read_bytes()
        except FileNotFoundError:
            raise AxisError("config.invalid", f"The CRL file {path} does not exist.") from None
        crls.extend(load(data, str(path)))
    return crls


def issue(
    issuer: x509.Certificate,
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    revoked: Mapping[int, dt.datetime],
    *,
    days: int = 30,
    now: dt.datetime | None = None,
) -> CRL:
    """A CRL signed by ``issuer`` listing ``revoked`` (serial -> revocation time): for development
    CAs (``axis keys revoke``) and tests; production CRLs come from the real CAs."""
    now = now or dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(now)
        .next_update(now + dt.timedelta(days=days))
    )
    for serial, when in sorted(revoked.items()):
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build()
        )
    return builder.sign(key, hashes.SHA256())
