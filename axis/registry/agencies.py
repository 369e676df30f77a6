"""SQL for agencies: look-up, search, and the changes administrators make (each with its history).

Every function takes a connection; callers that change something wrap the call in a transaction
(``async with conn.transaction()``) so that the change, its history row and the version bump commit
together.
"""

from __future__ import annotations

import re
from dataclasses import replace

import asyncpg

from axis.errors import AxisError
from axis.registry import codes, folding, history
from axis.registry.model import Agency, AgencyStatus
from axis.store.db import Conn, contains

_COLUMNS = "code, name, parent_code, status, successor_code, code_qd20"
_CODE_PREFIX = re.compile(r"^[0-9A-Z][.0-9A-Z]*$")


def from_row(row: asyncpg.Record) -> Agency:
    return Agency(
        code=row["code"],
        name=row["name"],
        parent_code=row["parent_code"],
        status=AgencyStatus(row["status"]),
        successor_code=row["successor_code"],
        code_qd20=row["code_qd20"],
    )


async def get(conn: Conn, code: str) -> Agency | None:
    """By QCVN 102 code or Decision 20/2020 code."""
    code = code.strip()
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM agencies WHERE code = $1 OR code_qd20 = $1", code)
    return from_row(row) if row else None


async def require(conn: Conn, code: str) -> Agency:
    """The local agency with this code (either form), which a registry change may then touch.

    A code this axis knows only from the upstream's lists (``external_agencies``, issue 17) is
    refused as ``registry.agency.external``: the upstream keeps it, and a refresh would undo a
    local change anyway."""
    agency = await get(conn, code)
    if agency is None:
        if await conn.fetchval("SELECT 1 FROM external_agencies WHERE code = $1 OR code_qd20 = $1", code.strip()):
            raise AxisError(
                "registry.agency.external",
                f"{code} is an agency of the upstream axis (known here from its lists): it is read-only here.",
                agency_code=code,
            )
        raise AxisError("registry.agency.unknown", f"No agency has the code {code!r}.", agency_code=code)
    return agency


async def children(conn: Conn, code: str) -> list[Agency]:
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM agencies WHERE parent_code = $1 ORDER BY code", code)
    return [from_row(r) for r in rows]


def subtree_pattern(code: str) -> str:
    """A LIKE pattern matching ``code`` and every code below it (levels are fixed-width fields)."""
    parsed = codes.parse(code)
    bb, cc, ddd = parsed.groups
    if bb == 0:
        return f"___.__.__.{parsed.level1}"
    if cc == 0:
        return f"___.__.{bb:02d}.{parsed.level1}"
    if ddd == 0:
        return f"___.{cc:02d}.{bb:02d}.{parsed.level1}"
    return parsed.text


async def search(
    conn: Conn,
    *,
    q: str = "",
    under: str | None = None,
    include_retired: bool = True,
    limit: int = 50,
    offset: int = 0,
) -> list[Agency]:
    """Search by code prefix (either form) or by name words, accent-insensitively, within a subtree.

    ``q`` that looks like a code ("000.00.3", "H53", "G09.2") matches code prefixes and the level-1
    part; anything else must match every folded word of the name ("tay ninh" finds "Tây Ninh").
    """
    conditions, args = matching(q, under)
    if not include_retired:
        conditions.append("status = 'active'")
    where = " AND ".join(conditions) or "true"
    args += [limit, offset]
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM agencies WHERE {where} ORDER BY code LIMIT ${len(args) - 1} OFFSET ${len(args)}",
        *args,
    )
    return [from_row(r) for r in rows]


async def count(conn: Conn, *, q: str = "", under: str | None = None, include_retired: bool = True) -> int:
    """How many agencies ``search`` finds in all (a result page continues with external ones after them)."""
    conditions, args = matching(q, under)
    if not include_retired:
        conditions.append("status = 'active'")
    found: int = await conn.fetchval(f"SELECT count(*) FROM agencies WHERE {' AND '.join(conditions) or 'true'}", *args)
    return found


