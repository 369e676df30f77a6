"""Accent-insensitive search keys: a clerk types without diacritics and still finds the agency."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from axis.registry.folding import fold, words


def test_provincial_committee_name_folds_to_plain_letters() -> None:
    assert fold("Ủy ban nhân dân Tỉnh Tây Ninh") == "uy ban nhan dan tinh tay ninh"


@pytest.mark.parametrize(
    ("accented", "plain"),
    [
        # The six tones (ngang, huyền, sắc, hỏi, ngã, nặng) on one vowel.
        ("a à á ả ã ạ", "a a a a a a"),
        # Every vowel with its diacritics (circumflex, breve, horn), each with a tone.
        ("ầ ẩ ẫ ấ ậ ằ ẳ ẵ ắ ặ", "a a a a a a a a a a"),
        ("è é ẻ ẽ ẹ ề ể ễ ế ệ", "e e e e e e e e e e"),
        ("ì í ỉ ĩ ị", "i i i i i"),
        ("ò ó ỏ õ ọ ồ ổ ỗ ố ộ ờ ở ỡ ớ ợ", "o o o o o o o o o o o o o o o"),
        ("ù ú ủ ũ ụ ừ ử ữ ứ ự", "u u u u u u u u u u"),
        ("ỳ ý ỷ ỹ ỵ", "y y y y y"),
        ("Sở Tài chính", "so tai chinh"),
        ("Bộ Nội vụ", "bo noi vu"),
        ("Thành phố Hồ Chí Minh", "thanh pho ho chi minh"),
        ("Tỉnh Nghệ An", "tinh nghe an"),
    ],
)
def test_every_tone_and_diacritic_is_dropped(accented: str, plain: str) -> None:
    assert fold(accented) == plain


def test_barred_d_becomes_d_in_both_cases() -> None:
    assert fold("Đắk Lắk") == "dak lak"
    assert fold("Sở Giáo dục và Đào tạo") == "so giao duc va dao tao"
    assert fold("ĐỒNG THÁP đồng tháp") == "dong thap dong thap"


def test_eth_typed_for_barred_d_folds_the_same() -> None:
    assert fold("Ðà Nẵng") == fold("Đà Nẵng") == "da nang"


def test_upper_case_names_fold_like_lower_case_ones() -> None:
    assert fold("ỦY BAN NHÂN DÂN TỈNH TÂY NINH") == fold("Ủy ban nhân dân Tỉnh Tây Ninh")


def test_composed_and_decomposed_spellings_fold_the_same() -> None:
    name = "Ủy ban nhân dân Tỉnh Tây Ninh"
    assert fold(unicodedata.normalize("NFD", name)) == fold(unicodedata.normalize("NFC", name))


def test_whitespace_is_collapsed_and_trimmed() -> None:
    assert fold("  Sở\tTài   chính\n") == "so tai chinh"
    assert fold("") == ""
    assert fold(" \u00a0 ") == ""


def test_query_words_are_folded() -> None:
    assert words("  uỷ ban  TÂY ninh ") == ["uy", "ban", "tay", "ninh"]
    assert words("") == []


def test_every_query_word_is_found_in_the_folded_name() -> None:
    name = fold("Ủy ban nhân dân Tỉnh Tây Ninh")
    assert all(word in name for word in words("tây NINH ủy ban"))


@given(st.text())
def test_folding_is_idempotent_and_agrees_with_words(text: str) -> None:
    folded = fold(text)
    assert fold(folded) == folded
    assert words(text) == folded.split()
