"""Importing agency codes from CSV, the pure half: read the file, judge every row, plan the changes.

``axis agencies import FILE`` reads a file (``read_csv``), compares it with the registry (``plan``),
shows the plan (``format_diff``) and, unless it is a dry run, applies it in one transaction (the SQL
half, elsewhere). Real files are dirty (EDXML.md §1): a malformed code, a code listed twice under two
names. Such rows are reported with their line numbers and reasons, never repaired, and never guessed
between: for a code listed under two names nothing is imported, because either name may be the wrong
one. Everything else in the file still plans, so one bad line does not hide the other 110,000.

Planning is linear in the file and the registry (about 111,000 agencies each): dictionaries, one
work-list pass for rows whose parent or successor turns out bad, and no per-row scan of anything.
"""

from __future__ import annotations

import csv
import dataclasses
import enum
import io
import operator
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from axis.errors import AxisError
from axis.registry import codes
from axis.registry.model import Agency, AgencyStatus

_REQUIRED = ("code", "name")
_COLUMNS = (*_REQUIRED, "parent", "code_qd20", "status", "successor")
_ACTIVE, _RETIRED = AgencyStatus.ACTIVE, AgencyStatus.RETIRED
_LINE = operator.attrgetter("line")


@dataclass(frozen=True, slots=True)
class Row:
    """One data row of an import file, with surrounding whitespace stripped and the name in NFC."""

    line: int
    """1-based line of the file where the row starts (the header is line 1)."""
    code: str
    name: str
    parent: str | None = None
    code_qd20: str | None = None
    status: AgencyStatus = _ACTIVE
    successor: str | None = None
    problem: str | None = None
    """What the typed fields cannot show: a status other than active/retired, surplus fields."""


@dataclass(frozen=True, slots=True)
class BadRow:
    """A rejected row (or, in ``ImportPlan.warnings``, a remark about one) and why."""

    line: int
    code: str
    reason: str


class Rows(list[Row]):
    """The rows `read_csv` found, plus its remarks about the file as a whole (ignored columns).

    A plain list to everyone else; `plan` carries the remarks into ``ImportPlan.warnings``.
    """

    def __init__(self, rows: Iterable[Row] = (), warnings: Iterable[BadRow] = ()) -> None:
        super().__init__(rows)
        self.warnings: tuple[BadRow, ...] = tuple(warnings)


class ChangeKind(enum.StrEnum):
    CREATE = "create"
    RENAME = "rename"
    SET_QD20 = "set_qd20"
    RETIRE = "retire"
    REACTIVATE = "reactivate"
    SET_SUCCESSOR = "set_successor"


@dataclass(frozen=True, slots=True)
class Change:
    """One step. Steps for one code chain: each ``before`` is the previous step's ``after``."""

    kind: ChangeKind
    code: str
    before: Agency | None
    after: Agency
    line: int


@dataclass(frozen=True)
class ImportPlan:
    changes: tuple[Change, ...]
    """Parents are created before their children, successors before the rows that name them."""
    bad: tuple[BadRow, ...]
    """Sorted by line."""
    warnings: tuple[BadRow, ...]
    """Sorted by line; line 1 for remarks about the header."""
    unchanged: int
    """Good rows equal to what the registry holds."""

    @property
    def good(self) -> int:
        """Distinct codes the file gives without fault (duplicates of a kept row not counted)."""
        return self.unchanged + len({change.code for change in self.changes})

    def summary(self) -> dict[str, int]:
        """Changes per kind (every kind, zeros too), then ``bad`` and ``unchanged``."""
        counts = dict.fromkeys(ChangeKind, 0)
        for change in self.changes:
            counts[change.kind] += 1
        return {kind.value: n for kind, n in counts.items()} | {
            "bad": len(self.bad),
            "unchanged": self.unchanged,
        }


# --- Reading -----------------------------------------------------------------------------------------


