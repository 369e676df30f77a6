"""CSV imports awaiting an administrator's confirmation: the uploaded file and the digest of the
plan it was shown, so that what is confirmed is exactly what was seen. Drafts older than a day
are dropped when the next one is saved."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from axis.store.db import Conn


@dataclass(frozen=True, slots=True)
class Draft:
    id: uuid.UUID
    user_id: int
    filename: str
    body: bytes
    partial: bool
    plan_digest: str


async def save_draft(conn: Conn, user_id: int, filename: str, body: bytes, partial: bool, digest: str) -> uuid.UUID:
    await conn.execute("DELETE FROM web_import_drafts WHERE created_at < now() - interval '1 day'")
    draft_id = uuid.uuid4()
    await conn.execute(
        """INSERT INTO web_import_drafts (id, user_id, filename, body, partial, plan_digest)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        draft_id,
        user_id,
        filename,
        body,
        partial,
        digest,
    )
    return draft_id


async def draft(conn: Conn, draft_id: str, user_id: int) -> Draft | None:
    try:
        key = uuid.UUID(draft_id)
    except ValueError:
        return None
    row = await conn.fetchrow(
        """SELECT id, user_id, filename, body, partial, plan_digest FROM web_import_drafts
            WHERE id = $1 AND user_id = $2""",
        key,
        user_id,
    )
    return Draft(**dict(row)) if row else None


async def drop_draft(conn: Conn, draft_id: uuid.UUID) -> None:
    await conn.execute("DELETE FROM web_import_drafts WHERE id = $1", draft_id)
