"""The signatures inside a document's files (``axis.files``), as a clerk reads them: a Vietnamese
sentence for every ``file.*`` problem code, a headline for every verdict, and the document page's
view of one check (who signed each PDF, as whom, when, and whether it holds). Pure.

Every code in ``axis.files.findings`` has its sentence here (a test holds it so): a code shown as
it is written would tell a clerk nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from axis.edxml import model as m
from axis.files import findings as f
from axis.files.findings import Verdict

#: What each problem means, as a sentence for the clerk (no final stop: the page adds it).
PROBLEMS: Mapping[str, str] = {
    f.SIGNATURE_BROKEN: "Chữ ký số không khớp với nội dung đã ký hoặc không xác thực được",
    f.SIGNATURE_PARTIAL: "Chữ ký số chỉ ký một phần nội dung của tệp",
    f.SIGNATURE_MODIFIED: "Tệp đã bị sửa đổi sau khi ký",
    f.SIGNATURE_UNTRUSTED: "Chứng thư số không do tổ chức cung cấp dịch vụ chứng thực được tin cậy cấp",
    f.SIGNATURE_EXPIRED: "Chứng thư số đã hết hạn hoặc chưa có hiệu lực vào thời điểm ký",
    f.SIGNATURE_REVOKED: "Chứng thư số đã bị thu hồi",
    f.SIGNATURE_REVOCATION_UNKNOWN: (
        "Chưa xác minh được chứng thư số có bị thu hồi hay không: dịch vụ kiểm tra trạng thái chứng thư số "
        "không trả lời"
    ),
    f.FILE_UNSIGNED: "Tệp không có chữ ký số",
    f.FILE_MALFORMED: "Không đọc được tệp hoặc chữ ký số trong tệp: tệp bị lỗi hoặc không đúng định dạng PDF",
    f.FILE_TOO_LARGE: "Tệp vượt quá dung lượng trục kiểm tra; chữ ký số trong tệp chưa được kiểm tra",
    f.FILE_LIMITS: (
        "Việc kiểm tra tệp vượt quá thời gian hoặc bộ nhớ cho phép; chữ ký số trong tệp chưa được kiểm tra"
    ),
    f.ZIP_MALFORMED: "Tệp nén bị lỗi, không giải nén được để kiểm tra",
    f.ZIP_BOMB: (
        "Tệp nén khi giải nén vượt quá giới hạn cho phép (dung lượng hoặc số tệp), có thể là tệp độc hại; "
        "trục không giải nén để kiểm tra"
    ),
    f.NO_AGENCY_SIGNATURE: "Tệp chính không có chữ ký số hợp lệ của cơ quan gửi",
    f.SIGNER_MISMATCH: "Người ký trong tệp khác người ký ghi trong văn bản (SignerInfo)",
    f.AGENCY_MISMATCH: "Tệp chính mang chữ ký số của một cơ quan khác, không phải cơ quan gửi",
}

#: The one line at the top of the document page, by verdict.
VERDICTS: Mapping[Verdict, str] = {
    Verdict.VALID: "Chữ ký số trên tệp văn bản hợp lệ",
    Verdict.WARNING: "Chữ ký số trên tệp văn bản hợp lệ nhưng có điểm cần lưu ý",
    Verdict.INVALID: "Chữ ký số trên tệp văn bản không hợp lệ",
    Verdict.UNSIGNED: "Tệp văn bản không có chữ ký số hợp lệ của cơ quan gửi",
    Verdict.UNCHECKED: "Chưa kiểm tra được chữ ký số trên tệp văn bản",
    Verdict.NONE: "Không có tệp PDF để kiểm tra chữ ký số",
}
#: The page's colour classes (``tag ok|warn|bad``): always beside words that say the same.
_KINDS: Mapping[Verdict, str] = {
    Verdict.VALID: "ok",
    Verdict.WARNING: "warn",
    Verdict.INVALID: "bad",
    Verdict.UNSIGNED: "warn",
    Verdict.UNCHECKED: "warn",
    Verdict.NONE: "",
}
SYMBOLS: Mapping[str, str] = {"ok": "✓", "warn": "⚠", "bad": "✗"}
#: The tag beside a subject in the documents list: only what needs a look (a valid file says nothing).
LIST_TAGS: Mapping[str, tuple[str, str]] = {
    Verdict.WARNING.value: ("warn", "Chữ ký số trên tệp cần lưu ý"),
    Verdict.INVALID.value: ("bad", "Chữ ký số trên tệp không hợp lệ"),
    Verdict.UNSIGNED.value: ("warn", "Tệp chưa có chữ ký số của cơ quan gửi"),
    Verdict.UNCHECKED.value: ("warn", "Chưa kiểm tra được chữ ký số trên tệp"),
}
ROLES: Mapping[str, str] = {"individual": "Chữ ký cá nhân", "agency": "Chữ ký của cơ quan"}

_UNREAD = frozenset({f.FILE_MALFORMED, f.ZIP_MALFORMED, f.ZIP_BOMB})
_CN = re.compile(r"(?:^|,)CN=((?:\\.|[^,\\])*)")


def problem(code: str) -> str:
    """A problem code as a sentence (the code itself, were one ever left unworded)."""
    return PROBLEMS.get(code, code)


@dataclass(frozen=True, slots=True)
class Outcome:
    """A result in words, with its colour class: ``ok``, ``warn``, ``bad`` (``""``: neutral)."""

    kind: str
    text: str
    reasons: tuple[str, ...] = ()

    @property
    def flash(self) -> str:
        """The class of a ``flash`` box, whose red is called ``error``."""
        return "error" if self.kind == "bad" else self.kind

    @property
    def symbol(self) -> str:
        """Seen beside the words (hidden from screen readers: the words say it)."""
        return SYMBOLS.get(self.kind, "")


@dataclass(frozen=True, slots=True)
class SignatureView:
    check: f.SignatureCheck
    role: str  # "Chữ ký cá nhân" / "Chữ ký của cơ quan"
    outcome: Outcome
    issuer: str  # the certificate's issuer, by its common name

    @property
    def signer(self) -> f.Signer | None:
        return self.check.signer

    @property
    def signed_at(self) -> dt.datetime | None:
        return self.check.signed_at


@dataclass(frozen=True, slots=True)
class FileView:
    check: f.FileCheck
    main: bool  # the document's main file (the first PDF), which the sender must have signed
    outcome: Outcome
    signatures: tuple[SignatureView, ...]


@dataclass(frozen=True, slots=True)
class FilesView:
    """What the document page shows of one check."""

    verdict: Verdict
    line: Outcome  # the one line near the top of the page
    files: tuple[FileView, ...]
    notes: tuple[Outcome, ...]  # the document's own problems, with what the header and the main file say
    checked_at: dt.datetime | None

    @property
    def none(self) -> bool:
        return self.verdict is Verdict.NONE


def view(check: f.DocumentCheck, package: m.DocumentPackage) -> FilesView:
    """The document page's view of what intake found in the package's files."""
    main = check.files[check.main] if check.main is not None else None
    return FilesView(
        verdict=check.verdict,
        line=_line(check, main),
        files=tuple(_file(file, main=i == check.main) for i, file in enumerate(check.files)),
        notes=tuple(_note(code, main, package) for code in _compared(check, main)),
        checked_at=check.checked_at,
    )


def _compared(check: f.DocumentCheck, main: f.FileCheck | None) -> tuple[str, ...]:
    """The document's own problems worth saying: only where the main file carries signatures to
    compare with the header. Of a file unread, unchecked or unsigned, its own problem says it all."""
    if main is None or not main.signatures or check.verdict is Verdict.NONE:
        return ()
    return check.problems


def _line(check: f.DocumentCheck, main: f.FileCheck | None) -> Outcome:
    headline = VERDICTS[check.verdict]
    kind = _KINDS[check.verdict]
    if check.verdict is Verdict.VALID and main is not None:
        names = [_signed_as(s.signer) for s in main.valid_signatures if s.signer is not None]
        return Outcome(kind, headline, (f"Tệp chính do {_joined(names)} ký số",) if names else ())
    told = set(_compared(check, main))
    if check.verdict is Verdict.UNSIGNED:
        told.discard(f.NO_AGENCY_SIGNATURE)  # the headline says it
    codes = [code for code in check.codes if code not in check.problems or code in told]
    return Outcome(kind, headline, tuple(problem(code) for code in codes))


def _file(file: f.FileCheck, *, main: bool) -> FileView:
    signatures = tuple(_signature(s) for s in file.signatures)
    reasons = tuple(problem(code) for code in file.problems)
    if set(file.problems) & _UNREAD:
        outcome = Outcome("bad", "Không đọc được tệp", reasons)
    elif f.FILE_UNSIGNED in file.problems:
        outcome = Outcome("warn", "Không có chữ ký số", reasons)
    elif file.problems:
        outcome = Outcome("warn", "Chưa kiểm tra chữ ký số", reasons)
    elif any(s.outcome.kind == "bad" for s in signatures):
        outcome = Outcome("bad", "Có chữ ký số không hợp lệ")
    elif any(s.outcome.kind == "warn" for s in signatures):
        outcome = Outcome("warn", "Chữ ký số hợp lệ, có điểm cần lưu ý")
    else:
        outcome = Outcome("ok", "Chữ ký số hợp lệ")
    return FileView(file, main, outcome, signatures)


def _signature(check: f.SignatureCheck) -> SignatureView:
    reasons = tuple(problem(code) for code in check.problems)
    if not check.valid:
        outcome = Outcome("bad", "Không hợp lệ", reasons)
    elif reasons:
        outcome = Outcome("warn", "Hợp lệ, cần lưu ý", reasons)
    else:
        outcome = Outcome("ok", "Hợp lệ")
    signer = check.signer
    role = ROLES.get(signer.role, "") if signer is not None else ""
    return SignatureView(check, role, outcome, issuer_name(signer.issuer) if signer is not None else "")


def _note(code: str, main: f.FileCheck | None, package: m.DocumentPackage) -> Outcome:
    """A problem of the document as a whole, with what it was found by comparing."""
    return Outcome("warn" if code in f.WARNINGS else "bad", _said(code, main, package))


def _said(code: str, main: f.FileCheck | None, package: m.DocumentPackage) -> str:
    if code == f.AGENCY_MISMATCH and main is not None:
        agencies = [
            f"{s.signer.name} ({s.signer.agency_code})"
            for s in main.valid_signatures
            if s.signer is not None and s.signer.role == "agency"
        ]
        return f"{problem(code)}: tệp chính do {_joined(agencies)} ký, văn bản do {package.sender.organ_id} gửi"
    if code != f.SIGNER_MISMATCH or main is None:
        return problem(code)
    named = " ".join(part for part in (package.signer_info.position, package.signer_info.full_name) if part.strip())
    people = [s.signer.name for s in main.signatures if s.signer is not None and s.signer.role == "individual"]
    found = f"tệp chính do {_joined(people)} ký" if people else "tệp chính không có chữ ký cá nhân"
    return f"{problem(code)}: văn bản ghi người ký là {named}, {found}"


def _signed_as(signer: f.Signer) -> str:
    return f"{signer.name} ({signer.title})" if signer.title else signer.name


def _joined(names: list[str]) -> str:
    names = list(dict.fromkeys(names))
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " và " + names[-1]


def issuer_name(issuer: str) -> str:
    """``World CA`` of ``CN=World CA,O=…,C=VN`` (RFC 4514); the whole name when it has no CN."""
    match = _CN.search(issuer)
    return re.sub(r"\\(.)", r"\1", match.group(1)) if match else issuer
