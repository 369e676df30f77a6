"""An administrator or a clerk types part of a name, or of a code, and finds the agency they meant
first — on the real Tây Ninh list, read from ../shared (skipped when absent)."""

from __future__ import annotations

import csv

import pytest
from tayninh import TAYNINH

from axis.registry.finder import Finder
from axis.registry.model import Agency, AgencyStatus, Snapshot


def snapshot(*agencies: Agency) -> Snapshot:
    return Snapshot(version=1, agencies={a.code: a for a in agencies})


@pytest.fixture(scope="module")
def tayninh() -> Finder:
    if not TAYNINH.is_file():
        pytest.skip(f"the Tây Ninh list is not present at {TAYNINH}")
    with TAYNINH.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    found: dict[str, Agency] = {}
    for row in rows:  # the list's dirty rows: a code listed twice keeps its first name
        found.setdefault(row["code"], Agency(row["code"], row["name"]))
    return Finder(Snapshot(version=1, agencies=found))


def names(agencies: list[Agency], first: int = 3) -> list[str]:
    return [a.name for a in agencies[:first]]


def test_the_commune_typed_without_accents_comes_first(tayninh: Finder) -> None:
    found = tayninh.search("xa an binh")
    assert found[0].name == "UBND Xã An Bình huyện Châu Thành"
    assert "UBND Xã Tân Bình huyện Tân Biên" in [a.name for a in found]  # "an binh" inside "tan binh": later


def test_words_match_across_an_agency_and_the_agencies_above_it(tayninh: Finder) -> None:
    found = tayninh.search("so tai chinh tay ninh")
    assert found[0].code == "000.00.11.H53"  # Sở Tài chính, under UBND Tỉnh Tây Ninh
    assert tayninh.search("tay ninh")[0].name == "UBND Tỉnh Tây Ninh"


def test_a_code_or_its_start_finds_codes_and_a_name_word_that_looks_like_one_finds_names(tayninh: Finder) -> None:
    assert [a.code for a in tayninh.search("000.00.11")] == ["000.00.11.G14", "000.00.11.H53"]
    assert tayninh.search("H53")[0].code == "000.00.00.H53"
    assert all(a.name.upper().startswith("UBND") or "UBND" in a.name.upper() for a in tayninh.search("UBND")[:20])


def test_exact_names_rank_first_and_retired_agencies_last() -> None:
    finder = Finder(
        snapshot(
            Agency("000.00.00.H98", "UBND Tỉnh Thử Nghiệm"),
            Agency("000.00.11.H98", "Sở Tài chính Mới", "000.00.00.H98"),
            Agency("000.00.12.H98", "Sở Tài chính", "000.00.00.H98"),
            Agency("000.00.13.H98", "Sở Tài chính", "000.00.00.H98", AgencyStatus.RETIRED, "000.00.12.H98"),
        )
    )
    assert [a.code for a in finder.search("so tai chinh")] == ["000.00.12.H98", "000.00.13.H98", "000.00.11.H98"]
    assert [a.code for a in finder.search("so tai chinh", include_retired=False)] == [
        "000.00.12.H98",
        "000.00.11.H98",
    ]
    assert [a.code for a in finder.search("", under="000.00.00.H98")] == [
        "000.00.00.H98",
        "000.00.11.H98",
        "000.00.12.H98",
        "000.00.13.H98",
    ]
    assert finder.search("khong co") == []