def read_csv(data: bytes | str, *, source: str = "") -> Rows:
    """The rows of a UTF-8 CSV file (BOM allowed, CRLF or LF) with a header row.

    Columns ``code`` and ``name`` are required; ``parent``, ``code_qd20``, ``status`` (active or
    retired; empty means active) and ``successor`` are optional; others are ignored, with one warning.
    Rows whose fields are all empty are skipped. Judging the values is `plan`'s job: this only raises
    ``AxisError("registry.import.format")``, for a file that is not such a CSV at all (bytes that are
    not UTF-8, broken quoting, no header, a required column missing, a column named twice).
    """
    where = f"{source}: " if source else ""
    text = _decode(data, where, source)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [name.strip().lower() for name in next(reader, [])]
        columns = _columns(header, where, source)
        positions = [columns.get(name) for name in _COLUMNS]
        rows: list[Row] = []
        start = reader.line_num + 1
        for fields in reader:
            if "".join(fields).strip():
                rows.append(_row(start, fields, positions, len(header)))
            start = reader.line_num + 1
    except csv.Error as error:
        raise AxisError(
            "registry.import.format",
            f"{where}line {reader.line_num}: not valid CSV: {error}",
            source=source,
            line=reader.line_num,
        ) from None
    ignored = [name or "(unnamed)" for name in header if name not in columns]
    warnings = []
    if ignored:
        noun = "column" if len(ignored) == 1 else "columns"
        warnings.append(BadRow(1, "", f"{noun} {', '.join(ignored)} ignored"))
    return Rows(rows, warnings)


def _decode(data: bytes | str, where: str, source: str) -> str:
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise AxisError(
            "registry.import.format",
            f"{where}line {line}: the bytes are not UTF-8",
            source=source,
            line=line,
        ) from None


def _columns(header: list[str], where: str, source: str) -> dict[str, int]:
    if not any(header):
        raise AxisError("registry.import.format", f"{where}the file has no header row", source=source)
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        if name in columns and name in _COLUMNS:
            raise AxisError("registry.import.format", f"{where}the header names {name!r} twice", source=source)
        columns.setdefault(name, index)
    missing = [name for name in _REQUIRED if name not in columns]
    if missing:
        raise AxisError(
            "registry.import.format",
            f"{where}the header has no {' and no '.join(missing)} column (it has: {', '.join(header)})",
            source=source,
            missing=missing,
        )
    return {name: index for name, index in columns.items() if name in _COLUMNS}


def _row(line: int, fields: list[str], positions: Sequence[int | None], width: int) -> Row:
    """The row from its fields; `positions` are the indexes of `_COLUMNS` (None: no such column)."""
    count = len(fields)
    code, name, parent, code_qd20, status_text, successor = (
        fields[i].strip() if i is not None and i < count else "" for i in positions
    )
    problems = []
    if count > width and "".join(fields[width:]).strip():
        # Most often a comma in an unquoted name: importing the first half of the name would be wrong.
        problems.append(f"{count} fields but the header has {width}")
    status = _ACTIVE
    if status_text:
        try:
            status = AgencyStatus(status_text.lower())
        except ValueError:
            problems.append(f"status {status_text!r} is neither active nor retired")
    return Row(
        line=line,
        code=code,
        name=unicodedata.normalize("NFC", name),
        parent=parent or None,
        code_qd20=code_qd20 or None,
        status=status,
        successor=successor or None,
        problem="; ".join(problems) or None,
    )


# --- Planning ----------------------------------------------------------------------------------------


def plan(rows: Sequence[Row], existing: Mapping[str, Agency]) -> ImportPlan:
    """Judge every row and list the changes that bring `existing` (code → agency) to the file.

    A row is bad for its own faults (see `_faults`), when its code is listed again with other values,
    when its parent or successor is neither in `existing` nor a good row (this cascades down the
    tree), when its ``code_qd20`` would belong to two agencies, or when its successor chain loops.
    Empty ``code_qd20`` and ``successor`` fields mean "unknown": they never clear a known value.
    """
    warnings = list(rows.warnings) if isinstance(rows, Rows) else []
    reasons: dict[int, list[str]] = {}  # line -> why the row is bad; only bad rows have an entry
    first: dict[str, Row] = {}  # code -> the first row giving it
    repeats: dict[str, list[Row]] = {}  # code -> every row giving it, for codes given more than once
    parents: dict[str, str | None] = {}  # each code parsed once: parsing is most of the planning time
    for row in rows:
        well_formed, parent, faults = _faults(row)
        if faults:
            reasons[row.line] = faults
        if not well_formed:  # a malformed code is bad on its own line only
            continue
        if row.code in first:
            repeats.setdefault(row.code, [first[row.code]]).append(row)
        else:
            first[row.code], parents[row.code] = row, parent
    for code, group in repeats.items():
        if differing := _differing(group):
            lines = ", ".join(str(row.line) for row in group)
            why = f"code listed {len(group)} times with different {differing} (lines {lines})"
            for row in group:
                reasons.setdefault(row.line, []).append(why)
            continue
        for row in group[1:]:
            warnings.append(BadRow(row.line, code, f"identical to line {group[0].line}; kept once"))
            reasons.pop(row.line, None)
    good = {code: row for code, row in first.items() if row.line not in reasons}
    _Judge(good, existing, parents, first, repeats, reasons).run()
    bad = [BadRow(row.line, row.code, "; ".join(reasons[row.line])) for row in rows if row.line in reasons]
    changes, unchanged = _diff(good, existing, parents)
    return ImportPlan(
        changes=changes,
        bad=tuple(sorted(bad, key=_LINE)),
        warnings=tuple(sorted(warnings, key=_LINE)),
        unchanged=unchanged,
    )


