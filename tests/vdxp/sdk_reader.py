"""What the national Java SDK (SDKVXP-2.0.1) makes of an answer: its result object, quirks included.

Why: an answer that any JSON client reads fine can still reach a vendor's software as nulls, an
empty list, a fake success or garbage bytes, because of how the SDK reads it (README §6, §7 in
``../shared/domain/sdk-wire/``). :func:`read_reply` applies those rules to a :class:`http_wire.Reply`
and returns what the SDK's method would return; :func:`sdk_accepts` is the strict form the tests
use: it fails whenever the SDK would lose information. No SDK code is copied; the libraries it
relies on are imitated only as far as the answers need:
- gson 2.2's lenient parsing and its coercions (:mod:`gson`, shared with the client);
- the line reading (``BufferedReader.readLine`` joined without line breaks) in UTF-8 on the Apache
  path and US-ASCII on sendEdoc's (each byte ≥ 0x80 becomes U+FFFD);
- commons-codec 1.10's lenient Base64 decoder for getEdoc's ``data``.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

from axis.federation.sdk.gson import (
    GsonSyntaxError,
    JavaException,
    get_as_boolean,
    get_as_int,
    get_as_string,
    parse_gson,
)
from axis.federation.sdk.transport import Reply

# The item fields each list operation reads (JSON names; the Knobstick's ``id`` is read from ``docId``).
ITEM_FIELDS: dict[str, tuple[str, ...]] = {
    "getReceivedEdocList": (
        *("docId", "serviceType", "messageType", "created_time", "updated_time"),
        *("from", "to", "status", "status_desc"),
    ),
    "getSentEdocList": (
        *("serviceType", "receiverDocId", "toCode", "receiveStatus", "title", "messageType", "notation"),
        *("receivedTime", "sentTime", "sendStatus", "sendStatusDesc", "senderDocId", "fromCode", "receiveStatusDesc"),
    ),
    "getAgenciesList": ("code", "id", "mail", "name", "pid", "oldCode"),
    "getAgenciesListQD20": ("code", "id", "mail", "name", "code102"),
    "getSynchronizeUnit": (
        *("code", "id", "mail", "name", "pid", "version"),
        *("centerCode", "deleted", "modifyDate", "isAgency"),
    ),
}
# Java primitives in UnitSynchronize: a field the answer leaves out keeps its default.
_DEFAULTS: dict[str, object] = {"version": 0, "deleted": False, "isAgency": False}
DOWNLOADS = ("downloadEdoc", "downloadEdoc2")
# The empty-form POSTs catch an IOException while reading and parse what was read until then.
_EMPTY_FORM_POSTS = (
    "getReceivedEdocList",
    "getSentEdocList",
    "getAgenciesList",
    "getAgenciesListQD20",
    "getSynchronizeUnit",
)


@dataclass(frozen=True)
class SdkResult:
    """The SDK's result object (None fields are Java nulls). ``swallowed`` is not part of it: it lists
    the exceptions the SDK printed and swallowed while filling it, i.e. where information was lost."""

    operation: str
    status: str | None
    error_code: str | None
    error_desc: str | None
    doc_id: str | None = None  # sendEdoc's DocId
    items: tuple[dict[str, object], ...] | None = None  # list operations; None when the SDK's list is null
    data: bytes | None = None  # getEdoc: the Base64-decoded bytes
    file: bytes | None = None  # getEdoc/downloadEdoc: the bytes written to <filePath>/<yyyy>/<M>/<docId>.edxml
    count: int | None = None  # countReceiveEdoc/countReceiveStatus (0 when not read)
    swallowed: tuple[str, ...] = ()


# --- commons-codec 1.10 ---------------------------------------------------------------------------

_B64 = {c: i for i, c in enumerate(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}
_B64 |= {ord("-"): 62, ord("_"): 63}


def commons_base64_decode(text: str) -> bytes:
    """Lenient: any byte outside both alphabets is skipped, the first ``=`` ends the input, and a
    trailing 12 or 18 bits still yield 1 or 2 bytes (6 bits are dropped)."""
    out = bytearray()
    bits = count = 0
    for byte in text.encode("utf-8"):
        if byte == ord("="):
            break
        if byte in _B64:
            bits = (bits << 6 | _B64[byte]) & 0xFFFFFF
            count += 1
            if count % 4 == 0:
                out += bits.to_bytes(3, "big")
    if count % 4 == 2:
        out.append(bits >> 4 & 0xFF)
    elif count % 4 == 3:
        out += (bits >> 2 & 0xFFFF).to_bytes(2, "big")
    return bytes(out)


# --- the reading rules --------------------------------------------------------------------------


def _get(obj: object, name: str) -> object:
    """``getAsJsonObject().get(name)`` followed by a call on the member, as the SDK reads each field."""
    if not isinstance(obj, dict):
        raise JavaException(f"not a JSON object where {name!r} is read (IllegalStateException)")
    if name not in obj:
        raise JavaException(f"{name!r} is missing (NullPointerException)")
    return obj[name]


def _apache_entity(reply: Reply) -> bytes | None:
    """HttpClient's entity, decompressed as it does for gzip/deflate; None when the answer has none."""
    if reply.status in (204, 205, 304):
        return None
    encoding = (reply.header("Content-Encoding") or "").strip().lower()
    if not reply.body or encoding not in ("gzip", "x-gzip", "deflate"):
        return reply.body  # unknown encodings are passed through untouched
    if encoding == "deflate":
        try:
            return zlib.decompress(reply.body)
        except zlib.error:
            return zlib.decompress(reply.body, -zlib.MAX_WBITS)
    return gzip.decompress(reply.body)


