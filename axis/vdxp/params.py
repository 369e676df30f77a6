"""The SDK's parameters and bodies, read with its quirks (EDXML.md §4). Pure.

- ``messagetype``: ``edoc`` (a document) or ``status`` (a status package), in any case.
- ``updateStatus``'s ``status``: ``done``, ``fail`` or ``processing``, a transport acknowledgement.
- ``hash-file``: the SHA-256 of the file with each byte written ``%x``, without zero-padding (so
  ``0a`` becomes ``a``). The axis recomputes it and compares; the standard zero-padded hex is
  accepted too, since the two differ only where a byte is below 0x10.
- The body of ``sendEdoc``: the raw edXML bytes, but some SDK versions send them as
  ``application/octet-stream`` and others inside a broken ``multipart/form-data`` (a boundary in
  the header that the body does not use, no part headers, no closing delimiter). The bytes that
  match the signed ``hash-file`` are the package: the raw body, or a part cut out of it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterator, Mapping

from axis.errors import AxisError

#: messagetype → the package kind it names, and back.
KINDS = {"edoc": "document", "status": "status"}
MESSAGE_TYPES = {kind: name for name, kind in KINDS.items()}
UPDATE_STATUSES = ("done", "fail", "processing")

_BOUNDARY = re.compile(r"""boundary=(?:"([^"]+)"|([^;\s]+))""", re.IGNORECASE)
_LINE_BREAKS = (b"\r\n", b"\n")


def message_kind(value: str | None) -> str | None:
    """The package kind a ``messagetype`` names (None when it was not sent)."""
    if value is None or not value.strip():
        return None
    kind = KINDS.get(value.strip().lower())
    if kind is None:
        raise AxisError(
            "vdxp.param.invalid",
            f"messagetype {value!r} is neither 'edoc' nor 'status'.",
            parameter="messagetype",
            value=value,
        )
    return kind


def update_status(value: str | None) -> str:
    if value is None or not value.strip():
        raise AxisError(
            "vdxp.param.missing", "updateStatus needs status: done, fail or processing.", parameter="status"
        )
    status = value.strip().lower()
    if status not in UPDATE_STATUSES:
        raise AxisError(
            "vdxp.param.invalid",
            f"status {value!r} is not done, fail or processing.",
            parameter="status",
            value=value,
        )
    return status


def sdk_hex(digest: bytes) -> str:
    """Hex the way the SDK writes ``hash-file``: each byte ``%x``, without zero-padding."""
    return "".join(f"{byte:x}" for byte in digest)


def hash_file_matches(data: bytes, hash_file: str) -> bool:
    """Whether ``hash-file`` is the SHA-256 of ``data``, in the SDK's unpadded hex or standard hex."""
    claimed = hash_file.strip().lower()
    if not claimed.isascii():
        return False
    digest = hashlib.sha256(data).digest()
    unpadded = hmac.compare_digest(claimed, sdk_hex(digest))
    padded = hmac.compare_digest(claimed, digest.hex())
    return unpadded or padded


def package_bytes(body: bytes, content_type: str, hash_file: str) -> bytes:
    """The file the SDK hashed: the raw body or a part of a (possibly broken) multipart body."""
    if not body:
        raise AxisError("edxml.xml.empty", "The body is empty: sendEdoc carries the edXML file.")
    for candidate in candidates(body, content_type):
        if hash_file_matches(candidate, hash_file):
            return candidate
    raise AxisError(
        "vdxp.hash_file.mismatch",
        "XroadVnpt-hash-file is not the SHA-256 of the file sent (nor of any part of the body).",
        hash_file=hash_file,
        sha256=hashlib.sha256(body).hexdigest(),
        size=len(body),
    )


def candidates(body: bytes, content_type: str) -> list[bytes]:
    """The raw body first, then every part a multipart reading can find (no duplicates)."""
    found = [body]
    delimiters = []
    match = _BOUNDARY.search(content_type or "")
    if match:
        delimiters.append((match.group(1) or match.group(2)).encode("latin-1", "replace"))
    first = body.lstrip(b"\r\n").split(b"\n", 1)[0].rstrip(b"\r")
    if first.startswith(b"--") and len(first) > 2:
        delimiters.append(first[2:])  # the boundary the body really uses
    for delimiter in dict.fromkeys(delimiters):
        found.extend(_parts(body, b"--" + delimiter))
    return list(dict.fromkeys(found))


def _parts(body: bytes, marker: bytes) -> Iterator[bytes]:
    segments = body.split(marker)
    if len(segments) < 2:
        return
    for segment in segments[1:]:
        if segment.startswith(b"--"):  # the closing delimiter
            break
        for line_break in _LINE_BREAKS:  # the rest of the delimiter line
            if segment.startswith(line_break):
                segment = segment[len(line_break) :]
                break
        content = segment
        for separator in (b"\r\n\r\n", b"\n\n"):
            head, found, rest = segment.partition(separator)
            if found and _looks_like_part_headers(head):
                content = rest
                break
        yield content
        for line_break in _LINE_BREAKS:  # the line break that belongs to the next delimiter
            if content.endswith(line_break):
                yield content[: -len(line_break)]


def _looks_like_part_headers(head: bytes) -> bool:
    lines = [line.strip() for line in head.split(b"\n") if line.strip()]
    return bool(lines) and all(b":" in line and not line.startswith(b"<") for line in lines)


def spellings(setting: str) -> Mapping[str, str]:
    """``AXIS_VDXP_DOCID_SPELLING`` (``getEdoc=docId,updateStatus=docid``): operation (lower
    case) → the spelling of docId it uses."""
    chosen: dict[str, str] = {}
    for item in setting.replace(";", ",").split(","):
        if not item.strip():
            continue
        operation, equals, spelling = item.partition("=")
        if not equals or spelling.strip().lower() != "docid":
            raise AxisError(
                "config.invalid",
                f"AXIS_VDXP_DOCID_SPELLING: {item.strip()!r} is not OPERATION=docId or OPERATION=docid.",
            )
        chosen[operation.strip().lower()] = spelling.strip()
    return chosen
