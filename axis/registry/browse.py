"""The agency tree as the administrators' pages walk it: its roots, how many children each node
has, and which system is bound where (the registry snapshot answers routing; these answer the
page, including retired agencies the snapshot leaves out)."""

from __future__ import annotations

from axis.registry import agencies
from axis.registry.model import Agency
from axis.store.db import Conn


async def roots(conn: Conn) -> list[Agency]:
    """The top of the agency tree (agencies without a parent)."""
    rows = await conn.fetch(
        "SELECT code, name, parent_code, status, successor_code, code_qd20 FROM agencies"
        " WHERE parent_code IS NULL ORDER BY code"
    )
    return [agencies.from_row(r) for r in rows]


async def child_counts(conn: Conn, codes: list[str]) -> dict[str, int]:
    rows = await conn.fetch(
        "SELECT parent_code, count(*) AS n FROM agencies WHERE parent_code = ANY($1::text[]) GROUP BY parent_code",
        codes,
    )
    return {r["parent_code"]: r["n"] for r in rows}


async def bindings_of(conn: Conn) -> dict[str, str]:
    """Agency code → the system bound to exactly that subtree."""
    return {r["agency_code"]: r["system_id"] for r in await conn.fetch("SELECT agency_code, system_id FROM bindings")}


async def binding_counts(conn: Conn) -> dict[str, int]:
    """System id → how many agency subtrees it is bound to."""
    rows = await conn.fetch("SELECT system_id, count(*) AS n FROM bindings GROUP BY system_id")
    return {r["system_id"]: r["n"] for r in rows}