def _lines_joined(raw: bytes, encoding: str) -> str:
    return raw.decode(encoding, "replace").replace("\r", "").replace("\n", "")


def _text(operation: str, reply: Reply) -> str | None:
    """The answer text the SDK parses, or None when its method returns null before parsing."""
    if operation == "sendEdoc":  # HttpURLConnection: 200/201 read as US-ASCII, else the error stream
        if reply.status in (200, 201):
            return _lines_joined(reply.body, "ascii")
        # No error stream below 400 or without a body: a NullPointerException, and null.
        # The error stream is read in the JVM's default charset; UTF-8 assumed (the captures' JVM).
        return _lines_joined(reply.body, "utf-8") if reply.status >= 400 and reply.body else None
    try:
        entity = _apache_entity(reply)
    except (OSError, EOFError, zlib.error):
        return "" if operation in _EMPTY_FORM_POSTS else None
    return None if entity is None else _lines_joined(entity, "utf-8")


def read_reply(operation: str, reply: Reply, header: Mapping[str, object] | None = None) -> SdkResult | None:
    """What the SDK's ``operation`` returns for ``reply`` (None where it returns null).

    ``header`` is the JSON header the caller passed: getEdoc writes its file only when it names a
    ``filePath`` (any case) and the answer's ErrorCode is "0".
    """
    if operation in DOWNLOADS:
        return _read_download(operation, reply)
    text = _text(operation, reply)
    if text is None:
        return None
    try:
        element = parse_gson(text)
    except GsonSyntaxError:
        if operation == "getReceivedEdocList":  # the parse error is swallowed into a success
            return SdkResult(operation, "OK", "0", "Success", items=(), swallowed=("not JSON: reported as success",))
        return None
    fields: dict[str, object] = {"status": None, "error_code": None, "error_desc": None}
    swallowed: list[str] = []
    try:
        _fill(operation, element, header or {}, fields)
    except JavaException as thrown:
        swallowed.append(str(thrown))
    if operation in ("countReceiveEdoc", "countReceiveStatus"):
        fields.setdefault("count", 0)  # a Java int: 0 unless read
    return SdkResult(operation, **fields, swallowed=tuple(swallowed))  # type: ignore[arg-type]


