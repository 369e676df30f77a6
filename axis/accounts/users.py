"""SQL for the people who log in to the web pages: users, log-in accounting, sessions.

Changes to users are audited in ``registry_history`` (``subject_kind = 'user'``, never the
password hash) so that the administrators' history page shows who created, disabled or reset whom.
They do not bump the registry version: users are not part of the registry snapshot that routing
uses, and every process would reload 111,000 agencies for nothing.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass
from typing import Any

import asyncpg

from axis.errors import AxisError
from axis.registry import history
from axis.store.db import Conn

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_COLUMNS = "id, username, full_name, role, system_id, status, locked_until, last_login_at, created_at"

#: Log-in attempts allowed before the account locks, and for how long it stays locked.
MAX_FAILURES = 5
LOCK_FOR = dt.timedelta(minutes=15)


class Role(enum.StrEnum):
    CLERK = "clerk"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    full_name: str
    role: Role
    system_id: str | None
    status: str
    locked_until: dt.datetime | None
    last_login_at: dt.datetime | None
    created_at: dt.datetime

    @property
    def actor(self) -> str:
        """History's "who" for changes made through the web pages."""
        return f"web:{self.username}"

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def active(self) -> bool:
        return self.status == "active"

    def locked(self, now: dt.datetime | None = None) -> bool:
        return self.locked_until is not None and self.locked_until > (now or dt.datetime.now(dt.UTC))


def from_row(row: asyncpg.Record) -> User:
    values = {k: row[k] for k in _COLUMNS.split(", ")}
    values["role"] = Role(values["role"])
    return User(**values)


def _public(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"username": user.username, "full_name": user.full_name, "role": user.role.value,
            "system": user.system_id, "status": user.status}  # fmt: skip


async def _audit(conn: Conn, actor: str, action: str, username: str, before: User | None, after: User | None) -> None:
    # Users are not in the registry cache: their history row moves no version.
    await history.record(conn, actor, action, "user", username, _public(before), _public(after), cached=False)


def check_username(username: str) -> str:
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise AxisError(
            "web.user.invalid",
            "Tên đăng nhập gồm 2–64 chữ thường không dấu, chữ số, '.', '_' hoặc '-'.",
            username=username,
        )
    return username


async def add(
    conn: Conn,
    actor: str,
    username: str,
    password_hash: str,
    *,
    role: Role,
    system_id: str | None = None,
    full_name: str = "",
) -> User:
    username = check_username(username)
    if (role is Role.CLERK) != bool(system_id):
        raise AxisError("web.user.invalid", "Văn thư phải gắn với đúng một hệ thống; quản trị viên thì không.")
    if system_id and not await conn.fetchval("SELECT 1 FROM systems WHERE id = $1", system_id):
        raise AxisError("registry.system.unknown", f"Không có hệ thống {system_id!r}.", system=system_id)
    row = await conn.fetchrow(
        f"""INSERT INTO web_users (username, full_name, role, system_id, password_hash)
            VALUES ($1, $2, $3, $4, $5) ON CONFLICT (username) DO NOTHING RETURNING {_COLUMNS}""",
        username,
        full_name.strip(),
        role.value,
        system_id or None,
        password_hash,
    )
    if row is None:
        raise AxisError("web.user.exists", f"Đã có người dùng {username!r}.", username=username)
    user = from_row(row)
    await _audit(conn, actor, "user.create", username, None, user)
    return user


async def get(conn: Conn, username: str) -> User | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM web_users WHERE username = $1", username.strip().lower())
    return from_row(row) if row else None


async def require(conn: Conn, username: str) -> User:
    user = await get(conn, username)
    if user is None:
        raise AxisError("web.user.unknown", f"Không có người dùng {username!r}.", username=username)
    return user


async def all_users(conn: Conn, *, system_id: str | None = None) -> list[User]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM web_users WHERE $1::text IS NULL OR system_id = $1 ORDER BY username",
        system_id,
    )
    return [from_row(r) for r in rows]


async def set_password(conn: Conn, actor: str, username: str, password_hash: str) -> User:
    """A new password; every session of the user ends and a lock is lifted."""
    user = await require(conn, username)
    await conn.execute(
        """UPDATE web_users SET password_hash = $2, password_changed_at = now(), updated_at = now(),
                  failed_logins = 0, locked_until = NULL
            WHERE id = $1""",
        user.id,
        password_hash,
    )
    await end_sessions_of(conn, user.id)
    await _audit(conn, actor, "user.password", user.username, None, None)
    return user


async def set_status(conn: Conn, actor: str, username: str, status: str) -> User:
    """Enable or disable a user; disabling ends every session at once."""
    if status not in ("active", "disabled"):
        raise AxisError("web.user.invalid", f"Trạng thái {status!r} không hợp lệ.")
    before = await require(conn, username)
    if before.status == status:
        return before
    row = await conn.fetchrow(
        f"UPDATE web_users SET status = $2, updated_at = now() WHERE id = $1 RETURNING {_COLUMNS}", before.id, status
    )
    assert row is not None  # the row was just read under this transaction
    after = from_row(row)
    if status == "disabled":
        await end_sessions_of(conn, after.id)
    await _audit(conn, actor, "user.disable" if status == "disabled" else "user.enable", username, before, after)
    return after


