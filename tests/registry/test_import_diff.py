"""An administrator reads a dry run: every change by kind, the ones that alter what exists first,
and a warning when a provincial list would change agencies outside the province."""

from __future__ import annotations

from pathlib import Path

import pytest
from tayninh import RENAMED_BY_TAYNINH, TAYNINH

from axis.errors import AxisError
from axis.registry.diff import Group, format_diff, groups
from axis.registry.importer import ChangeKind, ImportPlan, outside_refusal, plan, read_csv
from axis.registry.model import Agency, AgencyStatus

SEEDS = Path(__file__).resolve().parents[2] / "axis" / "registry" / "agency_codes"
RETIRED = AgencyStatus.RETIRED


def registry(*agencies: Agency) -> dict[str, Agency]:
    return {agency.code: agency for agency in agencies}


def csv(*lines: str) -> str:
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def national() -> dict[str, Agency]:
    seed = plan(read_csv((SEEDS / "national.csv").read_bytes()), {})
    return {change.code: change.after for change in seed.changes}


@pytest.fixture(scope="module")
def tayninh(national: dict[str, Agency]) -> ImportPlan:
    if not TAYNINH.is_file():
        pytest.skip(f"real sample not present at {TAYNINH}")
    return plan(read_csv(TAYNINH.read_bytes()), national)


def test_the_tayninh_list_after_the_national_one_shows_all_eight_renames_first(
    tayninh: ImportPlan, national: dict[str, Agency]
) -> None:
    shown = groups(tayninh, national)
    assert [group for group, _ in shown] == [Group.RENAME, Group.CREATE]
    renames = shown[0][1]
    assert {i.code: (i.change.before.name if i.change.before else "", i.change.after.name) for i in renames} == (
        RENAMED_BY_TAYNINH
    )
    assert len(shown[1][1]) == 415
    text = format_diff(tayninh, national)  # the CLI's dry run: complete, renames before additions
    assert text.index("renames (8):") < text.index("additions (415):")
    for code, (old, new) in RENAMED_BY_TAYNINH.items():
        assert f"{code}: {old!r} → {new!r}" in text
    assert "more" not in text


def test_the_tayninh_list_mostly_covers_its_province_and_changes_seven_agencies_outside_it(
    tayninh: ImportPlan,
) -> None:
    assert tayninh.scope is not None
    assert tayninh.scope.root == "000.00.00.H53"
    assert tayninh.scope.within * 2 > tayninh.scope.total
    assert {c.code for c in tayninh.outside} == set(RENAMED_BY_TAYNINH) - {"000.00.00.H53"}
    assert all(c.kind is ChangeKind.RENAME for c in tayninh.outside)
    refusal = outside_refusal(tayninh, "--allow-outside")
    assert refusal.code == "registry.import.outside_scope"
    assert refusal.details["scope"] == "000.00.00.H53"
    assert "000.00.00.G18" in refusal.details["outside"]


def test_the_national_list_covers_no_single_subtree_and_warns_of_nothing(national: dict[str, Agency]) -> None:
    again = plan(read_csv((SEEDS / "national.csv").read_bytes()), {})
    assert again.scope is None
    assert again.outside == ()
    reverted = plan(read_csv((SEEDS / "national.csv").read_bytes()), national)
    assert reverted.changes == ()


def test_a_provincial_file_that_only_adds_elsewhere_is_not_flagged() -> None:
    before = registry(Agency("000.00.00.H53", "UBND tỉnh Tây Ninh"), Agency("000.00.00.G24", "BHXH Việt Nam"))
    text = csv(
        "code,name",
        "000.00.11.H53,Sở Tài chính",
        "000.00.12.H53,Sở Tư pháp",
        "000.00.80.G24,Bảo hiểm xã hội tỉnh Tây Ninh",
    )
    planned = plan(read_csv(text), before)
    assert planned.scope is not None
    assert planned.scope.root == "000.00.00.H53"
    assert planned.outside == ()


