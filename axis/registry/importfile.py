"""Reading an import file: the bytes as Excel (or anything else) saved them → rows and remarks.

What spreadsheets write, all read the same way:
- UTF-8, with or without the byte order mark ("CSV UTF-8" in Excel);
- UTF-16 with its byte order mark ("Unicode text", tab-separated: the form the axis's own register
  of documents is written in);
- Windows-1258, the Vietnamese ANSI code page ("CSV" under Vietnamese Windows settings). It writes
  most tone marks as separate combining characters ("ế" is "ê" + U+0301), so the text is brought
  to NFC before anything else looks at it.
- fields separated by commas, or by semicolons (Excel's list separator where the comma is the
  decimal mark, as under Vietnamese settings), or by tabs: the header line decides.

A file in none of these encodings is refused as such (``registry.import.encoding``), never read
into garbled names: bytes that are not UTF-8 are taken for Windows-1258 only when every letter they
decode to is a Vietnamese or an ASCII one. A file that is text but not a CSV of agencies is
``registry.import.format``. Judging the values is the planner's job (`axis.registry.importer`).
"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from axis.errors import AxisError
from axis.registry.model import AgencyStatus

REQUIRED = ("code", "name")
COLUMNS = (*REQUIRED, "parent", "code_qd20", "status", "successor")
DELIMITERS = (",", ";", "\t")
_ACTIVE = AgencyStatus.ACTIVE

# --- Remarks ------------------------------------------------------------------------------------------

#: Remark kind → its English words (the CLI's and the API's); the web pages have their own.
ENGLISH = {
    "column_ignored": "column {columns} ignored",
    "columns_ignored": "columns {columns} ignored",
    "too_many_fields": "{count} fields but the header has {width}",
    "status_unknown": "status '{status}' is neither active nor retired",
    "code_whitespace": "malformed code: surrounding whitespace",
    "code_malformed": "malformed code: {reason}",
    "parent_contradicts": "parent column says {given} but the code implies {implied}",
    "parent_of_level1": "parent column says {given} but a level-1 code has no parent",
    "name_empty": "empty name",
    "qd20_malformed": "malformed code_qd20: {reason}",
    "successor_malformed": "malformed successor: {reason}",
    "successor_self": "successor is the code itself",
    "successor_while_active": "successor given but status is active",
    "listed_differently": "code listed {count} times with different {fields} (lines {lines})",
    "duplicate_kept": "identical to line {line}; kept once",
    "link_missing": "{role} {link} is neither in the registry nor in the file",
    "link_bad": "{role} {link} is not in the registry and its own row is bad (line {lines})",
    "qd20_taken": "code_qd20 {qd20} is also given to {holders}",
    "successor_loop": "successor chain loops: {chain}",
    "successor_retired": "successor {successor} is retired itself; documents go on to {end}",
    "successor_dead_end": "successor {successor} is retired itself, and its chain ends at {end}, without successor",
}


@dataclass(frozen=True, slots=True)
class Remark:
    """One thing wrong with a row, or worth knowing about the file: a stable kind and its values.

    The words are chosen where a remark is shown: `english` here, Vietnamese on the web pages, so
    that nobody reads the other language's sentence.
    """

    kind: str
    values: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, kind: str, **values: object) -> Remark:
        return cls(kind, tuple((name, str(value)) for name, value in values.items()))

    def __getitem__(self, name: str) -> str:
        return dict(self.values)[name]

    @property
    def english(self) -> str:
        return ENGLISH[self.kind].format(**dict(self.values))


# --- Rows ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row:
    """One data row of an import file, with surrounding whitespace stripped and the name in NFC."""

    line: int
    """1-based line of the file where the row starts (the header is line 1)."""
    code: str
    name: str
    parent: str | None = None
    code_qd20: str | None = None
    status: AgencyStatus = _ACTIVE
    successor: str | None = None
    problems: tuple[Remark, ...] = ()
    """What the typed fields cannot show: a status other than active/retired, surplus fields."""


class Rows(list[Row]):
    """The rows `read_csv` found, plus what it learnt about the file as a whole.

    A plain list to everyone else; `plan` carries the remarks into ``ImportPlan.warnings``.
    """

    def __init__(
        self,
        rows: Iterable[Row] = (),
        warnings: Iterable[tuple[int, Remark]] = (),
        *,
        encoding: str = "UTF-8",
        delimiter: str = ",",
    ) -> None:
        super().__init__(rows)
        self.warnings: tuple[tuple[int, Remark], ...] = tuple(warnings)
        """(line, remark) about the file rather than a row: line 1 for the header."""
        self.encoding = encoding
        """How the bytes were read: ``UTF-8``, ``UTF-8 (BOM)``, ``UTF-16``, ``Windows-1258``."""
        self.delimiter = delimiter


def read_csv(data: bytes | str, *, source: str = "") -> Rows:
    """The rows of a CSV file with a header row (any of the encodings and separators above).

    Columns ``code`` and ``name`` are required; ``parent``, ``code_qd20``, ``status`` (active or
    retired; empty means active) and ``successor`` are optional; others are ignored, with one
    warning. Rows whose fields are all empty are skipped. Raises ``registry.import.encoding`` for
    bytes in no encoding read here, ``registry.import.format`` for text that is no such CSV (broken
    quoting, no header, a required column missing, a column named twice); the details say which
    (``problem``) and where (``line``).
    """
    where = f"{source}: " if source else ""
    text, encoding = decode(data, where=where, source=source)
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [name.strip().lower() for name in next(reader, [])]
        columns = _columns(header, where, source)
        positions = [columns.get(name) for name in COLUMNS]
        rows: list[Row] = []
        start = reader.line_num + 1
        for fields in reader:
            if "".join(fields).strip():
                rows.append(_row(start, fields, positions, len(header)))
            start = reader.line_num + 1
    except csv.Error as error:
        raise AxisError(
            "registry.import.format",
            f"{where}line {reader.line_num}: not valid CSV: {error}",
            source=source,
            line=reader.line_num,
            problem="syntax",
        ) from None
    ignored = [name or "(unnamed)" for name in header if name not in columns]
    warnings = []
    if ignored:
        kind = "column_ignored" if len(ignored) == 1 else "columns_ignored"
        warnings.append((1, Remark.of(kind, columns=", ".join(ignored))))
    return Rows(rows, warnings, encoding=encoding, delimiter=delimiter)


# --- Encodings ----------------------------------------------------------------------------------------

_TONES = ("", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323")
_VOWELS = "aăâeêioôơuưy"
#: Letters a Vietnamese text is written with (NFC), besides ASCII ones.
VIETNAMESE = frozenset(
    unicodedata.normalize("NFC", vowel + tone) for base in _VOWELS for vowel in (base, base.upper()) for tone in _TONES
) | frozenset("đĐ")
#: What else a name saved by Excel in Windows-1258 may hold: typographic marks and the đồng sign.
_TYPOGRAPHY = frozenset("\u00a0\u00ad–—‘’“”…•«»°§№₫€×")


def decode(data: bytes | str, *, where: str = "", source: str = "") -> tuple[str, str]:
    """(the text in NFC, the encoding it was read in), or ``registry.import.encoding``."""
    if isinstance(data, str):
        return unicodedata.normalize("NFC", data.removeprefix("\ufeff")), "UTF-8"
    if data.startswith(codecs.BOM_UTF8):
        return _strict(data[len(codecs.BOM_UTF8) :], "utf-8", "UTF-8 (BOM)", where, source), "UTF-8 (BOM)"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(data, "utf-16", "UTF-16", where, source).removeprefix("\ufeff"), "UTF-16"
    if b"\x00" in data[:4096]:
        raise _encoding_error(
            f"{where}the file has NUL bytes but no byte order mark: it looks like UTF-16 saved without one",
            source,
            problem="utf16_without_bom",
            line=1,
        )
    try:
        return unicodedata.normalize("NFC", data.decode("utf-8")), "UTF-8"
    except UnicodeDecodeError as error:
        first_bad = error.start
    return _windows_1258(data, first_bad, where, source), "Windows-1258"


def _strict(data: bytes, codec: str, name: str, where: str, source: str) -> str:
    try:
        return unicodedata.normalize("NFC", data.decode(codec))
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1 if codec == "utf-8" else None
        at = f"line {line}: " if line else ""
        raise _encoding_error(
            f"{where}{at}the file starts with the byte order mark of {name} but is not valid {name}",
            source,
            problem="invalid",
            encoding=name,
            line=line,
        ) from None


def _windows_1258(data: bytes, first_bad: int, where: str, source: str) -> str:
    """The text, when the bytes read as Vietnamese in Windows-1258; else the refusal."""
    utf8_line = data.count(b"\n", 0, first_bad) + 1
    try:
        text = unicodedata.normalize("NFC", data.decode("cp1258"))
    except UnicodeDecodeError as error:
        byte = data[error.start]
        raise _refusal(where, source, utf8_line, f"byte 0x{byte:02X} has no meaning in Windows-1258") from None
    for index, character in enumerate(text):
        if character.isascii() or character in VIETNAMESE or character in _TYPOGRAPHY:
            continue
        line = text.count("\n", 0, index) + 1
        raise _refusal(where, source, line, f"{character!r} (U+{ord(character):04X}) is not Vietnamese")
    return text


def _refusal(where: str, source: str, line: int, why: str) -> AxisError:
    return _encoding_error(
        f"{where}line {line}: the bytes are neither UTF-8 nor Vietnamese Windows-1258 ({why}); "
        "save the file as CSV UTF-8 or as Unicode text",
        source,
        problem="unknown",
        line=line,
    )


def _encoding_error(message: str, source: str, **details: object) -> AxisError:
    return AxisError("registry.import.encoding", message, source=source, **details)


# --- Header and rows ----------------------------------------------------------------------------------


def _delimiter(text: str) -> str:
    """The separator whose reading of the header line names the required columns; else the one
    that splits it most (so that a refusal lists the header's columns as the file has them)."""
    first = text.split("\n", 1)[0].rstrip("\r")
    best, most = ",", 0
    for delimiter in DELIMITERS:
        try:
            names = [n.strip().lower() for n in next(csv.reader([first], delimiter=delimiter), [])]
        except csv.Error:
            continue
        if all(name in names for name in REQUIRED):
            return delimiter
        if len(names) > most:
            best, most = delimiter, len(names)
    return best


def _columns(header: list[str], where: str, source: str) -> dict[str, int]:
    if not any(header):
        raise AxisError(
            "registry.import.format", f"{where}the file has no header row", source=source, problem="no_header"
        )
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        if name in columns and name in COLUMNS:
            raise AxisError(
                "registry.import.format",
                f"{where}the header names {name!r} twice",
                source=source,
                problem="column_twice",
                column=name,
            )
        columns.setdefault(name, index)
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise AxisError(
            "registry.import.format",
            f"{where}the header has no {' and no '.join(missing)} column (it has: {', '.join(header)})",
            source=source,
            problem="column_missing",
            missing=missing,
            header=header,
        )
    return {name: index for name, index in columns.items() if name in COLUMNS}


def _row(line: int, fields: list[str], positions: Sequence[int | None], width: int) -> Row:
    """The row from its fields; `positions` are the indexes of `COLUMNS` (None: no such column)."""
    count = len(fields)
    code, name, parent, code_qd20, status_text, successor = (
        fields[i].strip() if i is not None and i < count else "" for i in positions
    )
    problems = []
    if count > width and "".join(fields[width:]).strip():
        # Most often a comma in an unquoted name: importing the first half of the name would be wrong.
        problems.append(Remark.of("too_many_fields", count=count, width=width))
    status = _ACTIVE
    if status_text:
        try:
            status = AgencyStatus(status_text.lower())
        except ValueError:
            problems.append(Remark.of("status_unknown", status=status_text))
    return Row(
        line=line,
        code=code,
        name=unicodedata.normalize("NFC", name),
        parent=parent or None,
        code_qd20=code_qd20 or None,
        status=status,
        successor=successor or None,
        problems=tuple(problems),
    )
