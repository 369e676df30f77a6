"""Who is calling: a system (Bearer token) or an administrator (admin token), from the cache.

Why no secret is compared here byte by byte (and so why there is no ``hmac.compare_digest``):
a token is never compared with a stored token. Its SHA-256 is looked up in the registry
snapshot's dict (``axis.registry.tokens``). A timing side channel there can at most tell an
attacker how a hash *they* computed relates to a stored hash — Python's dict first compares
the string's per-process randomized hash (SipHash with a secret key), and only on that match
compares the hex digests — and even a whole stored digest is useless: tokens are 256 random
bits, so finding a token with a given SHA-256 is a preimage search. Wherever a secret must be
compared directly (a CSRF token, a password hash), use ``hmac.compare_digest``.

Tokens are revocable at once: a revocation commits with a bump of the registry version and a
``NOTIFY``, every axis process reloads its snapshot on it, and the administrator's own process
answers only once its snapshot has the change (``axis.registry.registrar``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from axis.errors import AxisError
from axis.http.context import axis_of
from axis.http.peer import check_address
from axis.http.tls import check_client_certificate
from axis.registry.model import System
from axis.registry.resolve import Resolver
from axis.registry.tokens import ADMIN_PREFIX, token_hash

if TYPE_CHECKING:
    from axis.app import Axis


def bearer(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AxisError("auth.token.missing", "Send 'Authorization: Bearer <token>'.")
    return token.strip()


def system_of(request: web.Request, resolver: Resolver) -> System:
    """The calling system; its token must be known, not revoked, and the system active; a system
    that requires mutual TLS must also present one of its registered certificates (``http.tls``)."""
    system = resolver.system_for_token(token_hash(bearer(request)))
    if system is None:
        raise AxisError("auth.token.invalid", "The token is unknown or was revoked.")
    check_client_certificate(request, system, resolver.snapshot.certificates)
    check_address(request, system, axis_of(request).settings.trusted_proxies)
    return system


def admin_of(request: web.Request, resolver: Resolver) -> str:
    """The administrator token's name, for the history's ``actor``."""
    token = bearer(request)
    name = resolver.admin_for_token(token_hash(token))
    if name is None:
        if not token.startswith(ADMIN_PREFIX) and resolver.system_for_token(token_hash(token)) is not None:
            raise AxisError("auth.admin.required", "This is a system token; administration needs an admin token.")
        raise AxisError("auth.token.invalid", "The admin token is unknown or was revoked.")
    return name


def caller(request: web.Request) -> tuple[Axis, System]:
    """The composition root and the calling system: what every agency API handler starts with."""
    axis = axis_of(request)
    system = system_of(request, axis.registry.resolver)
    axis.rate_limiter.check(system.id)
    return axis, system
