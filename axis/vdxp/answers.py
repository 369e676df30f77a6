"""What the SDK reads back, in exactly the shapes it reads (sdk-wire README §6). Pure.

Every answer is a flat JSON object ``{status, ErrorCode, ErrorDesc, …}`` whose other members are
at the top level, where the SDK looks: ``DocId`` on every sendEdoc answer (failures too: without
it the SDK loses the ErrorCode as well), ``data`` as a base64 string in getEdoc, ``count`` in the
counts, ``data`` as an array of items with the SDK's own field names in the lists. The SDK turns
any JSON ``null`` it reads into a failure of the whole answer or list, so nothing here is ever
null: a time or a text not known yet is ``""``. Everything is written ASCII-only (``\\uXXXX``):
sendEdoc's answer is read as US-ASCII, and the others lose nothing by it.

Times are written as the SDKs write them: ``YYYY/MM/DD HH:MM:SS``, Vietnamese time (UTC+7).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

from axis.edxml.model import VN_TZ
from axis.errors import AxisError
from axis.registry.model import Agency
from axis.vdxp import store
from axis.vdxp.errorcodes import error_code
from axis.vdxp.params import MESSAGE_TYPES
from axis.web.vietnamese import STATUS

OK = {"status": "OK", "ErrorCode": "0", "ErrorDesc": "Success"}
SERVICE_TYPE = "eDoc"

#: The transport states of a delivery as the SDK names them, and how a person reads them.
TRANSPORT = {
    "pending": "Chờ tải về",
    "processing": "Đã tải về, chưa xác nhận đã nhận",
    "done": "Đã nhận",
    "fail": "Không nhận được",
}
#: What a legacy signature policy meant for a package, said wherever the package is listed.
POLICY = {
    "legacy:unsigned": "gói tin không có chữ ký số XML (chính sách chuyển tiếp)",
    "legacy:sha1": "chữ ký số XML dùng SHA-1 (chính sách chuyển tiếp)",
}


def ok(**fields: Any) -> dict[str, Any]:
    return {**OK, **fields}


def fail(error: AxisError, *, doc_id: bool = False) -> dict[str, Any]:
    """A refusal. sendEdoc's carries ``DocId`` (empty): the SDK reads it even then."""
    body = {"status": "FAIL", "ErrorCode": error_code(error.code), "ErrorDesc": f"{error.code}: {error.message}"}
    if doc_id:
        body["DocId"] = ""
    return body


