"""The interface language: Vietnamese dates (dd/mm/yyyy), times in UTC+7, and the names of things.

Pure functions over values; the templates use them as filters.
"""

from __future__ import annotations

import datetime as dt
import re

from axis.edxml.model import VN_TZ
from axis.errors import AxisError

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
}


#: Refusals administrators meet most, in Vietnamese; the others keep the registry's own message.
ERRORS = {
    "registry.agency.unknown": "Không có cơ quan mang mã này.",
    "registry.agency.exists": "Đã có cơ quan mang mã này.",
    "registry.agency.parent_missing": "Chưa có cơ quan cấp trên mà mã này ngụ ý; hãy thêm cơ quan cấp trên trước.",
    "registry.agency.successor_invalid": "Cơ quan kế thừa không hợp lệ (chính nó, hoặc không tồn tại).",
    "registry.agency.successor_cycle": "Chọn cơ quan kế thừa này sẽ tạo vòng lặp kế thừa.",
    "agency_code.malformed": "Mã định danh cơ quan không đúng định dạng.",
    "registry.system.unknown": "Không có hệ thống này.",
    "registry.system.exists": "Đã có hệ thống mang mã này.",
    "registry.system.invalid": "Mã hoặc thiết lập của hệ thống không hợp lệ.",
    "registry.binding.exists": "Phạm vi này đã do một hệ thống khác phục vụ; hãy bỏ ở hệ thống đó trước.",
    "registry.binding.unknown": "Hệ thống không phục vụ phạm vi này.",
    "registry.certificate.invalid": "Không đọc được chứng thư số (cần tệp PEM).",
    "registry.certificate.exists": "Chứng thư số này đã được đăng ký.",
    "registry.certificate.unknown": "Không có chứng thư số đang hiệu lực với dấu vân tay này.",
    "registry.token.unknown": "Không có token đang hiệu lực với số này.",
    "registry.import.bad_rows": "Tệp có dòng lỗi; chưa nhập gì (chọn 'nhập các dòng hợp lệ' để bỏ qua dòng lỗi).",
    "registry.import.format": "Tệp không phải CSV có cột mã (code) và tên (name).",
    "broker.management.unavailable": "Không kết nối được API quản trị RabbitMQ.",
    "broker.vhost.unknown": "RabbitMQ không có virtual host đã cấu hình.",
    "http.bad_request": "Dữ liệu gửi lên không hợp lệ.",
    "registry.system.disabled": "Hệ thống đang bị vô hiệu hóa; hãy kích hoạt lại trước khi gửi lại.",
    "delivery.not_failed": "Văn bản này không ở trạng thái chuyển thất bại; không gửi lại gì.",
    "package.archived": "Gói tin đã được lưu trữ (retention); không còn nội dung để gửi lại.",
    "intake.overloaded": "Trục đang xử lý nhiều gói tin lớn cùng lúc; hãy thử lại sau ít phút.",
    "vdxp.key.missing": (
        "Trục chưa có khóa niêm phong khóa bí mật SDK; hãy cấp khóa lần đầu bằng lệnh axis systems secret."
    ),
}


def refusal(error: AxisError) -> str:
    """A refusal for a person: Vietnamese where known, with the axis's own message as the detail."""
    text = ERRORS.get(error.code)
    if text is None or error.code.startswith("web.") or error.message == text:
        return error.message
    return f"{text} ({error.message})"


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


def parse_date(text: str | None) -> dt.date | None:
    """A date typed as ``dd/mm/yyyy`` (or ``yyyy-mm-dd``); None when blank. ValueError otherwise."""
    if text is None or not text.strip():
        return None
    match = _DMY.match(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
        return dt.date(year, month, day)
    return dt.date.fromisoformat(text.strip())


_NOT_ACKED = re.compile(r"^package \S+ not acknowledged within ([\d.]+) h$")
_DUE = re.compile(r"^due date (\d{4}-\d{2}-\d{2}) passed before completion \(06\)$")


def overdue(reason: str) -> str:
    """The status view's overdue reasons (English, from ``axis.exchange.status``) in Vietnamese."""
    match = _NOT_ACKED.match(reason)
    if match:
        return f"Quá {match.group(1)} giờ mà bên nhận chưa xác nhận đã nhận"
    match = _DUE.match(reason)
    if match:
        return f"Quá hạn xử lý {date(match.group(1))} mà chưa hoàn thành (06)"
    return reason


def failure(reason: str | None) -> str:
    if not reason:
        return ""
    if reason == "the recipient system was disabled":
        return "Hệ thống nhận đã bị vô hiệu hóa"
    if "rejected" in reason:
        return f"Hệ thống nhận đã từ chối gói tin ({reason})"
    if "too many times" in reason:
        return f"Hệ thống nhận không nhận được gói tin sau nhiều lần thử ({reason})"
    if "updateStatus fail" in reason:
        return f"Hệ thống nhận báo không xử lý được gói tin ({reason})"
    return reason


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
