"""The free-text reasons the database stores and people read, in Vietnamese: why a delivery failed
(axis.broker.dead_letters, migration 003, the SDK's updateStatus fail), a requeue's previous
reason, and the status view's overdue notes. A reason this table does not know is shown as written.
Pure."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from axis.web import vietnamese

#: Failure reasons the axis stores for a delivery (``deliveries.failed_reason``, the ``failed`` and
#: ``requeued`` events, failure notices): axis.broker.dead_letters, migration 003, the SDK's updateStatus.
_REASONS: Mapping[str, str] = {
    "the recipient system's consumer rejected the message": "Phần mềm của hệ thống nhận đã từ chối gói tin",
    "the recipient system's consumer failed to take the message too many times": (
        "Phần mềm của hệ thống nhận không nhận được gói tin sau nhiều lần thử"
    ),
    "the message expired in the recipient system's queue": (
        "Gói tin hết hạn trong hàng đợi của hệ thống nhận (không được lấy về kịp)"
    ),
    "the recipient system's queue was full": "Hàng đợi của hệ thống nhận đã đầy",
    "the recipient system was disabled": "Hệ thống nhận đã bị vô hiệu hóa",
    "dead-lettered": "Trục không chuyển được gói tin đến hệ thống nhận",
    "hệ thống nhận báo không xử lý được gói tin (updateStatus fail)": "Hệ thống nhận báo không xử lý được gói tin",
}
_PATTERNS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (
        re.compile(r"^dead-lettered \((.*)\)$"),
        lambda m: f"Trục không chuyển được gói tin đến hệ thống nhận (RabbitMQ báo: {m.group(1)})",
    ),
    (  # axis.exchange.status: the recipient system has not acknowledged in time
        re.compile(r"^package (\S+) not acknowledged within (\S+) h$"),
        lambda m: (
            f"Gói tin {m.group(1)}: quá {m.group(2).replace('.', ',')} giờ mà hệ thống nhận chưa xác nhận đã nhận"
        ),
    ),
    (  # axis.exchange.status: handed to the axis above, and nothing heard from the recipient since
        re.compile(r"^package (\S+) handed to the national axis, no answer from the recipient within (\S+) h$"),
        lambda m: (
            f"Gói tin {m.group(1)}: đã chuyển lên trục liên thông quốc gia nhưng quá {m.group(2).replace('.', ',')} "
            "giờ chưa có trạng thái nào của nơi nhận"
        ),
    ),
    (  # axis.http.vdxp.mail: updateStatus fail with the vendor's description (e.g. a provincial axis's)
        re.compile(r"^hệ thống nhận báo không xử lý được gói tin \(updateStatus fail\): (.+)$", re.DOTALL),
        lambda m: f"Hệ thống nhận báo không xử lý được gói tin; lý do hệ thống nhận nêu: {m.group(1)}",
    ),
    (  # axis.exchange.status: the document's due date passed
        re.compile(r"^due date (\d{4}-\d{2}-\d{2}) passed before completion \(06\)$"),
        lambda m: f"Quá hạn xử lý {vietnamese.date(m.group(1))} mà chưa hoàn thành (06)",
    ),
)


def reason(text: str | None) -> str:
    """A stored reason (a failed delivery's, a requeue's previous one, an overdue note) in
    Vietnamese; a reason this table does not know is shown as it was written."""
    if not text:
        return ""
    known = _REASONS.get(text.strip())
    if known is not None:
        return known
    for pattern, render in _PATTERNS:
        match = pattern.match(text)
        if match:
            return render(match)
    return text
