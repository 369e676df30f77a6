"""A file check in lines of text, for operators and vendors (``axis package inspect``).

English and codes: what a vendor greps for. The clerk's page says the same in Vietnamese
(``axis.web``).
"""

from __future__ import annotations

from axis.edxml.model import VN_TZ
from axis.files import findings as f


def lines(check: f.DocumentCheck) -> list[tuple[str, str]]:
    """(label, text) pairs: the verdict, then each file and each of its signatures."""
    out = [("Files", check.verdict.value + (f": {', '.join(check.problems)}" if check.problems else ""))]
    for index, file in enumerate(check.files):
        main = " (main)" if index == check.main else ""
        out.append(("File", f"{file.label}{main}  {file.size:,} bytes"))
        for problem in file.problems:
            out.append(("  Problem", problem + (f": {file.detail}" if file.detail else "")))
        for sig in file.signatures:
            out.append(("  Signed", _signature(sig)))
    return out


def _signature(sig: f.SignatureCheck) -> str:
    who = "(no certificate)"
    if sig.signer is not None:
        s = sig.signer
        parts = [s.name, s.title, s.organisation if s.organisation != s.name else "", s.agency_code or ""]
        who = ", ".join(p for p in parts if p) + f" [{s.role}]"
    # In Vietnam's time, as the clerk's page says it (the JSON report keeps the offset it was given).
    when = f" at {sig.signed_at.astimezone(VN_TZ):%Y-%m-%d %H:%M:%S} (UTC+7)" if sig.signed_at else ""
    stamp = " (timestamped)" if sig.timestamped else ""
    verdict = "valid" if not sig.problems else ", ".join(sig.problems)
    return f"{who}{when}{stamp}: {verdict}"
