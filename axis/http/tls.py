"""HTTPS for the axis, and client certificates that bind a system's requests to its certificates.

With ``AXIS_TLS_CERT``/``AXIS_TLS_KEY`` the axis serves HTTPS; with ``AXIS_TLS_CLIENT_CA`` it asks
every client for a certificate signed by that CA (optional at the TLS level: systems without
one, the public look-up and the web pages still connect). A system whose flag
``require_client_certificate`` is set (``axis systems policy ID --require-client-cert``) must
then also present, on the connection its Bearer token arrives on, a client certificate whose
SHA-256 fingerprint is one of its registered, unrevoked certificates: a stolen token alone no
longer speaks for it.
"""

from __future__ import annotations

import hashlib
import ssl
from collections.abc import Mapping

from aiohttp import web

from axis.config import Settings
from axis.errors import AxisError
from axis.registry.model import Certificate, System


def server_context(settings: Settings) -> ssl.SSLContext | None:
    """The server's TLS context from the settings, or None to serve plain HTTP."""
    if settings.tls_cert is None or settings.tls_key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(settings.tls_cert, settings.tls_key)
        if settings.tls_client_ca is not None:
            context.load_verify_locations(cafile=settings.tls_client_ca)
            context.verify_mode = ssl.CERT_OPTIONAL
    except (OSError, ssl.SSLError) as exc:
        raise AxisError("config.invalid", f"The TLS certificate, key or client CA cannot be loaded: {exc}") from None
    return context


def peer_certificate(request: web.BaseRequest) -> bytes | None:
    """The DER client certificate the TLS handshake verified, or None (plain HTTP, or none sent)."""
    transport = request.transport
    ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
    if ssl_object is None:
        return None
    der: bytes | None = ssl_object.getpeercert(binary_form=True)
    return der


def check_client_certificate(request: web.BaseRequest, system: System, certificates: Mapping[str, Certificate]) -> None:
    """For a system that requires it: the connection's client certificate must be one of its own."""
    if not system.require_client_certificate:
        return
    der = peer_certificate(request)
    if der is None:
        raise AxisError(
            "auth.client_certificate.required",
            f"The system {system.id} must connect over HTTPS with one of its registered certificates "
            "as the TLS client certificate.",
            system=system.id,
        )
    fingerprint = hashlib.sha256(der).hexdigest()
    registered = certificates.get(fingerprint)
    if registered is None or registered.system_id != system.id or registered.revoked:
        raise AxisError(
            "auth.client_certificate.mismatch",
            f"The TLS client certificate {fingerprint} is not a registered, unrevoked certificate of {system.id}.",
            system=system.id,
            fingerprint=fingerprint,
        )
