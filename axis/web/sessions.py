"""Who is logged in: encrypted session cookies, server-side session rows, log-in and log-out, CSRF.

The cookie (``axis_session``, path ``/ui/``, HttpOnly, SameSite=Lax, Secure over HTTPS) is
encrypted and authenticated with Fernet (aiohttp-session's ``EncryptedCookieStorage``) under a
key in ``AXIS_KEYS_DIR/web-session.key``. It carries two random values: the CSRF token of the
session and, once logged in, the session secret. PostgreSQL holds the SHA-256 of that secret
(``web_sessions``), so log-out, a password change or disabling a user ends the session at once,
on every axis process, whatever copies of the cookie exist. Sessions last at most 12 hours and
end after 1 hour without a request.

A session that ended on the server leaves a mark in the cookie (why it ended), so that the log-in
page says so, a page asked for is reached again after logging in (``next``), and a form posted
then keeps what was typed (``axis.web.forms``) instead of losing it to a bare refusal.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
from pathlib import Path
from urllib.parse import quote

from aiohttp import web
from aiohttp_session import Session, get_session, new_session
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from cryptography.fernet import Fernet

from axis.accounts import signin, users
from axis.accounts.users import Role, SessionState, User
from axis.errors import AxisError
from axis.registry.model import System
from axis.web import forms
from axis.web.site import axis_of, site_of
from axis.web.vietnamese import clock

COOKIE = "axis_session"
PATH = "/ui/"
LIFETIME = dt.timedelta(hours=12)
IDLE = dt.timedelta(hours=1)
KEY_FILE = "web-session.key"
_USER: web.RequestKey[User | None] = web.RequestKey("axis.web.user")
_SECRET, _CSRF = "sid", "csrf"
#: The user the session was opened for (kept after it ends: a draft goes only to them), and, once
#: it ended on the server, why (a ``users.SessionState``).
_OWNER, _ENDED = "uid", "ended"


class CookieStorage(EncryptedCookieStorage):
    """Encrypted cookies marked Secure whenever the page was served over HTTPS.

    Behind a TLS-terminating proxy the axis sees plain HTTP, so ``X-Forwarded-Proto: https``
    counts too; trusting it can only add the Secure flag, never remove it.
    """

    def __init__(self, key: bytes) -> None:
        self._key = Fernet(key)
        super().__init__(self._key, cookie_name=COOKIE, max_age=int(LIFETIME.total_seconds()), path=PATH)

    async def save_session(self, request: web.Request, response: web.StreamResponse, session: Session) -> None:
        if session.empty:
            response.del_cookie(COOKIE, path=PATH)
            return
        data = self._encoder(self._get_session_data(session)).encode("utf-8")
        secure = request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"
        # No Max-Age: the cookie ends with the browser; the server ends it sooner (LIFETIME, IDLE).
        response.set_cookie(
            COOKIE, self._key.encrypt(data).decode("ascii"), path=PATH, httponly=True, samesite="Lax", secure=secure
        )


def load_key(keys_dir: Path) -> bytes:
    """The cookie key, created on first start (every axis process behind one address must share
    it: they all read ``AXIS_KEYS_DIR``, like the receipt key)."""
    path = keys_dir / KEY_FILE
    if not path.exists():
        keys_dir.mkdir(parents=True, exist_ok=True)
        draft = keys_dir / f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        draft.write_bytes(Fernet.generate_key())
        draft.chmod(0o600)
        try:
            os.link(draft, path)  # atomic: of processes starting together, one key wins
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    key = path.read_bytes().strip()
    try:
        Fernet(key)
    except ValueError:
        raise AxisError("config.invalid", f"{path} is not a Fernet key (44 characters of URL-safe base64).") from None
    return key


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


# --- the logged-in user -------------------------------------------------------------------------------


async def current_user(request: web.Request, *, touch: bool = True) -> User | None:
    """The logged-in user, or None. A request counts as activity (the hour without one after
    which a session ends starts again) unless ``touch`` is false, as for the live timeline, which
    a page left open asks for by itself."""
    if _USER in request:
        return request[_USER]
    session = await get_session(request)
    secret = session.get(_SECRET)
    user = None
    if isinstance(secret, str):
        async with axis_of(request).connection() as conn:
            user = await users.session_user(conn, _digest(secret), IDLE, touch=touch)
            state = SessionState.ALIVE if user else await users.session_state(conn, _digest(secret), IDLE)
        if user is None:  # ended elsewhere (log-out, disabled, expired): forget it, remember why
            del session[_SECRET]
            session[_ENDED] = str(SessionState.EXPIRED if state is SessionState.ALIVE else state)
    request[_USER] = user
    return user


async def ended(request: web.Request) -> SessionState | None:
    """Why the session of this browser ended on the server; None if it is alive or never was."""
    await current_user(request, touch=False)
    reason = (await get_session(request)).get(_ENDED)
    return SessionState(reason) if reason in set(SessionState) else None


async def owner(request: web.Request) -> int | None:
    """Whose typing a refused form holds: the logged-in user, or the one whose session ended."""
    user = await current_user(request)
    if user is not None:
        return user.id
    uid = (await get_session(request)).get(_OWNER)
    return uid if isinstance(uid, int) and await ended(request) else None


def login_url(request: web.Request) -> str:
    return login_target(request.path_qs)


def login_target(back: str | None) -> str:
    """The log-in page, returning to ``back`` (a page of this site) afterwards."""
    back = forms.local_target(back)
    if not back or back.startswith(f"{PATH}login"):
        return back or f"{PATH}login"
    return f"{PATH}login?next={quote(back, safe='')}"


async def require_user(request: web.Request, role: Role | None = None, *, touch: bool = True) -> User:
    """The logged-in user with ``role``. Anyone else is sent to the log-in page (GET), to come
    back afterwards; a form posted after the session ended keeps what was typed and goes back to
    the page it was on after log-in; a form posted with no session at all is refused."""
    user = await current_user(request, touch=touch)
    if user is None:
        if request.method in ("GET", "HEAD"):
            raise web.HTTPSeeOther(login_url(request))
        if await ended(request):
            raise web.HTTPSeeOther(login_target(await forms.keep(request, await owner(request))))
        raise AxisError("web.session.required", "Phiên làm việc đã hết; hãy đăng nhập lại.")
    if role is not None and user.role is not role:
        raise AxisError("web.forbidden", "Tài khoản này không được dùng trang này.")
    return user


async def require_admin(request: web.Request) -> User:
    return await require_user(request, Role.ADMIN)


async def require_clerk(request: web.Request, *, touch: bool = True) -> tuple[User, System]:
    """A clerk and the system they work for (from the registry cache)."""
    user = await require_user(request, Role.CLERK, touch=touch)
    system = axis_of(request).registry.snapshot.systems.get(user.system_id or "")
    if system is None:
        raise AxisError("web.forbidden", "Hệ thống của tài khoản này không còn trong danh bạ.")
    return user, system


async def session_secret_digest(request: web.Request) -> str | None:
    secret = (await get_session(request)).get(_SECRET)
    return _digest(secret) if isinstance(secret, str) else None


async def state_of(request: web.Request, digest: str | None) -> SessionState:
    """Whether the session whose secret has this digest still lives, without counting the
    question as activity (the live timeline asks at every poll)."""
    if digest is None:
        return SessionState.ENDED
    async with axis_of(request).connection() as conn:
        return await users.session_state(conn, digest, IDLE)


# --- CSRF ---------------------------------------------------------------------------------------------


async def csrf_token(request: web.Request) -> str:
    """This session's token for forms (created with the session, before log-in too)."""
    session = await get_session(request)
    token = session.get(_CSRF)
    if not isinstance(token, str):
        token = session[_CSRF] = secrets.token_urlsafe(32)
    return token


