"""The interface language: Vietnamese dates (dd/mm/yyyy), times in UTC+7, and the names of things.

Pure functions over values; the templates use them as filters.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata

from axis.edxml.model import VN_TZ

STATUS = {
    "01": "Đã đến",
    "02": "Từ chối tiếp nhận",
    "03": "Đã tiếp nhận",
    "04": "Đã phân công",
    "05": "Đang xử lý",
    "06": "Hoàn thành",
    "13": "Đề nghị lấy lại",
    "15": "Đồng ý",
    "16": "Từ chối",
}
BUSINESS = {0: "Văn bản mới", 1: "Thu hồi", 2: "Cập nhật", 3: "Thay thế"}
DOCUMENT_STATE = {"active": "Đang hiệu lực", "revoked": "Đã thu hồi", "superseded": "Đã bị thay thế"}
DELIVERY = {"queued": "Đang chờ nhận", "delivered": "Đã nhận", "failed": "Chuyển thất bại"}
DIRECTION = {"sent": "Đã gửi", "received": "Đã nhận"}
#: Packages accepted under a legacy signature policy, as marked for clerks (strict ones: no mark).
SIGNATURE_POLICY = {"legacy:unsigned": "Không có chữ ký số XML", "legacy:sha1": "Chữ ký số SHA-1 (lỗi thời)"}
ROLE = {"clerk": "Văn thư", "admin": "Quản trị viên"}
USER_STATUS = {"active": "Đang hoạt động", "disabled": "Đã vô hiệu hóa"}
AGENCY_STATUS = {"active": "Đang hoạt động", "retired": "Đã giải thể"}
ACTIONS = {
    "agency.create": "Thêm cơ quan",
    "agency.rename": "Đổi tên cơ quan",
    "agency.set_qd20": "Đặt mã QĐ 20/2020",
    "agency.retire": "Giải thể cơ quan",
    "agency.merge": "Sáp nhập cơ quan",
    "agency.move": "Chuyển mã cơ quan",
    "agency.reactivate": "Khôi phục cơ quan",
    "agency.set_successor": "Đặt cơ quan kế thừa",
    "system.create": "Thêm hệ thống",
    "system.update": "Sửa hệ thống",
    "system.bind": "Gắn phạm vi phục vụ",
    "system.unbind": "Bỏ phạm vi phục vụ",
    "system.token.issue": "Cấp token",
    "system.token.revoke": "Thu hồi token",
    "system.certificate.add": "Thêm chứng thư số",
    "system.certificate.revoke": "Thu hồi chứng thư số",
    "system.requeue": "Gửi lại văn bản chuyển thất bại",
    "system.sdk_secret.issue": "Cấp khóa bí mật SDK",
    "admin.token.issue": "Cấp token quản trị",
    "admin.token.revoke": "Thu hồi token quản trị",
    "user.create": "Thêm người dùng",
    "user.password": "Đặt lại mật khẩu",
    "user.disable": "Vô hiệu hóa người dùng",
    "user.enable": "Kích hoạt người dùng",
    "user.unlock": "Mở khóa người dùng",
    "upstream.configure": "Cấu hình kết nối lên trục cấp trên",
    "upstream.secret": "Đặt khóa bí mật của trục cấp trên",
    "external.add": "Thêm cơ quan ngoài tỉnh (theo trục cấp trên)",
    "external.change": "Cập nhật cơ quan ngoài tỉnh (theo trục cấp trên)",
    "external.remove": "Bỏ cơ quan ngoài tỉnh (theo trục cấp trên)",
}


def _moment(value: dt.datetime | str | None) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=VN_TZ)  # SDK times without an offset are Vietnam's
    return value.astimezone(VN_TZ)


def date(value: dt.date | dt.datetime | str | None) -> str:
    """``20/11/2026``; a datetime is first taken to UTC+7."""
    if isinstance(value, dt.datetime) or (isinstance(value, str) and "T" in value):
        moment = _moment(value)
        return f"{moment:%d/%m/%Y}" if moment else ""
    if isinstance(value, str):
        try:
            return f"{dt.date.fromisoformat(value):%d/%m/%Y}"
        except ValueError:
            return value
    return f"{value:%d/%m/%Y}" if value else ""


def clock(value: dt.datetime | str | None) -> str:
    """``20/11/2026 09:30`` in Vietnam's time (UTC+7)."""
    moment = _moment(value)
    return f"{moment:%d/%m/%Y %H:%M}" if moment else ""


def iso_vn(value: dt.datetime | str | None) -> str:
    """For ``<time datetime=…>``: ISO 8601 with the +07:00 offset."""
    moment = _moment(value)
    return moment.isoformat(timespec="seconds") if moment else ""


_DMY = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")
_YMD = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")


class DateError(ValueError):
    """A date as typed that is not one: its message says why, in Vietnamese, for the form."""


