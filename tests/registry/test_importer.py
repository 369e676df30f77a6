"""Importing agency codes: an operator's file, dirty rows and all, becomes a plan of changes."""

from __future__ import annotations

import random
from collections.abc import Mapping
from pathlib import Path

import pytest
from tayninh import TAYNINH

from axis.errors import AxisError
from axis.registry.codes import parent_of
from axis.registry.diff import format_diff
from axis.registry.importer import (
    BadRow,
    ChangeKind,
    ImportPlan,
    Row,
    plan,
    read_csv,
)
from axis.registry.model import Agency, AgencyStatus

SEEDS = Path(__file__).resolve().parents[2] / "axis" / "registry" / "agency_codes"
RETIRED = AgencyStatus.RETIRED

NGHE_AN = Agency("000.00.00.H41", "UBND tỉnh Nghệ An")
HA_TINH = Agency("000.00.00.H40", "UBND tỉnh Hà Tĩnh")
JUSTICE = Agency("000.00.00.G15", "Bộ Tư pháp")
TAY_NINH = Agency("000.00.00.H53", "UBND tỉnh Tây Ninh")


def registry(*agencies: Agency) -> dict[str, Agency]:
    return {agency.code: agency for agency in agencies}


def csv(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def apply(import_plan: ImportPlan, current: Mapping[str, Agency]) -> dict[str, Agency]:
    """What the SQL half does, on a dict, checking the plan's order as it goes."""
    result = dict(current)
    for change in import_plan.changes:
        assert change.before == result.get(change.code), change
        result[change.code] = change.after
        assert change.after.parent_code is None or change.after.parent_code in result, change
        assert change.after.successor_code is None or change.after.successor_code in result, change
    return result


def kinds(import_plan: ImportPlan) -> list[tuple[ChangeKind, str]]:
    return [(change.kind, change.code) for change in import_plan.changes]


def reasons(import_plan: ImportPlan) -> dict[int, str]:
    return {bad.line: bad.reason for bad in import_plan.bad}


def said(rows: tuple[BadRow, ...]) -> list[tuple[int, str, str]]:
    """Rejected rows or warnings as (line, code, the reason in English)."""
    return [(row.line, row.code, row.reason) for row in rows]


# --- The real provincial list ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tayninh() -> ImportPlan:
    if not TAYNINH.is_file():
        pytest.skip(f"real sample not present at {TAYNINH}")
    return plan(read_csv(TAYNINH.read_bytes(), source=TAYNINH.name), {})


def test_real_provincial_list_reports_its_malformed_code_and_doubly_listed_codes(tayninh: ImportPlan) -> None:
    doubles = [(386, 449), (420, 455), (422, 453), (423, 454), (425, 451), (426, 456), (427, 450)]
    assert [bad.line for bad in tayninh.bad] == sorted([183, *(line for pair in doubles for line in pair)])
    assert said(tayninh.bad)[0] == (183, "000.1137.H53", "malformed code: not of the form DDD.CC.BB.LNN")
    why = reasons(tayninh)
    for first, second in doubles:
        expected = f"code listed 2 times with different names (lines {first}, {second})"
        assert why[first] == why[second] == expected


def test_real_provincial_list_creates_every_other_row_under_its_parent(tayninh: ImportPlan) -> None:
    assert tayninh.summary() == {
        "create": 455 - 15,
        "rename": 0,
        "set_qd20": 0,
        "retire": 0,
        "reactivate": 0,
        "set_successor": 0,
        "bad": 15,
        "unchanged": 0,
    }
    created = {change.code: change.after for change in tayninh.changes}
    assert created["000.00.00.H53"].parent_code is None
    assert created["000.00.11.H53"].parent_code == "000.00.00.H53"
    assert created["000.21.31.H53"].parent_code == "000.00.31.H53"
    assert created["000.01.28.G14"].parent_code == "000.00.28.G14"
    assert created["000.00.00.H53"].name == "UBND Tỉnh Tây Ninh"
    assert "000.00.00.G15" not in created
    assert all(agency.parent_code == parent_of(code) for code, agency in created.items())
    applied = apply(tayninh, {})
    again = plan(read_csv(TAYNINH.read_bytes()), applied)
    assert (again.changes, again.unchanged, len(again.bad)) == ((), 440, 15)


def test_real_provincial_list_warns_that_the_in_charge_column_is_ignored(tayninh: ImportPlan) -> None:
    assert said(tayninh.warnings) == [(1, "", "column in_charge ignored")]


# --- Seed files and idempotence ----------------------------------------------------------------------


def test_seed_files_plan_cleanly_and_replanning_after_applying_changes_nothing() -> None:
    current: dict[str, Agency] = {}
    for name in ("national.csv", "fictitious.csv"):
        rows = read_csv((SEEDS / name).read_bytes(), source=name)
        seed_plan = plan(rows, current)
        assert seed_plan.bad == ()
        assert seed_plan.warnings == ()
        assert {change.kind for change in seed_plan.changes} == {ChangeKind.CREATE}
        assert seed_plan.good == len(rows)
        current = apply(seed_plan, current)
    assert current["001.21.31.H98"].parent_code == "000.21.31.H98"
    for name in ("national.csv", "fictitious.csv"):
        again = plan(read_csv((SEEDS / name).read_bytes()), current)
        assert again.changes == ()
        assert again.unchanged == again.good > 0


def test_replanning_a_file_of_every_kind_of_change_after_applying_it_changes_nothing() -> None:
    before = registry(
        JUSTICE,
        NGHE_AN,
        HA_TINH,
        Agency("000.00.00.G10", "Bộ Nông nghiệp", status=RETIRED),
        Agency("000.00.00.G21", "Ủy ban Dân tộc", status=RETIRED, successor_code="000.00.00.G09"),
        Agency("000.00.00.G09", "Bộ Nội vụ"),
        Agency("000.00.00.G12", "Bộ Tài chính"),
    )
    text = csv(
        "code,name,code_qd20,status,successor",
        "000.00.00.G15,Bộ Tư Pháp,G15,,",
        "000.00.00.H41,UBND tỉnh Nghệ An,,retired,000.00.00.H40",
        "000.00.00.G10,Bộ Nông nghiệp,,active,",
        "000.00.00.G21,Ủy ban Dân tộc,,retired,000.00.00.G12",
        "000.00.00.H98,UBND Tỉnh Thử Nghiệm Bắc (giả lập),H98,,",
        "000.00.01.H98,Văn phòng (giả lập),H98.01,retired,000.00.00.H98",
    )
    first = plan(read_csv(text), before)
    assert kinds(first) == [
        (ChangeKind.CREATE, "000.00.00.H98"),
        (ChangeKind.CREATE, "000.00.01.H98"),
        (ChangeKind.RENAME, "000.00.00.G15"),
        (ChangeKind.SET_QD20, "000.00.00.G15"),
        (ChangeKind.RETIRE, "000.00.00.H41"),
        (ChangeKind.REACTIVATE, "000.00.00.G10"),
        (ChangeKind.SET_SUCCESSOR, "000.00.00.G21"),
    ]
    after = apply(first, before)
    assert after["000.00.00.G15"] == Agency("000.00.00.G15", "Bộ Tư Pháp", code_qd20="G15")
    again = plan(read_csv(text), after)
    assert again.changes == ()
    assert again.unchanged == 6


# --- Changes to what the registry holds --------------------------------------------------------------


def test_new_name_for_a_known_code_is_a_rename_from_the_old_name() -> None:
    renamed = plan(read_csv(csv("code,name", "000.00.00.G15,Bộ Tư Pháp")), registry(JUSTICE))
    (change,) = renamed.changes
    assert change.kind is ChangeKind.RENAME
    assert change.before == JUSTICE
    assert change.after == Agency("000.00.00.G15", "Bộ Tư Pháp")
    assert change.line == 2


def test_retirement_carries_its_successor() -> None:
    text = csv("code,name,status,successor", "000.00.00.H41,UBND tỉnh Nghệ An,retired,000.00.00.H40")
    (change,) = plan(read_csv(text), registry(NGHE_AN, HA_TINH)).changes
    assert change.kind is ChangeKind.RETIRE
    assert change.after == Agency("000.00.00.H41", "UBND tỉnh Nghệ An", status=RETIRED, successor_code=HA_TINH.code)


def test_successor_created_in_the_same_file_is_created_before_it_is_named() -> None:
    text = csv(
        "code,name,status,successor",
        "000.00.00.H41,UBND tỉnh Nghệ An,retired,000.00.00.H97",
        "000.00.05.H97,Sở Nội vụ (giả lập),,",
        "000.00.00.H97,UBND tỉnh mới (giả lập),,",
    )
    merger = plan(read_csv(text), registry(NGHE_AN))
    assert kinds(merger) == [
        (ChangeKind.CREATE, "000.00.00.H97"),
        (ChangeKind.CREATE, "000.00.05.H97"),
        (ChangeKind.RETIRE, "000.00.00.H41"),
    ]
    apply(merger, registry(NGHE_AN))


def test_successor_known_to_neither_registry_nor_file_is_a_bad_row() -> None:
    text = csv("code,name,status,successor", "000.00.00.H41,UBND tỉnh Nghệ An,retired,000.00.00.H96")
    orphaned = plan(read_csv(text), registry(NGHE_AN))
    assert orphaned.changes == ()
    assert said(orphaned.bad) == [
        (2, "000.00.00.H41", "successor 000.00.00.H96 is neither in the registry nor in the file")
    ]


@pytest.mark.parametrize(
    ("status", "successor", "reason"),
    [
        ("active", "000.00.00.H40", "successor given but status is active"),
        ("retired", "000.00.00.H41", "successor is the code itself"),
        ("retired", "000.00.00.h40", "malformed successor: lower-case level-1 letter"),
        ("closed", "", "status 'closed' is neither active nor retired"),
    ],
)
def test_successor_and_status_that_cannot_be_meant_are_bad_rows(status: str, successor: str, reason: str) -> None:
    text = csv("code,name,status,successor", f"000.00.00.H41,UBND tỉnh Nghệ An,{status},{successor}")
    assert reasons(plan(read_csv(text), registry(NGHE_AN, HA_TINH))) == {2: reason}


def test_empty_code_qd20_and_successor_never_clear_known_values() -> None:
    known = Agency("000.00.00.G21", "Ủy ban Dân tộc", status=RETIRED, successor_code="000.00.00.G09", code_qd20="G21")
    text = csv("code,name,code_qd20,status,successor", "000.00.00.G21,Ủy ban Dân tộc,,retired,")
    kept = plan(read_csv(text), registry(known, Agency("000.00.00.G09", "Bộ Nội vụ")))
    assert kept.changes == ()
    assert kept.unchanged == 1


def test_successor_chain_that_loops_is_refused() -> None:
    text = csv(
        "code,name,status,successor",
        "000.00.00.H41,UBND tỉnh Nghệ An,retired,000.00.00.H40",
        "000.00.00.H40,UBND tỉnh Hà Tĩnh,retired,000.00.00.H41",
    )
    looped = plan(read_csv(text), registry(NGHE_AN, HA_TINH))
    assert looped.changes == ()
    assert reasons(looped) == {
        2: "successor chain loops: 000.00.00.H41 → 000.00.00.H40 → 000.00.00.H41",
        3: "successor chain loops: 000.00.00.H41 → 000.00.00.H40 → 000.00.00.H41",
    }


def test_successor_and_parent_links_that_knot_are_untied_by_setting_successors_last() -> None:
    # H97 redirects to a unit of H96, and H96 redirects to H97: no loop of redirections, but no
    # order creates all three with their successors in place.
    text = csv(
        "code,name,status,successor",
        "000.00.00.H97,Tỉnh A (giả lập),retired,000.00.01.H96",
        "000.00.01.H96,Văn phòng tỉnh B (giả lập),,",
        "000.00.00.H96,Tỉnh B (giả lập),retired,000.00.00.H97",
    )
    knot = plan(read_csv(text), {})
    assert kinds(knot) == [
        (ChangeKind.CREATE, "000.00.00.H97"),
        (ChangeKind.CREATE, "000.00.00.H96"),
        (ChangeKind.CREATE, "000.00.01.H96"),
        (ChangeKind.SET_SUCCESSOR, "000.00.00.H97"),
        (ChangeKind.SET_SUCCESSOR, "000.00.00.H96"),
    ]
    assert plan(read_csv(text), apply(knot, {})).changes == ()


def test_decision_20_code_is_set_when_given_and_refused_when_another_agency_holds_it() -> None:
    text = csv(
        "code,name,code_qd20",
        "000.00.00.H41,UBND tỉnh Nghệ An,H41",
        "000.00.00.H40,UBND tỉnh Hà Tĩnh,H40",
        "000.00.00.G15,Bộ Tư pháp,G15.X",
        "000.00.00.H98,Tỉnh (giả lập),H98",
        "000.00.00.H99,Tỉnh (giả lập),H98",
    )
    held = Agency("000.00.00.H53", "UBND tỉnh Tây Ninh", code_qd20="H40")
    qd20 = plan(read_csv(text), registry(NGHE_AN, HA_TINH, JUSTICE, held))
    assert kinds(qd20) == [(ChangeKind.SET_QD20, "000.00.00.H41"), (ChangeKind.SET_QD20, "000.00.00.G15")]
    assert reasons(qd20) == {
        3: "code_qd20 H40 is also given to 000.00.00.H53 (in the registry)",
        5: "code_qd20 H98 is also given to 000.00.00.H99 (line 6)",
        6: "code_qd20 H98 is also given to 000.00.00.H98 (line 5)",
    }


def test_malformed_decision_20_code_is_a_bad_row() -> None:
    text = csv("code,name,code_qd20", "000.00.00.H41,UBND tỉnh Nghệ An,h41")
    assert reasons(plan(read_csv(text), {})) == {2: "malformed code_qd20: character 'h' outside [.0-9A-Z]"}


# --- Rows that contradict the hierarchy or each other ------------------------------------------------


def test_parent_column_contradicting_the_code_is_a_bad_row() -> None:
    text = csv(
        "code,name,parent",
        "000.00.00.H53,UBND tỉnh Tây Ninh,",
        "000.21.31.H53,UBND xã (giả lập),000.00.00.H53",
        "000.00.11.H53,Sở Tài chính,000.00.00.H53",
        "000.00.00.H41,UBND tỉnh Nghệ An,000.00.00.H53",
    )
    contradicted = plan(read_csv(text), {})
    assert reasons(contradicted) == {
        3: "parent column says 000.00.00.H53 but the code implies 000.00.31.H53",
        5: "parent column says 000.00.00.H53 but a level-1 code has no parent",
    }
    assert kinds(contradicted) == [(ChangeKind.CREATE, "000.00.00.H53"), (ChangeKind.CREATE, "000.00.11.H53")]


def test_missing_parent_makes_its_whole_subtree_bad() -> None:
    text = csv(
        "code,name",
        "001.21.31.H53,Trường tiểu học (giả lập)",
        "000.21.31.H53,UBND xã (giả lập)",
        "000.22.31.H53,UBND xã khác (giả lập)",
        "000.00.11.H53,Sở Tài chính",
    )
    cascade = plan(read_csv(text), registry(TAY_NINH))
    assert reasons(cascade) == {
        2: "parent 000.21.31.H53 is not in the registry and its own row is bad (line 3)",
        3: "parent 000.00.31.H53 is neither in the registry nor in the file",
        4: "parent 000.00.31.H53 is neither in the registry nor in the file",
    }
    assert kinds(cascade) == [(ChangeKind.CREATE, "000.00.11.H53")]


def test_bad_row_for_a_code_the_registry_has_does_not_hold_back_its_children() -> None:
    text = csv("code,name", "000.00.00.H53,", "000.00.11.H53,Sở Tài chính")
    planned = plan(read_csv(text), registry(TAY_NINH))
    assert reasons(planned) == {2: "empty name"}
    assert kinds(planned) == [(ChangeKind.CREATE, "000.00.11.H53")]


def test_children_listed_before_their_parents_are_created_after_them() -> None:
    text = csv(
        "code,name",
        "001.21.31.H53,Trường tiểu học (giả lập)",
        "000.21.31.H53,UBND xã (giả lập)",
        "000.00.31.H53,UBND huyện (giả lập)",
        "000.00.00.H53,UBND tỉnh Tây Ninh",
    )
    planned = plan(read_csv(text), {})
    assert [code for _, code in kinds(planned)] == [
        "000.00.00.H53",
        "000.00.31.H53",
        "000.21.31.H53",
        "001.21.31.H53",
    ]


def test_identical_duplicate_rows_are_imported_once_with_a_warning() -> None:
    text = csv(
        "code,name",
        "000.00.00.H53,UBND tỉnh Tây Ninh",
        "000.00.11.H53,Sở Tài chính",
        "000.00.00.H53,UBND tỉnh Tây Ninh",
    )
    planned = plan(read_csv(text), {})
    assert planned.bad == ()
    assert said(planned.warnings) == [(4, "000.00.00.H53", "identical to line 2; kept once")]
    assert planned.good == 2
    assert kinds(planned) == [(ChangeKind.CREATE, "000.00.00.H53"), (ChangeKind.CREATE, "000.00.11.H53")]


def test_same_code_and_name_with_other_fields_differing_is_ambiguous_too() -> None:
    text = csv("code,name,code_qd20", "000.00.00.H53,UBND tỉnh Tây Ninh,H53", "000.00.00.H53,UBND tỉnh Tây Ninh,H54")
    assert reasons(plan(read_csv(text), {})) == {
        2: "code listed 2 times with different code_qd20 (lines 2, 3)",
        3: "code listed 2 times with different code_qd20 (lines 2, 3)",
    }


def test_rows_built_in_code_plan_like_rows_read_from_a_file() -> None:
    rows = [Row(7, "000.00.00.H98", "Tỉnh (giả lập)"), Row(9, "000.00.01.H98", "Văn phòng (giả lập)")]
    planned = plan(rows, {})
    assert planned.warnings == ()
    assert [(change.line, change.after.parent_code) for change in planned.changes] == [
        (7, None),
        (9, "000.00.00.H98"),
    ]


def test_code_with_surrounding_whitespace_from_code_is_not_stored_with_it() -> None:
    assert reasons(plan([Row(2, " 000.00.00.H98", "Tỉnh (giả lập)")], {})) == {
        2: "malformed code: surrounding whitespace"
    }


def test_several_faults_of_one_row_are_reported_together() -> None:
    text = csv("code,name,code_qd20,status", "000.00.00.h53,,H53..1,gone")
    assert reasons(plan(read_csv(text), {})) == {
        2: "status 'gone' is neither active nor retired; malformed code: lower-case level-1 letter; "
        "empty name; malformed code_qd20: empty group"
    }


# --- Reading the file --------------------------------------------------------------------------------


def test_bom_crlf_and_padding_read_like_a_plain_file() -> None:
    plain = read_csv(csv("code,name", "000.00.00.H53,UBND tỉnh Tây Ninh").encode())
    dressed = read_csv("\ufeff Code , NAME \r\n 000.00.00.H53 ,  UBND tỉnh Tây Ninh \r\n".encode())
    assert plain == dressed == [Row(2, "000.00.00.H53", "UBND tỉnh Tây Ninh")]


def test_names_are_normalized_to_nfc() -> None:
    decomposed = "UBND tỉnh Tây Ninh".replace("ỉ", "i\u0309")
    (row,) = read_csv(csv("code,name", f"000.00.00.H53,{decomposed}"))
    assert row.name == "UBND tỉnh Tây Ninh"


def test_line_numbers_count_blank_lines_and_multiline_fields() -> None:
    text = csv("code,name", "", '000.00.00.H53,"UBND tỉnh', 'Tây Ninh"', ",,", "000.00.11.H53,Sở Tài chính")
    assert [(row.line, row.code) for row in read_csv(text)] == [(3, "000.00.00.H53"), (6, "000.00.11.H53")]


def test_optional_columns_are_read_with_their_defaults() -> None:
    text = csv(
        "name,successor,status,code,parent,code_qd20",
        "UBND tỉnh Nghệ An,000.00.00.H40,Retired,000.00.00.H41,,H41",
        "Sở Tài chính,,,000.00.11.H53,000.00.00.H53,",
    )
    assert read_csv(text) == [
        Row(2, "000.00.00.H41", "UBND tỉnh Nghệ An", None, "H41", RETIRED, "000.00.00.H40"),
        Row(3, "000.00.11.H53", "Sở Tài chính", "000.00.00.H53"),
    ]


def test_row_with_more_fields_than_the_header_is_bad_not_cut_short() -> None:
    text = csv("code,name", "000.00.00.G16,Bộ Văn hóa, Thể thao và Du lịch")
    assert reasons(plan(read_csv(text), {})) == {2: "3 fields but the header has 2"}


def test_file_without_a_name_column_is_a_format_error() -> None:
    with pytest.raises(AxisError) as caught:
        read_csv(csv("code,in_charge", "000.00.00.H53,Tây Ninh"), source="units.csv")
    assert caught.value.code == "registry.import.format"
    assert caught.value.details == {
        "source": "units.csv",
        "problem": "column_missing",
        "missing": ["name"],
        "header": ["code", "in_charge"],
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file has no header row"),
        (b"code,name,name\n", "the header names 'name' twice"),
        (b'code,name\n000.00.00.H53,"UBND\n', "line 2: not valid CSV"),
    ],
)
def test_what_is_not_a_csv_of_agencies_is_a_format_error(data: bytes, message: str) -> None:
    with pytest.raises(AxisError) as caught:
        read_csv(data)
    assert caught.value.code == "registry.import.format"
    assert caught.value.message.startswith(message)


