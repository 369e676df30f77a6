"""Password hashing with scrypt (memory-hard, in the standard library).

Parameters: N=2^15, r=8, p=3: 32 MiB of memory per hash, about 0.4 s on this project's 2-core
machines. It is the OWASP Password Storage Cheat Sheet's low-memory equivalent of its scrypt
minimum (N=2^17, r=8, p=1, 128 MiB), chosen so that a burst of log-ins cannot take the memory of
an axis process. The parameters are stored with each hash (``scrypt$N$r$p$salt$hash``), so that
stronger ones apply to new hashes without invalidating old ones, and ``needs_rehash`` tells when
to upgrade a hash at the next successful log-in.

Hashing is CPU-bound: ``Hasher`` runs it in worker threads (``hashlib.scrypt`` releases the GIL)
with at most ``concurrency`` at once, so the event loop keeps serving while someone logs in.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from axis.errors import AxisError

MIN_LENGTH = 10
MAX_LENGTH = 256  # hashing megabytes of "password" is a denial of service, not security


@dataclass(frozen=True, slots=True)
class Cost:
    n: int = 2**15
    r: int = 8
    p: int = 3

    @property
    def memory(self) -> int:
        return 128 * self.r * self.n


DEFAULT = Cost()
_SALT_BYTES, _KEY_BYTES = 16, 32


def check_strength(password: str, username: str = "") -> None:
    """Refuse passwords too short, too long, or equal to the user name."""
    if len(password) < MIN_LENGTH:
        raise AxisError("web.password.weak", f"Mật khẩu phải có ít nhất {MIN_LENGTH} ký tự.")
    if len(password) > MAX_LENGTH:
        raise AxisError("web.password.weak", f"Mật khẩu dài quá {MAX_LENGTH} ký tự.")
    if username and password.strip().lower() == username.lower():
        raise AxisError("web.password.weak", "Mật khẩu không được trùng tên đăng nhập.")


def _derive(password: str, salt: bytes, cost: Cost) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=cost.n,
        r=cost.r,
        p=cost.p,
        maxmem=2 * cost.memory,
        dklen=_KEY_BYTES,
    )


def hash_password(password: str, cost: Cost = DEFAULT) -> str:
    salt = secrets.token_bytes(_SALT_BYTES)
    key = _derive(password, salt, cost)
    return f"scrypt${cost.n}${cost.r}${cost.p}${_b64(salt)}${_b64(key)}"


def _parse(stored: str) -> tuple[Cost, bytes, bytes]:
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            raise ValueError(scheme)
        return Cost(int(n), int(r), int(p)), _unb64(salt), _unb64(key)
    except ValueError:
        raise ValueError("not an axis password hash") from None


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches; constant-time comparison of the derived keys."""
    if len(password) > MAX_LENGTH:
        return False
    cost, salt, key = _parse(stored)
    return hmac.compare_digest(_derive(password, salt, cost), key)


def needs_rehash(stored: str, cost: Cost = DEFAULT) -> bool:
    return _parse(stored)[0] != cost


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


class Hasher:
    """Hashing and verifying off the event loop, a bounded number at a time."""

    def __init__(self, cost: Cost = DEFAULT, concurrency: int = 2) -> None:
        self.cost = cost
        self._slots = asyncio.Semaphore(concurrency)
        # Verified against when the user name is unknown, so that the answer takes as long
        # (made at the first such log-in: every process start need not pay for it).
        self._decoy: str | None = None

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(hash_password, password, self.cost)

    async def verify(self, password: str, stored: str | None) -> bool:
        async with self._slots:
            if stored is None:
                if self._decoy is None:
                    self._decoy = await asyncio.to_thread(hash_password, secrets.token_urlsafe(16), self.cost)
                await asyncio.to_thread(verify_password, password, self._decoy)
                return False
            return await asyncio.to_thread(verify_password, password, stored)
