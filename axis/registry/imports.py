"""Applying an import plan to PostgreSQL in bulk: the SQL half of ``axis agencies import``.

A national list has about 111,000 agencies, so rows go in as arrays (``unnest``), a chunk at a
time, never one statement per row. The caller holds the transaction: the whole import commits or
nothing does, with one history row per change and a single version bump (one cache reload in
every process instead of 111,000).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TypeVar

from axis.registry import agencies, folding, history
from axis.registry.importer import Change, ChangeKind, ImportPlan
from axis.registry.model import Agency
from axis.store.db import Conn

CHUNK = 10_000
T = TypeVar("T")


async def existing(conn: Conn) -> dict[str, Agency]:
    """The whole registry, which the planner diffs the file against."""
    rows = await conn.fetch("SELECT code, name, parent_code, status, successor_code, code_qd20 FROM agencies")
    return {r["code"]: agencies.from_row(r) for r in rows}


async def apply(
    conn: Conn,
    actor: str,
    plan: ImportPlan,
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Apply ``plan`` (its good rows); returns the number of changes made."""
    creates = [c.after for c in plan.changes if c.kind is ChangeKind.CREATE]
    final: dict[str, Agency] = {}
    for change in plan.changes:
        if change.kind is not ChangeKind.CREATE:
            final[change.code] = change.after  # each step's after is the next one's before
    # Unique Decision 20/2020 codes are checked at commit, so that two agencies may swap theirs.
    await conn.execute("SET CONSTRAINTS agencies_code_qd20_key DEFERRED")
    done = 0
    for chunk in _chunks(creates):
        await _insert(conn, chunk)
        done += len(chunk)
        if progress:
            progress(done)
    for chunk in _chunks(list(final.values())):
        await _update(conn, chunk)
        done += len(chunk)
        if progress:
            progress(min(done, len(plan.changes)))
    for changes in _chunks(list(plan.changes)):
        await _record(conn, actor, changes)
    if plan.changes:
        await history.bump(conn)
    if progress:
        progress(len(plan.changes))
    return len(plan.changes)


def _chunks(items: Sequence[T]) -> list[Sequence[T]]:
    return [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]


def _columns(rows: Sequence[Agency]) -> list[list[str | None]]:
    return [
        [a.code for a in rows],
        [a.name for a in rows],
        [folding.fold(a.name) for a in rows],
        [a.parent_code for a in rows],
        [a.status.value for a in rows],
        [a.successor_code for a in rows],
        [a.code_qd20 for a in rows],
    ]


async def _insert(conn: Conn, rows: Sequence[Agency]) -> None:
    await conn.execute(
        """INSERT INTO agencies (code, name, name_folded, parent_code, status, successor_code, code_qd20,
                                 retired_at)
           SELECT code, name, folded, parent, status, successor, qd20,
                  CASE WHEN status = 'retired' THEN now() END
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
                  AS t (code, name, folded, parent, status, successor, qd20)""",
        *_columns(rows),
    )


async def _update(conn: Conn, rows: Sequence[Agency]) -> None:
    await conn.execute(
        """UPDATE agencies AS a
              SET name = t.name, name_folded = t.folded, status = t.status, successor_code = t.successor,
                  code_qd20 = t.qd20, updated_at = now(),
                  retired_at = CASE WHEN t.status = 'retired' THEN coalesce(a.retired_at, now()) END
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
                  AS t (code, name, folded, parent, status, successor, qd20)
            WHERE a.code = t.code""",
        *_columns(rows),
    )


_ACTIONS = {
    ChangeKind.CREATE: "agency.create",
    ChangeKind.RENAME: "agency.rename",
    ChangeKind.SET_QD20: "agency.set_qd20",
    ChangeKind.RETIRE: "agency.retire",
    ChangeKind.REACTIVATE: "agency.reactivate",
    ChangeKind.SET_SUCCESSOR: "agency.set_successor",
}


def _json(agency: Agency | None) -> str | None:
    value = history.as_json(agency)
    return None if value is None else json.dumps(value, ensure_ascii=False)


async def _record(conn: Conn, actor: str, changes: Sequence[Change]) -> None:
    await conn.execute(
        """INSERT INTO registry_history (actor, action, subject_kind, subject_id, before, after)
           SELECT $1, action, 'agency', code, before::jsonb, after::jsonb
             FROM unnest($2::text[], $3::text[], $4::text[], $5::text[])
                  AS t (action, code, before, after)""",
        actor,
        [_ACTIONS[c.kind] for c in changes],
        [c.code for c in changes],
        [_json(c.before) for c in changes],
        [_json(c.after) for c in changes],
    )
