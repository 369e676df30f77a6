"""The import dry run as the page shows it: in Vietnamese, every change grouped by kind.

The planner's remarks (`axis.registry.importfile.Remark`) carry a kind and values; here they
become Vietnamese sentences, as do the refusals of a file that cannot be read. The page never
shows the CLI's English text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from axis.registry import diff
from axis.registry.importer import BadRow, ImportPlan, Remark, Rows
from axis.registry.model import Agency

#: The summary's lines, in the order shown: changes to what exists first, as in the groups.
SUMMARY = {
    "rename": "Đổi tên",
    "retire": "Giải thể",
    "set_successor": "Đặt cơ quan kế thừa",
    "reactivate": "Khôi phục",
    "set_qd20": "Đặt mã QĐ 20/2020",
    "create": "Thêm mới",
    "bad": "Dòng lỗi",
    "unchanged": "Không đổi",
}
GROUPS = {
    diff.Group.RENAME: "Đổi tên",
    diff.Group.RETIRE: "Giải thể",
    diff.Group.MOVE: "Chuyển mã (giải thể, kế thừa bởi mã mới cùng tên)",
    diff.Group.SET_SUCCESSOR: "Đổi cơ quan kế thừa",
    diff.Group.REACTIVATE: "Khôi phục hoạt động",
    diff.Group.SET_QD20: "Mã QĐ 20/2020",
    diff.Group.CREATE: "Thêm mới",
}
ENCODINGS = {
    "UTF-8": "UTF-8",
    "UTF-8 (BOM)": "UTF-8 (có BOM)",
    "UTF-16": "UTF-16 (“Unicode text” của Excel)",
    "Windows-1258": "Windows-1258 (bảng mã tiếng Việt của Windows)",
}
DELIMITERS = {",": "dấu phẩy", ";": "dấu chấm phẩy", "\t": "ký tự tab"}
#: Additions listed on the page at most. Every other change is always listed in full; a national
#: list of 111,000 new agencies would make a 30 MB page that takes seconds to render on the event
#: loop, so beyond this the page says how many more there are (``axis agencies import --dry-run``
#: lists them all).
ADDITIONS_SHOWN = 20_000
_FIELDS = {
    "names": "tên",
    "parent": "cơ quan cấp trên",
    "code_qd20": "mã QĐ 20/2020",
    "status": "trạng thái",
    "successor": "cơ quan kế thừa",
    "problems": "lỗi",
}
_ROLES = {"parent": "Cơ quan cấp trên", "successor": "Cơ quan kế thừa"}
REMARKS = {
    "column_ignored": "Bỏ qua cột {columns}: trục không dùng cột này.",
    "columns_ignored": "Bỏ qua các cột {columns}: trục không dùng các cột này.",
    "too_many_fields": (
        "Dòng có {count} trường nhưng dòng tiêu đề chỉ có {width} cột (thường do dấu phân cách nằm trong "
        "tên mà tên không được đặt trong ngoặc kép)."
    ),
    "status_unknown": "Trạng thái “{status}” không phải active (đang hoạt động) hay retired (đã giải thể).",
    "code_whitespace": "Mã định danh sai định dạng: có khoảng trắng ở đầu hoặc cuối.",
    "code_malformed": "Mã định danh sai định dạng: {reason}.",
    "parent_contradicts": "Cột parent ghi {given} nhưng theo mã thì cơ quan cấp trên là {implied}.",
    "parent_of_level1": "Cột parent ghi {given} nhưng mã cấp 1 không có cơ quan cấp trên.",
    "name_empty": "Tên cơ quan để trống.",
    "qd20_malformed": "Mã QĐ 20/2020 sai định dạng: {reason}.",
    "successor_malformed": "Mã cơ quan kế thừa sai định dạng: {reason}.",
    "successor_self": "Cơ quan kế thừa là chính cơ quan này.",
    "successor_while_active": "Có cơ quan kế thừa nhưng trạng thái là đang hoạt động.",
    "listed_differently": "Mã xuất hiện {count} lần với {fields} khác nhau (dòng {lines}).",
    "duplicate_kept": "Trùng hoàn toàn với dòng {line}; chỉ nhập một lần.",
    "link_missing": "{role} {link} không có trong danh bạ lẫn trong tệp.",
    "link_bad": "{role} {link} chưa có trong danh bạ và chính dòng của nó bị lỗi (dòng {lines}).",
    "qd20_taken": "Mã QĐ 20/2020 {qd20} cũng được gán cho {holders}.",
    "successor_loop": "Chuỗi cơ quan kế thừa tạo thành vòng lặp: {chain}.",
    "successor_retired": "Cơ quan kế thừa {successor} cũng đã giải thể; văn bản sẽ chuyển tiếp tới {end}.",
    "successor_dead_end": (
        "Cơ quan kế thừa {successor} cũng đã giải thể, và chuỗi kế thừa dừng ở {end}, cơ quan đã giải thể "
        "không có cơ quan kế thừa: văn bản gửi tới sẽ bị từ chối."
    ),
}
_CODE_PROBLEMS = {
    "empty": "để trống",
    "lower-case level-1 letter": "chữ cái của mã cấp 1 viết thường",
    "not of the form DDD.CC.BB.LNN": "không theo dạng DDD.CC.BB.LNN",
    "level 3 set below an unused level 2": "có cấp 3 nhưng cấp 2 để 00",
    "level 4 set below an unused level 3": "có cấp 4 nhưng cấp 3 để 00",
    "empty group": "có nhóm trống (hai dấu chấm liền nhau)",
}
_LONGER = re.compile(r"^longer than (\d+) characters$")
_CHARACTER = re.compile(r"^character (.+) outside \[\.0-9A-Z\]$")


def code_problem(reason: str) -> str:
    """`axis.registry.codes.problem`'s and ``qd20_problem``'s reasons in Vietnamese."""
    if reason in _CODE_PROBLEMS:
        return _CODE_PROBLEMS[reason]
    if match := _LONGER.match(reason):
        return f"dài quá {match.group(1)} ký tự"
    if match := _CHARACTER.match(reason):
        return f"có ký tự {match.group(1)} ngoài [.0-9A-Z]"
    return reason


def remark(item: Remark) -> str:
    """One remark of the planner in Vietnamese."""
    values = dict(item.values)
    if "reason" in values:
        values["reason"] = code_problem(values["reason"])
    if "fields" in values:
        values["fields"] = ", ".join(_FIELDS.get(f, f) for f in values["fields"].split(", "))
    if "role" in values:
        values["role"] = _ROLES.get(values["role"], values["role"])
    if "holders" in values:
        holders = re.sub(r"\(line (\d+)\)", r"(dòng \1)", values["holders"])
        holders = holders.replace("(in the registry)", "(trong danh bạ)")
        values["holders"] = re.sub(r" and (\d+) more$", r" và \1 cơ quan khác", holders)
    template = REMARKS.get(item.kind)
    return template.format(**values) if template else item.english


def reasons(row: BadRow) -> str:
    return " ".join(remark(r) for r in row.remarks)


def context(
    plan: ImportPlan, rows: Rows, existing: Mapping[str, Agency], *, draft: str, filename: str, partial: bool
) -> dict[str, Any]:
    """What import.html shows of a plan."""
    summary = plan.summary()
    shown = diff.groups(plan, existing)
    scope = plan.scope
    root = existing.get(scope.root) if scope else None
    for change in plan.changes:  # a root the same file creates
        if scope and change.code == scope.root:
            root = change.after
    return {
        "draft": draft,
        "filename": filename,
        "partial": partial,
        "encoding": ENCODINGS.get(rows.encoding, rows.encoding),
        "delimiter": DELIMITERS.get(rows.delimiter, rows.delimiter),
        "summary": [(label, summary[kind]) for kind, label in SUMMARY.items()],
        "labels": SUMMARY,
        "changes": len(plan.changes),
        "bad": [(b, reasons(b)) for b in plan.bad],
        "warnings": [(w, reasons(w)) for w in plan.warnings],
        # What changes existing agencies comes first, then the remarks, then the (long) additions.
        "groups": [(g.value, GROUPS[g], items) for g, items in shown if g is not diff.Group.CREATE],
        "additions": [(g.value, GROUPS[g], items[:ADDITIONS_SHOWN]) for g, items in shown if g is diff.Group.CREATE],
        "additions_total": summary["create"],
        "additions_shown": ADDITIONS_SHOWN,
        "scope": scope,
        "scope_name": root.name if root else "",
        "outside": plan.outside,
        "blocked": bool(plan.bad) and not partial,
    }
