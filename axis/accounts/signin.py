"""Signing in and changing one's own password: the lock-out rules, written once.

The web pages only translate (form fields in, cookie and page out); what counts as a guess, when
an account locks and for how long, and that a password check is as slow for a name that does not
exist as for one that does, are decided here. ``users.MAX_FAILURES`` wrong passwords lock an
account for ``users.LOCK_FOR``; guesses beyond the limit made concurrently get no check at all.
A password is hashed again on the way in when its stored cost is below today's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from axis.accounts import passwords, users
from axis.accounts.passwords import Hasher, needs_rehash
from axis.accounts.users import User
from axis.errors import AxisError
from axis.store.db import Conn

Connection = Callable[[], AbstractAsyncContextManager[Conn]]


class Locked(AxisError):
    """Too many wrong passwords: the account is locked until ``until`` (None: locked, time unknown)."""

    def __init__(self, until: dt.datetime | None) -> None:
        self.until = until
        super().__init__(
            "web.login.locked",
            f"Đăng nhập sai quá {users.MAX_FAILURES} lần: tài khoản tạm khóa.",
            locked_until=until.isoformat() if until else None,
        )


async def check(connection: Connection, hasher: Hasher, username: str, password: str) -> tuple[User, str | None]:
    """The user whose password this is, and its new hash when the stored one should be redone."""
    async with connection() as conn:
        attempt = await users.begin_attempt(conn, username)
    if attempt is None:
        await hasher.verify(password, None)  # as slow as a real check: names do not leak by timing
        raise AxisError("web.login.failed", "Sai tên đăng nhập hoặc mật khẩu.")
    user = attempt.user
    if user.locked():
        raise Locked(user.locked_until)
    if attempt.over_limit:  # concurrent guesses beyond the limit: no password check for them
        async with connection() as conn:
            raise Locked(await users.attempt_failed(conn, attempt))
    if not await hasher.verify(password, attempt.password_hash):
        async with connection() as conn:
            locked_until = await users.attempt_failed(conn, attempt)
        if locked_until is not None:
            raise Locked(locked_until)
        raise AxisError("web.login.failed", "Sai tên đăng nhập hoặc mật khẩu.")
    if not user.active:
        raise AxisError("web.login.disabled", "Tài khoản này đã bị vô hiệu hóa; hãy liên hệ quản trị viên.")
    return user, await hasher.hash(password) if needs_rehash(attempt.password_hash, hasher.cost) else None


async def open_session(
    connection: Connection, user: User, new_hash: str | None, session_digest: str, lifetime: dt.timedelta
) -> None:
    """The attempt succeeded: failures forgotten, the hash renewed if due, the session row written."""
    async with connection() as conn, conn.transaction():
        await users.attempt_succeeded(conn, user, new_hash)
        await users.open_session(conn, session_digest, user, lifetime)


async def change_password(
    connection: Connection, hasher: Hasher, user: User, *, current: str, new: str, again: str
) -> None:
    """A user changes their own password, the current one first (a wrong one counts as a guess).
    A refusal names the form ``field`` it is about."""
    async with connection() as conn:
        attempt = await users.begin_attempt(conn, user.username)
    if attempt is None or attempt.user.locked() or attempt.over_limit:
        raise AxisError("web.login.locked", "Tài khoản đang tạm khóa do nhập sai mật khẩu nhiều lần.")
    if not await hasher.verify(current, attempt.password_hash):
        async with connection() as conn:
            await users.attempt_failed(conn, attempt)  # guesses here count towards the lock-out too
        raise AxisError("web.login.failed", "Mật khẩu hiện tại không đúng.", field="current")
    if new != again:
        raise AxisError("web.password.weak", "Hai lần nhập mật khẩu mới không giống nhau.", field="again")
    passwords.check_strength(new, user.username)
    new_hash = await hasher.hash(new)
    async with connection() as conn, conn.transaction():
        await users.attempt_succeeded(conn, user)
        await users.set_password(conn, user.actor, user.username, new_hash)