# --- Showing the plan --------------------------------------------------------------------------------


def test_dry_run_output_lists_bad_rows_warnings_then_changes_by_kind_renames_first() -> None:
    text = csv(
        "code,name,status,successor,in_charge",
        "000.00.11.H53,Sở Tài chính,,,Tây Ninh",
        "000.00.00.G15,Bộ Tư Pháp,,,Việt Nam",
        "000.00.00.H41,UBND tỉnh Nghệ An,retired,000.00.00.H40,",
        "000.1137.H53,Phòng Y tế huyện Tân Châu,,,Tây Ninh",
        "000.00.00.H53,UBND tỉnh Tây Ninh,,,Tây Ninh",
    )
    before = registry(JUSTICE, NGHE_AN, HA_TINH, TAY_NINH)
    assert format_diff(plan(read_csv(text), before), before) == (
        "create 1, rename 1, retire 1; bad 1, unchanged 1, warnings 1\n"
        "bad rows (1):\n"
        "  line 5: 000.1137.H53: malformed code: not of the form DDD.CC.BB.LNN\n"
        "warnings (1):\n"
        "  line 1: column in_charge ignored\n"
        "renames (1):\n"
        "  000.00.00.G15: 'Bộ Tư pháp' → 'Bộ Tư Pháp'\n"
        "retirements (1):\n"
        "  000.00.00.H41 UBND tỉnh Nghệ An: active → retired, successor 000.00.00.H40 UBND tỉnh Hà Tĩnh\n"
        "additions (1):\n"
        "  + 000.00.11.H53 Sở Tài chính (under 000.00.00.H53)\n"
    )


