"""An import plan for a person: every change, grouped by kind, the kinds that alter what exists first.

Renames, retirements and moves come first, each with its old and new values side by side, then
changes of successor, reactivations and Decision 20/2020 codes, and additions last: a file that
adds 400 units and renames seven ministries shows the renames before the first addition. Nothing
is folded behind a count. `groups` is what the web page renders (in Vietnamese); `format_diff` is
the same grouping in English for the CLI and the API.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from axis.registry import folding
from axis.registry.importer import BadRow, Change, ChangeKind, ImportPlan
from axis.registry.model import Agency


class Group(enum.StrEnum):
    """Kinds of change as shown, in the order shown."""

    RENAME = "rename"
    RETIRE = "retire"
    MOVE = "move"
    """A retirement whose successor carries the same name: the agency took a new code."""
    SET_SUCCESSOR = "set_successor"
    REACTIVATE = "reactivate"
    SET_QD20 = "set_qd20"
    CREATE = "create"


@dataclass(frozen=True, slots=True)
class Item:
    """One change with the agencies needed to show it: the successor before and after, by name."""

    change: Change
    successor: Agency | None = None
    """For retirements, moves and successor changes: the successor named (as the plan leaves it)."""
    previous: Agency | None = None
    """For successor changes and reactivations: the successor named before."""
    outside: bool = False
    """The change touches an agency outside the subtree the file mostly covers."""

    @property
    def code(self) -> str:
        return self.change.code


def groups(plan: ImportPlan, existing: Mapping[str, Agency]) -> list[tuple[Group, list[Item]]]:
    """The plan's changes by `Group`, in `Group` order, empty groups left out, file order within."""
    final = dict(existing)
    for change in plan.changes:
        final[change.code] = change.after
    outside = set(plan.outside)
    found: dict[Group, list[Item]] = {group: [] for group in Group}
    for change in plan.changes:
        group, item = _item(change, final, existing, change in outside)
        found[group].append(item)
    return [(group, items) for group, items in found.items() if items]


def _item(
    change: Change, final: Mapping[str, Agency], existing: Mapping[str, Agency], outside: bool
) -> tuple[Group, Item]:
    after, before = change.after, change.before
    successor = final.get(after.successor_code) if after.successor_code else None
    previous_code = before.successor_code if before is not None else None
    previous = existing.get(previous_code) if previous_code else None
    if change.kind is ChangeKind.RETIRE:
        moved = successor is not None and folding.fold(successor.name) == folding.fold(after.name)
        group = Group.MOVE if moved else Group.RETIRE
        return group, Item(change, successor, None, outside)
    if change.kind is ChangeKind.SET_SUCCESSOR:
        return Group.SET_SUCCESSOR, Item(change, successor, previous, outside)
    if change.kind is ChangeKind.REACTIVATE:
        return Group.REACTIVATE, Item(change, None, previous, outside)
    if change.kind is ChangeKind.CREATE:
        return Group.CREATE, Item(change, successor, None, outside)
    return Group(change.kind.value), Item(change, None, None, outside)


# --- In English (CLI, API) ------------------------------------------------------------------------------

TITLES = {
    Group.RENAME: "renames",
    Group.RETIRE: "retirements",
    Group.MOVE: "moves (retired into a new code with the same name)",
    Group.SET_SUCCESSOR: "successor changes",
    Group.REACTIVATE: "reactivations",
    Group.SET_QD20: "Decision 20/2020 codes",
    Group.CREATE: "additions",
}


def format_diff(plan: ImportPlan, existing: Mapping[str, Agency], *, additions: int | None = None) -> str:
    """The plan for a person: a summary line, bad rows, warnings, the changes outside the file's
    subtree, then every change by group. Only additions may be cut (to `additions` lines)."""
    counts = plan.summary()
    kinds = ", ".join(f"{kind} {counts[kind]}" for kind in ChangeKind if counts[kind]) or "no changes"
    lines = [f"{kinds}; bad {len(plan.bad)}, unchanged {plan.unchanged}, warnings {len(plan.warnings)}"]
    lines += _section("bad rows", [_remark(b) for b in plan.bad])
    lines += _section("warnings", [_remark(w) for w in plan.warnings])
    if plan.outside and plan.scope is not None:
        scope = plan.scope
        lines.append(
            f"OUTSIDE THE FILE'S SUBTREE: {scope.within} of the file's {scope.total} codes lie under "
            f"{_named(scope.root, existing)}, but it changes {len(plan.outside)} agencies elsewhere "
            "(accept with --allow-outside):"
        )
        lines += [f"  {change.kind.value} {change.code} {_name(change)}" for change in plan.outside]
    for group, items in groups(plan, existing):
        shown = [_describe(group, item) for item in items]
        more = 0
        if group is Group.CREATE and additions is not None and len(shown) > additions:
            shown, more = shown[:additions], len(shown) - additions
        lines.append(f"{TITLES[group]} ({len(items)}):")
        lines += [f"  {line}" for line in shown]
        if more:
            lines.append(f"  … and {more} more additions")
    return "\n".join(lines) + "\n"


def _section(title: str, shown: list[str]) -> list[str]:
    return [f"{title} ({len(shown)}):", *(f"  {line}" for line in shown)] if shown else []


def _remark(row: BadRow) -> str:
    if row.line == 1 and not row.code:  # about the header, not a row
        return f"line 1: {row.reason}"
    return f"line {row.line}: {row.code or '(empty code)'}: {row.reason}"


def _name(change: Change) -> str:
    return change.before.name if change.before else change.after.name


def _named(code: str, agencies: Mapping[str, Agency]) -> str:
    agency = agencies.get(code)
    return f"{code} {agency.name}" if agency else code


def _agency(agency: Agency | None, code: str | None) -> str:
    if agency is not None:
        return f"{agency.code} {agency.name}"
    return code or "none"


def _describe(group: Group, item: Item) -> str:
    change, after, before = item.change, item.change.after, item.change.before
    mark = "  [outside the file's subtree]" if item.outside else ""
    if group is Group.RENAME:
        old = before.name if before else ""
        return f"{change.code}: {old!r} → {after.name!r}{mark}"
    if group is Group.RETIRE:
        successor = _agency(item.successor, after.successor_code) if after.successor_code else "no successor"
        return f"{change.code} {after.name}: active → retired, successor {successor}{mark}"
    if group is Group.MOVE:
        new = item.successor
        old_parent = (before.parent_code if before else None) or "-"
        parents = f"parent {old_parent} → {(new.parent_code if new else None) or '-'}"
        return f"{change.code} → {after.successor_code} {after.name} ({parents}){mark}"
    if group is Group.SET_SUCCESSOR:
        old = _agency(item.previous, before.successor_code if before else None)
        return f"{change.code} {after.name}: successor {old} → {_agency(item.successor, after.successor_code)}{mark}"
    if group is Group.REACTIVATE:
        was = f"retired (successor {_agency(item.previous, before.successor_code if before else None)})"
        return f"{change.code} {after.name}: {was} → active{mark}"
    if group is Group.SET_QD20:
        old_qd20 = (before.code_qd20 if before else None) or "none"
        return f"{change.code} {after.name}: {old_qd20} → {after.code_qd20}{mark}"
    under = f" (under {after.parent_code})" if after.parent_code else ""
    if after.retired:
        redirect = f" → {after.successor_code}" if after.successor_code else ""
        return f"+ {change.code} {after.name}{under} (retired{redirect})"
    return f"+ {change.code} {after.name}{under}"
