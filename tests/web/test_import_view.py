"""The import page's words: every remark the planner can make has Vietnamese words, and so has
every reason a file is not read."""

from __future__ import annotations

import pytest

from axis.errors import AxisError
from axis.registry import importfile
from axis.registry.importer import Remark, plan, read_csv
from axis.web import import_view, messages


def test_every_kind_of_remark_has_vietnamese_words() -> None:
    assert set(import_view.REMARKS) == set(importfile.ENGLISH)


def test_reasons_and_remarks_of_a_dirty_file_read_in_vietnamese() -> None:
    text = (
        "code,name,code_qd20,in_charge,note\n"
        "000.00.00.h53,Tây Ninh,,x,\n"
        "000.00.11.H53,Sở Tài chính,H53..11,x,\n"
        "000.00.12.H53,Sở Tư pháp,,x,\n"
        "000.00.12.H53,Sở Tư pháp,,x,\n"
    )
    planned = plan(read_csv(text), {})
    said = {row.line: import_view.reasons(row) for row in (*planned.bad, *planned.warnings)}
    assert said == {
        1: "Bỏ qua các cột in_charge, note: trục không dùng các cột này.",
        2: "Mã định danh sai định dạng: chữ cái của mã cấp 1 viết thường.",
        3: "Mã QĐ 20/2020 sai định dạng: có nhóm trống (hai dấu chấm liền nhau).",
        4: "Cơ quan cấp trên 000.00.00.H53 không có trong danh bạ lẫn trong tệp.",
        5: "Trùng hoàn toàn với dòng 4; chỉ nhập một lần.",
    }


def test_a_decision_20_code_given_twice_names_its_holders_in_vietnamese() -> None:
    remark = Remark.of(
        "qd20_taken", qd20="H98", holders="000.00.00.H99 (line 6), 000.00.00.H53 (in the registry) and 2 more"
    )
    assert import_view.remark(remark) == (
        "Mã QĐ 20/2020 H98 cũng được gán cho 000.00.00.H99 (dòng 6), 000.00.00.H53 (trong danh bạ) và 2 cơ quan khác."
    )
    assert import_view.code_problem("character 'h' outside [.0-9A-Z]") == "có ký tự 'h' ngoài [.0-9A-Z]"
    assert import_view.code_problem("longer than 35 characters") == "dài quá 35 ký tự"


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b"", "Tệp không có dòng tiêu đề (code, name, …)."),
        (b"code,name,name\n", "Dòng tiêu đề có hai cột «name»."),
        (b"code;ten\n", "Dòng tiêu đề thiếu cột «name» (tệp có các cột: «code», «ten»)."),
        (b'code,name\n000.00.00.H53,"UBND\n', "Tệp không phải CSV hợp lệ (lỗi ở dòng 2)"),
        (b"code,name\n000.00.00.H53,S\x81\n", "Không đọc được bảng mã của tệp (dòng 2): nội dung không phải UTF-8"),
        ("code,name\n".encode("utf-16-le"), "có lẽ là UTF-16 thiếu BOM"),
    ],
)
def test_a_file_that_is_not_read_is_refused_in_vietnamese_for_its_own_reason(data: bytes, said: str) -> None:
    with pytest.raises(AxisError) as caught:
        read_csv(data)
    assert said in messages.refusal(caught.value)