def matching(q: str, under: str | None, *, names_too: bool = False) -> tuple[list[str], list[object]]:
    """The conditions of a search by ``q`` within ``under`` and their arguments ($1, $2 …), over the
    columns ``code``, ``code_qd20`` and ``name_folded`` (``external_agencies`` has them too).
    ``names_too``: a word that looks like a code but has no digit or dot ("HUE", "UBND") also
    matches names, as ``axis.registry.finder`` reads it."""
    q = q.strip()
    conditions: list[str] = []
    args: list[object] = []

    def arg(value: object) -> str:
        args.append(value)
        return f"${len(args)}"

    if under:
        conditions.append(f"code LIKE {arg(subtree_pattern(under))}")
    if q and _CODE_PREFIX.match(q.upper()):
        prefix = q.upper()
        by_code = (
            f"code LIKE {arg(prefix + '%')} OR code_qd20 LIKE {arg(prefix + '%')} OR code LIKE {arg('%.' + prefix)}"
        )
        if names_too and not any(ch.isdigit() or ch == "." for ch in q):
            by_code += f" OR name_folded LIKE {arg(contains(q.lower()))}"
        conditions.append(f"({by_code})")
    elif q:
        for word in folding.words(q):
            conditions.append(f"name_folded LIKE {arg(contains(word))}")
    return conditions, args


async def add(conn: Conn, actor: str, code: str, name: str, *, code_qd20: str | None = None) -> Agency:
    parsed = codes.parse(code)
    name = name.strip()
    if not name:
        raise AxisError("http.bad_request", "An agency needs a name.")
    if code_qd20 is not None:
        _check_qd20(code_qd20)
    parent = parsed.parent.text if parsed.parent else None
    if parent is not None and await get(conn, parent) is None:
        raise AxisError(
            "registry.agency.parent_missing",
            f"The parent {parent} of {parsed.text} is not in the registry; add it first.",
            agency_code=parsed.text,
            parent=parent,
        )
    agency = Agency(parsed.text, name, parent, code_qd20=code_qd20)
    try:
        inserted = await conn.fetchval(
            """INSERT INTO agencies (code, name, name_folded, parent_code, code_qd20)
               VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO NOTHING RETURNING code""",
            agency.code,
            agency.name,
            folding.fold(agency.name),
            agency.parent_code,
            agency.code_qd20,
        )
    except asyncpg.UniqueViolationError:
        raise AxisError(
            "registry.agency.exists",
            f"Another agency already has the code {code_qd20!r}.",
            code_qd20=code_qd20,
        ) from None
    if inserted is None:
        raise AxisError("registry.agency.exists", f"The agency {agency.code} already exists.", agency_code=code)
    await history.record(conn, actor, "agency.create", "agency", agency.code, None, agency)
    return agency


def _check_qd20(code_qd20: str) -> None:
    problem = codes.qd20_problem(code_qd20)
    if problem is not None:
        raise AxisError(
            "agency_code.malformed",
            f"{code_qd20!r} is not a Decision 20/2020 code: {problem}.",
            agency_code=code_qd20,
            reason=problem,
            form="QD20",
        )


async def _update(conn: Conn, actor: str, action: str, before: Agency, after: Agency) -> Agency:
    await conn.execute(
        """UPDATE agencies
              SET name = $2, name_folded = $3, status = $4, successor_code = $5, code_qd20 = $6,
                  updated_at = now(),
                  retired_at = CASE WHEN $4 = 'retired' THEN coalesce(retired_at, now()) END
            WHERE code = $1""",
        after.code,
        after.name,
        folding.fold(after.name),
        after.status.value,
        after.successor_code,
        after.code_qd20,
    )
    await history.record(conn, actor, action, "agency", after.code, before, after)
    return after


async def rename(conn: Conn, actor: str, code: str, name: str) -> Agency:
    before = await require(conn, code)
    name = name.strip()
    if not name:
        raise AxisError("http.bad_request", "An agency needs a name.")
    if name == before.name:
        return before
    return await _update(conn, actor, "agency.rename", before, replace(before, name=name))


