"""What the SDK reads back: ``{status: "OK"|"FAIL", ErrorCode, ErrorDesc, data}``, and the one
table of ErrorCodes. Pure.

``ErrorCode`` is ``"0"`` on success. On failure it is a number from the table below, chosen by
the axis's stable dotted code (exactly, or by its family), and ``ErrorDesc`` starts with that
dotted code, so a vendor's log says precisely what happened while the SDK only compares numbers.
Times are written as the SDKs write them: ``YYYY/MM/DD HH:MM:SS``, Vietnamese time (UTC+7).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from axis.edxml.model import VN_TZ
from axis.errors import AxisError
from axis.registry.model import Agency
from axis.vdxp.params import MESSAGE_TYPES

#: (ErrorCode, the dotted codes it covers — exact codes, or families ending in ".", meaning, what to do).
#: An exact code wins over a family; among families, the longest.
ERROR_CODES: Sequence[tuple[str, tuple[str, ...], str, str]] = (
    ("101", ("vdxp.operation.unknown", "http."), "no such operation", "Check the endpoint: `…/vdxp/<operation>`."),
    ("102", ("vdxp.auth.missing",), "a required XroadVnpt header is missing", "Send systemid and timestamp, signed."),
    (
        "103",
        ("vdxp.signature.invalid",),
        "wrong signature: secret, system id or signed text",
        "Use the secret the administrator issued for this systemid.",
    ),
    (
        "104",
        ("vdxp.signature.altered",),
        "a header differs from its signed value, or is missing",
        "Send exactly the headers you signed.",
    ),
    (
        "105",
        ("vdxp.signature.malformed",),
        "sign-header is not the JSON of the names in sign-header-key",
        "List the same names in both.",
    ),
    (
        "106",
        ("vdxp.timestamp.invalid",),
        "timestamp unreadable or outside the window",
        "Synchronise the clock (NTP); send a fresh timestamp.",
    ),
    (
        "107",
        ("vdxp.signature.replayed",),
        "this signature was already used",
        "Never resend a signed request: sign it again.",
    ),
    (
        "108",
        ("registry.system.disabled", "auth.", "rate.limited"),
        "system disabled, not allowed, or over its rate",
        "Ask the administrator; on rate limits, wait.",
    ),
    ("201", ("vdxp.param.missing",), "a parameter is missing", "Send it (docId, status, hash-file …), signed."),
    (
        "202",
        ("vdxp.param.invalid", "http.bad_request"),
        "a parameter's value or the JSON body is invalid",
        "See ErrorDesc.",
    ),
    ("203", ("vdxp.param.unsigned",), "a parameter the operation uses is not signed", "Sign every parameter."),
    (
        "204",
        ("vdxp.param.ambiguous",),
        "docId and docid carry different values",
        "Ask the administrator to set AXIS_VDXP_DOCID_SPELLING.",
    ),
    (
        "205",
        ("vdxp.hash_file.mismatch",),
        "hash-file is not the SHA-256 of the file sent",
        "Hash exactly the bytes you send.",
    ),
    ("301", ("edxml.xml.too_large",), "the package is too large", "Reduce it, or ask about the limit."),
    ("302", ("edxml.",), "the package is not valid edXML", "See ErrorDesc: path, line, reason."),
    ("303", ("signature.",), "the package's XML Signature is refused", "Sign each package really, with SHA-256."),
    (
        "304",
        ("registry.sender.", "registry.certificate."),
        "this system may not send for the sender, or the certificate is not bound to it",
        "Ask the administrator for the binding or to register the certificate.",
    ),
    (
        "305",
        ("intake.recipient.",),
        "a recipient is unknown, unserved or retired",
        "Look the code up (getAgenciesList).",
    ),
    (
        "306",
        ("intake.duplicate", "business.replacement.same_id"),
        "DocumentId already sent with other content",
        "Resend the original bytes, or send an update/replace.",
    ),
    (
        "307",
        ("status.", "business."),
        "the status or business package does not fit the document's history",
        "See ErrorDesc.",
    ),
    (
        "308",
        ("intake.timestamp.",),
        "the package's own timestamp is too far ahead or too old",
        "Check the sending system's clock.",
    ),
    (
        "401",
        ("package.", "document.", "receipt.unknown"),
        "no such docId for this system",
        "Use a docId from the lists.",
    ),
    (
        "402",
        ("vdxp.update.conflict",),
        "updateStatus contradicts the delivery (done after fail, fail after done)",
        "Nothing to do.",
    ),
    (
        "403",
        ("package.archived",),
        "the package was archived by retention",
        "Ask the administrator for the archived file.",
    ),
    (
        "501",
        ("registry.agency.unknown",),
        "no agency has this code",
        "Look the code up (getAgenciesList).",
    ),
    ("502", ("registry.agency.exists",), "the agency exists already", "Nothing to do."),
    (
        "503",
        ("agency_code.", "registry.agency."),
        "the agency code or its change is invalid",
        "See ErrorDesc.",
    ),
    (
        "504",
        ("vdxp.agency.",),
        "the agency is not this system's to change",
        "Ask the administrator.",
    ),
    (
        "901",
        ("broker.unavailable", "intake.overloaded", "service.unavailable"),
        "the axis is busy or a dependency is down",
        "Retry later with the same bytes.",
    ),
    (
        "902",
        ("vdxp.key.missing", "config."),
        "the axis is not set up for the SDK (e.g. no key to open secrets)",
        "Tell the administrator.",
    ),
    ("999", (), "any other error, e.g. an internal one (logged with the request id)", "Report ErrorDesc."),
)


def error_code(code: str) -> str:
    """The SDK's ErrorCode for one of the axis's stable codes: an exact entry first, else the
    longest family (``signature.`` …) that contains it."""
    best, length = "999", -1
    for number, covered, _, _ in ERROR_CODES:
        for entry in covered:
            if entry == code:
                return number
            if entry.endswith(".") and code.startswith(entry) and len(entry) > length:
                best, length = number, len(entry)
    return best


def ok(data: Any = None) -> dict[str, Any]:
    return {"status": "OK", "ErrorCode": "0", "ErrorDesc": "", "data": data}


def fail(error: AxisError) -> dict[str, Any]:
    return {"status": "FAIL", "ErrorCode": error_code(error.code), "ErrorDesc": f"{error.code}: {error.message}"}


def sdk_time(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(VN_TZ).strftime("%Y/%m/%d %H:%M:%S")


def transport_status(state: str, fetched_at: dt.datetime | None) -> str:
    """A delivery as the SDK names it: pending, processing (taken, not acknowledged), done, fail."""
    if state == "delivered":
        return "done"
    if state == "failed":
        return "fail"
    return "processing" if fetched_at is not None else "pending"


def received_item(row: Mapping[str, Any]) -> dict[str, Any]:
    """One package waiting for the caller (getReceivedEdocList)."""
    return {
        "docId": str(row["id"]),
        "documentId": row["document_id"],
        "from": row["sender_code"],
        "to": ";".join(row["recipients"] or ()),
        "messageType": MESSAGE_TYPES[row["kind"]],
        "statusCode": row["status_code"],
        "status": transport_status(row["state"], row["fetched_at"]),
        "created_time": sdk_time(row["created_at"]),
        "updated_time": sdk_time(row["fetched_at"] or row["created_at"]),
    }


def sent_item(row: Mapping[str, Any]) -> dict[str, Any]:
    """One package the caller sent, with each recipient's delivery (getSentEdocList)."""
    receivers = [
        {
            "to": r["requested"],
            "agency": r["agency"],
            "status": transport_status(r["state"], _time(r["fetched_at"])),
            "updated_time": sdk_time(_time(r["delivered_at"]) or _time(r["fetched_at"]) or _time(r["created_at"])),
            "reason": r["failed_reason"],
        }
        for r in row["receivers"]
    ]
    states = {r["status"] for r in receivers}
    overall = next((s for s in ("fail", "pending", "processing") if s in states), "done")
    return {
        "docId": str(row["id"]),
        "documentId": row["document_id"],
        "from": row["sender_code"],
        "to": ";".join(r["to"] for r in receivers),
        "messageType": MESSAGE_TYPES[row["kind"]],
        "statusCode": row["status_code"],
        "status": overall,
        "created_time": sdk_time(row["received_at"]),
        "receivers": receivers,
    }