def test_dry_run_output_describes_every_kind_of_change_with_old_and_new_side_by_side() -> None:
    before = registry(
        Agency("000.00.00.G10", "Bộ Nông nghiệp", status=RETIRED, successor_code="000.00.00.G09"),
        Agency("000.00.00.G21", "Ủy ban Dân tộc", status=RETIRED, successor_code="000.00.00.G09"),
        Agency("000.00.00.G09", "Bộ Nội vụ"),
        Agency("000.00.00.G12", "Bộ Tài chính"),
    )
    text = csv(
        "code,name,code_qd20,status,successor",
        "000.00.00.G10,Bộ Nông nghiệp,G10,active,",
        "000.00.00.G21,Ủy ban Dân tộc,,retired,000.00.00.G12",
        "000.00.00.G98,Bộ cũ (giả lập),,retired,000.00.00.G12",
        "000.00.00.G97,Bộ cũ hơn (giả lập),,retired,",
    )
    assert format_diff(plan(read_csv(text), before), before).splitlines()[1:] == [
        "successor changes (1):",
        "  000.00.00.G21 Ủy ban Dân tộc: successor 000.00.00.G09 Bộ Nội vụ → 000.00.00.G12 Bộ Tài chính",
        "reactivations (1):",
        "  000.00.00.G10 Bộ Nông nghiệp: retired (successor 000.00.00.G09 Bộ Nội vụ) → active",
        "Decision 20/2020 codes (1):",
        "  000.00.00.G10 Bộ Nông nghiệp: none → G10",
        "additions (2):",
        "  + 000.00.00.G98 Bộ cũ (giả lập) (retired → 000.00.00.G12)",
        "  + 000.00.00.G97 Bộ cũ hơn (giả lập) (retired)",
    ]


