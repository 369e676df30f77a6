"""The clerk's document list as a CSV file: the register of documents sent and received (sổ văn
bản đi, sổ văn bản đến) that an agency's office keeps and opens in a spreadsheet.

The file is what Excel itself writes as "Unicode text": UTF-16LE with its byte order mark, and a
tab between fields. Excel opens that into columns, with Vietnamese intact, whatever the Windows
regional settings; a comma-separated UTF-8 file lands in one column where the list separator is
';' (as with Vietnamese settings, where the comma is the decimal mark). LibreOffice and scripts
read it too (``encoding="utf-16"``, ``delimiter="\t"``).

Spreadsheets run a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula, and subjects
come from other agencies' packages: such a cell is written with a leading apostrophe, which
spreadsheets show as text (OWASP's advice on CSV injection).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

from axis.exchange.status import DocumentSummary
from axis.web import vietnamese

#: Rows one file holds at most; a longer list is cut with a last line that says so.
MAX_ROWS = 10_000

HEADER = (
    "Số/ký hiệu",
    "Trích yếu",
    "Ngày ban hành",
    "Chiều",
    "Cơ quan gửi",
    "Mã cơ quan gửi",
    "Nơi nhận đã nhận",
    "Nơi nhận chờ nhận",
    "Nơi nhận thất bại",
    "Trục nhận lúc",
    "Mã văn bản (DocumentId)",
)
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def register_csv(found: Sequence[DocumentSummary], names: Mapping[str, str], *, cut: bool = False) -> bytes:
    """``found`` as ``status.search`` lists it; ``names``: agency code → name; ``cut``: the list
    went on beyond these rows."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter="\t", lineterminator="\r\n")
    writer.writerow(HEADER)
    for d in found:
        number = f"{d.number or ''}/{d.notation}" if d.notation else d.number
        writer.writerow(
            cell(v)
            for v in (
                number,
                d.subject,
                vietnamese.date(d.promulgation_date),
                vietnamese.DIRECTION.get(d.direction, ""),
                names.get(d.sender, ""),
                d.sender,
                d.deliveries.delivered,
                d.deliveries.queued,
                d.deliveries.failed,
                vietnamese.clock(d.received_at),
                d.document_id,
            )
        )
    if cut:
        writer.writerow([f"(Chỉ {MAX_ROWS} văn bản mới nhất; hãy thu hẹp điều kiện tìm để có phần còn lại.)"])
    return "\ufeff".encode("utf-16-le") + out.getvalue().encode("utf-16-le")