def _faults(row: Row) -> tuple[bool, str | None, list[str]]:
    """Whether the code is well-formed, its parent, and what is wrong with the row on its own."""
    found = [row.problem] if row.problem else []
    parsed = None
    if row.code != row.code.strip():  # `parse` would ignore it, and the code would be stored with it
        found.append("malformed code: surrounding whitespace")
    else:
        try:
            parsed = codes.parse(row.code)
        except AxisError as error:
            found.append(f"malformed code: {error.details['reason']}")
    parent = parsed.parent if parsed is not None else None
    implied = parent.text if parent is not None else None
    if parsed is not None and row.parent is not None and row.parent != implied:
        found.append(
            f"parent column says {row.parent} but the code implies {implied}"
            if implied
            else f"parent column says {row.parent} but a level-1 code has no parent"
        )
    if not row.name:
        found.append("empty name")
    if row.code_qd20 is not None and (qd20_problem := codes.qd20_problem(row.code_qd20)) is not None:
        found.append(f"malformed code_qd20: {qd20_problem}")
    if row.successor is not None:
        if (successor_problem := codes.problem(row.successor)) is not None:
            found.append(f"malformed successor: {successor_problem}")
        elif row.successor == row.code:
            found.append("successor is the code itself")
        if row.status is _ACTIVE:
            found.append("successor given but status is active")
    return parsed is not None, implied, found


def _differing(group: list[Row]) -> str:
    """'' when every row of `group` says the same; else which fields differ, names first."""
    first = group[0]
    if any(row.name != first.name for row in group):
        return "names"
    fields = ("parent", "code_qd20", "status", "successor", "problem")
    return ", ".join(f for f in fields if any(getattr(row, f) != getattr(first, f) for row in group))


