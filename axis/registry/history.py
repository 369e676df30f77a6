"""The registry's history: one row per change, never rewritten, and the version that moves with it.

Every change to the registry goes through ``record`` inside the transaction that makes the change:
the history row, the version bump and the NOTIFY commit (or roll back) together, so a cache never
sees a change without its history or misses one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any

from axis.store.db import Conn

CHANNEL = "axis_registry"
#: What a history row is about (``subject_kind``): the filters offer these and nothing else.
SUBJECT_KINDS = ("agency", "system", "admin", "user", "upstream", "external")


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    id: int
    at: dt.datetime
    actor: str
    action: str
    subject_kind: str
    subject_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def as_json(value: Any) -> dict[str, Any] | None:
    """A registry value (frozen dataclass) as a JSON object for the history's before/after."""
    if value is None:
        return None
    is_instance = dataclasses.is_dataclass(value) and not isinstance(value, type)
    data = dataclasses.asdict(value) if is_instance else dict(value)
    return {
        k: (v.value if isinstance(v, enum.Enum) else v.isoformat() if isinstance(v, dt.datetime) else v)
        for k, v in data.items()
    }


async def record(
    conn: Conn,
    actor: str,
    action: str,
    subject_kind: str,
    subject_id: str,
    before: Any = None,
    after: Any = None,
    *,
    cached: bool = True,
) -> None:
    """The history row of a change, in the change's transaction; a change to what the registry
    cache holds (``cached``) also moves the version on, so every process reloads."""
    await conn.execute(
        """INSERT INTO registry_history (actor, action, subject_kind, subject_id, before, after)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        actor,
        action,
        subject_kind,
        subject_id,
        as_json(before),
        as_json(after),
    )
    if cached:
        await bump(conn)


async def version(conn: Conn) -> int:
    """The registry version now (what a cache must hold to have every committed change)."""
    current: int = await conn.fetchval("SELECT version FROM registry_version")
    return current


async def bump(conn: Conn) -> int:
    """Move the registry version on and tell every listening process (delivered at commit)."""
    version: int = await conn.fetchval("UPDATE registry_version SET version = version + 1 RETURNING version")
    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, str(version))
    return version


async def entries(
    conn: Conn,
    *,
    subject_kind: str | None = None,
    subject_id: str | None = None,
    action: str | None = None,
    actor: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[HistoryEntry]:
    """Newest first, filtered; ``before_id`` pages backwards."""
    rows = await conn.fetch(
        """SELECT id, at, actor, action, subject_kind, subject_id, before, after
             FROM registry_history
            WHERE ($1::text IS NULL OR subject_kind = $1)
              AND ($2::text IS NULL OR subject_id = $2)
              AND ($3::text IS NULL OR action LIKE $3 || '%')
              AND ($4::text IS NULL OR actor = $4)
              AND ($5::bigint IS NULL OR id < $5)
            ORDER BY id DESC
            LIMIT $6""",
        subject_kind,
        subject_id,
        action,
        actor,
        before_id,
        limit,
    )
    return [HistoryEntry(**dict(r)) for r in rows]


async def agency_versions(conn: Conn) -> dict[str, tuple[dt.datetime, int]]:
    """Agency code → when it last changed and how many changes its history holds (the SDK's
    ``synchronizeUnits`` calls that count its ``version``)."""
    rows = await conn.fetch(
        """SELECT a.code, a.updated_at, coalesce(h.n, 0) AS version
             FROM agencies a
             LEFT JOIN (SELECT subject_id, count(*) AS n FROM registry_history
                         WHERE subject_kind = 'agency' GROUP BY subject_id) h ON h.subject_id = a.code"""
    )
    return {r["code"]: (r["updated_at"], int(r["version"])) for r in rows}
