"""The status lifecycle of one document at one recipient agency: which status may come next.

A status package is a statement the sender relies on (Decree 30/2020: "received", "returned",
"cancelled on revocation"). A timeline that goes backwards, completes an unregistered document or
answers a request nobody made cannot be read by either side, so the axis refuses such a status instead
of passing it on (EDXML.md §3: "a status that goes backwards ... is an error").

Each recipient agency of a document has its own history: the statuses accepted so far about that
document for that agency, in arrival order, each tagged with who sent it. Everything here is a pure
function of that history; storing it, and naming the agency in messages, is the caller's job.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from axis.edxml.model import StatusCode
from axis.errors import AxisError


class Party(enum.StrEnum):
    """Who sent a status about a document for one recipient agency."""

    RECIPIENT = "recipient"  # the recipient agency itself: 01-06, 15, 16
    SENDER = "sender"  # the document's sender: only 13


@dataclass(frozen=True, slots=True)
class Step:
    """One status in a recipient's history."""

    code: StatusCode
    by: Party


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a recipient stands on a document, derived from its history."""

    reached: StatusCode | None  # highest business code (01/03/04/05/06) reached; None when none
    rejected: bool  # 02 received: final, nothing may follow
    completed: bool  # 06 received
    pending_request: bool  # a 13 or a business package (revoke/update/replace) awaits 15/16
    last: Step | None


@dataclass(frozen=True, slots=True)
class Rule:
    """What one status code needs. `RULES` is read as a table; `check` only interprets it."""

    by: Party
    rank: int | None = None  # place in business progress; None: not a business step
    repeats: bool = False  # a business step that may come again at the same rank
    needs: StatusCode | None = None  # business step that must have been reached first
    until: StatusCode | None = None  # refused once this business step has been reached
    request: Literal["opens", "answers"] | None = None  # the take-back / business-package dialogue


_R, _S, _C = Party.RECIPIENT, Party.SENDER, StatusCode

#: The lifecycle of EDXML.md §3, one row per status code.
# fmt: off
RULES: Mapping[StatusCode, Rule] = {
    _C.ARRIVED:           Rule(_R, rank=1),
    _C.REJECTED:          Rule(_R, until=_C.ACCEPTED),
    _C.ACCEPTED:          Rule(_R, rank=2),
    _C.ASSIGNED:          Rule(_R, rank=3, repeats=True, needs=_C.ACCEPTED),
    _C.PROCESSING:        Rule(_R, rank=4, repeats=True, needs=_C.ACCEPTED),
    _C.COMPLETED:         Rule(_R, rank=5, needs=_C.ACCEPTED),
    _C.TAKE_BACK_REQUEST: Rule(_S, request="opens"),
    _C.AGREED:            Rule(_R, request="answers"),
    _C.REFUSED:           Rule(_R, request="answers"),
}
# fmt: on

#: After this code nothing more is accepted from either party (a returned document is gone).
FINAL = StatusCode.REJECTED

#: How messages name the codes (the Vietnamese terms are in EDXML.md §3).
MEANING: Mapping[StatusCode, str] = {
    _C.ARRIVED: "arrived",
    _C.REJECTED: "rejected",
    _C.ACCEPTED: "accepted",
    _C.ASSIGNED: "assigned",
    _C.PROCESSING: "processing",
    _C.COMPLETED: "completed",
    _C.TAKE_BACK_REQUEST: "take-back request",
    _C.AGREED: "agreed",
    _C.REFUSED: "refused",
}


def _name(code: StatusCode) -> str:
    return f"{code.value} ({MEANING[code]})"


def _rank(code: StatusCode | None) -> int:
    return (RULES[code].rank or 0) if code is not None else 0


def progress(history: Sequence[Step], *, business_pending: bool = False) -> Progress:
    """Where the recipient stands after `history` (statuses already accepted, in arrival order).

    The history is not re-validated: it is what `check` let through. `business_pending` is the
    caller's knowledge, now, that a revoke/update/replace package was delivered to this recipient
    and has had no 15/16 since; it is not in the status history, so it cannot be derived here.
    """
    reached: StatusCode | None = None
    rejected = take_back_open = False
    for step in history:
        rule = RULES[step.code]
        if rule.rank is not None and rule.rank > _rank(reached):
            reached = step.code
        rejected = rejected or step.code == FINAL
        if rule.request == "opens":
            take_back_open = True
        elif rule.request == "answers":  # one answer settles whatever was pending
            take_back_open = False
    return Progress(
        reached=reached,
        rejected=rejected,
        completed=reached == StatusCode.COMPLETED,
        pending_request=business_pending or take_back_open,
        last=history[-1] if history else None,
    )


def _refusal(state: Progress, new: Step) -> tuple[str, str] | None:
    """The error code and message refusing `new` in `state`, or None when it may come next."""
    rule, code = RULES[new.code], _name(new.code)
    reached = _rank(state.reached)
    where = f"the recipient has reached {_name(state.reached)}" if state.reached else "no status yet"
    # Who may speak comes first: a status from the wrong party is wrong whatever the history.
    if new.by != rule.by:
        if rule.by == Party.SENDER:
            return (
                "status.sender_only",
                f"Status {code} is sent by the document's sender, not by a recipient.",
            )
        return (
            "status.recipient_only",
            f"Status {code} is sent by a recipient; the document's sender may only send "
            f"{_name(StatusCode.TAKE_BACK_REQUEST)}.",
        )
    if state.rejected:
        return (
            "status.after_rejection",
            f"Status {code} comes after {_name(FINAL)}; a rejection is final and nothing may follow it.",
        )
    if rule.until is not None and reached >= _rank(rule.until):
        return (
            "status.rejection_too_late",
            f"Status {code} must come before {_name(rule.until)}; {where}.",
        )
    if rule.rank is not None:
        if rule.rank < reached:
            return "status.backwards", f"Status {code} goes backwards; {where}."
        if rule.rank == reached and not rule.repeats:
            return "status.repeated", f"Status {code} was already sent and may not repeat."
        if rule.needs is not None and reached < _rank(rule.needs):
            return "status.not_registered", f"Status {code} needs {_name(rule.needs)} first; {where}."
    if rule.request == "opens" and state.pending_request:
        return (
            "status.request_pending",
            f"Status {code} cannot be sent while an earlier take-back request, revocation, update or "
            f"replacement still awaits the recipient's {_name(StatusCode.AGREED)} or "
            f"{_name(StatusCode.REFUSED)}.",
        )
    if rule.request == "answers" and not state.pending_request:
        return (
            "status.no_pending_request",
            f"Status {code} answers a take-back request, revocation, update or replacement, and none is pending.",
        )
    return None


def _allowed(state: Progress, by: Party) -> list[StatusCode]:
    return [code for code in StatusCode if _refusal(state, Step(code, by)) is None]


def allowed(history: Sequence[Step], by: Party, *, business_pending: bool = False) -> list[StatusCode]:
    """The codes `by` may send next, in code order: for error details and for showing what is possible."""
    return _allowed(progress(history, business_pending=business_pending), by)


def check(history: Sequence[Step], new: Step, *, business_pending: bool = False) -> None:
    """Raise `AxisError` (``status.*``) when `new` may not follow `history`; return when it may.

    The details say what was refused, where the recipient stands and what that party may send
    instead, so a vendor can fix its software without reading the rules. Messages name codes only;
    callers that know the agency add it.
    """
    state = progress(history, business_pending=business_pending)
    refusal = _refusal(state, new)
    if refusal is not None:
        error_code, message = refusal
        raise AxisError(
            error_code,
            message,
            code=new.code.value,
            by=new.by.value,
            reached=state.reached.value if state.reached is not None else None,
            allowed=[code.value for code in _allowed(state, new.by)],
        )
