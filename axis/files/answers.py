"""Revocation answers a checking process fetched, kept for the next documents of the same signers.

A worker checks many documents of one agency in a row: its OCSP responder should be asked once, not
per document. pyHanko's fetchers cache per instance, and an instance is bound to one event loop (its
aiohttp session) while each check runs in its own; the answers themselves are plain data, so those
are kept here, each for ``DocumentTrust.cache_seconds`` and never beyond its own ``nextUpdate``.
An answer that does not come within ``fetch_timeout`` (or an error) is noted, for the warning
``file.signature.revocation_unknown``. Certificates are never fetched from the addresses a
certificate names (``caIssuers``): it may come from a hostile file, and the chain is in the
signature or in the anchors.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
import time
from collections.abc import AsyncGenerator, Iterable
from typing import TYPE_CHECKING, Generic, TypeAlias, TypeVar

from asn1crypto import cms as asn1_cms
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from pyhanko_certvalidator.authority import Authority
from pyhanko_certvalidator.errors import CRLFetchError, OCSPFetchError
from pyhanko_certvalidator.fetchers import CertificateFetcher, CRLFetcher, OCSPFetcher
from pyhanko_certvalidator.fetchers.common_utils import enumerate_delivery_point_urls
from pyhanko_certvalidator.util import get_relevant_crl_dps, issuer_serial

if TYPE_CHECKING:
    from axis.files.pdf import DocumentTrust

log = logging.getLogger("axis.files")


K = TypeVar("K")
V = TypeVar("V")


class _Kept(Generic[K, V]):
    """Answers this process fetched, each until it expires: after ``seconds``, or at the earliest
    ``nextUpdate`` among ``until``, whichever comes first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V | None:
        with self._lock:
            kept = self._items.get(key)
            if kept is None or kept[0] <= time.monotonic():
                self._items.pop(key, None)
                return None
            return kept[1]

    def keep(self, key: K, value: V, seconds: float, until: Iterable[dt.datetime | None]) -> None:
        seconds = min([seconds, *(_seconds_left(moment) for moment in until)])
        if seconds > 0:
            with self._lock:
                self._items[key] = (time.monotonic() + seconds, value)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_OCSP_KEPT: _Kept[bytes, asn1_ocsp.OCSPResponse] = _Kept()
_CRLS_KEPT: _Kept[tuple[str, ...], list[asn1_crl.CertificateList]] = _Kept()


def forget_revocation_answers() -> None:
    """Drop every OCSP answer and CRL this process keeps (tests; a revocation announced out of band)."""
    _OCSP_KEPT.clear()
    _CRLS_KEPT.clear()


def _seconds_left(moment: dt.datetime | None) -> float:
    if moment is None:
        return float("inf")
    return (moment - dt.datetime.now(dt.UTC)).total_seconds()


def _ocsp_next_update(response: asn1_ocsp.OCSPResponse) -> dt.datetime | None:
    try:
        single = response["response_bytes"]["response"].parsed["tbs_response_data"]["responses"][0]
        value = single["next_update"].native
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    return value if isinstance(value, dt.datetime) else None


def _crl_next_update(certificate_list: asn1_crl.CertificateList) -> dt.datetime | None:
    try:
        value = certificate_list["tbs_cert_list"]["next_update"].native
    except (KeyError, TypeError, ValueError):
        return None
    return value if isinstance(value, dt.datetime) else None


#: What pyHanko's fetchers are asked about (asn1crypto has no type hints: to mypy, both are Any).
AnyCertificate: TypeAlias = asn1_x509.Certificate | asn1_cms.AttributeCertificateV2


