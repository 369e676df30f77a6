"""External agencies (issue 17): the agencies the upstream axis knows, read-only here.

``axis.federation.directory`` alone writes them, from the upstream's lists; here they are looked
up and searched beside the local registry, by the same query rules (``agencies.matching``), so that
a clerk or a system finds another province's agency by its name or code. A code the local registry
also holds is the local agency's: its external row is not listed. Documents for an external
agency go to the upstream's system (``axis.registry.resolve``).
"""

from __future__ import annotations

import asyncpg

from axis.registry import agencies, folding
from axis.registry.model import Agency
from axis.store.db import Conn

_NOT_LOCAL = "NOT EXISTS (SELECT 1 FROM agencies a WHERE a.code = e.code)"


def _agency(row: asyncpg.Record) -> Agency:
    return Agency(row["code"], row["name"], row["parent_code"], code_qd20=row["code_qd20"])


async def get(conn: Conn, code: str) -> Agency | None:
    """The external agency with this code (either form), when the local registry lacks it."""
    row = await conn.fetchrow(
        """SELECT e.code, e.name, e.parent_code, e.code_qd20 FROM external_agencies e
            WHERE (e.code = $1 OR e.code_qd20 = $1) AND NOT EXISTS (SELECT 1 FROM agencies a WHERE a.code = e.code)
            ORDER BY e.code = $1 DESC LIMIT 1""",
        code.strip(),
    )
    return _agency(row) if row else None


async def children(conn: Conn, code: str) -> list[Agency]:
    rows = await conn.fetch(
        """SELECT e.code, e.name, e.parent_code, e.code_qd20 FROM external_agencies e
            WHERE e.parent_code = $1 AND NOT EXISTS (SELECT 1 FROM agencies a WHERE a.code = e.code)
            ORDER BY e.code""",
        code,
    )
    return [_agency(r) for r in rows]


async def search(
    conn: Conn, *, q: str = "", under: str | None = None, limit: int = 50, offset: int = 0
) -> list[Agency]:
    """As ``agencies.search``, over the external agencies: by code, or by name words, the name
    itself first, then the words as a phrase, then shorter names."""
    conditions, args = agencies.matching(q, under, names_too=True)
    conditions.append(_NOT_LOCAL)
    order = "e.code"
    if any("name_folded" in condition for condition in conditions):  # words of a name, perhaps
        args.append(" ".join(folding.words(q)))
        n = len(args)
        order = f"e.name_folded = ${n} DESC, strpos(e.name_folded, ${n}) = 0, length(e.name_folded), e.code"
    args += [limit, offset]
    where = " AND ".join(conditions)  # constant fragments and $n placeholders only (agencies.matching)
    rows = await conn.fetch(
        f"SELECT e.code, e.name, e.parent_code, e.code_qd20 FROM external_agencies e WHERE {where}"  # noqa: S608
        f" ORDER BY {order} LIMIT ${len(args) - 1} OFFSET ${len(args)}",
        *args,
    )
    return [_agency(r) for r in rows]


async def following(
    conn: Conn, local_total: int, *, q: str = "", under: str | None = None, offset: int = 0, limit: int = 50
) -> list[Agency]:
    """The external agencies on the result page ``offset``/``limit`` of a search whose local
    matches (``local_total`` of them) come first: the page's remainder once the local ones end."""
    room = limit - max(0, min(limit, local_total - offset))
    if room <= 0:
        return []
    return await search(conn, q=q, under=under, limit=room, offset=max(0, offset - local_total))
