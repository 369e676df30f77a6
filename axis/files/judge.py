"""From the checks of a package's files to one verdict, and what a strict system's policy refuses.

The main file is the first PDF (an attachment, or the first PDF inside the first zipped attachment
holding one): edXML does not mark it, and agency software attaches the decision first, its
appendices after. What the header says is compared with that file: the sending agency must have
signed it (an agency certificate carrying the sender's code), and the person the header's
``SignerInfo`` names should be among its individual signers (a mismatch is a warning, since a
deputy may sign "KT." for the head the header names; the clerk is shown both).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence

from axis.edxml import model as m
from axis.errors import AxisError
from axis.files import findings as f
from axis.registry import codes
from axis.registry.model import FilePolicy

_INVALID_FILE = frozenset({f.FILE_MALFORMED, f.ZIP_BOMB})
# A zip that cannot be read hides whatever it holds: not a fault of a signature, but not checked.
_UNCHECKED_FILE = frozenset({f.FILE_TOO_LARGE, f.FILE_LIMITS, f.ZIP_MALFORMED})


def judge(
    files: Sequence[f.FileCheck], package: m.DocumentPackage, *, at: dt.datetime | None = None
) -> f.DocumentCheck:
    """The verdict on a package's files, with the document's own problems."""
    files = tuple(files)
    main = next((i for i, file in enumerate(files) if _pdf(file)), None)
    problems: list[str] = []
    if main is None or not _signed_by_sender(files[main], package.sender.organ_id):
        problems.append(f.NO_AGENCY_SIGNATURE)
        if main is not None and _signed_by_an_agency(files[main]):
            problems.append(f.AGENCY_MISMATCH)
    # Compared only with a file someone signed: an unsigned or unreadable file says enough already.
    if main is not None and files[main].signatures and not _names_signer(files[main], package.signer_info.full_name):
        problems.append(f.SIGNER_MISMATCH)
    codes_found = [p for file in files for p in (*file.problems, *(q for s in file.signatures for q in s.problems))]
    codes_found += problems
    return f.DocumentCheck(
        files=files,
        verdict=_verdict(files, problems),
        problems=tuple(problems),
        main=main,
        checked_at=at,
        codes=tuple(dict.fromkeys(codes_found)),
    )


def refuses(check: f.DocumentCheck, package: m.DocumentPackage, policy: FilePolicy) -> bool:
    """Whether ``policy`` refuses the package. A revoke or an update carrying no file is not refused:
    it acts on a document whose files were checked when it came."""
    if policy is not FilePolicy.REQUIRE or f.NO_AGENCY_SIGNATURE not in check.problems:
        return False
    acts_only = package.business.doc_type in (m.BusinessDocType.REVOKE, m.BusinessDocType.UPDATE)
    return not (acts_only and not package.attachments)


def _pdf(file: f.FileCheck) -> bool:
    """A file that is a PDF (checked or not), not a zip's own problem."""
    return not ({f.ZIP_BOMB, f.ZIP_MALFORMED} & set(file.problems))


def _verdict(files: tuple[f.FileCheck, ...], problems: list[str]) -> f.Verdict:
    if not files:
        return f.Verdict.NONE
    file_problems = {p for file in files for p in file.problems}
    signature_faults = [s for file in files for s in file.signatures if not s.valid]
    if signature_faults or file_problems & _INVALID_FILE:
        return f.Verdict.INVALID
    if file_problems & _UNCHECKED_FILE:
        return f.Verdict.UNCHECKED
    if f.NO_AGENCY_SIGNATURE in problems:
        return f.Verdict.UNSIGNED
    warnings = [p for file in files for s in file.signatures for p in s.problems] + problems
    return f.Verdict.WARNING if warnings else f.Verdict.VALID


def _canonical(code: str | None) -> str | None:
    if not code:
        return None
    try:
        return codes.parse(code).text
    except AxisError:  # a malformed code: compared as written
        return code


def _signed_by_sender(file: f.FileCheck, sender: str) -> bool:
    wanted = _canonical(sender)
    return any(
        s.signer is not None and s.signer.role == "agency" and _canonical(s.signer.agency_code) == wanted
        for s in file.valid_signatures
    )


def _signed_by_an_agency(file: f.FileCheck) -> bool:
    return any(s.signer is not None and s.signer.role == "agency" for s in file.valid_signatures)


def _folded(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def _names_signer(file: f.FileCheck, full_name: str) -> bool:
    """True when the header names no one, or names someone who signed the file as a person."""
    if not full_name.strip():
        return True
    wanted = _folded(full_name)
    return any(
        s.signer is not None and s.signer.role == "individual" and _folded(s.signer.name) == wanted
        for s in file.signatures
    )
