"""Who is calling: a system (Bearer token) or an administrator (admin token), from the cache."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from axis.errors import AxisError
from axis.http.context import axis_of
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
            raise AxisError("auth.admin.required", "This is a system token; administration needs an admin token.")
        raise AxisError("auth.token.invalid", "The admin token is unknown or was revoked.")
    return name


def caller(request: web.Request) -> tuple[Axis, System]:
    """The composition root and the calling system: what every agency API handler starts with."""
    axis = axis_of(request)
    return axis, system_of(request, axis.registry.resolver)
