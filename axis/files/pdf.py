"""The signatures in one PDF, checked with pyHanko: who signed, what they cover, and whether to trust them.

pyHanko reads the PDF, finds every signature field, checks each CMS signature against the bytes it
covers, analyses the incremental updates after it (a form filled in or a second signature is
allowed; a page's content changed is not), and validates the signer's chain with its certificate
validator against the *document* trust anchors (never the package anchors: the government's
specialised CA that issues document-signing certificates is not the CA of the systems' keys),
with the CRLs the axis was given and, where the certificate names an OCSP responder or a CRL
address, what it fetches from there.

What pyHanko leaves to its caller, and this module decides:

* Bytes after the file's last revision (junk appended to a signed file, not an incremental update)
  change no revision pyHanko analyses, so it reports nothing; a viewer may still read them. Any
  such bytes (other than whitespace) make every signature ``file.signature.modified``.
* A CRL the axis is given (``DocumentTrust.crls``) counts for every certificate of its issuer, also
  one that names no CRL address (pyHanko's own soft-fail mode looks at CRLs only for certificates
  naming one): a revoked certificate is revoked whatever its CA wrote in it.
* Revocation answers that could not be fetched (no answer within ``fetch_timeout``, an error) make
  the signature ``file.signature.revocation_unknown``, a warning; a configured CRL of the issuer
  answers in their place.
* A signature with a valid, trusted timestamp is validated at the timestamp's time (a certificate
  that expired, or was revoked, after a timestamped signature still vouches for it); without one,
  at the time of the check, as pyHanko does.
* OCSP answers and fetched CRLs are kept in the process for ``DocumentTrust.cache_seconds`` (never
  beyond their own ``nextUpdate``): a worker checks many documents of one agency in a row, and its
  responder should be asked once, not per document. pyHanko's fetchers cache per instance, and an
  instance is bound to one event loop (its aiohttp session, its events) while each check runs in
  its own loop; the answers themselves are plain data, so those are what is kept.
* Certificates are never fetched from the addresses a certificate names (``caIssuers``): such a
  certificate may come from a hostile file, and the chain is in the signature or in the anchors.

This runs inside a worker process (`axis.files.worker`) with bounded memory and time: a PDF is
hostile input, and pyHanko is pure Python, so a bomb costs that process, never the axis. pyHanko's
own decoding limits (for untrusted input) stop most inflation bombs before that.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import io
import logging
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from pyhanko.pdf_utils.decode_limits import DecodeLimits
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate, AdESSubIndic
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers import Fetchers
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend
from pyhanko_certvalidator.policy_decl import (
    CertRevTrustPolicy,
    RevocationCheckingPolicy,
    RevocationCheckingRule,
)

from axis.edxml.trust import agency_code_of
from axis.files import findings as f
from axis.files.answers import CachedCRLs, CachedOCSP, NoCertificates

log = logging.getLogger("axis.files.pdf")

_TITLE = "2.5.4.12"

#: What a hostile file can make a pure-Python reader raise, besides its own PdfError: each means
#: the file (or a signature in it) is not one pyHanko can read.
_UNREADABLE: tuple[type[Exception], ...] = (
    PdfError,
    SignatureValidationError,
    ValueError,  # also asn1crypto's parse errors, UnicodeDecodeError, zlib's
    KeyError,
    TypeError,
    IndexError,
    AttributeError,
    NotImplementedError,  # an unsupported filter or predictor
    AssertionError,
    ArithmeticError,
    EOFError,
    OSError,
    LookupError,
    zlib.error,
    struct.error,
)

_REVOKED = frozenset({AdESIndeterminate.REVOKED_NO_POE, AdESIndeterminate.REVOKED_CA_NO_POE, AdESFailure.REVOKED})
_OUT_OF_VALIDITY = frozenset(
    {
        AdESIndeterminate.OUT_OF_BOUNDS_NO_POE,
        AdESIndeterminate.OUT_OF_BOUNDS_NOT_REVOKED,
        AdESIndeterminate.EXPIRED,
        AdESIndeterminate.NOT_YET_VALID,
        AdESFailure.NOT_YET_VALID,
    }
)
_WHITESPACE = b"\x00\t\n\x0c\r "


@dataclass(frozen=True, slots=True)
class DocumentTrust:
    """What a signature in a file is checked against, in a form that crosses to a worker process."""

    anchors: tuple[bytes, ...]  # DER certificates of the document trust anchors
    crls: tuple[bytes, ...] = ()  # DER CRLs
    fetch: bool = True  # ask the OCSP responders and CRL addresses certificates name
    fetch_timeout: float = 5.0  # seconds for one answer (a responder that never answers costs this)
    cache_seconds: float = 300.0  # how long a worker keeps an OCSP answer or a fetched CRL (0: never)


def check(data: bytes, trust: DocumentTrust, *, attachment: str, path: str = "") -> f.FileCheck:
    """Every signature of one PDF (``data``), as a `FileCheck`; never raises on what the file holds
    (but `MemoryError`, which the worker turns into ``file.limits``)."""
    return asyncio.run(check_async(data, trust, attachment=attachment, path=path))


async def check_async(data: bytes, trust: DocumentTrust, *, attachment: str, path: str = "") -> f.FileCheck:
    base = f.FileCheck(attachment=attachment, path=path, size=len(data))
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False, decode_limits=DecodeLimits.for_untrusted_input())
        embedded = list(reader.embedded_regular_signatures)
        appended = _appended(reader, data) if embedded else b""
    except RecursionError:
        detail = "objects nested deeper than the reader follows"
        return dataclasses.replace(base, problems=(f.FILE_LIMITS,), detail=detail)
    except MemoryError:
        raise  # the worker's to report (file.limits), its address space capped
    except _UNREADABLE as exc:
        return dataclasses.replace(base, problems=(f.FILE_MALFORMED,), detail=_said(exc))
    except Exception as exc:  # whatever else a hostile file makes a pure-Python parser raise
        log.warning("unreadable PDF %s", attachment, exc_info=True)
        return dataclasses.replace(base, problems=(f.FILE_MALFORMED,), detail=_said(exc))
    if not embedded:
        return dataclasses.replace(base, problems=(f.FILE_UNSIGNED,))
    backend = AIOHttpFetcherBackend(per_request_timeout=trust.fetch_timeout) if trust.fetch else None
    try:
        checks = [
            await _check_one(signature, trust, backend, last=index == len(embedded) - 1, appended=appended)
            for index, signature in enumerate(embedded)
        ]
    except RecursionError:
        detail = "objects nested deeper than the validator follows"
        return dataclasses.replace(base, problems=(f.FILE_LIMITS,), detail=detail)
    finally:
        if backend is not None:
            await backend.close()  # type: ignore[no-untyped-call]
    return dataclasses.replace(base, signatures=tuple(checks))


async def _check_one(
    signature: EmbeddedPdfSignature,
    trust: DocumentTrust,
    backend: AIOHttpFetcherBackend | None,
    *,
    last: bool,
    appended: bytes,
) -> f.SignatureCheck:
    name = _field_name(signature)
    try:
        return await _validate(signature, name, trust, backend, last=last, appended=appended)
    except (RecursionError, MemoryError):
        raise  # the file's, not this signature's: see check_async and the worker
    except _UNREADABLE as exc:
        log.info("signature %s unreadable: %s", name, _said(exc))
        return f.SignatureCheck(name, None, None, problems=(f.SIGNATURE_BROKEN,))
    except Exception:  # as above: a hostile signature dictionary or CMS may make anything fail
        log.warning("signature %s unreadable", name, exc_info=True)
        return f.SignatureCheck(name, None, None, problems=(f.SIGNATURE_BROKEN,))


def _field_name(signature: EmbeddedPdfSignature) -> str:
    try:
        return str(signature.field_name or "")
    except _UNREADABLE:
        return ""


async def _validate(
    signature: EmbeddedPdfSignature,
    name: str,
    trust: DocumentTrust,
    backend: AIOHttpFetcherBackend | None,
    *,
    last: bool,
    appended: bytes,
) -> f.SignatureCheck:
    local = _configured_crl_of_issuer(signature, trust)
    now_context, unanswered = _context(trust, backend, local=local)
    status = await async_validate_pdf_signature(signature, now_context)
    trust_status, context, trust_unanswered = status, now_context, unanswered
    timestamp = status.timestamp_validity
    timestamped = timestamp is not None and timestamp.intact and timestamp.valid and timestamp.trusted
    if timestamped and timestamp is not None and status.intact and status.valid:
        # The chain again, at the time the timestamp proves the signature existed: the document's
        # bytes were analysed above, so the second pass skips that.
        context, trust_unanswered = _context(trust, backend, local=local, at=timestamp.timestamp)
        timestamp_context, _ = _context(trust, backend, local=local)
        trust_status = await async_validate_pdf_signature(
            signature, context, ts_validation_context=timestamp_context, skip_diff=True
        )
    problems: list[str] = []
    if status.coverage is None or status.coverage < SignatureCoverageLevel.ENTIRE_REVISION:
        problems.append(f.SIGNATURE_PARTIAL)
    elif _modified(status) or appended.strip(_WHITESPACE):
        problems.append(f.SIGNATURE_MODIFIED)
    if not status.intact or not status.valid:
        problems.insert(0, f.SIGNATURE_BROKEN)  # pyHanko does not look at the chain of a broken signature
    elif not trust_status.trusted:
        problems.append(_trust_problem(trust_status.trust_problem_indic))
    elif not local and (context.soft_fail_exceptions or trust_unanswered):
        problems.append(f.SIGNATURE_REVOCATION_UNKNOWN)  # nobody said; a configured CRL would have
    signed_at = timestamp.timestamp if timestamped and timestamp is not None else status.signer_reported_dt
    return f.SignatureCheck(
        field=name,
        signer=signer_of(status.signing_cert),
        signed_at=signed_at,
        timestamped=timestamped,
        whole_file=last and status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        problems=tuple(dict.fromkeys(problems)),
    )


def _modified(status: PdfSignatureStatus) -> bool:
    level = status.modification_level
    return (level is not None and level >= ModificationLevel.OTHER) or status.docmdp_ok is False


def _appended(reader: PdfFileReader, data: bytes) -> bytes:
    """The bytes after the file's last revision: after the ``%%EOF`` that follows its last
    cross-reference section."""
    xrefs = reader.xrefs
    end = max(xrefs.get_xref_container_info(revision).end_location for revision in range(xrefs.total_revisions))
    eof = data.find(b"%%EOF", end)
    return data[end:] if eof < 0 else data[eof + len(b"%%EOF") :]


def _said(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text[:300]


# --- the validation context -----------------------------------------------------------------------


def _configured_crl_of_issuer(signature: EmbeddedPdfSignature, trust: DocumentTrust) -> bool:
    """Whether the axis was given a CRL of the signer certificate's issuer."""
    if not trust.crls:
        return False
    issuer = signature.signer_cert.issuer
    return any(_crl_issuer(der) == issuer for der in trust.crls)