class _Judge:
    """Drops good rows whose parent or successor is missing, then final-state conflicts, to a fixed point.

    Each dropped code is queued once, and a queued code only visits the rows that named it, so the
    cascade is linear. The final-state checks (a Decision 20 code held twice, a successor loop) rerun
    only when they dropped something, which changes what the final state is.
    """

    def __init__(
        self,
        good: dict[str, Row],
        existing: Mapping[str, Agency],
        parents: Mapping[str, str | None],
        first: Mapping[str, Row],
        repeats: Mapping[str, list[Row]],
        reasons: dict[int, list[str]],
    ) -> None:
        self.good, self.existing, self.parents = good, existing, parents
        self.first, self.repeats, self.reasons = first, repeats, reasons
        self.queue: list[str] = []
        self.dependents: dict[str, list[str]] = defaultdict(list)  # needed code -> codes needing it

    def run(self) -> None:
        good, existing, dependents = self.good, self.existing, self.dependents
        for code, row in list(good.items()):
            for needed in (self.parents[code], row.successor):
                if needed is None or needed in existing:
                    continue
                if needed in good:
                    dependents[needed].append(code)
                else:
                    self._drop(code, self._missing(code, needed))
                    break
        self._cascade()
        holders = self._qd20_holders()
        while conflicts := [*self._qd20_conflicts(holders), *self._successor_loops()]:
            for code, why in conflicts:
                if code in self.good:
                    self._drop(code, why)
            self._cascade()

    def _missing(self, code: str, needed: str) -> str:
        role = "parent" if self.parents[code] == needed else "successor"
        if needed not in self.first:
            return f"{role} {needed} is neither in the registry nor in the file"
        lines = ", ".join(str(row.line) for row in self.repeats.get(needed, [self.first[needed]]))
        return f"{role} {needed} is not in the registry and its own row is bad (line {lines})"

    def _drop(self, code: str, why: str) -> None:
        row = self.good.pop(code)
        self.reasons[row.line] = [why]
        self.queue.append(code)

    def _cascade(self) -> None:
        while self.queue:
            needed = self.queue.pop()
            for code in self.dependents.pop(needed, ()):
                if code in self.good:
                    self._drop(code, self._missing(code, needed))

    def _qd20_holders(self) -> dict[str, list[str]]:
        """Decision 20 code → registry codes holding it, for the Decision 20 codes the file gives."""
        given = {row.code_qd20 for row in self.good.values() if row.code_qd20}
        holders: dict[str, list[str]] = defaultdict(list)
        if given:
            for agency in self.existing.values():
                if agency.code_qd20 in given:
                    holders[agency.code_qd20].append(agency.code)
        return holders

    def _qd20_conflicts(self, holders: Mapping[str, list[str]]) -> Iterator[tuple[str, str]]:
        givers: dict[str, list[Row]] = defaultdict(list)
        for row in self.good.values():
            if row.code_qd20 is not None:
                givers[row.code_qd20].append(row)
        for qd20, rows in givers.items():
            # A registry holder keeps its code unless the file gives it one (a different one, or this).
            kept = [c for c in holders.get(qd20, ()) if c not in self.good or self.good[c].code_qd20 is None]
            if len(rows) + len(kept) < 2:
                continue
            holders_text = [f"{r.code} (line {r.line})" for r in rows[:4]]
            holders_text += [f"{code} (in the registry)" for code in kept[:4]]
            for row in rows:
                # At most three others are named: a file giving one code to thousands stays linear.
                others = [text for text in holders_text if not text.startswith(f"{row.code} ")][:3]
                more = len(rows) + len(kept) - 1 - len(others)
                named = ", ".join(others) + (f" and {more} more" if more else "")
                yield row.code, f"code_qd20 {qd20} is also given to {named}"

    def _successor_loops(self) -> Iterator[tuple[str, str]]:
        done: set[str] = set()
        for start, row in self.good.items():
            if row.successor is None or start in done:
                continue
            path: dict[str, None] = {}  # insertion-ordered set: the walk so far
            code: str | None = start
            while code is not None and code not in done and code not in path:
                path[code] = None
                code = self._successor(code)
            if code is not None and code in path:
                walk = list(path)
                loop = walk[walk.index(code) :]
                chain = " → ".join([*loop, code])
                yield from ((c, f"successor chain loops: {chain}") for c in loop if c in self.good)
            done.update(path)

    def _successor(self, code: str) -> str | None:
        """Where `code` redirects once the plan is applied."""
        row = self.good.get(code)
        if row is not None:
            return row.successor if row.status is _RETIRED else None
        agency = self.existing.get(code)
        return agency.successor_code if agency is not None and agency.retired else None


def _diff(
    good: Mapping[str, Row], existing: Mapping[str, Agency], parents: Mapping[str, str | None]
) -> tuple[tuple[Change, ...], int]:
    creates: dict[str, Change] = {}
    updates: list[Change] = []
    unchanged = 0
    for row in sorted(good.values(), key=_LINE):
        before = existing.get(row.code)
        if before is None:
            after = Agency(
                code=row.code,
                name=row.name,
                parent_code=parents[row.code],
                status=row.status,
                successor_code=row.successor,
                code_qd20=row.code_qd20,
            )
            creates[row.code] = Change(ChangeKind.CREATE, row.code, None, after, row.line)
            continue
        steps = list(_steps(row, before))
        updates += steps
        if not steps:
            unchanged += 1
    return (*_ordered(creates), *updates), unchanged


def _steps(row: Row, current: Agency) -> Iterator[Change]:
    def step(kind: ChangeKind, after: Agency) -> Change:
        nonlocal current
        change, current = Change(kind, row.code, current, after, row.line), after
        return change

    if row.name != current.name:
        yield step(ChangeKind.RENAME, dataclasses.replace(current, name=row.name))
    if row.code_qd20 is not None and row.code_qd20 != current.code_qd20:
        yield step(ChangeKind.SET_QD20, dataclasses.replace(current, code_qd20=row.code_qd20))
    if row.status is _RETIRED and not current.retired:
        retired = dataclasses.replace(current, status=_RETIRED, successor_code=row.successor)
        yield step(ChangeKind.RETIRE, retired)
    elif row.status is _RETIRED and row.successor not in (None, current.successor_code):
        yield step(ChangeKind.SET_SUCCESSOR, dataclasses.replace(current, successor_code=row.successor))
    elif row.status is _ACTIVE and current.retired:
        active = dataclasses.replace(current, status=_ACTIVE, successor_code=None)
        yield step(ChangeKind.REACTIVATE, active)