def test_only_additions_are_cut_and_every_bad_row_is_listed() -> None:
    lines = ["code,name"] + [f"000.00.{n:02d}.H98,Sở {n} (giả lập)" for n in range(1, 6)]
    lines += [f"000.{n:04d}.H98,Sai {n}" for n in range(3)]
    before = registry(Agency("000.00.00.H98", "Tỉnh (giả lập)"))
    shown = format_diff(plan(read_csv(csv(*lines)), before), before, additions=2)
    assert shown == (
        "create 5; bad 3, unchanged 0, warnings 0\n"
        "bad rows (3):\n"
        "  line 7: 000.0000.H98: malformed code: not of the form DDD.CC.BB.LNN\n"
        "  line 8: 000.0001.H98: malformed code: not of the form DDD.CC.BB.LNN\n"
        "  line 9: 000.0002.H98: malformed code: not of the form DDD.CC.BB.LNN\n"
        "additions (5):\n"
        "  + 000.00.01.H98 Sở 1 (giả lập) (under 000.00.00.H98)\n"
        "  + 000.00.02.H98 Sở 2 (giả lập) (under 000.00.00.H98)\n"
        "  … and 3 more additions\n"
    )


def test_nothing_to_do_says_so() -> None:
    before = registry(TAY_NINH)
    planned = plan(read_csv(csv("code,name", "000.00.00.H53,UBND tỉnh Tây Ninh")), before)
    assert format_diff(planned, before) == "no changes; bad 0, unchanged 1, warnings 0\n"


