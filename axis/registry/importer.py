"""Importing agency codes from CSV, the pure half: judge every row of a file, plan the changes.

``axis agencies import FILE`` reads a file (`axis.registry.importfile.read_csv`), compares it with
the registry (``plan``), shows the plan grouped by kind (`axis.registry.diff`) and, unless it is a
dry run, applies it in one transaction (the SQL half, `axis.registry.imports`). Real files are
dirty (EDXML.md §1): a malformed code, a code listed twice under two names. Such rows are reported
with their line numbers and reasons, never repaired, and never guessed between: for a code listed
under two names nothing is imported, because either name may be the wrong one. Everything else in
the file still plans, so one bad line does not hide the other 110,000.

A file usually describes one subtree (a province's list): the plan names that subtree (``scope``)
and the changes the file would make to agencies outside it (``outside``), such as a provincial
list renaming ministries, which every interface makes the administrator accept explicitly.

Planning is linear in the file and the registry (about 111,000 agencies each): dictionaries, one
work-list pass for rows whose parent or successor turns out bad, and no per-row scan of anything.
"""

from __future__ import annotations

import dataclasses
import enum
import operator
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from axis.errors import AxisError
from axis.registry import codes
from axis.registry.importfile import Remark, Row, Rows, read_csv
from axis.registry.model import Agency, AgencyStatus

__all__ = [
    "BadRow",
    "Change",
    "ChangeKind",
    "ImportPlan",
    "Remark",
    "Row",
    "Rows",
    "Scope",
    "outside_refusal",
    "plan",
    "read_csv",
]

_ACTIVE, _RETIRED = AgencyStatus.ACTIVE, AgencyStatus.RETIRED
_LINE = operator.attrgetter("line")


@dataclass(frozen=True, slots=True)
class BadRow:
    """A rejected row (or, in ``ImportPlan.warnings``, a remark about one) and why."""

    line: int
    code: str
    remarks: tuple[Remark, ...]

    @property
    def reason(self) -> str:
        """The remarks in English, as the CLI and the API give them."""
        return "; ".join(remark.english for remark in self.remarks)


@dataclass(frozen=True, slots=True)
class Scope:
    """The subtree most of a file lies in: more than half of its well-formed codes are `root` or
    below it, and no deeper code holds such a majority."""

    root: str
    within: int
    """Codes of the file at or below `root`."""
    total: int
    """Well-formed codes in the file."""


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
    scope: Scope | None = None
    """The subtree the file mostly covers; None when no subtree holds most of it."""

    @property
    def outside(self) -> tuple[Change, ...]:
        """Changes to agencies already in the registry outside `scope` (creations do not count)."""
        if self.scope is None:
            return ()
        root = codes.parse(self.scope.root)
        return tuple(
            c for c in self.changes if c.kind is not ChangeKind.CREATE and not codes.parse(c.code).is_within(root)
        )

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


def outside_refusal(plan: ImportPlan, accept: str) -> AxisError:
    """``registry.import.outside_scope`` for a plan that changes agencies outside its subtree."""
    root = plan.scope.root if plan.scope else ""
    changed = [c.code for c in plan.outside]
    return AxisError(
        "registry.import.outside_scope",
        f"Most of the file lies under {root}, but it changes {len(changed)} agencies outside it "
        f"({', '.join(changed[:10])}{' …' if len(changed) > 10 else ''}); nothing was imported. "
        f"Check them in the dry run, then accept with {accept}.",
        scope=root,
        outside=changed,
    )


# --- Planning ----------------------------------------------------------------------------------------


def plan(rows: Sequence[Row], existing: Mapping[str, Agency]) -> ImportPlan:
    """Judge every row and list the changes that bring `existing` (code → agency) to the file.

    A row is bad for its own faults (see `_faults`), when its code is listed again with other values,
    when its parent or successor is neither in `existing` nor a good row (this cascades down the
    tree), when its ``code_qd20`` would belong to two agencies, or when its successor chain loops.
    Empty ``code_qd20`` and ``successor`` fields mean "unknown": they never clear a known value.
    A successor that is (or will be) retired itself is accepted with a warning naming where its
    chain leads: national lists record such chains, and documents follow them.
    """
    warnings = [BadRow(line, "", (remark,)) for line, remark in rows.warnings] if isinstance(rows, Rows) else []
    reasons: dict[int, list[Remark]] = {}  # line -> why the row is bad; only bad rows have an entry
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
            why = Remark.of("listed_differently", count=len(group), fields=differing, lines=lines)
            for row in group:
                reasons.setdefault(row.line, []).append(why)
            continue
        for row in group[1:]:
            warnings.append(BadRow(row.line, code, (Remark.of("duplicate_kept", line=group[0].line),)))
            reasons.pop(row.line, None)
    good = {code: row for code, row in first.items() if row.line not in reasons}
    judge = _Judge(good, existing, parents, first, repeats, reasons)
    judge.run()
    bad = [BadRow(row.line, row.code, tuple(reasons[row.line])) for row in rows if row.line in reasons]
    changes, unchanged = _diff(good, existing, parents)
    warnings += _retired_successors(changes, judge)
    return ImportPlan(
        changes=changes,
        bad=tuple(sorted(bad, key=_LINE)),
        warnings=tuple(sorted(warnings, key=_LINE)),
        unchanged=unchanged,
        scope=_scope(first),
    )


