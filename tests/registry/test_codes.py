"""Agency identifier codes: the QCVN 102 hierarchy, Decision 20/2020 codes, and the seed files."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from axis.errors import AxisError
from axis.registry.codes import (
    AgencyCode,
    is_valid,
    load_letters,
    parent_of,
    parse,
    problem,
    qd20_parent,
    qd20_problem,
)

SEEDS = Path(__file__).resolve().parents[2] / "axis" / "registry" / "agency_codes"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "domain"
TAYNINH = SHARED / "samples" / "tayninh_agency_codes_qcvn102.csv"


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return list(csv.DictReader(stream))


# --- The hierarchy, with the examples of EDXML.md §1 -------------------------------------------------


def test_provincial_peoples_committee_is_level_1_without_parent() -> None:
    code = parse("000.00.00.H53")
    assert code.level == 1
    assert code.level1 == "H53"
    assert code.groups == (0, 0, 0)
    assert code.parent is None
    assert code.ancestors() == ()
    assert parent_of("000.00.00.H53") is None


def test_department_is_level_2_under_the_province() -> None:
    code = parse("000.00.11.H53")
    assert code.level == 2
    assert code.groups == (11, 0, 0)
    assert parent_of("000.00.11.H53") == "000.00.00.H53"


def test_commune_parent_is_its_district() -> None:
    code = parse("000.21.31.H53")
    assert code.level == 3
    assert code.groups == (31, 21, 0)
    assert parent_of("000.21.31.H53") == "000.00.31.H53"


def test_level_4_centre_parent_is_its_level_3_unit() -> None:
    code = parse("001.01.07.H53")
    assert code.level == 4
    assert code.groups == (7, 1, 1)
    assert parent_of("001.01.07.H53") == "000.01.07.H53"


def test_ancestors_run_nearest_first_up_to_level_1() -> None:
    ancestors = parse("001.01.07.H53").ancestors()
    assert [a.text for a in ancestors] == ["000.01.07.H53", "000.00.07.H53", "000.00.00.H53"]
    assert [a.level for a in ancestors] == [3, 2, 1]


def test_a_code_is_within_itself_and_its_ancestors() -> None:
    centre = parse("001.01.07.H53")
    assert centre.is_within(centre)
    for ancestor in centre.ancestors():
        assert centre.is_within(ancestor)
        assert not ancestor.is_within(centre)


def test_a_code_is_not_within_a_sibling_or_another_province() -> None:
    commune = parse("000.21.31.H53")
    assert not commune.is_within(parse("000.00.32.H53"))  # another district
    assert not commune.is_within(parse("000.22.31.H53"))  # a sibling commune
    assert not commune.is_within(parse("000.00.00.H41"))  # another province
    assert not commune.is_within(parse("000.00.31.H41"))  # same number, other province


def test_parsed_codes_are_values_that_can_key_a_dictionary() -> None:
    by_code = {parse("000.00.11.H53"): "Sở Tài chính"}
    assert by_code[parse(" 000.00.11.H53 ")] == "Sở Tài chính"
    assert parse("000.00.11.H53").parent == parse("000.00.00.H53")
    assert str(parse("000.00.11.H53")) == "000.00.11.H53"


def test_surrounding_whitespace_is_ignored() -> None:
    assert parse("  000.00.11.H53\t\n").text == "000.00.11.H53"
    assert is_valid(" 000.00.11.H53 ")
    assert problem(" 000.00.11.H53 ") is None


# --- Malformed codes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("001.00.05.G01", "level 4 set below an unused level 3"),
        ("000.05.00.H53", "level 3 set below an unused level 2"),
        ("001.05.00.H53", "level 3 set below an unused level 2"),
        ("99.99.99.G21", "not of the form DDD.CC.BB.LNN"),
        ("000.1137.H53", "not of the form DDD.CC.BB.LNN"),
        ("000.00.11.h53", "lower-case level-1 letter"),
        ("", "empty"),
        ("   ", "empty"),
        ("000.00.11.H53.", "not of the form DDD.CC.BB.LNN"),
        ("000.00.11.H5", "not of the form DDD.CC.BB.LNN"),
        ("000.00.11.H53\n000", "not of the form DDD.CC.BB.LNN"),
        ("000.00.١١.H53", "not of the form DDD.CC.BB.LNN"),  # Arabic-Indic digits
        ("G09.20", "not of the form DDD.CC.BB.LNN"),  # the Decision 20/2020 form
    ],
)
def test_malformed_code_is_refused_with_its_reason(text: str, reason: str) -> None:
    assert problem(text) == reason
    assert not is_valid(text)
    with pytest.raises(AxisError) as refused:
        parse(text)
    assert refused.value.code == "agency_code.malformed"
    assert refused.value.details == {"agency_code": text, "reason": reason, "form": "QCVN 102"}


def test_parent_of_a_malformed_code_is_refused_not_guessed() -> None:
    with pytest.raises(AxisError, match=r"agency_code\.malformed"):
        parent_of("001.00.05.G01")


def test_legacy_test_code_777_77_04_d77_is_well_formed_level_4() -> None:
    # EDXML.md lists it among circulating test codes, but its form breaks no rule: every level is
    # set and D (Supreme Court) is a listed letter. Only the registry can tell that nobody owns it.
    code = parse("777.77.04.D77")
    assert problem("777.77.04.D77") is None
    assert code.level == 4
    assert [a.text for a in code.ancestors()] == ["000.77.04.D77", "000.00.04.D77", "000.00.00.D77"]


# --- Property: every generated valid code has a valid parent one level up ------------------------------


@st.composite
def valid_codes(draw: st.DrawFn) -> str:
    letter = draw(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    number = draw(st.integers(0, 99))
    level = draw(st.integers(1, 4))
    bb = draw(st.integers(1, 99)) if level >= 2 else 0
    cc = draw(st.integers(1, 99)) if level >= 3 else 0
    ddd = draw(st.integers(1, 999)) if level >= 4 else 0
    return f"{ddd:03d}.{cc:02d}.{bb:02d}.{letter}{number:02d}"


@given(valid_codes())
def test_every_valid_code_has_a_valid_parent_one_level_up(text: str) -> None:
    code = parse(text)
    assert code.text == text
    parent = code.parent
    if code.level == 1:
        assert parent is None
        return
    assert parent is not None
    assert is_valid(parent.text)
    assert parse(parent.text) == parent
    assert parent.level == code.level - 1
    assert code.is_within(parent)
    assert not parent.is_within(code)
    assert code.ancestors()[0] == parent
    assert len(code.ancestors()) == code.level - 1


# --- Decision 20/2020 form ---------------------------------------------------------------------------


def test_qd20_code_parent_drops_the_last_group() -> None:
    assert qd20_problem("G09.20") is None
    assert qd20_parent("G09.20") == "G09"
    assert qd20_parent("H53.10.21.05") == "H53.10.21"


def test_qd20_level_1_code_has_no_parent() -> None:
    assert qd20_problem("G09") is None
    assert qd20_parent("G09") is None


def test_qd20_code_of_exactly_35_characters_is_accepted() -> None:
    text = "G09." + "1" * 31
    assert len(text) == 35
    assert qd20_problem(text) is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("G09." + "1" * 32, "longer than 35 characters"),
        ("g09.20", "character 'g' outside [.0-9A-Z]"),
        ("G09-20", "character '-' outside [.0-9A-Z]"),
        ("G09.Đ1", "character 'Đ' outside [.0-9A-Z]"),
        ("G09..20", "empty group"),
        (".G09", "empty group"),
        ("G09.", "empty group"),
    ],
)
def test_malformed_qd20_code_is_refused_with_its_reason(text: str, reason: str) -> None:
    assert qd20_problem(text) == reason
    with pytest.raises(AxisError) as refused:
        qd20_parent(text)
    assert refused.value.code == "agency_code.malformed"
    assert refused.value.details == {"agency_code": text, "reason": reason, "form": "QD20"}


# --- Seed files ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["national.csv", "fictitious.csv"])
def test_seed_file_codes_all_parse_and_every_parent_is_present(name: str) -> None:
    rows = read_rows(SEEDS / name)
    assert rows, f"{name} is empty"
    codes = [row["code"] for row in rows]
    assert len(codes) == len(set(codes)), f"{name} lists a code twice"
    for row in rows:
        assert problem(row["code"]) is None, row
        assert row["code"] == row["code"].strip(), row
        assert row["name"].strip(), row
        assert (row["parent"] or None) == parent_of(row["code"]), row
        if row["parent"]:
            assert row["parent"] in codes, f"parent of {row['code']} missing from {name}"
        if row["code_qd20"]:
            assert qd20_problem(row["code_qd20"]) is None, row


def test_fictitious_agencies_use_level_1_codes_not_in_the_national_list() -> None:
    national_roots = {parse(row["code"]).level1 for row in read_rows(SEEDS / "national.csv")}
    fictitious = read_rows(SEEDS / "fictitious.csv")
    assert {parse(row["code"]).level1 for row in fictitious} == {"H98", "H99", "G98"}
    assert not national_roots & {"H98", "H99", "G98"}
    assert all(row["name"].endswith("(giả lập)") for row in fictitious)
    assert {parse(row["code"]).level for row in fictitious} == {1, 2, 3, 4}


def test_national_seed_holds_every_code_of_the_shared_public_list() -> None:
    shared = SHARED / "agency_codes.csv"
    if not shared.exists():
        pytest.skip(f"{shared} is not available")
    ours = {row["code"]: row["name"] for row in read_rows(SEEDS / "national.csv")}
    for row in read_rows(shared):
        assert ours.get(row["code"]) == row["name"], row


def test_level_1_letters_are_a_to_k_as_data() -> None:
    letters = load_letters()
    assert sorted(letters) == list("ABCDEFGHIJK")
    assert letters["H"].startswith("Provincial People's Committees")
    confirmed = {row["letter"] for row in read_rows(SEEDS / "level1_letters.csv") if row["confirmed"] == "yes"}
    assert confirmed == {"A", "G", "H", "I", "K"}


def test_letters_file_with_a_repeated_letter_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "letters.csv"
    bad.write_text("letter,meaning,confirmed\nG,Ministries,yes\nG,Again,no\n", encoding="utf-8")
    with pytest.raises(ValueError, match="listed twice"):
        load_letters(bad)


# --- A real province's registry ------------------------------------------------------------------------


def test_tay_ninh_registry_has_exactly_one_malformed_code() -> None:
    if not TAYNINH.exists():
        pytest.skip(f"{TAYNINH} is not available")
    rows = read_rows(TAYNINH)
    malformed = [(row["code"], problem(row["code"])) for row in rows if not is_valid(row["code"])]
    assert malformed == [("000.1137.H53", "not of the form DDD.CC.BB.LNN")]
    parsed = {parse(row["code"]) for row in rows if is_valid(row["code"])}
    assert len(parsed) == 454 - 7  # seven codes are listed twice under different names
    # The registry is closed under "parent": every unit's parent is itself listed.
    assert all(code.parent is None or code.parent in parsed for code in parsed)


def test_agency_code_is_immutable() -> None:
    code = parse("000.00.11.H53")
    with pytest.raises(AttributeError):
        code.text = "000.00.00.H53"  # type: ignore[misc]
    assert isinstance(code, AgencyCode)


@given(st.one_of(st.from_regex(r"\A\s?\d{3}\.\d{2}\.\d{2}\.[A-Za-z]\d{2}\s?\Z"), st.text(max_size=20)))
def test_parse_accepts_exactly_what_problem_finds_no_fault_with(text: str) -> None:
    reason = problem(text)
    if reason is None:
        assert parse(text).text == text.strip()
    else:
        with pytest.raises(AxisError) as refused:
            parse(text)
        assert refused.value.details["reason"] == reason