def _fill(operation: str, element: object, header: Mapping[str, object], fields: dict[str, object]) -> None:
    """Reads in the SDK's order; what is set before an exception stays set."""
    status = get_as_string(_get(element, "status"), "status")
    error_code = get_as_string(_get(element, "ErrorCode"), "ErrorCode")
    error_desc = get_as_string(_get(element, "ErrorDesc"), "ErrorDesc")
    if operation == "sendEdoc":
        fields["doc_id"] = get_as_string(_get(element, "DocId"), "DocId")
    fields.update(status=status, error_code=error_code, error_desc=error_desc)
    if operation in ITEM_FIELDS and error_code == "0":
        data = _get(element, "data")
        if not isinstance(data, list):
            what = "JSON null" if data is None else "not an array"
            raise JavaException(f"'data' is {what}: getAsJsonArray() throws")
        fields["items"] = tuple(_item(operation, entry, i) for i, entry in enumerate(data))
    elif operation == "getEdoc" and status != "FAIL":
        decoded = commons_base64_decode(get_as_string(_get(element, "data"), "data"))
        fields["data"] = decoded
        named = {k.lower(): v for k, v in header.items()}  # the last spelling wins, as in the SDK's loop
        if named.get("filepath") not in (None, "") and error_code == "0":
            fields["file"] = decoded.decode("utf-8", "replace").encode("utf-8")
    elif operation in ("countReceiveEdoc", "countReceiveStatus") and status != "FAIL":
        fields["count"] = get_as_int(_get(element, "count"), "count")


def _item(operation: str, entry: object, index: int) -> dict[str, object]:
    if not isinstance(entry, dict):
        raise JavaException(f"data[{index}] is not a JSON object: getAsJsonObject() throws")
    item: dict[str, object] = {}
    for name in ITEM_FIELDS[operation]:
        where = f"data[{index}].{name}"
        if name not in entry:  # the SDK checks for presence first: a missing field is skipped
            item[name] = _DEFAULTS.get(name) if operation == "getSynchronizeUnit" else None
        elif operation == "getSynchronizeUnit" and name == "version":
            item[name] = get_as_int(entry[name], where)
        elif operation == "getSynchronizeUnit" and name in ("deleted", "isAgency"):
            item[name] = get_as_boolean(entry[name], where)
        else:
            item[name] = get_as_string(entry[name], where)
    return item


def _read_download(operation: str, reply: Reply) -> SdkResult:
    """Nothing is parsed: the body is saved, and a non-empty body is a "SUCCESS" whatever the status."""
    try:
        body = _apache_entity(reply)
    except (OSError, EOFError, zlib.error):
        body = None
    if body is None:  # no entity or a broken one: an exception, caught as FAIL
        return SdkResult(operation, "FAIL", "100", None, swallowed=("no readable entity",))
    return SdkResult(operation, "SUCCESS" if body else "FAIL", "0" if body else "100", None, file=body)


def sdk_accepts(operation: str, reply: Reply, header: Mapping[str, object] | None = None) -> SdkResult:
    """:func:`read_reply`, failing (AssertionError) wherever the SDK would lose information."""
    result = read_reply(operation, reply, header)
    excerpt = reply.body[:300]
    assert result is not None, f"the SDK's {operation} returns null for HTTP {reply.status}: {excerpt!r}"
    checks = {
        "status/ErrorCode/ErrorDesc are null": operation not in DOWNLOADS
        and None in (result.status, result.error_code, result.error_desc),
        "the download is reported as FAIL": operation in DOWNLOADS and result.status != "SUCCESS",
        f"an HTTP {reply.status} body is saved as the document": operation in DOWNLOADS
        and not 200 <= reply.status < 300,
        "no DocId": operation == "sendEdoc" and result.doc_id is None,
        "non-ASCII bytes reach sendEdoc as U+FFFD": operation == "sendEdoc" and any(b >= 0x80 for b in reply.body),
        "the list is null although the answer reports success": operation in ITEM_FIELDS
        and result.items is None
        and (result.status == "OK" or result.error_code == "0"),
        "status OK without data": operation == "getEdoc" and result.status == "OK" and result.data is None,
    }
    problems = [*result.swallowed, *(why for why, lost in checks.items() if lost)]
    assert not problems, f"the SDK's {operation} would lose information: {problems}; answer {excerpt!r}"
    return result
