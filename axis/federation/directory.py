"""The agencies the upstream knows, kept here as external agencies (issue 17).

The federation worker calls each operation of ``CALLS`` on the upstream, as the official SDK does,
and hands the answers' ``data`` to ``refresh``. Two halves:

- ``read`` (pure): the three lists (getAgenciesList, getAgenciesListQD20, getSynchronizeUnit),
  read leniently as gson reads them (a field may be a string, a number or a boolean), become the
  external agencies this axis should hold: code, name, parent (the item whose ``id`` is this one's
  ``pid``), Decision 20/2020 code and mail. Malformed codes, units the upstream marks ``deleted``
  and codes within the subtrees this axis serves itself are left out and counted.
- ``refresh`` (SQL): the stored rows of the link are diffed against that and changed in bulk
  (arrays through ``unnest``, never a statement per agency: the national list has about 111,000),
  with one history row per change and one version bump, in one transaction.

An upstream that answers an empty (or unreadable) list while rows are stored removes nothing: an
outage of its directory must not make every other province unreachable by name. The rows are kept,
the refusal to remove is logged, and ``agencies_synced_at`` stays at the last complete refresh.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import TypeVar

import structlog

from axis.federation import links
from axis.federation.link import UpstreamLink
from axis.federation.sdk.gson import JavaException, get_as_boolean, get_as_int, get_as_string
from axis.registry import codes, folding, history
from axis.store.db import Conn

log = structlog.get_logger("axis.federation")

#: The SDK calls whose answers make the external agency list, with their headers.
#: getAgenciesListQD20 answers one level of the tree per call (the SDK sends ``level``; the calls
#: captured from the national axis asked for "1", and an axis of this kind answers exactly the
#: agencies of that QCVN 102 level), so it is asked once for each of the four levels a code has.
CALLS: tuple[tuple[str, dict[str, object]], ...] = (
    ("getAgenciesList", {}),
    ("getAgenciesListQD20", {"level": "1"}),
    ("getAgenciesListQD20", {"level": "2"}),
    ("getAgenciesListQD20", {"level": "3"}),
    ("getAgenciesListQD20", {"level": "4"}),
    ("getSynchronizeUnit", {}),
)
#: The lists that name every agency: what none of them names any more is gone upstream.
_FULL = ("getSynchronizeUnit", "getAgenciesList")  # the first that names an agency wins
_QD20 = "getAgenciesListQD20"
CHUNK = 10_000
T = TypeVar("T")


def answer_key(operation: str, header: Mapping[str, object]) -> str:
    """The key of one call's answer in ``refresh``'s mapping: the operation, then its header
    (``getAgenciesListQD20 level=2``), so the four QD20 answers do not overwrite one another.
    A bare operation name is read as well."""
    return " ".join([operation, *(f"{k}={v}" for k, v in sorted(header.items()))])


@dataclass(frozen=True, slots=True)
class ExternalAgency:
    """One agency the upstream knows, as this axis keeps it (``external_agencies``)."""

    code: str
    name: str
    parent_code: str | None = None
    code_qd20: str | None = None
    mail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Reading:
    """What the upstream's lists say, and what was left out of them."""

    agencies: dict[str, ExternalAgency]
    complete: bool  # every full list was a non-empty list: what they do not name is gone upstream
    qd20_complete: bool  # every QD20 answer was a list: a Decision 20/2020 code they lack is gone
    malformed: int = 0
    deleted: int = 0
    served: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Refreshed:
    """What a refresh changed; ``kept``: removals withheld (an empty or unreadable answer)."""

    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    kept: int = 0
    skipped: dict[str, int] = field(default_factory=dict)


# --- reading the lists (pure) ----------------------------------------------------------------------


def _items(data: object) -> list[dict[str, object]] | None:
    """The objects of a list answer; None when the answer is no list at all."""
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else None


def _text(item: Mapping[str, object], name: str) -> str:
    value = item.get(name)
    if type(value) is str:  # the usual case, a hundred thousand times a refresh
        return value.strip()
    try:
        return "" if value is None else get_as_string(value, name).strip()
    except JavaException:
        return ""


def _number(item: Mapping[str, object], name: str) -> int:
    try:
        return get_as_int(item[name], name) if item.get(name) is not None else 0
    except JavaException:
        return 0


def _deleted(item: Mapping[str, object]) -> bool:
    value = item.get("deleted")
    if value is None or value is False:
        return False
    try:
        return get_as_boolean(value, "deleted")
    except JavaException:
        return False