def _crl_issuer(der: bytes) -> asn1_x509.Name | None:
    try:
        name: asn1_x509.Name = asn1_crl.CertificateList.load(der).issuer
        return name
    except ValueError:
        return None


def _context(
    trust: DocumentTrust,
    backend: AIOHttpFetcherBackend | None,
    *,
    local: bool,
    at: dt.datetime | None = None,
) -> tuple[ValidationContext, list[str]]:
    """A validation context for one signature, and the list where its fetchers note what went
    unanswered.

    Revocation is checked where the certificate says where to ask, and a failure to get an answer
    is tolerated (noted, and reported as a warning), except when the axis holds a CRL of the
    signer's issuer: then a CRL or an OCSP answer is required, and the configured one is at hand.
    At a time in the past (``at``), answers issued since count for it ("retroactive").
    """
    unanswered: list[str] = []
    fetchers = None
    if backend is not None:
        inner = backend.get_fetchers()
        fetchers = Fetchers(
            ocsp_fetcher=CachedOCSP(inner.ocsp_fetcher, trust, unanswered),
            crl_fetcher=CachedCRLs(inner.crl_fetcher, trust, unanswered),
            cert_fetcher=NoCertificates(),
        )
    soft = RevocationCheckingRule.CHECK_IF_DECLARED_SOFT
    policy = RevocationCheckingPolicy(
        ee_certificate_rule=RevocationCheckingRule.CRL_OR_OCSP_REQUIRED if local else soft,
        intermediate_ca_cert_rule=soft,
    )
    context = ValidationContext(
        trust_roots=[asn1_x509.Certificate.load(der) for der in trust.anchors],
        crls=[asn1_crl.CertificateList.load(der) for der in trust.crls],
        allow_fetching=fetchers is not None,
        fetchers=fetchers,
        revinfo_policy=CertRevTrustPolicy(policy, retroactive_revinfo=at is not None),
        moment=at,
    )
    return context, unanswered


