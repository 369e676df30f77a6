"""An administrator imports the list as Excel saved it: whichever of Excel's CSV forms, the same rows.

Excel writes "CSV UTF-8" (UTF-8 with a byte order mark), "CSV" in the Windows code page (Windows-1258
under Vietnamese settings, which writes most tone marks as combining characters) separated by the
list separator (a semicolon where the comma is the decimal mark), and "Unicode text" (UTF-16 with
its byte order mark, tab-separated). A file in none of these is refused as an encoding problem.
"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata

import pytest
from excel import FORMS, windows_1258
from tayninh import TAYNINH

from axis.errors import AxisError
from axis.registry.importer import Row, plan, read_csv

NAMES = [
    ("000.00.00.H53", "Ủy ban nhân dân tỉnh Tây Ninh"),
    ("000.00.11.H53", "Sở Tài chính"),
    ("000.00.16.H53", "Sở Văn hóa, Thể thao và Du lịch"),  # a comma inside the name
    ("000.01.16.H53", "Thư viện tỉnh “Tây Ninh” – Phòng đọc"),  # typographic quotes and a dash
    ("000.00.32.H53", "UBND huyện Châu Thành; Phường Ninh Sơn"),  # a semicolon inside the name
]


def data_of(form: str, rows: list[tuple[str, str]]) -> bytes:
    return FORMS[form][0]([("code", "name"), *rows])


@pytest.mark.parametrize("form", FORMS)
def test_every_form_excel_saves_reads_to_the_same_rows_in_nfc(form: str) -> None:
    data = data_of(form, NAMES)
    rows = read_csv(data, source=f"{form}.csv")
    assert rows == [Row(line, code, name) for line, (code, name) in enumerate(NAMES, start=2)]
    assert all(unicodedata.is_normalized("NFC", row.name) for row in rows)
    assert (rows.encoding, rows.delimiter) == FORMS[form][1:]


def test_windows_1258_really_writes_tone_marks_apart_and_they_come_back_composed() -> None:
    data = windows_1258("code,name\n000.00.18.H53,Sở Y tế\n")
    assert b"\xec" in data  # "ế" is "ê" (0xEA) and a combining acute accent (0xEC)
    (row,) = read_csv(data)
    assert row.name == "Sở Y tế"
    assert len(row.name) == len("Sở Y tế")


@pytest.mark.parametrize("form", FORMS)
def test_the_real_provincial_list_plans_alike_in_every_form_excel_saves(form: str) -> None:
    if not TAYNINH.is_file():
        pytest.skip(f"real sample not present at {TAYNINH}")
    original = TAYNINH.read_text(encoding="utf-8")
    data = FORMS[form][0](list(csv.reader(io.StringIO(original))))
    if FORMS[form][1] == "Windows-1258":
        original = original.replace("Ð", "Đ")  # as Windows writes it (see excel.windows_1258)
    expected = plan(read_csv(original), {})
    planned = plan(read_csv(data), {})
    assert planned.changes == expected.changes
    assert [(b.line, b.code) for b in planned.bad] == [(b.line, b.code) for b in expected.bad]


@pytest.mark.parametrize(
    ("data", "problem", "line"),
    [
        # Latin-1 "Phòng": 0xF2 is a combining dot below in Windows-1258, under an "h": not Vietnamese
        (b"code,name\n000.00.00.H53,Ph\xf2ng\n", "unknown", 2),
        # 0x81 means nothing in Windows-1258
        (b"code,name\n000.00.00.H53,Tay\n000.00.11.H53,S\x81\n", "unknown", 3),
        # German in Windows-1252: a letter Vietnamese does not have
        ("code,name\n000.00.00.H53,Straße\n".encode("cp1252"), "unknown", 2),
        # UTF-16 saved without its byte order mark
        ("code,name\n000.00.00.H53,Tây Ninh\n".encode("utf-16-le"), "utf16_without_bom", 1),
        # a UTF-8 byte order mark, then bytes that are not UTF-8
        (codecs.BOM_UTF8 + b"code,name\n000.00.00.H53,T\xe2y\n", "invalid", 2),
    ],
)
def test_bytes_in_no_encoding_read_are_refused_as_an_encoding_problem(data: bytes, problem: str, line: int) -> None:
    with pytest.raises(AxisError) as caught:
        read_csv(data, source="units.csv")
    assert caught.value.code == "registry.import.encoding"
    assert caught.value.details["problem"] == problem
    assert caught.value.details["line"] == line
    assert caught.value.message.startswith("units.csv: ")


def test_a_semicolon_file_without_the_required_columns_lists_its_own_columns() -> None:
    with pytest.raises(AxisError) as caught:
        read_csv("ma;ten\n000.00.00.H53;Tây Ninh\n".encode())
    assert caught.value.code == "registry.import.format"
    assert caught.value.details["header"] == ["ma", "ten"]
