"""A recipient's statuses about a document follow the lifecycle of EDXML.md §3, or are refused with a code."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from axis.edxml.model import StatusCode
from axis.errors import CATALOGUE, AxisError
from axis.exchange.lifecycle import Party, Progress, Step, allowed, check, progress

C = StatusCode
RECIPIENT, SENDER = Party.RECIPIENT, Party.SENDER


def r(*codes: str) -> list[Step]:
    """Statuses from the recipient agency."""
    return [Step(C(code), RECIPIENT) for code in codes]


def s(code: str) -> Step:
    """A status from the document's sender."""
    return Step(C(code), SENDER)


def accepts(history: Sequence[Step], *, business_pending: bool = False) -> None:
    """Every step of `history` is accepted after the ones before it."""
    for i, step in enumerate(history):
        check(history[:i], step, business_pending=business_pending)


def refusal(history: Sequence[Step], new: Step, *, business_pending: bool = False) -> AxisError:
    accepts(history, business_pending=business_pending)
    with pytest.raises(AxisError) as caught:
        check(history, new, business_pending=business_pending)
    return caught.value


# The paths EDXML.md §3 calls sensible


def test_recipient_arrives_accepts_assigns_processes_and_completes() -> None:
    history = r("01", "03", "04", "05", "06")
    accepts(history)
    assert progress(history) == Progress(
        reached=C.COMPLETED, rejected=False, completed=True, pending_request=False, last=history[-1]
    )


def test_recipient_rejects_a_document_that_arrived() -> None:
    accepts(r("01", "02"))
    assert progress(r("01", "02")).rejected


def test_recipient_rejects_a_document_straight_away() -> None:
    accepts(r("02"))


def test_clerk_may_register_without_an_arrival_status() -> None:
    accepts(r("03", "06"))


def test_leadership_reassigns_and_handler_reports_progress_repeatedly() -> None:
    accepts(r("03", "04", "04", "05", "05", "05", "06"))


def test_nothing_has_happened_before_the_first_status() -> None:
    assert progress([]) == Progress(reached=None, rejected=False, completed=False, pending_request=False, last=None)


# Each illegal status with its code


def test_completion_before_registration_is_refused() -> None:
    error = refusal(r("01"), r("06")[0])
    assert error.code == "status.not_registered"
    assert error.http_status == 422
    assert error.message == "Status 06 (completed) needs 03 (accepted) first; the recipient has reached 01 (arrived)."
    assert error.details == {"code": "06", "by": "recipient", "reached": "01", "allowed": ["02", "03"]}


def test_assignment_with_no_status_at_all_is_refused_as_unregistered() -> None:
    error = refusal([], r("04")[0])
    assert error.code == "status.not_registered"
    assert error.details["reached"] is None
    assert error.details["allowed"] == ["01", "02", "03"]


def test_acceptance_after_processing_goes_backwards() -> None:
    error = refusal(r("03", "05"), r("03")[0])
    assert error.code == "status.backwards"
    assert error.message == "Status 03 (accepted) goes backwards; the recipient has reached 05 (processing)."
    assert error.details["allowed"] == ["05", "06"]


def test_assignment_after_processing_started_goes_backwards() -> None:
    assert refusal(r("03", "05"), r("04")[0]).code == "status.backwards"


@pytest.mark.parametrize("code", ["01", "03", "04", "05", "06", "15", "16"])
def test_nothing_follows_a_rejection(code: str) -> None:
    error = refusal(r("01", "02"), r(code)[0], business_pending=True)
    assert error.code == "status.after_rejection"
    assert error.details["allowed"] == []


def test_sender_cannot_take_back_a_rejected_document() -> None:
    assert refusal(r("02"), s("13")).code == "status.after_rejection"


def test_a_second_rejection_is_refused_as_after_rejection() -> None:
    assert refusal(r("02"), r("02")[0]).code == "status.after_rejection"


@pytest.mark.parametrize(
    ("history", "repeated"),
    [(["01"], "01 (arrived)"), (["01", "03"], "03 (accepted)"), (["03", "04", "05", "06"], "06 (completed)")],
)
def test_a_second_arrival_acceptance_or_completion_is_a_repeat(history: list[str], repeated: str) -> None:
    error = refusal(r(*history), r(history[-1])[0])
    assert error.code == "status.repeated"
    assert error.message == f"Status {repeated} was already sent and may not repeat."


def test_rejection_after_acceptance_is_too_late() -> None:
    error = refusal(r("01", "03"), r("02")[0])
    assert error.code == "status.rejection_too_late"
    assert (
        error.message == "Status 02 (rejected) must come before 03 (accepted); the recipient has reached 03 (accepted)."
    )