async def unlock(conn: Conn, actor: str, username: str) -> User:
    user = await require(conn, username)
    await conn.execute("UPDATE web_users SET failed_logins = 0, locked_until = NULL WHERE id = $1", user.id)
    await _audit(conn, actor, "user.unlock", user.username, None, None)
    return user


# --- log-in accounting --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Attempt:
    """A log-in attempt, counted before the password is checked."""

    user: User
    password_hash: str
    number: int  # attempts since the last success, this one included

    @property
    def over_limit(self) -> bool:
        return self.number > MAX_FAILURES


async def begin_attempt(conn: Conn, username: str) -> Attempt | None:
    """Count an attempt for ``username`` (unless it is locked); None when no such user.

    Counting first, in one statement, means that concurrent guesses each take a number and those
    beyond the limit are refused without a password check.
    """
    row = await conn.fetchrow(
        f"""UPDATE web_users
               SET failed_logins = CASE WHEN locked_until > now() THEN failed_logins ELSE failed_logins + 1 END,
                   locked_until = CASE WHEN locked_until > now() THEN locked_until END
             WHERE username = $1
         RETURNING {_COLUMNS}, password_hash, failed_logins""",
        username.strip().lower(),
    )
    if row is None:
        return None
    return Attempt(from_row(row), row["password_hash"], row["failed_logins"])


async def attempt_failed(conn: Conn, attempt: Attempt) -> dt.datetime | None:
    """After a wrong password: lock the account when this was the last allowed attempt."""
    if attempt.number < MAX_FAILURES:
        return None
    locked_until: dt.datetime = await conn.fetchval(
        """UPDATE web_users SET failed_logins = 0, locked_until = now() + $2::interval
            WHERE id = $1 RETURNING locked_until""",
        attempt.user.id,
        LOCK_FOR,
    )
    return locked_until


async def attempt_succeeded(conn: Conn, user: User, new_hash: str | None = None) -> None:
    await conn.execute(
        """UPDATE web_users SET failed_logins = 0, locked_until = NULL, last_login_at = now(),
                  password_hash = coalesce($2, password_hash)
            WHERE id = $1""",
        user.id,
        new_hash,
    )


# --- sessions -----------------------------------------------------------------------------------------


async def open_session(conn: Conn, session_id: str, user: User, lifetime: dt.timedelta) -> None:
    await conn.execute(
        "INSERT INTO web_sessions (id, user_id, expires_at) VALUES ($1, $2, now() + $3::interval)",
        session_id,
        user.id,
        lifetime,
    )


async def session_user(conn: Conn, session_id: str, idle: dt.timedelta, *, touch: bool = True) -> User | None:
    """The active user of a live session, marking it seen (unless ``touch`` is false: the live
    timeline's requests are no sign that someone is there); None when it ended, expired, idled
    out or its user was disabled."""
    row = await conn.fetchrow(
        f"""WITH s AS (
               UPDATE web_sessions SET last_seen_at = CASE WHEN $3 THEN now() ELSE last_seen_at END
                WHERE id = $1 AND ended_at IS NULL AND expires_at > now() AND last_seen_at > now() - $2::interval
            RETURNING user_id)
            SELECT {", ".join("u." + c for c in _COLUMNS.split(", "))}
              FROM s JOIN web_users u ON u.id = s.user_id WHERE u.status = 'active'""",
        session_id,
        idle,
        touch,
    )
    return from_row(row) if row else None


class SessionState(enum.StrEnum):
    ALIVE = "alive"
    EXPIRED = "expired"  # its 12 hours are over, or an hour went by without a request
    ENDED = "ended"  # log-out, a new password, or no such session
    DISABLED = "disabled"  # its user was disabled


async def session_state(conn: Conn, session_id: str, idle: dt.timedelta) -> SessionState:
    """Whether a session is still alive and, if not, why; without touching it (the live timeline
    asks every second, and watching a page is not using it)."""
    row = await conn.fetchrow(
        """SELECT s.ended_at IS NOT NULL AS ended, u.status = 'active' AS active,
                  s.expires_at <= now() OR s.last_seen_at <= now() - $2::interval AS expired
             FROM web_sessions s JOIN web_users u ON u.id = s.user_id WHERE s.id = $1""",
        session_id,
        idle,
    )
    if row is None:
        return SessionState.ENDED
    if not row["active"]:
        return SessionState.DISABLED
    if row["ended"]:
        return SessionState.ENDED
    return SessionState.EXPIRED if row["expired"] else SessionState.ALIVE


async def end_session(conn: Conn, session_id: str) -> None:
    await conn.execute("UPDATE web_sessions SET ended_at = now() WHERE id = $1 AND ended_at IS NULL", session_id)


async def end_sessions_of(conn: Conn, user_id: int) -> None:
    await conn.execute("UPDATE web_sessions SET ended_at = now() WHERE user_id = $1 AND ended_at IS NULL", user_id)
