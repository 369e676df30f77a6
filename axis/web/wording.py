"""The history's before/after values (``axis.registry.history``) for a person: Vietnamese field
names, and values as people read them (có/không, status names, Vietnam time). Pure."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from axis.registry import folding
from axis.registry.model import Agency
from axis.web import vietnamese

#: The fields of the history's before/after values (agencies, systems, bindings, tokens, SDK
#: secrets, certificates, web users, requeues), as the history page names them.
FIELDS: Mapping[str, str] = {
    "code": "Mã định danh",
    "name": "Tên",
    "parent_code": "Cơ quan cấp trên",
    "status": "Tình trạng",
    "successor_code": "Cơ quan kế thừa",
    "code_qd20": "Mã theo QĐ 20/2020",
    "id": "Mã hệ thống",
    "contact": "Liên hệ",
    "delivery_http": "Nhận văn bản qua HTTP",
    "delivery_amqp": "Nhận văn bản qua AMQP",
    "allow_sha1": "Chấp nhận chữ ký SHA-1",
    "allow_unsigned": "Chấp nhận gói tin không ký số XML",
    "require_client_certificate": "Bắt buộc kết nối TLS hai chiều",
    "file_policy": "Chữ ký số trên tệp văn bản",
    "allowed_addresses": "Địa chỉ được phép gửi",
    "agency_code": "Mã cơ quan",
    "token_id": "Số token",
    "label": "Nhãn",
    "secret_id": "Số khóa bí mật SDK",
    "secret_ids": "Khóa bí mật SDK trước đó",
    "key_id": "Khóa niêm phong",
    "previous_valid_until": "Khóa cũ còn dùng được đến",
    "fingerprint": "Dấu vân tay",
    "system_id": "Hệ thống",
    "subject": "Chủ thể",
    "not_before": "Hiệu lực từ",
    "not_after": "Hiệu lực đến",
    "revoked": "Đã thu hồi",
    "username": "Tên đăng nhập",
    "full_name": "Họ tên",
    "role": "Vai trò",
    "system": "Hệ thống",
    "requeued": "Số văn bản gửi lại",
    "package_ids": "Gói tin gửi lại",
}

EMPTY = "(trống)"
#: Agencies are active or retired; systems and web users active or disabled.
_STATUSES = {**vietnamese.USER_STATUS, **vietnamese.AGENCY_STATUS}
#: A system's policy for the signatures in its documents' files (axis.files.judge.FilePolicy).
_FILE_POLICIES = {"report": "Kiểm tra và báo kết quả", "require": "Bắt buộc chữ ký số hợp lệ của cơ quan gửi"}
_NAMED_VALUES: Mapping[str, Mapping[str, str]] = {
    "status": _STATUSES,
    "role": vietnamese.ROLE,
    "file_policy": _FILE_POLICIES,
}
_ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def field_name(field: str) -> str:
    """The Vietnamese name of a history field (the field itself when it is new to this table)."""
    return FIELDS.get(field, field)


def value_text(field: str, value: Any) -> str:
    """One history value for a person: ``có``/``không``, a status's name, a time in Vietnam's
    ``dd/mm/yyyy HH:mm``, a list joined, ``(trống)`` for nothing."""
    if field == "allowed_addresses" and value == []:
        return "(mọi địa chỉ)"
    if value is None or value == "" or value == []:
        return EMPTY
    if isinstance(value, bool):
        return "có" if value else "không"
    names = _NAMED_VALUES.get(field)
    if names is not None and isinstance(value, str):
        return names.get(value, value)
    if isinstance(value, dt.datetime) or (isinstance(value, str) and _ISO_MOMENT.match(value)):
        return vietnamese.clock(value) or str(value)
    if isinstance(value, list | tuple):
        return ", ".join(value_text(field, v) for v in value)
    if isinstance(value, Mapping):
        return "; ".join(f"{field_name(k)}: {value_text(k, v)}" for k, v in value.items())
    return str(value)


def changes(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[tuple[str, str, str]]:
    """(field name, before, after) in Vietnamese for the fields that changed; every field of a
    creation or a removal."""
    before, after = before or {}, after or {}
    keys = list(dict.fromkeys([*before, *after]))
    return [
        (field_name(k), value_text(k, before.get(k)), value_text(k, after.get(k)))
        for k in keys
        if before.get(k) != after.get(k)
    ]


def change_phrase(field: str, old: Any, new: Any) -> str:
    """``Tình trạng: Đang hoạt động → Đã giải thể``."""
    return f"{field_name(field)}: {value_text(field, old)} → {value_text(field, new)}"


# --- agencies, named -----------------------------------------------------------------------------------


def agency_label(code: str | None, agencies: Mapping[str, Agency]) -> str:
    """An agency as a person recognises it: its name, and for a short name below the top level
    ("Sở Tài chính") the top-level agency it belongs to ("Sở Tài chính — UBND Tỉnh Tây Ninh");
    the code itself for one the registry does not know."""
    if not code:
        return ""
    agency = agencies.get(code)
    if agency is None:
        return code
    top = _top(agency, agencies)
    if top is None or top.code == agency.code:
        return agency.name
    place = folding.words(top.name)[-2:]  # "tay ninh" of "UBND Tỉnh Tây Ninh"
    if place and " ".join(place) in folding.fold(agency.name):
        return agency.name
    return f"{agency.name} — {top.name}"


def _top(agency: Agency, agencies: Mapping[str, Agency]) -> Agency | None:
    seen: set[str] = set()
    current = agency
    while current.parent_code and current.parent_code not in seen:
        seen.add(current.code)
        parent = agencies.get(current.parent_code)
        if parent is None:
            break
        current = parent
    return current