def test_groups_come_in_order_and_a_retirement_into_the_same_name_is_a_move() -> None:
    before = registry(
        Agency("000.00.00.H97", "Tỉnh Tây (giả lập)"),
        Agency("000.00.00.H98", "Tỉnh Bắc (giả lập)"),
        Agency("000.00.21.H97", "Sở Nội vụ Tây"),
        Agency("000.00.22.H97", "Sở Tư pháp Tây"),
        Agency("000.00.23.H97", "Sở Cũ", status=RETIRED, successor_code="000.00.00.H97"),
        Agency("000.00.24.H97", "Sở Khác", status=RETIRED),
    )
    text = csv(
        "code,name,code_qd20,status,successor",
        "000.00.31.H98,Sở Nội vụ Tây,,,",
        "000.00.21.H97,Sở Nội vụ Tây,,retired,000.00.31.H98",
        "000.00.22.H97,Sở Tư pháp Tây,,retired,000.00.00.H97",
        "000.00.23.H97,Sở Cũ,,retired,000.00.00.H98",
        "000.00.24.H97,Sở Khác,H97.24,active,",
        "000.00.00.H97,Tỉnh Tây (đổi tên),,,",
    )
    shown = groups(plan(read_csv(text), before), before)
    assert [(group, [i.code for i in items]) for group, items in shown] == [
        (Group.RENAME, ["000.00.00.H97"]),
        (Group.RETIRE, ["000.00.22.H97"]),
        (Group.MOVE, ["000.00.21.H97"]),
        (Group.SET_SUCCESSOR, ["000.00.23.H97"]),
        (Group.REACTIVATE, ["000.00.24.H97"]),
        (Group.SET_QD20, ["000.00.24.H97"]),
        (Group.CREATE, ["000.00.31.H98"]),
    ]
    move = shown[2][1][0]
    assert move.successor is not None
    assert move.successor.parent_code == "000.00.00.H98"
    successor_change = shown[3][1][0]
    assert successor_change.previous is not None
    assert successor_change.previous.name == "Tỉnh Tây (giả lập)"  # as it was: the old side of the change
    assert successor_change.successor is not None
    assert successor_change.successor.name == "Tỉnh Bắc (giả lập)"


def test_a_successor_that_is_retired_itself_is_accepted_with_a_warning_naming_where_documents_go() -> None:
    before = registry(
        Agency("000.00.00.H96", "Tỉnh mới (giả lập)"),
        Agency("000.00.00.H97", "Tỉnh cũ (giả lập)", status=RETIRED, successor_code="000.00.00.H96"),
        Agency("000.00.00.H95", "Tỉnh giải thể (giả lập)", status=RETIRED),
        Agency("000.00.00.H98", "Tỉnh A (giả lập)"),
        Agency("000.00.00.H99", "Tỉnh B (giả lập)"),
    )
    text = csv(
        "code,name,status,successor",
        "000.00.00.H98,Tỉnh A (giả lập),retired,000.00.00.H97",
        "000.00.00.H99,Tỉnh B (giả lập),retired,000.00.00.H95",
    )
    planned = plan(read_csv(text), before)
    assert planned.bad == ()
    assert [(w.line, w.code, w.remarks[0].kind, w.reason) for w in planned.warnings] == [
        (
            2,
            "000.00.00.H98",
            "successor_retired",
            "successor 000.00.00.H97 is retired itself; documents go on to 000.00.00.H96",
        ),
        (
            3,
            "000.00.00.H99",
            "successor_dead_end",
            "successor 000.00.00.H95 is retired itself, and its chain ends at 000.00.00.H95, without successor",
        ),
    ]


def test_the_outside_refusal_names_the_changes_it_refuses() -> None:
    before = registry(Agency("000.00.00.H53", "UBND tỉnh Tây Ninh"), Agency("000.00.00.G18", "Bộ Y tế"))
    text = csv("code,name", "000.00.11.H53,Sở Tài chính", "000.00.12.H53,Sở Tư pháp", "000.00.00.G18,Bộ Y Tế")
    planned = plan(read_csv(text), before)
    assert [c.code for c in planned.outside] == ["000.00.00.G18"]
    with pytest.raises(AxisError) as caught:
        raise outside_refusal(planned, "--allow-outside")
    assert "000.00.00.G18" in caught.value.message
    assert "--allow-outside" in caught.value.message
    assert "OUTSIDE THE FILE'S SUBTREE" in format_diff(planned, before)
    assert "000.00.00.G18: 'Bộ Y tế' → 'Bộ Y Tế'  [outside the file's subtree]" in format_diff(planned, before)