# --- Scale -------------------------------------------------------------------------------------------


def national_scale_file() -> str:
    """111,000 codes: 60 provinces of 40 departments with 45 units each, and 9 level-4 units each."""
    lines = []
    for province in range(1, 61):
        top = f"H{province:02d}"
        lines.append(f"000.00.00.{top},UBND tỉnh {province} (giả lập)")
        for bb in range(1, 41):
            lines.append(f"000.00.{bb:02d}.{top},Sở {bb} (giả lập),000.00.00.{top}")
            lines += [f"000.{cc:02d}.{bb:02d}.{top},Đơn vị {cc} (giả lập),000.00.{bb:02d}.{top}" for cc in range(1, 46)]
        lines += [f"{ddd:03d}.01.01.{top},Tổ {ddd} (giả lập),000.01.01.{top}" for ddd in range(1, 10)]
    random.Random(102).shuffle(lines)  # children before parents, as a careless export would have them
    return csv("code,name,parent", *lines)


@pytest.mark.slow
def test_national_scale_file_plans_and_replans_against_a_national_scale_registry() -> None:
    text = national_scale_file()
    first = plan(read_csv(text), {})
    assert first.bad == ()
    assert first.summary()["create"] == 111_000
    national = apply(first, {})
    again = plan(read_csv(text.replace("Tổ 9 (giả lập),000.01.01.H60", "Tổ chín (giả lập),000.01.01.H60")), national)
    assert kinds(again) == [(ChangeKind.RENAME, "009.01.01.H60")]
    assert again.unchanged == 110_999
