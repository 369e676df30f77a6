"""Which of a package's attachments are PDFs to check, including those inside zipped attachments.

The national libraries zip files of other types before attaching them, so a signed PDF may sit in a
``.zip``. A zip is hostile input as much as a PDF: its directory may lie about sizes, one entry may
expand a thousand times, or it may hold zips within zips. Entries are read with the expansion
counted as it happens (never trusting the declared size), within a budget of bytes, a ratio, a
count of entries and a depth; beyond any of them the attachment is reported as a zip bomb and none
of its files is checked.
"""

from __future__ import annotations

import io
import lzma
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from axis.files import findings as f

PDF_MAGIC = b"%PDF-"
ZIP_MAGIC = b"PK\x03\x04"
_READ = 1 << 16


@dataclass(frozen=True, slots=True)
class ZipLimits:
    max_bytes: int = 200 * 1024 * 1024  # expanded, all entries together
    max_ratio: int = 200  # expanded / compressed, per entry
    max_entries: int = 10_000
    max_depth: int = 2  # a zip in a zip is read; a third level is not


@dataclass(frozen=True, slots=True)
class Candidate:
    """A PDF to check: ``data`` and where it came from."""

    attachment: str
    path: str
    data: bytes


def wanted(name: str, content_type: str) -> bool:
    """Whether an attachment may hold a PDF (by its name or type): the reader keeps only these."""
    lowered, kind = name.lower(), content_type.lower()
    return lowered.endswith((".pdf", ".zip")) or "pdf" in kind or "zip" in kind


def is_pdf(data: bytes) -> bool:
    # A PDF may carry a few bytes of junk before its header (ISO 32000 tolerates up to 1024).
    return PDF_MAGIC in data[:1024]


#: What reading a hostile zip can raise: a bad directory or CRC (BadZipFile), an encrypted entry
#: (RuntimeError), a method not supported (NotImplementedError), corrupt compressed data (zlib.error,
#: lzma.LZMAError, OSError and EOFError from bz2), a name or size that makes no sense (ValueError).
_UNREADABLE_ZIP = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    NotImplementedError,
    RuntimeError,
    EOFError,
    OSError,
    ValueError,
    zlib.error,
    lzma.LZMAError,
)


def candidates(name: str, data: bytes, limits: ZipLimits) -> tuple[list[Candidate], list[f.FileCheck]]:
    """The PDFs of one attachment, and the problems of a zip that could not be opened safely.

    A zip is recognised before a PDF: a zip *storing* a PDF has ``%PDF-`` within its first bytes too.
    """
    if not data.startswith(ZIP_MAGIC):
        return ([Candidate(name, "", data)] if is_pdf(data) else []), []
    try:
        found = list(_unzip(name, data, "", limits, depth=1, budget=[limits.max_bytes]))
    except _Bomb as bomb:
        return [], [f.FileCheck(attachment=name, size=len(data), problems=(f.ZIP_BOMB,), detail=str(bomb))]
    except RecursionError:  # a RuntimeError, but no malformed zip: the worker reports it
        raise
    except _UNREADABLE_ZIP as exc:
        detail = str(exc)[:300] or type(exc).__name__
        return [], [f.FileCheck(attachment=name, size=len(data), problems=(f.ZIP_MALFORMED,), detail=detail)]
    return found, []


class _Bomb(Exception):
    pass


def _unzip(
    name: str, data: bytes, prefix: str, limits: ZipLimits, *, depth: int, budget: list[int]
) -> Iterator[Candidate]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        entries = archive.infolist()
        if len(entries) > limits.max_entries:
            raise _Bomb(f"{len(entries)} entries (limit {limits.max_entries})")
        for entry in entries:
            if entry.is_dir():
                continue
            content = _read(archive, entry, limits, budget)
            path = prefix + entry.filename
            if content.startswith(ZIP_MAGIC):
                if depth >= limits.max_depth:
                    raise _Bomb(f"{path}: zips nested deeper than {limits.max_depth}")
                yield from _unzip(name, content, path + "/", limits, depth=depth + 1, budget=budget)
            elif is_pdf(content):
                yield Candidate(name, path, content)


def _read(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, limits: ZipLimits, budget: list[int]) -> bytes:
    """An entry's bytes, counting the expansion as it happens: the declared sizes may lie."""
    allowed = min(budget[0], max(entry.compress_size, 1) * limits.max_ratio)
    out = bytearray()
    with archive.open(entry) as stream:
        while piece := stream.read(_READ):
            out += piece
            if len(out) > allowed:
                what = "the expansion budget" if allowed == budget[0] else f"{limits.max_ratio}x its compressed size"
                raise _Bomb(f"{entry.filename}: expands beyond {what}")
    budget[0] -= len(out)
    return bytes(out)