def _ordered(creates: Mapping[str, Change]) -> list[Change]:
    """Creations in file order, except that each waits for its parent and successor (linear time).

    Parent links cannot loop (a parent is one level up), but a parent link and successor links can
    (A redirects to B, B's parent C redirects to A). What such a knot leaves behind is created
    level by level without successors, which are then set in a second step.
    """
    waiting: dict[str, int] = {}  # code -> how many of its links are still to be placed
    followers: dict[str, list[str]] = {}
    for code, change in creates.items():
        for needed in {change.after.parent_code, change.after.successor_code}:
            if needed is not None and needed in creates:
                followers.setdefault(needed, []).append(code)
                waiting[code] = waiting.get(code, 0) + 1
    ordered: list[Change] = []
    for code in creates:
        if code in waiting:  # placed when the last of its links is
            continue
        stack = [code]
        while stack:
            current = stack.pop()
            ordered.append(creates[current])
            for follower in reversed(followers.get(current, ())):  # popped in file order
                waiting[follower] -= 1
                if not waiting[follower]:
                    stack.append(follower)
    if len(ordered) < len(creates):
        placed = {change.code for change in ordered}
        knot = sorted(
            (c for c in creates.values() if c.code not in placed),
            key=lambda c: (codes.parse(c.code).level, c.line),
        )
        later = []
        for change in knot:
            bare = dataclasses.replace(change.after, successor_code=None)
            ordered.append(dataclasses.replace(change, after=bare))
            if change.after.successor_code is not None:
                later.append(Change(ChangeKind.SET_SUCCESSOR, change.code, bare, change.after, change.line))
        ordered += later
    return ordered


# --- Showing -----------------------------------------------------------------------------------------


def format_diff(plan: ImportPlan, *, limit: int = 50) -> str:
    """The plan for a person: a summary line, then bad rows, warnings and changes, `limit` lines each."""
    counts = plan.summary()
    kinds = ", ".join(f"{kind} {counts[kind]}" for kind in ChangeKind if counts[kind]) or "no changes"
    lines = [f"{kinds}; bad {len(plan.bad)}, unchanged {plan.unchanged}, warnings {len(plan.warnings)}"]
    lines += _section("bad rows", [_remark(b) for b in plan.bad[:limit]], len(plan.bad))
    lines += _section("warnings", [_remark(w) for w in plan.warnings[:limit]], len(plan.warnings))
    lines += _section("changes", [_describe(c) for c in plan.changes[:limit]], len(plan.changes))
    return "\n".join(lines) + "\n"


def _section(title: str, shown: list[str], total: int) -> list[str]:
    if not total:
        return []
    more = [f"  … and {total - len(shown)} more"] if total > len(shown) else []
    return [f"{title} ({total}):", *(f"  {line}" for line in shown), *more]


def _remark(row: BadRow) -> str:
    if row.line == 1 and not row.code:  # about the header, not a row
        return f"line 1: {row.reason}"
    return f"line {row.line}: {row.code or '(empty code)'}: {row.reason}"


def _describe(change: Change) -> str:
    after, before = change.after, change.before
    if change.kind is ChangeKind.CREATE:
        if after.retired:
            redirect = f" → {after.successor_code}" if after.successor_code else ""
            return f"+ {change.code} {after.name} (retired{redirect})"
        return f"+ {change.code} {after.name}"
    if change.kind is ChangeKind.RENAME:
        old_name = before.name if before else ""
        return f"~ rename {change.code}: {old_name!r} → {after.name!r}"
    if change.kind is ChangeKind.SET_QD20:
        old = before.code_qd20 if before else None
        return f"~ set_qd20 {change.code}: {old or 'none'} → {after.code_qd20}"
    if change.kind is ChangeKind.RETIRE:
        return f"- retire {change.code}" + (f" → {after.successor_code}" if after.successor_code else "")
    if change.kind is ChangeKind.REACTIVATE:
        return f"~ reactivate {change.code}"
    old = before.successor_code if before else None
    return f"~ set_successor {change.code}: {old or 'none'} → {after.successor_code}"