def _time(value: Any) -> dt.datetime | None:
    """Times inside JSON aggregates arrive as ISO text."""
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def agency_item(agency: Agency, *, qd20: bool = False) -> dict[str, Any]:
    """An agency in the registry lists. The QD20 list names the Decision 20/2020 code ``code``
    (null when unknown) and the QCVN 102 code ``code102``, as the national axis does."""
    item: dict[str, Any] = (
        {"code": agency.code_qd20, "code102": agency.code}
        if qd20
        else {"code": agency.code, "codeQD20": agency.code_qd20}
    )
    item.update(
        {
            "name": agency.name,
            "parentCode": agency.parent_code,
            "status": agency.status.value,
            "successor": agency.successor_code,
        }
    )
    return item


def markdown_table() -> str:
    """The ErrorCode table as docs/integration.md shows it (a test keeps the two equal)."""
    lines = [
        "| ErrorCode | the axis's codes (ErrorDesc starts with one) | meaning | what to do |",
        "| --- | --- | --- | --- |",
    ]
    lines.append("| `0` | | success (`status` is `OK`) | |")
    for number, covered, meaning, action in ERROR_CODES:
        codes = ", ".join(f"`{c}…`" if c.endswith(".") else f"`{c}`" for c in covered if c) or "any other"
        lines.append(f"| `{number}` | {codes} | {meaning} | {action} |")
    return "\n".join(lines) + "\n"
