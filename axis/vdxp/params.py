"""The SDK's parameters and bodies, read with its quirks (EDXML.md §4). Pure.

- ``messagetype``: ``edoc`` (a document) or ``status`` (a status package), in any case.
- ``updateStatus``'s ``status``: ``done``, ``fail`` or ``processing``, a transport acknowledgement.
- ``hash-file``: the SHA-256 of the file with each byte written ``%x``, without zero-padding (so
  ``0a`` becomes ``a``). The axis recomputes it and compares; the standard zero-padded hex is
  accepted too, since the two differ only where a byte is below 0x10.
- The body of ``sendEdoc``: the raw edXML file and one CRLF, ``application/octet-stream`` (the
  SDK's multipart writer replaces its own boundary header and frames nothing).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from axis.errors import AxisError

#: messagetype → the package kind it names, and back.
KINDS = {"edoc": "document", "status": "status"}
MESSAGE_TYPES = {kind: name for name, kind in KINDS.items()}
UPDATE_STATUSES = ("done", "fail", "processing")


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


def package_bytes(body: bytes, hash_file: str) -> bytes:
    """The file the SDK hashed. Its body is the raw file followed by one CRLF (its multipart
    writer's part terminator, sent without any boundary); a client that sends the bare file is
    understood too. ``hash-file`` decides which: nothing else in the request binds the body."""
    if not body:
        raise AxisError("edxml.xml.empty", "The body is empty: sendEdoc carries the edXML file.")
    trimmed = body[:-2] if body.endswith(b"\r\n") else None
    for candidate in (trimmed, body):
        if candidate is not None and hash_file_matches(candidate, hash_file):
            return candidate
    raise AxisError(
        "vdxp.hash_file.mismatch",
        "XroadVnpt-hash-file is not the SHA-256 of the file sent (the body, without its final CRLF).",
        hash_file=hash_file,
        sha256=hashlib.sha256(trimmed if trimmed is not None else body).hexdigest(),
        size=len(body),
    )


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
