"""Who is calling: a system (Bearer token) or an administrator (admin token), from the cache."""

from __future__ import annotations

from aiohttp import web

from axis.errors import AxisError
from axis.registry.model import System
from axis.registry.resolve import Resolver
from axis.registry.tokens import ADMIN_PREFIX, token_hash


def bearer(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AxisError("auth.token.missing", "Send 'Authorization: Bearer <token>'.")
    return token.strip()


def system_of(request: web.Request, resolver: Resolver) -> System:
    """The calling system; its token must be known, not revoked, and the system active."""
    system = resolver.system_for_token(token_hash(bearer(request)))
    if system is None:
        raise AxisError("auth.token.invalid", "The token is unknown or was revoked.")
    return system


def admin_of(request: web.Request, resolver: Resolver) -> str:
    """The administrator token's name, for the history's ``actor``."""
    token = bearer(request)
    name = resolver.admin_for_token(token_hash(token))
    if name is None:
        if not token.startswith(ADMIN_PREFIX) and resolver.system_for_token(token_hash(token)) is not None:
            raise AxisError(
                "auth.admin.required", "This is a system token; administration needs an admin token."
            )
        raise AxisError("auth.token.invalid", "The admin token is unknown or was revoked.")
    return name