def _faults(row: Row) -> tuple[bool, str | None, list[Remark]]:
    """Whether the code is well-formed, its parent, and what is wrong with the row on its own."""
    found = list(row.problems)
    parsed = None
    if row.code != row.code.strip():  # `parse` would ignore it, and the code would be stored with it
        found.append(Remark.of("code_whitespace"))
    else:
        try:
            parsed = codes.parse(row.code)
        except AxisError as error:
            found.append(Remark.of("code_malformed", reason=error.details["reason"]))
    parent = parsed.parent if parsed is not None else None
    implied = parent.text if parent is not None else None
    if parsed is not None and row.parent is not None and row.parent != implied:
        found.append(
            Remark.of("parent_contradicts", given=row.parent, implied=implied)
            if implied
            else Remark.of("parent_of_level1", given=row.parent)
        )
    if not row.name:
        found.append(Remark.of("name_empty"))
    if row.code_qd20 is not None and (qd20_problem := codes.qd20_problem(row.code_qd20)) is not None:
        found.append(Remark.of("qd20_malformed", reason=qd20_problem))
    if row.successor is not None:
        if (successor_problem := codes.problem(row.successor)) is not None:
            found.append(Remark.of("successor_malformed", reason=successor_problem))
        elif row.successor == row.code:
            found.append(Remark.of("successor_self"))
        if row.status is _ACTIVE:
            found.append(Remark.of("successor_while_active"))
    return parsed is not None, implied, found


def _differing(group: list[Row]) -> str:
    """'' when every row of `group` says the same; else which fields differ, names first."""
    first = group[0]
    if any(row.name != first.name for row in group):
        return "names"
    fields = ("parent", "code_qd20", "status", "successor", "problems")
    return ", ".join(f for f in fields if any(getattr(row, f) != getattr(first, f) for row in group))


def _scope(first: Mapping[str, Row]) -> Scope | None:
    """The deepest code that is, or is above, more than half of the file's well-formed codes."""
    total = len(first)
    counts: Counter[str] = Counter()
    for code in first:
        parsed = codes.parse(code)
        counts[parsed.text] += 1
        counts.update(ancestor.text for ancestor in parsed.ancestors())
    majority = [code for code, n in counts.items() if 2 * n > total]
    if not majority:
        return None
    root = max(majority, key=lambda code: codes.parse(code).level)  # they form one chain: take its end
    return Scope(root, counts[root], total)


def _retired_successors(changes: Sequence[Change], judge: _Judge) -> Iterator[BadRow]:
    """A warning for each change that names a successor which is retired once the plan is applied."""
    for change in changes:
        successor = change.after.successor_code
        if successor is None or change.kind not in _NAMING_SUCCESSORS or not change.after.retired:
            continue
        if not judge.retired(successor):
            continue
        end = judge.chain(successor)[-1]
        kind = "successor_dead_end" if judge.retired(end) else "successor_retired"
        yield BadRow(change.line, change.code, (Remark.of(kind, successor=successor, end=end),))


_NAMING_SUCCESSORS = frozenset({ChangeKind.CREATE, ChangeKind.RETIRE, ChangeKind.SET_SUCCESSOR})


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
        reasons: dict[int, list[Remark]],
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

    def _missing(self, code: str, needed: str) -> Remark:
        role = "parent" if self.parents[code] == needed else "successor"
        if needed not in self.first:
            return Remark.of("link_missing", role=role, link=needed)
        lines = ", ".join(str(row.line) for row in self.repeats.get(needed, [self.first[needed]]))
        return Remark.of("link_bad", role=role, link=needed, lines=lines)

    def _drop(self, code: str, why: Remark) -> None:
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

    def _qd20_conflicts(self, holders: Mapping[str, list[str]]) -> Iterator[tuple[str, Remark]]:
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
                yield row.code, Remark.of("qd20_taken", qd20=qd20, holders=named)

    def _successor_loops(self) -> Iterator[tuple[str, Remark]]:
        done: set[str] = set()
        for start, row in self.good.items():
            if row.successor is None or start in done:
                continue
            path: dict[str, None] = {}  # insertion-ordered set: the walk so far
            code: str | None = start
            while code is not None and code not in done and code not in path:
                path[code] = None
                code = self.successor(code)
            if code is not None and code in path:
                walk = list(path)
                loop = walk[walk.index(code) :]
                chain = " → ".join([*loop, code])
                yield from ((c, Remark.of("successor_loop", chain=chain)) for c in loop if c in self.good)
            done.update(path)

    def successor(self, code: str) -> str | None:
        """Where `code` redirects once the plan is applied."""
        row = self.good.get(code)
        if row is not None:
            return row.successor if row.status is _RETIRED else None
        agency = self.existing.get(code)
        return agency.successor_code if agency is not None and agency.retired else None

    def retired(self, code: str) -> bool:
        """Whether `code` is retired once the plan is applied."""
        row = self.good.get(code)
        if row is not None:
            return row.status is _RETIRED
        agency = self.existing.get(code)
        return agency is not None and agency.retired

    def chain(self, code: str) -> list[str]:
        """`code` and the codes its redirections pass through once the plan is applied (loops were
        refused; the walk stops at the first repeat anyway)."""
        walk = [code]
        while self.retired(walk[-1]) and (after := self.successor(walk[-1])) is not None and after not in walk:
            walk.append(after)
        return walk


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
