"""The file check as a step of intake: which attachments to keep, the check, and the policy's refusal.

Intake reads a package without its attachments' content (a 50 MB package must not sit in memory
twice); only attachments whose first bytes are a PDF's are kept for this check, whatever their name
or declared type says (a signed decision named ``.doc`` is still a signed PDF; fifty megabytes of
scans named ``.pdf`` that are not PDFs cost nothing), and zipped attachments.
"""

from __future__ import annotations

import asyncio
import binascii
import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

import structlog
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from axis.config import Settings
from axis.edxml import model as m
from axis.edxml import revocation
from axis.errors import AxisError
from axis.files import findings as f
from axis.files import judge
from axis.files.pdf import DocumentTrust
from axis.files.unpack import ZipLimits
from axis.files.worker import Attachment, FileChecker, FileLimits, too_large

log = structlog.get_logger("axis.files")
_HEAD = 1368  # base64 characters for the first 1,024 bytes, where a PDF header may sit (ISO 32000)
_PDF, _ZIP = b"%PDF-", b"PK\x03\x04"


class Checker(Protocol):
    """``axis.files.worker.FileChecker``, or a stand-in in a test of intake's logic."""

    @property
    def limits(self) -> FileLimits: ...

    async def check_one(self, attachment: Attachment) -> list[f.FileCheck]: ...


def checkable(attachment: m.Attachment) -> bool:
    """Whether the reader keeps an attachment for the check: its bytes start as a PDF, or as a zip
    and it is sent as a zip (a ``.docx`` is a zip too, and holds no signed PDF to look for)."""
    head = "".join(attachment.encoded[:_HEAD].split())
    head = head[: len(head) - len(head) % 4]
    try:
        start = binascii.a2b_base64(head)
    except binascii.Error:
        return False
    if _PDF in start:
        return True
    zipped = attachment.name.lower().endswith(".zip") or "zip" in attachment.content_type.lower()
    return zipped and start.startswith(_ZIP)


async def check(
    checker: Checker,
    package: m.DocumentPackage,
    off_loop: Callable[..., Awaitable[Any]],
    *,
    at: dt.datetime,
) -> f.DocumentCheck:
    """The verdict on a package's files (those the reader kept), checked by ``checker``."""
    kept = [a for a in package.attachments if a.encoded]
    if not kept:  # most documents: nothing to decode or hand to a worker
        return judge.judge([], package, at=at)
    limit = checker.limits.max_bytes
    decoded: list[Attachment | None] = await off_loop(
        lambda: [Attachment(a.name, a.content()) if a.size <= limit else None for a in kept]
    )
    found = await asyncio.gather(*(checker.check_one(d) for d in decoded if d is not None))
    checked = iter(found)
    files: list[f.FileCheck] = []
    for a, d in zip(kept, decoded, strict=True):  # in the package's order, an oversized file where it stands
        if d is None:
            files.append(too_large(a.name, a.size))
        else:
            files.extend(next(checked))
    return judge.judge(files, package, at=at)


def refusal(check: f.DocumentCheck) -> AxisError:
    """``file.signature.required``, saying what the main file lacks."""
    if check.main is None:
        why = "the package carries no PDF file"
    else:
        main = check.files[check.main]
        found = list(dict.fromkeys((*main.problems, *(p for s in main.signatures for p in s.problems))))
        signers = [s.signer.name for s in main.signatures if s.signer is not None]
        by = f"is signed by {', '.join(signers)}, none of them validly the sending agency"
        why = f"the main file {main.label!r} " + (by if signers else "is not signed")
        if found:
            why += f" ({', '.join(found)})"
    return AxisError(
        "file.signature.required",
        f"This system's file policy requires a valid signature of the sending agency on the main file: {why}.",
        verdict=check.verdict.value,
        codes=list(check.codes),
        files=check.to_json()["files"],
    )


def checker_from(settings: Settings) -> FileChecker:
    """The checker ``AXIS_DOCUMENT_TRUST_ANCHORS``, ``AXIS_CRL_FILES`` and ``AXIS_FILE_CHECK_*`` describe."""
    anchors: list[bytes] = []
    for path in settings.document_trust_anchors:
        try:
            pem = Path(path).read_bytes()
        except FileNotFoundError:
            if Path(path) != settings.keys_dir / "ca.pem":
                raise AxisError("keys.missing", f"Document trust anchor file {path} does not exist.") from None
            # The development default, absent (an axis set up before this setting existed, with its
            # package anchors elsewhere): it still starts, and says why every file signer is untrusted.
            log.warning(
                "files.no_trust_anchors",
                missing=str(path),
                consequence="every signature in document files is file.signature.untrusted",
                fix="set AXIS_DOCUMENT_TRUST_ANCHORS",
            )
            continue
        anchors.extend(c.public_bytes(serialization.Encoding.DER) for c in x509.load_pem_x509_certificates(pem))
    crls = tuple(c.public_bytes(serialization.Encoding.DER) for c in revocation.load_files(settings.crl_files))
    trust = DocumentTrust(
        tuple(anchors), crls, fetch=settings.file_check_fetch, fetch_timeout=settings.file_check_fetch_timeout
    )
    limits = FileLimits(
        max_bytes=settings.file_check_max_bytes,
        seconds=settings.file_check_seconds,
        memory_bytes=settings.file_check_memory_bytes,
        zip=ZipLimits(max_bytes=settings.file_check_max_unzipped_bytes),
    )
    return FileChecker(trust, limits, workers=settings.file_check_workers)
