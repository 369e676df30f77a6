"""What was typed into a form that was refused before its content was looked at: kept for later.

A form posted after its session ended, or with a stale CSRF token, changes nothing. What was typed
is then kept as a *draft* in the session cookie (encrypted and authenticated, like the rest of it):
the page the form was on, the form's action and its fields — never a password, a token, a file or
anything long. The next time that page is shown to the same person (after logging in again, for
an expired session), the draft goes with it, once, and ``static/forms.js`` puts the values back.

Only a form posted from a page of this site under ``/ui/`` (its ``Referer``, which another site
cannot forge) leaves a draft: nobody else can put values in someone's form. A draft belongs to
the user whose session it was typed in (``None`` before log-in) and is shown to nobody else.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp_session import Session, get_session

DRAFT = "draft"
#: Cookies hold about 4 KB: a draft larger than this is not kept (the page still is).
MAX_DRAFT_CHARACTERS = 1500
MAX_FIELD_CHARACTERS = 500
KEEP_SECONDS = 2 * 3600
#: Fields never kept, whatever the form: the CSRF token and anything like a password or a secret.
_NEVER = re.compile(r"csrf|pass|^again$|^current$|^new$|secret|token|key", re.IGNORECASE)


def local_target(target: str | None) -> str | None:
    """Only a path of these pages: never another site (``//evil``, ``https://…``, ``/\\evil``)."""
    if not target or not target.startswith("/ui/") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def form_page(request: web.Request) -> str | None:
    """The page the form was posted from, when it is one of these pages (path and query)."""
    parts = urlsplit(request.headers.get("Referer", ""))
    if parts.scheme not in ("http", "https") or parts.netloc != request.host:
        return None
    return local_target(parts.path + (f"?{parts.query}" if parts.query else ""))


async def keep(request: web.Request, owner: int | None) -> str | None:
    """Keep what the refused form carried (as a draft for the page it came from); returns that
    page, or None when the form did not come from one of these pages."""
    page = form_page(request)
    if page is None:
        return None
    form = await request.post()
    fields: dict[str, list[str]] = {}
    for name in dict.fromkeys(form.keys()):
        values = form.getall(name)
        if _NEVER.search(name) or not all(isinstance(v, str) for v in values):
            continue  # a secret, or a file
        if any(len(str(v)) > MAX_FIELD_CHARACTERS for v in values):
            continue
        fields[name] = [str(v) for v in values]
    draft = {"page": urlsplit(page).path, "action": request.path, "fields": fields, "owner": owner}
    session = await get_session(request)
    if fields and len(json.dumps(draft, ensure_ascii=False)) <= MAX_DRAFT_CHARACTERS:
        session[DRAFT] = draft | {"at": int(time.time())}
    return page


def carry(old: Session, new: Session, user_id: int) -> None:
    """At log-in, a new session starts: a draft its user typed before goes along, nothing else."""
    draft = old.get(DRAFT)
    if isinstance(draft, dict) and draft.get("owner") == user_id:
        new[DRAFT] = draft


async def take(request: web.Request, user_id: int | None) -> dict[str, Any] | None:
    """The draft for this page and this user, once (the page renders it for ``forms.js``)."""
    if request.method != "GET":
        return None  # a form's own refusal shows what was just typed, not an older draft
    session = await get_session(request)
    draft = session.get(DRAFT)
    if not isinstance(draft, dict) or draft.get("page") != request.path:
        return None
    del session[DRAFT]
    if draft.get("owner") != user_id or time.time() - float(draft.get("at", 0)) > KEEP_SECONDS:
        return None
    return {"action": draft.get("action"), "fields": draft.get("fields", {})}