def parse_date(text: str | None) -> dt.date | None:
    """A date typed as ``dd/mm/yyyy`` (or ``yyyy-mm-dd``); None when blank. ``DateError`` otherwise,
    saying whether the form is wrong or the date does not exist (``31/02/2026``)."""
    if text is None or not text.strip():
        return None
    match = _DMY.match(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
    elif match := _YMD.match(text):
        year, month, day = (int(g) for g in match.groups())
    else:
        raise DateError("Ngày phải có dạng dd/mm/yyyy, ví dụ 20/11/2026.")
    return _real_date(year, month, day)


def _real_date(year: int, month: int, day: int) -> dt.date:
    typed = f"{day:02d}/{month:02d}/{year:04d}"
    if year < 1:
        raise DateError(f"Không có ngày {typed}: năm phải từ 0001 trở đi.")
    if not 1 <= month <= 12:
        raise DateError(f"Không có ngày {typed}: tháng phải từ 1 đến 12.")
    last = calendar.monthrange(year, month)[1]
    if day < 1:
        raise DateError(f"Không có ngày {typed}: ngày phải từ 1 đến {last}.")
    if day > last:
        raise DateError(f"Không có ngày {typed}: tháng {month} năm {year} chỉ có {last} ngày.")
    return dt.date(year, month, day)


def size(value: int) -> str:
    """``1,2 MB``: Vietnamese uses the decimal comma."""
    units, amount, index = ("B", "KB", "MB", "GB"), float(value), 0
    while amount >= 1024 and index < len(units) - 1:
        amount /= 1024
        index += 1
    text = f"{amount:.0f}" if index == 0 else f"{amount:.1f}"
    return f"{text.replace('.', ',')} {units[index]}"


def system_label(system_id: str, name: str) -> str:
    """A connected system as a sentence names it: ``hệ thống eOffice Tỉnh Bắc (bac)``, without
    saying "hệ thống" twice when its name starts with it."""
    if not name.strip():
        return f"hệ thống {system_id}"
    prefix = "" if name.strip().casefold().startswith("hệ thống") else "hệ thống "
    return f"{prefix}{name.strip()} ({system_id})"


def _folded(text: str) -> str:
    """Letters and digits only, without accents or case: ``Đã đến.`` and ``da den`` fold alike."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in text.casefold() if c.isalnum())


def status_note(description: str | None, code: str | None) -> str:
    """A status's description when it says more than the status's own name (software often sends
    ``Đã đến`` as the description of 01, ``01 - Đã đến`` too): else nothing, so that the timeline
    does not read "01 Đã đến — Đã đến"."""
    if not description or not description.strip():
        return ""
    said = _folded(description)
    name = _folded(STATUS.get(code or "", ""))
    number = code or ""
    for prefix in (number, number.lstrip("0")):
        if prefix and said.startswith(prefix) and said[len(prefix) :] in ("", name):
            return ""
    return "" if said in ("", name) else description.strip()


#: Attachments by what a clerk calls them; the MIME type stays on the page beside it.
FILE_KINDS = {
    "application/pdf": "PDF",
    "application/msword": "Word",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template": "Word",
    "application/vnd.ms-word.document.macroenabled.12": "Word",
    "application/rtf": "Word (RTF)",
    "text/rtf": "Word (RTF)",
    "application/vnd.ms-excel": "Excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel",
    "application/vnd.ms-excel.sheet.macroenabled.12": "Excel",
    "text/csv": "Bảng (CSV)",
    "application/vnd.ms-powerpoint": "PowerPoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "PowerPoint",
    "application/vnd.oasis.opendocument.text": "OpenDocument (văn bản)",
    "application/vnd.oasis.opendocument.spreadsheet": "OpenDocument (bảng tính)",
    "application/vnd.oasis.opendocument.presentation": "OpenDocument (trình chiếu)",
    "application/zip": "Nén (zip)",
    "application/x-zip-compressed": "Nén (zip)",
    "application/vnd.rar": "Nén (rar)",
    "application/x-rar-compressed": "Nén (rar)",
    "application/x-7z-compressed": "Nén (7z)",
    "application/gzip": "Nén (gzip)",
    "image/jpeg": "Ảnh JPEG",
    "image/png": "Ảnh PNG",
    "image/tiff": "Ảnh TIFF",
    "image/gif": "Ảnh GIF",
    "text/plain": "Văn bản thuần",
    "text/xml": "XML",
    "application/xml": "XML",
    "application/pkcs7-signature": "Chữ ký số (PKCS#7)",
    "application/pkcs7-mime": "Chữ ký số (PKCS#7)",
}
_EXTENSIONS = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "rtf": "application/rtf",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
    "ppt": "application/vnd.ms-powerpoint",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "zip": "application/zip",
    "rar": "application/vnd.rar",
    "7z": "application/x-7z-compressed",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "tif": "image/tiff",
    "tiff": "image/tiff",
    "txt": "text/plain",
    "xml": "application/xml",
    "p7s": "application/pkcs7-signature",
}


def file_kind(content_type: str | None, name: str = "") -> str:
    """``Word``, ``PDF``, ``Nén (zip)`` …: by the MIME type, else by the name's extension (many
    systems send ``application/octet-stream`` for everything), else ``Tệp .XYZ`` or ``Tệp``."""
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    if mime in FILE_KINDS:
        return FILE_KINDS[mime]
    extension = name.rsplit(".", 1)[-1].strip().lower() if "." in name else ""
    if extension in _EXTENSIONS:
        return FILE_KINDS[_EXTENSIONS[extension]]
    if mime.startswith("image/"):
        return "Ảnh"
    return f"Tệp .{extension.upper()}" if extension and len(extension) <= 8 else "Tệp"


#: Why a session is no longer there, for the log-in page and the live timeline.
SESSION_ENDED = {
    "expired": "Phiên làm việc đã hết hạn, hãy đăng nhập lại.",
    "ended": "Phiên làm việc đã kết thúc (đã đăng xuất hoặc đổi mật khẩu), hãy đăng nhập lại.",
    "disabled": "Tài khoản đã bị vô hiệu hóa; hãy liên hệ quản trị viên.",
}