def _units(items: Iterable[Mapping[str, object]]) -> dict[str, tuple[Mapping[str, object], str | None]]:
    """code -> (the item, its parent's code): ``pid`` names another item of the same list by its
    ``id``. A code listed twice keeps its highest ``version`` (getSynchronizeUnit counts changes)."""
    rows = [(_text(item, "id"), _text(item, "pid"), _text(item, "code"), item) for item in items]
    by_id = {ident: code for ident, _, code, _ in rows if ident and code}
    units: dict[str, tuple[Mapping[str, object], str | None]] = {}
    for _, pid, code, item in rows:
        if code in units and _number(units[code][0], "version") > _number(item, "version"):
            continue
        parent = by_id.get(pid)
        units[code] = (item, parent if parent != code and parent and codes.problem(parent) is None else None)
    return units


def read(link: UpstreamLink, answers: Mapping[str, object]) -> Reading:
    """The external agencies the upstream's answers describe (``answers``: each call's ``data``,
    keyed by ``answer_key`` or by the bare operation name)."""
    full: dict[str, list[dict[str, object]] | None] = {}
    qd20_lists: list[list[dict[str, object]] | None] = []
    for key, data in answers.items():
        operation = key.split(" ", 1)[0]
        if operation in _FULL:
            full[operation] = _items(data)
        elif operation == _QD20:
            qd20_lists.append(_items(data))
    units = {operation: _units(items or ()) for operation, items in full.items()}
    # The QD20 lists add each agency's Decision 20/2020 code; they name no agency the full lists do not.
    qd20: dict[str, str] = {}
    for item in (item for items in qd20_lists for item in items or ()):
        code, code_qd20 = _text(item, "code102"), _text(item, "code")
        if code_qd20 and code_qd20 != code and codes.qd20_problem(code_qd20) is None:
            qd20.setdefault(code, code_qd20)  # while none is known, ``code`` repeats the QCVN 102 code
    deleted = {code for code, (item, _) in units.get("getSynchronizeUnit", {}).items() if _deleted(item)}
    everything = {code for listed in units.values() for code in listed}
    agencies: dict[str, ExternalAgency] = {}
    malformed = served = 0
    for code in sorted(everything):
        if codes.problem(code) is not None:
            malformed += 1
        elif code in deleted:
            pass
        elif link.served_here(code):
            served += 1
        else:
            # getSynchronizeUnit first (it is versioned), then getAgenciesList.
            sources = [units[op][code] for op in _FULL if code in units.get(op, {})]
            agencies[code] = ExternalAgency(
                code=code,
                name=next((t for item, _ in sources if (t := _text(item, "name"))), code),
                parent_code=next((parent for _, parent in sources if parent), None),
                code_qd20=qd20.get(code),
                mail=next((t for item, _ in sources if (t := _text(item, "mail"))), ""),
            )
    return Reading(
        agencies=agencies,
        complete=bool(full) and all(full.values()),
        qd20_complete=all(items is not None for items in qd20_lists),
        malformed=malformed,
        deleted=len(deleted),
        served=served,
    )


# --- keeping them (SQL) ----------------------------------------------------------------------------


async def stored(conn: Conn, link_id: str) -> dict[str, ExternalAgency]:
    """The external agencies this axis holds from the link."""
    rows = await conn.fetch(
        "SELECT code, name, parent_code, code_qd20, mail FROM external_agencies WHERE link_id = $1", link_id
    )
    return {r["code"]: ExternalAgency(**dict(r)) for r in rows}