def test_rejection_after_completion_is_too_late() -> None:
    assert refusal(r("03", "06"), r("02")[0]).code == "status.rejection_too_late"


def test_take_back_request_from_the_recipient_is_refused() -> None:
    error = refusal(r("01"), r("13")[0])
    assert error.code == "status.sender_only"
    assert error.details["allowed"] == ["02", "03"]


def test_processing_status_from_the_sender_is_refused() -> None:
    error = refusal(r("03"), s("05"))
    assert error.code == "status.recipient_only"
    assert error.details == {"code": "05", "by": "sender", "reached": "03", "allowed": ["13"]}


@pytest.mark.parametrize("code", ["15", "16"])
def test_an_answer_with_nothing_pending_is_refused(code: str) -> None:
    assert refusal(r("01", "03"), r(code)[0]).code == "status.no_pending_request"


def test_a_second_take_back_request_while_one_is_pending_is_refused() -> None:
    error = refusal([*r("01"), s("13")], s("13"))
    assert error.code == "status.request_pending"
    assert error.details["allowed"] == []


def test_a_take_back_request_while_a_business_package_awaits_an_answer_is_refused() -> None:
    assert refusal(r("03"), s("13"), business_pending=True).code == "status.request_pending"


LIFECYCLE_CODES = [
    "status.backwards",
    "status.repeated",
    "status.not_registered",
    "status.after_rejection",
    "status.rejection_too_late",
    "status.sender_only",
    "status.recipient_only",
    "status.no_pending_request",
    "status.request_pending",
]


def test_every_lifecycle_code_is_in_the_catalogue_with_422() -> None:
    assert {CATALOGUE[code][0] for code in LIFECYCLE_CODES} == {422}


# The take-back dialogue


@pytest.mark.parametrize("answer", ["15", "16"])
def test_sender_asks_to_take_back_and_recipient_answers(answer: str) -> None:
    history = [*r("01", "03"), s("13"), *r(answer)]
    accepts(history)
    assert progress(history[:-1]).pending_request
    assert not progress(history).pending_request


@pytest.mark.parametrize("answer", ["15", "16"])
def test_take_back_dialogue_may_happen_after_completion(answer: str) -> None:
    accepts([*r("03", "04", "05", "06"), s("13"), *r(answer)])


def test_take_back_may_be_asked_before_any_status_and_again_after_a_refusal() -> None:
    accepts([s("13"), *r("16"), s("13"), *r("15")])


def test_business_continues_while_a_take_back_request_is_pending() -> None:
    accepts([*r("01"), s("13"), *r("03", "04", "16", "05")])


@pytest.mark.parametrize("answer", ["15", "16"])
def test_a_pending_business_package_may_be_answered(answer: str) -> None:
    check(r("01", "03"), r(answer)[0], business_pending=True)
    assert progress(r("01", "03"), business_pending=True).pending_request


# What may come next


def test_allowed_lists_what_each_party_may_send_next() -> None:
    assert allowed([], RECIPIENT) == [C.ARRIVED, C.REJECTED, C.ACCEPTED]
    assert allowed([], SENDER) == [C.TAKE_BACK_REQUEST]
    assert allowed(r("01", "03"), RECIPIENT) == [C.ASSIGNED, C.PROCESSING, C.COMPLETED]
    assert allowed(r("03", "04"), RECIPIENT) == [C.ASSIGNED, C.PROCESSING, C.COMPLETED]
    assert allowed(r("03", "06"), RECIPIENT) == []
    assert allowed(r("03", "06"), SENDER) == [C.TAKE_BACK_REQUEST]
    assert allowed([*r("03", "06"), s("13")], RECIPIENT) == [C.AGREED, C.REFUSED]
    assert allowed([*r("03", "06"), s("13")], SENDER) == []
    assert allowed(r("01"), RECIPIENT, business_pending=True) == [C.REJECTED, C.ACCEPTED, C.AGREED, C.REFUSED]
    assert allowed(r("01"), SENDER, business_pending=True) == []
    assert allowed(r("02"), RECIPIENT) == allowed(r("02"), SENDER) == []


# The rules against a reference model written the obvious way

#: A revoke/update/replace package delivered to the recipient: not a status, but it opens a request.
DELIVERED = "business package delivered"
Event = Step | str

BUSINESS_ORDER = ["01", "03", "04", "05", "06"]


