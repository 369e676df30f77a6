"""What the axis found about the signatures in a document's files: the shapes, the codes, the verdict.

The XML Signature on a package says which *system* sent it; the signatures that make a document
official (Decree 30/2020/NĐ-CP) are inside its files: the signer's own and the issuing agency's,
usually PAdES on a PDF. The axis checks them once, at intake, and keeps what it found with the
package, as plain data: a `FileCheck` per PDF (also those inside zipped attachments), a
`SignatureCheck` per signature in it, and a `DocumentCheck` over the whole package. Every problem is
a stable code from the error catalogue (``file.*``), so that a vendor can script against it and the
clerk's page can say it in Vietnamese; nothing here does I/O.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: Problems of one signature. A signature with none of these is valid.
SIGNATURE_BROKEN = "file.signature.broken"  # the bytes it covers do not match it, or its value does not verify
SIGNATURE_PARTIAL = "file.signature.partial"  # it covers only part of its revision of the file
SIGNATURE_MODIFIED = "file.signature.modified"  # the file was changed after it, beyond what signing allows
SIGNATURE_UNTRUSTED = "file.signature.untrusted"  # its certificate does not chain to a document trust anchor
SIGNATURE_EXPIRED = "file.signature.expired"  # its certificate was not valid when it signed
SIGNATURE_REVOKED = "file.signature.revoked"  # its certificate is revoked (CRL or OCSP)
#: A warning, not a fault: the certificate names where to ask about revocation and no answer came.
SIGNATURE_REVOCATION_UNKNOWN = "file.signature.revocation_unknown"

#: Problems of one file.
FILE_UNSIGNED = "file.unsigned"  # a PDF with no signature
FILE_MALFORMED = "file.malformed"  # not a PDF pyHanko can read, or its signature dictionary is unreadable
FILE_TOO_LARGE = "file.too_large"  # larger than AXIS_FILE_CHECK_MAX_BYTES: not checked
FILE_LIMITS = "file.limits"  # the check ran out of the time or memory it is given: not checked
ZIP_MALFORMED = "file.zip.malformed"  # a zipped attachment that cannot be read
ZIP_BOMB = "file.zip.bomb"  # a zipped attachment expanding beyond the limits (size, ratio, entries)

#: Problems of the document as a whole, found by comparing the files with its header.
NO_AGENCY_SIGNATURE = "file.agency_signature.missing"  # the main file has no valid signature of the sender
SIGNER_MISMATCH = "file.signer.mismatch"  # the header's SignerInfo names no one who signed the main file
AGENCY_MISMATCH = "file.agency.mismatch"  # the main file carries another agency's signature, not the sender's

WARNINGS = frozenset({SIGNATURE_REVOCATION_UNKNOWN, SIGNER_MISMATCH})


class Verdict(enum.StrEnum):
    """One word for a package's files, what listings show (``file_signatures``)."""

    VALID = "valid"  # the main file carries a valid signature of the sending agency, and nothing is wrong
    WARNING = "warning"  # valid signatures, with something to look at (a signer mismatch, revocation unknown)
    INVALID = "invalid"  # a signature is broken, altered after, untrusted, expired or revoked
    UNSIGNED = "unsigned"  # no file carries a valid signature of the sending agency
    UNCHECKED = "unchecked"  # a file could not be checked (too large, over the limits, unreadable)
    NONE = "none"  # no PDF among the files: nothing to check


@dataclass(frozen=True, slots=True)
class Signer:
    """Who a certificate names. ``role`` is ``agency`` for an agency's own certificate (it names an
    agency code and no person's title), else ``individual``."""

    name: str
    title: str = ""
    organisation: str = ""
    agency_code: str | None = None
    role: str = "individual"
    issuer: str = ""
    serial: str = ""
    not_after: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    field: str
    signer: Signer | None
    signed_at: dt.datetime | None  # the time the signature claims (or its timestamp's, when it has one)
    timestamped: bool = False
    whole_file: bool = False  # nothing follows it in the file (the last signature)
    problems: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        return not [p for p in self.problems if p not in WARNINGS]


@dataclass(frozen=True, slots=True)
class FileCheck:
    """One PDF: an attachment, or a file inside a zipped attachment (``path`` inside it)."""

    attachment: str  # the attachment's name in the package
    path: str = ""  # the file's path inside a zipped attachment, "" for the attachment itself
    size: int = 0
    signatures: tuple[SignatureCheck, ...] = ()
    problems: tuple[str, ...] = ()
    detail: str = ""  # what the library said, for a malformed file or a limit

    @property
    def label(self) -> str:
        return f"{self.attachment}/{self.path}" if self.path else self.attachment

    @property
    def valid_signatures(self) -> tuple[SignatureCheck, ...]:
        return tuple(s for s in self.signatures if s.valid)


@dataclass(frozen=True, slots=True)
class DocumentCheck:
    """Everything found in one package's files. ``main`` indexes the main file (the first PDF)."""

    files: tuple[FileCheck, ...]
    verdict: Verdict
    problems: tuple[str, ...] = ()
    main: int | None = None
    checked_at: dt.datetime | None = None
    codes: tuple[str, ...] = field(default=())  # every problem's code, once, in order

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "problems": list(self.problems),
            "main": self.main,
            "checked_at": _time(self.checked_at),
            "codes": list(self.codes),
            "files": [_file_json(f) for f in self.files],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DocumentCheck:
        return cls(
            files=tuple(_file_of(f) for f in data.get("files", ())),
            verdict=Verdict(data["verdict"]),
            problems=tuple(data.get("problems", ())),
            main=data.get("main"),
            checked_at=_parse_time(data.get("checked_at")),
            codes=tuple(data.get("codes", ())),
        )


def _time(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse_time(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _signer_json(s: Signer | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {
        "name": s.name,
        "title": s.title,
        "organisation": s.organisation,
        "agency_code": s.agency_code,
        "role": s.role,
        "issuer": s.issuer,
        "serial": s.serial,
        "not_after": _time(s.not_after),
    }


def _signer_of(d: Mapping[str, Any] | None) -> Signer | None:
    if d is None:
        return None
    return Signer(
        name=d["name"],
        title=d.get("title", ""),
        organisation=d.get("organisation", ""),
        agency_code=d.get("agency_code"),
        role=d.get("role", "individual"),
        issuer=d.get("issuer", ""),
        serial=d.get("serial", ""),
        not_after=_parse_time(d.get("not_after")),
    )


def _file_json(f: FileCheck) -> dict[str, Any]:
    return {
        "attachment": f.attachment,
        "path": f.path,
        "size": f.size,
        "problems": list(f.problems),
        "detail": f.detail,
        "signatures": [
            {
                "field": s.field,
                "signer": _signer_json(s.signer),
                "signed_at": _time(s.signed_at),
                "timestamped": s.timestamped,
                "whole_file": s.whole_file,
                "valid": s.valid,
                "problems": list(s.problems),
            }
            for s in f.signatures
        ],
    }


def _file_of(d: Mapping[str, Any]) -> FileCheck:
    return FileCheck(
        attachment=d["attachment"],
        path=d.get("path", ""),
        size=d.get("size", 0),
        problems=tuple(d.get("problems", ())),
        detail=d.get("detail", ""),
        signatures=tuple(
            SignatureCheck(
                field=s["field"],
                signer=_signer_of(s.get("signer")),
                signed_at=_parse_time(s.get("signed_at")),
                timestamped=s.get("timestamped", False),
                whole_file=s.get("whole_file", False),
                problems=tuple(s.get("problems", ())),
            )
            for s in d.get("signatures", ())
        ),
    )