async def set_code_qd20(conn: Conn, actor: str, code: str, code_qd20: str | None) -> Agency:
    before = await require(conn, code)
    if code_qd20 is not None:
        _check_qd20(code_qd20)
    if code_qd20 == before.code_qd20:
        return before
    try:
        return await _update(conn, actor, "agency.set_qd20", before, replace(before, code_qd20=code_qd20))
    except asyncpg.UniqueViolationError:
        raise AxisError(
            "registry.agency.exists",
            f"Another agency already has the code {code_qd20!r}.",
            code_qd20=code_qd20,
        ) from None


async def retire(
    conn: Conn,
    actor: str,
    code: str,
    successor: str | None = None,
    *,
    action: str = "agency.retire",
) -> Agency:
    """Retire an agency, optionally naming the successor new documents are redirected to.

    The successor must be active (`check_successor`). ``action`` records why: a plain retirement,
    a merger into an existing agency, or a move.
    """
    before = await require(conn, code)
    successor_code = None
    if successor is not None:
        successor_code = (await check_successor(conn, before.code, successor)).code
    after = replace(before, status=AgencyStatus.RETIRED, successor_code=successor_code)
    if after == before:
        return before
    return await _update(conn, actor, action, before, after)


async def check_successor(conn: Conn, code: str, successor: str) -> Agency:
    """The agency `successor` names, when it may succeed `code`: known, not `code`, and active.

    A retired one is refused (``registry.agency.successor_invalid``, ``reason`` ``retired``) with
    the ``chain`` its documents follow and ``active``: the active agency at the end of that chain,
    which may be named instead (None when the chain ends without one, or comes back to `code`).
    """
    target = await require(conn, successor)
    if target.code == code:
        raise AxisError(
            "registry.agency.successor_invalid",
            f"{code} cannot be its own successor.",
            agency_code=code,
            reason="itself",
        )
    if not target.retired:
        return target
    chain = await successor_chain(conn, target)
    end = chain[-1]
    active = end.code if not end.retired and end.code != code else None
    walk = " → ".join(a.code for a in chain)
    instead = f"name {active} instead, where its documents go" if active else "its chain ends at no active agency"
    raise AxisError(
        "registry.agency.successor_invalid",
        f"The successor {target.code} is retired itself ({walk}): {instead}.",
        agency_code=code,
        successor=target.code,
        reason="retired",
        chain=[a.code for a in chain],
        active=active,
    )


async def successor_chain(conn: Conn, agency: Agency) -> list[Agency]:
    """`agency` and the agencies its redirections pass through: to the first active one, to one
    without successor, or to the first one met twice (a loop, which the registry refuses)."""
    chain = [agency]
    while chain[-1].retired and chain[-1].successor_code is not None:
        following = await get(conn, chain[-1].successor_code)
        if following is None or any(a.code == following.code for a in chain):
            break
        chain.append(following)
    return chain


async def predecessors(conn: Conn, code: str, *, limit: int = 50) -> list[Agency]:
    """Retired agencies that name `code` as their successor (their documents come to it)."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM agencies WHERE successor_code = $1 AND status = 'retired' ORDER BY code LIMIT $2",
        code,
        limit,
    )
    return [from_row(r) for r in rows]


async def reactivate(conn: Conn, actor: str, code: str) -> Agency:
    """Bring a retired agency back: active again and without successor, so that documents
    addressed to it (and to retired agencies that name it) reach it again. An active agency is
    left as it is."""
    before = await require(conn, code)
    if not before.retired:
        return before
    after = replace(before, status=AgencyStatus.ACTIVE, successor_code=None)
    return await _update(conn, actor, "agency.reactivate", before, after)


async def merge(conn: Conn, actor: str, code: str, into: str) -> Agency:
    """Retire ``code`` into an agency that already exists (e.g. a province merger)."""
    return await retire(conn, actor, code, into, action="agency.merge")


async def move(conn: Conn, actor: str, code: str, new_code: str) -> Agency:
    """Give an agency a place elsewhere in the tree: a code implies its parent, so moving means a
    new code, and the old one retires with the new one as successor (documents still reach it)."""
    old = await require(conn, code)
    new = await add(conn, actor, new_code, old.name)
    await retire(conn, actor, old.code, new.code, action="agency.move")
    return new