def dumps(body: Mapping[str, Any]) -> bytes:
    """Compact, ASCII-only JSON."""
    return json.dumps(body, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def refused(operation: str, error: AxisError) -> tuple[bytes, str]:
    """A refusal of ``operation`` as the SDK reads it (body, content type): the JSON above
    (sendEdoc's with ``DocId``), or, for downloadEdoc, an empty body: the SDK saves any other
    body as the document, and reports only an empty one as a failure."""
    if operation.lower() == "downloadedoc":
        return b"", "application/octet-stream"
    return dumps(fail(error, doc_id=operation.lower() == "sendedoc")), "application/json"


def sdk_time(value: dt.datetime | None) -> str:
    return "" if value is None else value.astimezone(VN_TZ).strftime("%Y/%m/%d %H:%M:%S")


def transport_status(state: str, fetched_at: dt.datetime | None) -> str:
    """A delivery as the SDK names it: pending, processing (taken, not acknowledged), done, fail."""
    if state == "delivered":
        return "done"
    if state == "failed":
        return "fail"
    return "processing" if fetched_at is not None else "pending"


def describe(transport: str, *, status_code: str | None = None, reason: str | None = None, policy: str = "") -> str:
    """A delivery's state in words: the transport state, the recipient's latest business status
    (01 … 06), why it failed, and a legacy signature policy the package came in under."""
    parts = [TRANSPORT[transport] + (f": {reason}" if transport == "fail" and reason else "")]
    if status_code:
        parts.append(f"trạng thái {status_code} ({STATUS.get(status_code, status_code)})")
    if policy in POLICY:
        parts.append(POLICY[policy])
    return "; ".join(parts)


def received_item(row: store.Waiting) -> dict[str, Any]:
    """One package waiting for the caller (getReceivedEdocList). The SDK reads docId, serviceType,
    messageType, created_time, updated_time, from, to, status and status_desc; the others are
    for people reading the answer."""
    transport = transport_status(row.state, row.fetched_at)
    policy = row.signature_policy
    return {
        "docId": str(row.id),
        "serviceType": SERVICE_TYPE,
        "messageType": MESSAGE_TYPES[row.kind],
        "created_time": sdk_time(row.created_at),
        "updated_time": sdk_time(row.fetched_at or row.created_at),
        "from": row.sender_code,
        "to": ";".join(row.recipients),
        "status": transport,
        "status_desc": describe(transport, status_code=row.status_code, policy=policy),
        "documentId": row.document_id,
        "statusCode": row.status_code or "",
        "signaturePolicy": policy,
        # The signatures inside its files (axis.files): valid, warning, invalid, unsigned, unchecked, none;
        # "" when not checked. The SDK ignores it; software reading the JSON itself can show it.
        "fileSignatures": row.file_signatures or "",
    }


def sent_items(row: store.Sent) -> list[dict[str, Any]]:
    """A package the caller sent, one item per recipient (getSentEdocList), with the SDK's names."""
    items = []
    for receiver in row.receivers:
        transport = transport_status(receiver.state, receiver.fetched_at)
        received = receiver.delivered_at or receiver.fetched_at
        redirected = receiver.agency != receiver.requested
        items.append(
            {
                "serviceType": SERVICE_TYPE,
                "messageType": MESSAGE_TYPES[row.kind],
                "senderDocId": str(row.id),
                "receiverDocId": str(row.id),
                "fromCode": row.sender_code,
                "toCode": receiver.requested,
                "title": row.subject or "",
                "notation": row.notation or "",
                "sentTime": sdk_time(row.received_at),
                "receivedTime": sdk_time(received),
                "sendStatus": "done",
                "sendStatusDesc": "Trục đã nhận và chuyển đi"
                + (f"; {POLICY[row.signature_policy]}" if row.signature_policy in POLICY else ""),
                "receiveStatus": transport,
                "receiveStatusDesc": describe(
                    transport, status_code=receiver.status_code, reason=receiver.failed_reason
                )
                + (f"; chuyển tới {receiver.agency}" if redirected else ""),
                "documentId": row.document_id,
                "receiverCode": receiver.agency,
                "statusCode": receiver.status_code or "",
                "signaturePolicy": row.signature_policy,
            }
        )
    return items


def _agency(agency: Agency) -> dict[str, Any]:
    """id (the code), pid (the parent's code, ``0`` at the top), code, name, mail (the registry
    keeps none)."""
    return {"id": agency.code, "pid": agency.parent_code or "0", "code": agency.code, "name": agency.name, "mail": ""}


def agency_item(agency: Agency, old_codes: Iterable[str] = ()) -> dict[str, Any]:
    """getAgenciesList: the agency, and in oldCode the retired codes that now lead here."""
    return _agency(agency) | {"oldCode": ";".join(old_codes)}


def qd20_item(agency: Agency) -> dict[str, Any]:
    """getAgenciesListQD20: ``code`` the Decision 20/2020 code (the QCVN 102 code while none is
    known: it addresses the agency all the same), ``code102`` the QCVN 102 code."""
    return {
        "id": agency.code,
        "code": agency.code_qd20 or agency.code,
        "code102": agency.code,
        "name": agency.name,
        "mail": "",
    }


def unit_item(agency: Agency, *, center: str, modified: dt.datetime | None, version: int) -> dict[str, Any]:
    """getSynchronizeUnit: an agency with the system that serves it (``centerCode``), when it
    last changed and how many times, and whether it is retired (``deleted``)."""
    return _agency(agency) | {
        "centerCode": center,
        "modifyDate": sdk_time(modified),
        "version": version,
        "deleted": agency.retired,
        "isAgency": True,
    }
