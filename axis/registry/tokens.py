"""Bearer tokens for systems and administrators: generated once, stored only as a hash.

Tokens are 256 random bits, so a plain SHA-256 is the right hash (a slow password hash would only
slow the hot path: nobody can guess 2^256 inputs). Look-ups go by hash, so comparing secrets is
never done byte by byte in Python.
"""

from __future__ import annotations

import hashlib
import secrets

SYSTEM_PREFIX = "axs_"
ADMIN_PREFIX = "axa_"


def new_token(prefix: str = SYSTEM_PREFIX) -> str:
    """A new token; the prefix tells a leaked token's kind at a glance (and to secret scanners)."""
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
