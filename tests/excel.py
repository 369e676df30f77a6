"""How Excel saves a list of agencies: the byte forms the import must read (tests only)."""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
from collections.abc import Callable, Sequence

TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def windows_1258(text: str) -> bytes:
    """`text` as Excel writes it in Windows-1258: letters with their vowel marks (â, ơ, ư …) kept
    whole, the five tone marks as combining characters after them. Windows writes the look-alike
    Icelandic eth "Ð" (the real Tây Ninh list has one) as the Vietnamese "Đ", the code page's
    nearest letter."""
    out = []
    for character in unicodedata.normalize("NFC", text.replace("Ð", "Đ")):
        parts = unicodedata.normalize("NFD", character)
        tones = "".join(p for p in parts if p in TONES)
        base = unicodedata.normalize("NFC", "".join(p for p in parts if p not in TONES))
        out.append(base + tones)
    return "".join(out).encode("cp1258")


def table(rows: Sequence[Sequence[str]], delimiter: str) -> str:
    """The rows (header first) as CSV text with `delimiter`, CRLF line ends, as Excel writes them."""
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


#: Excel's ways of saving a sheet: name → (rows → bytes, the encoding and separator the import reports).
FORMS: dict[str, tuple[Callable[[Sequence[Sequence[str]]], bytes], str, str]] = {
    "comma UTF-8": (lambda rows: table(rows, ",").encode("utf-8"), "UTF-8", ","),
    "semicolon UTF-8 with BOM": (
        lambda rows: codecs.BOM_UTF8 + table(rows, ";").encode("utf-8"),
        "UTF-8 (BOM)",
        ";",
    ),
    "UTF-16 tab Unicode text": (
        lambda rows: codecs.BOM_UTF16_LE + table(rows, "\t").encode("utf-16-le"),
        "UTF-16",
        "\t",
    ),
    "UTF-16 big-endian tab": (
        lambda rows: codecs.BOM_UTF16_BE + table(rows, "\t").encode("utf-16-be"),
        "UTF-16",
        "\t",
    ),
    "semicolon Windows-1258": (lambda rows: windows_1258(table(rows, ";")), "Windows-1258", ";"),
    "comma Windows-1258": (lambda rows: windows_1258(table(rows, ",")), "Windows-1258", ","),
}