async def refresh(conn: Conn, link_id: str, answers: Mapping[str, object]) -> Refreshed:
    """Make the external agencies of ``link_id`` what the upstream's lists say: new ones added,
    changed ones updated, those gone removed (unless an answer was empty or unreadable), each with
    its history row (actor ``upstream:<link>``), in one transaction. Raises ``upstream.unknown``."""
    async with conn.transaction():
        await conn.execute("SELECT 1 FROM upstream_links WHERE id = $1 FOR UPDATE", link_id)  # one refresh at a time
        # A few seconds of CPU for a national list: off the event loop, which serves requests meanwhile.
        reading = await asyncio.to_thread(read, await links.require(conn, link_id), answers)
        before = await stored(conn, link_id)
        wanted = dict(reading.agencies)
        if not reading.qd20_complete:  # a level that did not answer takes no Decision 20/2020 code away
            for code, agency in wanted.items():
                if agency.code_qd20 is None and code in before and before[code].code_qd20:
                    wanted[code] = replace(agency, code_qd20=before[code].code_qd20)
        added = [a for code, a in wanted.items() if code not in before]
        changed = [(before[code], a) for code, a in wanted.items() if code in before and before[code] != a]
        gone = [a for code, a in before.items() if code not in wanted]
        kept = 0
        if gone and (not reading.complete or not wanted):
            kept, gone = len(gone), []
            log.warning(
                "directory.removals_withheld",
                link=link_id,
                kept=kept,
                reason="an agency list of the upstream was empty or unreadable",
            )
        await _insert(conn, link_id, added)
        await _update(conn, [after for _, after in changed])
        await _delete(conn, link_id, [a.code for a in gone])
        changes = [
            *(("external.add", None, a) for a in added),
            *(("external.change", b, a) for b, a in changed),
            *(("external.remove", b, None) for b in gone),
        ]
        for chunk in _chunks(changes):
            await _record(conn, f"upstream:{link_id}", chunk)
        if changes:
            await history.bump(conn)  # every process reloads its snapshot (routing and names)
        if not kept:
            await conn.execute("UPDATE upstream_links SET agencies_synced_at = now() WHERE id = $1", link_id)
    result = Refreshed(
        added=len(added),
        changed=len(changed),
        removed=len(gone),
        unchanged=len(wanted) - len(added) - len(changed),
        kept=kept,
        skipped={"malformed": reading.malformed, "deleted": reading.deleted, "served": reading.served},
    )
    log.info("directory.refreshed", link=link_id, **asdict(result))
    return result


def _chunks(items: Sequence[T]) -> list[Sequence[T]]:
    return [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]


def _columns(rows: Sequence[ExternalAgency]) -> list[list[str | None]]:
    return [
        [a.code for a in rows],
        [a.name for a in rows],
        [a.parent_code for a in rows],
        [a.code_qd20 for a in rows],
        [a.mail for a in rows],
        [folding.fold(a.name) for a in rows],
    ]


async def _insert(conn: Conn, link_id: str, rows: Sequence[ExternalAgency]) -> None:
    for chunk in _chunks(rows):
        # A code another link held moves to this one (one upstream link exists today).
        await conn.execute(
            """INSERT INTO external_agencies (code, link_id, name, parent_code, code_qd20, mail, name_folded)
               SELECT code, $1, name, parent, qd20, mail, folded
                 FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
                      AS t (code, name, parent, qd20, mail, folded)
               ON CONFLICT (code) DO UPDATE
                  SET link_id = EXCLUDED.link_id, name = EXCLUDED.name, parent_code = EXCLUDED.parent_code,
                      code_qd20 = EXCLUDED.code_qd20, mail = EXCLUDED.mail, name_folded = EXCLUDED.name_folded,
                      refreshed_at = now()""",
            link_id,
            *_columns(chunk),
        )


async def _update(conn: Conn, rows: Sequence[ExternalAgency]) -> None:
    for chunk in _chunks(rows):
        await conn.execute(
            """UPDATE external_agencies AS e
                  SET name = t.name, parent_code = t.parent, code_qd20 = t.qd20, mail = t.mail,
                      name_folded = t.folded, refreshed_at = now()
                 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
                      AS t (code, name, parent, qd20, mail, folded)
                WHERE e.code = t.code""",
            *_columns(chunk),
        )


async def _delete(conn: Conn, link_id: str, gone: Sequence[str]) -> None:
    for chunk in _chunks(gone):
        await conn.execute(
            "DELETE FROM external_agencies WHERE link_id = $1 AND code = ANY($2::text[])", link_id, list(chunk)
        )


def _subject(before: ExternalAgency | None, after: ExternalAgency | None) -> str:
    agency = after or before
    assert agency is not None
    return agency.code


def _json(agency: ExternalAgency | None) -> str | None:
    value = history.as_json(agency)
    return None if value is None else json.dumps(value, ensure_ascii=False)


async def _record(
    conn: Conn, actor: str, changes: Sequence[tuple[str, ExternalAgency | None, ExternalAgency | None]]
) -> None:
    """The history rows of a chunk of changes, in one statement (``history.record``'s row, in
    bulk: the history's hash chain is advanced once per statement, migration 015)."""
    await conn.execute(
        """INSERT INTO registry_history (actor, action, subject_kind, subject_id, before, after)
           SELECT $1, action, 'external', code, before::jsonb, after::jsonb
             FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS t (action, code, before, after)""",
        actor,
        [action for action, _, _ in changes],
        [_subject(before, after) for _, before, after in changes],
        [_json(before) for _, before, _ in changes],
        [_json(after) for _, _, after in changes],
    )
