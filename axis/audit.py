"""The tamper-evident chains of the event log and the registry history: linking and checking.

Each row's hash covers its content and the previous row's hash (see migration 006): recomputing the
chain in order finds the first row that was edited, inserted or deleted by hand. The head (last
hash) can be copied elsewhere from time to time; a chain that still matches a copied head was not
rewritten wholesale either.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg
import structlog

from axis.store import db
from axis.store.db import Conn

log = structlog.get_logger("axis.audit")
_LINKER_LOCK = 0x61756474  # "audt": one linker at a time across all axis processes

CHAINS = {
    "events": "audit_event_text",
    "registry_history": "audit_history_text",
}


@dataclass(frozen=True, slots=True)
class ChainReport:
    chain: str
    rows: int
    head: str  # hex of the last hash
    broken_at: int | None = None  # chain_seq of the first broken link
    broken_id: int | None = None
    reason: str = ""
    unchained: int = 0  # rows written before the chain existed

    @property
    def intact(self) -> bool:
        return self.broken_at is None


async def verify(
    conn: Conn, chain: str, *, batch: int = 5000, progress: Callable[[int, int], None] | None = None
) -> ChainReport:
    """Recompute ``chain`` from its first row up to the head read at the start; stop at the first
    broken link.

    In batches of ``batch`` rows, each its own short statement (keyset on ``chain_seq``), not one
    snapshot held for the whole walk: on a year of events (tens of millions of rows, minutes) a
    transaction that long would hold back vacuum on the busiest tables. Rows only ever join the
    chain after the head, so the head read first bounds a walk that later links do not disturb.
    ``progress(done, total)`` is called after each batch."""
    function = CHAINS[chain]
    start = await conn.fetchval(f"SELECT sha256(convert_to('axis audit: {chain}', 'UTF8'))")
    head = await conn.fetchrow("SELECT last_seq, last_hash FROM audit_heads WHERE chain = $1", chain)
    assert head is not None
    last_seq: int = head["last_seq"]
    unchained = await conn.fetchval(f"SELECT count(*) FROM {chain} WHERE chain_seq IS NULL")
    statement = await conn.prepare(
        f"SELECT t.chain_seq, t.id, t.prev_hash, t.hash, sha256(t.prev_hash || convert_to({function}(t), 'UTF8'))"
        f" AS recomputed FROM {chain} t WHERE t.chain_seq > $1 AND t.chain_seq <= $2 ORDER BY t.chain_seq LIMIT $3"
    )
    previous, expected_seq, rows = start, 1, 0
    while expected_seq <= last_seq:
        found = await statement.fetch(expected_seq - 1, last_seq, batch)
        if not found:
            break
        for row in found:
            rows += 1
            reason = ""
            if row["chain_seq"] != expected_seq:
                reason = f"row {expected_seq} of the chain is missing (next is {row['chain_seq']})"
                return ChainReport(chain, rows, previous.hex(), expected_seq, None, reason, unchained)
            if row["prev_hash"] != previous:
                reason = "its link to the previous row does not match (a row before it was changed or removed)"
            elif row["hash"] != row["recomputed"]:
                reason = "its content does not match its hash (the row was edited)"
            if reason:
                return ChainReport(chain, rows, previous.hex(), row["chain_seq"], row["id"], reason, unchained)
            previous, expected_seq = row["hash"], expected_seq + 1
        if progress is not None:
            progress(expected_seq - 1, last_seq)
    if last_seq != expected_seq - 1 or head["last_hash"] != previous:
        return ChainReport(
            chain,
            rows,
            previous.hex(),
            expected_seq,
            None,
            f"the chain ends at row {expected_seq - 1} but its head says {last_seq} (rows removed at the end)",
            unchained,
        )
    return ChainReport(chain, rows, previous.hex(), unchained=unchained)


async def link(conn: Conn, *, settle: dt.timedelta = dt.timedelta(seconds=1), batch: int = 5000) -> int:
    """Chain the event rows committed more than ``settle`` ago (one linker at a time); returns how
    many were linked, or 0 when another process holds the linker."""
    async with conn.transaction():
        if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", _LINKER_LOCK):
            return 0
        linked: int = await conn.fetchval("SELECT audit_link_events($1::interval, $2)", settle, batch)
    return linked


class Linker:
    """The background task every axis process runs; the advisory lock lets one work at a time."""

    def __init__(self, pool: asyncpg.Pool, *, interval: float = 1.0) -> None:
        self._pool = pool
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="audit-linker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                async with self._pool.acquire(timeout=5) as conn:
                    while await link(conn) > 0:
                        pass
            except db.UNAVAILABLE as exc:
                log.warning("audit.link_failed", error=repr(exc))
            await asyncio.sleep(self._interval)