def reference_accepts(events: Sequence[Event]) -> bool:
    """Whether a whole sequence of events is legal, checking each rule of the brief over every prefix."""
    for i, event in enumerate(events):
        if event == DELIVERED:
            continue
        assert isinstance(event, Step)
        code, by = event.code.value, event.by
        earlier = [e for e in events[:i] if isinstance(e, Step)]
        earlier_codes = [e.code.value for e in earlier]
        # Only 13 comes from the sender, and 13 only from the sender.
        if code == "13" and by != SENDER:
            return False
        if code != "13" and by != RECIPIENT:
            return False
        # 02 is final.
        if "02" in earlier_codes:
            return False
        # 02 only before 03 or anything after it.
        if code == "02" and any(c in ("03", "04", "05", "06") for c in earlier_codes):
            return False
        if code in BUSINESS_ORDER:
            # Never below a business code already sent.
            for c in earlier_codes:
                if c in BUSINESS_ORDER and BUSINESS_ORDER.index(c) > BUSINESS_ORDER.index(code):
                    return False
            # 01, 03, 06 at most once.
            if code in ("01", "03", "06") and code in earlier_codes:
                return False
            # 04, 05, 06 only after a 03.
            if code in ("04", "05", "06") and "03" not in earlier_codes:
                return False
        if code in ("13", "15", "16"):
            # A request is pending when a 13 or a delivery came after the last 15/16.
            pending = False
            for e in events[:i]:
                if e == DELIVERED or (isinstance(e, Step) and e.code.value == "13"):
                    pending = True
                elif isinstance(e, Step) and e.code.value in ("15", "16"):
                    pending = False
            if code == "13" and pending:
                return False
            if code in ("15", "16") and not pending:
                return False
    return True


def still_pending(events: Sequence[Event]) -> tuple[bool, bool]:
    """(a business package awaits an answer, any request awaits an answer) after `events`."""
    business = any_request = False
    for e in events:
        if e == DELIVERED:
            business = any_request = True
        elif isinstance(e, Step) and e.code.value == "13":
            any_request = True
        elif isinstance(e, Step) and e.code.value in ("15", "16"):
            business = any_request = False
    return business, any_request


# Mostly the right party, so that random sequences get far enough to be interesting.
steps = st.one_of(
    st.builds(Step, st.sampled_from([c for c in C if c != C.TAKE_BACK_REQUEST]), st.just(RECIPIENT)),
    st.builds(Step, st.just(C.TAKE_BACK_REQUEST), st.just(SENDER)),
    st.builds(Step, st.sampled_from(list(C)), st.sampled_from(list(Party))),
)
events = st.lists(st.one_of(steps, steps, steps, st.just(DELIVERED)), max_size=25)


def assert_consistent(state: Progress, history: Sequence[Step], any_request: bool) -> None:
    business: list[StatusCode] = [step.code for step in history if step.code.value in BUSINESS_ORDER]
    assert state.reached == (max(business, key=lambda code: BUSINESS_ORDER.index(code.value)) if business else None)
    assert state.reached == (business[-1] if business else None)  # forward only
    assert state.completed == (C.COMPLETED in business)
    if state.completed:
        assert state.reached == C.COMPLETED
    assert state.rejected == (C.REJECTED in [step.code for step in history])
    if state.rejected:
        assert state.reached in (None, C.ARRIVED)
        assert allowed(history, RECIPIENT) == allowed(history, SENDER) == []
    assert state.pending_request == any_request
    assert state.last == (history[-1] if history else None)


@settings(max_examples=400)
@given(events)
def test_check_accepts_exactly_what_the_reference_model_accepts(attempts: list[Event]) -> None:
    """Feed random events through check as the axis would: refused statuses are dropped, accepted ones kept."""
    kept: list[Event] = []
    history: list[Step] = []
    for event in attempts:
        if event == DELIVERED:
            kept.append(event)
            continue
        assert isinstance(event, Step)
        business_pending, _ = still_pending(kept)
        refused: AxisError | None = None
        try:
            check(history, event, business_pending=business_pending)
        except AxisError as error:
            refused = error
        accepted = refused is None
        if refused is not None:
            assert refused.code in LIFECYCLE_CODES
            assert refused.details["allowed"] == [
                c.value for c in allowed(history, event.by, business_pending=business_pending)
            ]
        assert accepted == reference_accepts([*kept, event]), (kept, event)
        for by in Party:
            expected = [c for c in C if reference_accepts([*kept, Step(c, by)])]
            assert allowed(history, by, business_pending=business_pending) == expected
        if accepted:
            kept.append(event)
            history.append(event)
        business_pending, any_request = still_pending(kept)
        assert_consistent(progress(history, business_pending=business_pending), history, any_request)


@given(events)
def test_a_whole_sequence_passes_check_exactly_when_the_reference_model_accepts_it(
    sequence: list[Event],
) -> None:
    history: list[Step] = []
    seen: list[Event] = []
    passed = True
    for event in sequence:
        if isinstance(event, Step):
            try:
                check(history, event, business_pending=still_pending(seen)[0])
            except AxisError:
                passed = False
                break
            history.append(event)
        seen.append(event)
    assert passed == reference_accepts(sequence)