class CachedOCSP(OCSPFetcher):
    """pyHanko's OCSP fetcher, answering from the process's kept answers first, bounded in time,
    noting a responder that gave no answer."""

    def __init__(self, inner: OCSPFetcher, trust: DocumentTrust, unanswered: list[str]) -> None:
        self._inner = inner
        self._trust = trust
        self._unanswered = unanswered
        self._used: dict[bytes, asn1_ocsp.OCSPResponse] = {}

    async def fetch(self, cert: AnyCertificate, authority: Authority) -> asn1_ocsp.OCSPResponse:
        key = issuer_serial(cert)
        kept = _OCSP_KEPT.get(key)
        if kept is not None:
            self._used[key] = kept
            return kept
        try:
            async with asyncio.timeout(self._trust.fetch_timeout):
                response = await self._inner.fetch(cert, authority)
        except TimeoutError as exc:
            self._unanswered.append("ocsp: no answer in time")
            raise OCSPFetchError(f"no OCSP answer within {self._trust.fetch_timeout:g} s") from exc
        except OCSPFetchError as exc:
            self._unanswered.append(f"ocsp: {exc}")
            raise
        _OCSP_KEPT.keep(key, response, self._trust.cache_seconds, [_ocsp_next_update(response)])
        self._used[key] = response
        return response

    def fetched_responses(self) -> Iterable[asn1_ocsp.OCSPResponse]:
        return list(self._used.values())

    def fetched_responses_for_cert(self, cert: AnyCertificate) -> Iterable[asn1_ocsp.OCSPResponse]:
        key = issuer_serial(cert)
        kept = self._used.get(key) or _OCSP_KEPT.get(key)
        if kept is None:
            return []
        self._used[key] = kept
        return [kept]


class CachedCRLs(CRLFetcher):
    """pyHanko's CRL fetcher, answering from the process's kept CRLs first (by address), bounded in
    time. A CRL address that gives no answer is noted and yields no CRL, so that the CRLs the axis
    was given are still consulted (pyHanko drops them when a fetch fails)."""

    def __init__(self, inner: CRLFetcher, trust: DocumentTrust, unanswered: list[str]) -> None:
        self._inner = inner
        self._trust = trust
        self._unanswered = unanswered
        self._used: dict[tuple[str, ...], list[asn1_crl.CertificateList]] = {}

    async def fetch(self, cert: AnyCertificate, *, use_deltas: bool | None = None) -> list[asn1_crl.CertificateList]:
        key = _crl_addresses(cert)
        if not key:
            return []
        kept = self._used.get(key) or _CRLS_KEPT.get(key)
        if kept is not None:
            self._used[key] = kept
            return kept
        try:
            async with asyncio.timeout(self._trust.fetch_timeout):
                fetched = list(await self._inner.fetch(cert, use_deltas=bool(use_deltas)))
        except TimeoutError:
            self._unanswered.append("crl: no answer in time")
            return []
        except CRLFetchError as exc:
            self._unanswered.append(f"crl: {exc}")
            return []
        if fetched:
            _CRLS_KEPT.keep(key, fetched, self._trust.cache_seconds, map(_crl_next_update, fetched))
        self._used[key] = fetched
        return fetched

    def fetched_crls(self) -> Iterable[asn1_crl.CertificateList]:
        return [each for crls in self._used.values() for each in crls]

    def fetched_crls_for_cert(self, cert: AnyCertificate) -> Iterable[asn1_crl.CertificateList]:
        key = _crl_addresses(cert)
        kept = self._used.get(key) or _CRLS_KEPT.get(key)
        if kept is None:
            raise KeyError(key)
        self._used[key] = kept
        return kept


def _crl_addresses(cert: AnyCertificate) -> tuple[str, ...]:
    points = get_relevant_crl_dps(cert, use_deltas=True)
    return tuple(sorted({url for point in points for url in enumerate_delivery_point_urls(point)}))


class NoCertificates(CertificateFetcher):
    """Fetches no issuer certificate: the addresses in a certificate from a hostile file are not
    for the axis to visit."""

    async def _none(self) -> AsyncGenerator[asn1_x509.Certificate, None]:
        nothing: tuple[asn1_x509.Certificate, ...] = ()
        for cert in nothing:
            yield cert

    def fetch_cert_issuers(self, cert: AnyCertificate) -> AsyncGenerator[asn1_x509.Certificate, None]:
        return self._none()

    def fetch_crl_issuers(
        self, certificate_list: asn1_crl.CertificateList
    ) -> AsyncGenerator[asn1_x509.Certificate, None]:
        return self._none()

    def fetched_certs(self) -> Iterable[asn1_x509.Certificate]:
        return []