async def check_csrf(request: web.Request) -> None:
    """Every POST carries the session's token in the form field ``csrf``."""
    expected = (await get_session(request)).get(_CSRF)
    sent = (await request.post()).get(_CSRF)
    if not isinstance(expected, str) or not isinstance(sent, str) or not hmac.compare_digest(expected, sent):
        raise AxisError("web.csrf", "Biểu mẫu đã cũ hoặc không hợp lệ; hãy tải lại trang và thử lại.")


# --- log-in and log-out -------------------------------------------------------------------------------


async def log_in(request: web.Request, username: str, password: str) -> User:
    """Check the password (with lock-out) and start a new session: new secret, new CSRF token."""
    axis, hasher = axis_of(request), site_of(request).hasher
    try:
        user, new_hash = await signin.check(axis.connection, hasher, username, password)
    except signin.Locked as exc:
        raise _locked(exc.until) from None
    secret = secrets.token_urlsafe(32)
    await signin.open_session(axis.connection, user, new_hash, _digest(secret), LIFETIME)
    before = await get_session(request)
    session = await new_session(request)  # a fresh cookie: nothing from before log-in carries over,
    forms.carry(before, session, user.id)  # but what this user typed when their session ended
    session[_SECRET] = secret
    session[_OWNER] = user.id
    session[_CSRF] = secrets.token_urlsafe(32)
    request[_USER] = user
    return user


def _locked(until: dt.datetime | None) -> AxisError:
    when = clock(until) if until else ""
    return AxisError(
        "web.login.locked",
        f"Đăng nhập sai quá {users.MAX_FAILURES} lần: tài khoản tạm khóa đến {when}.",
        locked_until=until.isoformat() if until else None,
    )


async def log_out(request: web.Request) -> None:
    digest = await session_secret_digest(request)
    if digest is not None:
        async with axis_of(request).connection() as conn:
            await users.end_session(conn, digest)
    (await get_session(request)).invalidate()
    request[_USER] = None
