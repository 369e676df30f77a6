"""Accent-insensitive search keys for Vietnamese names.

Clerks search for "uy ban tay ninh" and expect "Ủy ban nhân dân Tỉnh Tây Ninh": a folded key drops
tone marks and vowel diacritics, maps đ to d, lower-cases and collapses whitespace, so the query
and the stored name meet in plain ASCII-like text.
"""

from __future__ import annotations

import sys
import unicodedata

# NFD splits every Vietnamese letter into a base letter and combining marks (tone marks and the
# circumflex, breve and horn); they are dropped by one str.translate. Đ/đ do not decompose (the bar
# is part of the letter), so they are mapped by hand, as is Ð/ð (U+00D0/U+00F0, Icelandic eth),
# which looks identical and is often typed for Đ.
_COMBINING_BLOCKS = ((0x0300, 0x0370), (0x1AB0, 0x1B00), (0x1DC0, 0x1E00), (0x20D0, 0x2100), (0xFE20, 0xFE30))
_TABLE: dict[int, str | None] = {
    point: None
    for start, end in _COMBINING_BLOCKS
    for point in range(start, min(end, sys.maxunicode + 1))
    if unicodedata.combining(chr(point))
}
_TABLE.update({ord(letter): "d" for letter in "đĐðÐ"})


def fold(text: str) -> str:
    """The search key of `text`: no diacritics, đ as d, lower case, single spaces, trimmed.

    ``fold("Ủy ban nhân dân Tỉnh Tây Ninh") == "uy ban nhan dan tinh tay ninh"``.
    """
    if not text.isascii():
        text = unicodedata.normalize("NFD", text).translate(_TABLE)
    return " ".join(text.lower().split())


def words(text: str) -> list[str]:
    """The folded words of `text`, for matching every word of a query; empty for blank text."""
    if not text.isascii():
        text = unicodedata.normalize("NFD", text).translate(_TABLE)
    return text.lower().split()