# --- what the findings say ------------------------------------------------------------------------


def _trust_problem(indication: AdESSubIndic | None) -> str:
    if indication in _REVOKED:
        return f.SIGNATURE_REVOKED
    if indication in _OUT_OF_VALIDITY:
        return f.SIGNATURE_EXPIRED
    if indication is AdESIndeterminate.TRY_LATER:
        return f.SIGNATURE_REVOCATION_UNKNOWN
    return f.SIGNATURE_UNTRUSTED


def signer_of(cert: asn1_x509.Certificate | None) -> f.Signer | None:
    """Who a signing certificate names: a person (with a title) or an agency (with its code)."""
    if cert is None:
        return None
    parsed = x509.load_der_x509_certificate(cert.dump())
    subject = parsed.subject
    name = _first(subject, x509.NameOID.COMMON_NAME)
    code = agency_code_of(parsed)
    if code and name.endswith(f" ({code})"):  # how `axis keys` names an agency's certificate
        name = name[: -len(code) - 3]
    title = _first(subject, x509.ObjectIdentifier(_TITLE))
    return f.Signer(
        name=name,
        title=title,
        organisation=_first(subject, x509.NameOID.ORGANIZATION_NAME),
        agency_code=code,
        role="agency" if code and not title else "individual",
        issuer=parsed.issuer.rfc4514_string(),
        serial=format(parsed.serial_number, "x"),
        not_after=parsed.not_valid_after_utc,
    )


def _first(name: x509.Name, oid: x509.ObjectIdentifier) -> str:
    values: Sequence[x509.NameAttribute[str | bytes]] = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else ""
