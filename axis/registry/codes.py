"""Agency identifier codes (mã định danh): their two written forms and the hierarchy they encode.

A code is the address on every edXML package, so parsing one sits on the hot path of routing. The
rules here are pure functions of the text: a code's level and parent follow from the code alone, so a
malformed address is refused before any registry look-up, and a package for an agency the registry
does not know yet can still be traced to its nearest known ancestor.

Two written forms exist:

* QCVN 102:2016, ``DDD.CC.BB.LNN``, lowest level first: ``LNN`` is level 1 (a letter for the branch
  of the state and two digits), ``BB`` level 2, ``CC`` level 3, ``DDD`` level 4; an all-zero group
  means that level is unused. edXML packages carry this form, so it is the one we route on.
* Decision 20/2020/QĐ-TTg: up to 35 characters of ``[.0-9A-Z]`` in dot-separated groups, level 1
  first (``G09.20``). The national axis reports it beside the QCVN 102 form; we store it when known.

Whether a code names a registered agency is the registry's question, not this module's:
``777.77.04.D77`` is a well-formed level-4 code even though it is a test code nobody registered.
The meaning of level-1 letters is data (``axis/registry/agency_codes/level1_letters.csv``), not code,
because only some of them are confirmed by real codes.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from axis.errors import AxisError

# re.ASCII because a plain \d also accepts other scripts' digits ("٠٠٠" would pass, and int() would
# even read it). fullmatch rather than "$", which also matches before a trailing newline.
_QCVN102 = re.compile(r"\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}", re.ASCII)
# Group text -> number; a dictionary hit is about twice as fast as int() on the hot path.
_TWO_DIGITS = {f"{n:02d}": n for n in range(100)}
_THREE_DIGITS = {f"{n:03d}": n for n in range(1000)}
_QD20_CHARACTERS = frozenset(".0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")

#: The longest Decision 20/2020 code, in characters.
QD20_MAX_LENGTH = 35


@dataclass(frozen=True, slots=True)
class AgencyCode:
    """A well-formed QCVN 102 code, split into its levels.

    Build one with `parse`: the fields are not checked again here, because construction is on the
    hot path and `parse` has already checked the text they come from. Frozen and hashable, so codes
    can key dictionaries and sets.
    """

    text: str
    """Canonical text, e.g. ``000.00.11.H53``."""
    level1: str
    """The level-1 group ``LNN``, e.g. ``H53``."""
    groups: tuple[int, int, int]
    """Levels 2, 3 and 4 (``BB``, ``CC``, ``DDD``) as numbers; 0 = the level is unused."""

    def __str__(self) -> str:
        return self.text

    @property
    def level(self) -> int:
        """1 to 4: the lowest level in use (a level-2 code names a unit directly under level 1)."""
        bb, cc, ddd = self.groups
        if ddd:
            return 4
        if cc:
            return 3
        if bb:
            return 2
        return 1

    @property
    def parent(self) -> AgencyCode | None:
        """The code with its lowest non-zero level zeroed; None for a level-1 code."""
        bb, cc, ddd = self.groups
        if ddd:
            return _build(self.level1, bb, cc, 0)
        if cc:
            return _build(self.level1, bb, 0, 0)
        if bb:
            return _build(self.level1, 0, 0, 0)
        return None

    def ancestors(self) -> tuple[AgencyCode, ...]:
        """Every code above this one, nearest first, the level-1 code last; empty for level 1."""
        found: list[AgencyCode] = []
        code = self.parent
        while code is not None:
            found.append(code)
            code = code.parent
        return tuple(found)

    def is_within(self, root: AgencyCode) -> bool:
        """True when this code is `root` itself or lies anywhere below it.

        Used to scope a system or an operator to a subtree (a province, a ministry) without walking
        the registry: the levels `root` fixes must be equal, and this code may only be deeper.
        """
        fixed = root.level - 1
        return self.level1 == root.level1 and self.groups[:fixed] == root.groups[:fixed] and self.level >= root.level


def _build(level1: str, bb: int, cc: int, ddd: int) -> AgencyCode:
    """A code from trusted parts (a parent of a parsed code); no checks, see `AgencyCode`."""
    return AgencyCode(f"{ddd:03d}.{cc:02d}.{bb:02d}.{level1}", level1, (bb, cc, ddd))


def _gap(ddd: str, cc: str, bb: str) -> str | None:
    """Why a pattern-valid code skips a level, or None: a unit cannot hang below an unused level."""
    if bb == "00" and cc != "00":
        return "level 3 set below an unused level 2"
    if cc == "00" and ddd != "000":
        return "level 4 set below an unused level 3"
    return None


def problem(text: str) -> str | None:
    """None when `text` is a well-formed QCVN 102 code; otherwise a short English reason.

    For import reports, which list every bad row with its reason rather than stopping at the first.
    Surrounding whitespace is ignored, as `parse` ignores it. The reasons are: ``empty``,
    ``lower-case level-1 letter``, ``not of the form DDD.CC.BB.LNN``, ``level 3 set below an unused
    level 2``, ``level 4 set below an unused level 3``.
    """
    code = text.strip()
    if not code:
        return "empty"
    if _QCVN102.fullmatch(code) is None:
        # Worth naming separately: it is the one mistake a reader cannot see at a glance.
        if _QCVN102.fullmatch(code.upper()) is not None:
            return "lower-case level-1 letter"
        return "not of the form DDD.CC.BB.LNN"
    ddd, cc, bb, _ = code.split(".")
    return _gap(ddd, cc, bb)


def parse(text: str) -> AgencyCode:
    """The `AgencyCode` for `text`, ignoring surrounding whitespace.

    Raises ``AxisError("agency_code.malformed")`` with details ``agency_code`` (the text as given;
    not ``code``, which is the error's own code), ``reason`` (see `problem`) and ``form``
    (``QCVN 102``) when the text is not a well-formed QCVN 102 code.
    Malformed codes are refused, never repaired: a guessed repair could deliver a document to the
    wrong agency.
    """
    return _parse_cached(text)


# Real traffic names the same few thousand agencies over and over, so a bounded memo turns most
# parses into one dictionary hit: measured about 8x faster on repeated codes, about a third slower on
# a miss. Refusals raise and are therefore never cached: malformed junk never takes a slot.
# A full cache of 262,144 codes (a national registry fits) holds about 55 MB.
@functools.lru_cache(maxsize=262_144)
def _parse_cached(text: str) -> AgencyCode:
    code = text.strip()
    if _QCVN102.fullmatch(code) is not None:
        ddd, cc, bb, level1 = code.split(".")
        if _gap(ddd, cc, bb) is None:
            return AgencyCode(code, level1, (_TWO_DIGITS[bb], _TWO_DIGITS[cc], _THREE_DIGITS[ddd]))
    reason = problem(text)
    raise AxisError(
        "agency_code.malformed",
        f"{text!r} is not a QCVN 102 agency code: {reason}",
        agency_code=text,
        reason=reason,
        form="QCVN 102",
    )


def is_valid(text: str) -> bool:
    """True when `parse` would accept `text`."""
    return problem(text) is None


def parent_of(text: str) -> str | None:
    """The parent's code text, or None for a level-1 code; raises like `parse` on a malformed code."""
    parent = parse(text).parent
    return None if parent is None else parent.text


def qd20_problem(text: str) -> str | None:
    """None when `text` is a well-formed Decision 20/2020 code; otherwise a short English reason.

    Only the written form is checked (length, characters, non-empty groups): the decision's meaning
    of each group is not confirmed, so this accepts any group contents. Surrounding whitespace is
    ignored. The reasons are: ``empty``, ``longer than 35 characters``, ``character 'x' outside
    [.0-9A-Z]``, ``empty group``.
    """
    code = text.strip()
    if not code:
        return "empty"
    if len(code) > QD20_MAX_LENGTH:
        return f"longer than {QD20_MAX_LENGTH} characters"
    for character in code:
        if character not in _QD20_CHARACTERS:
            return f"character {character!r} outside [.0-9A-Z]"
    if "" in code.split("."):
        return "empty group"
    return None


def qd20_parent(text: str) -> str | None:
    """The Decision 20/2020 parent (the code without its last group), or None for a one-group code.

    Raises ``AxisError("agency_code.malformed")`` like `parse`, with ``form`` ``QD20``, when `text`
    is malformed.
    """
    reason = qd20_problem(text)
    if reason is not None:
        raise AxisError(
            "agency_code.malformed",
            f"{text!r} is not a Decision 20/2020 agency code: {reason}",
            agency_code=text,
            reason=reason,
            form="QD20",
        )
    parent, dot, _ = text.strip().rpartition(".")
    return parent if dot else None


#: The level-1 letters' meanings, shipped inside the package (pyproject.toml's package-data).
_LETTERS = resources.files("axis.registry") / "agency_codes" / "level1_letters.csv"


def load_letters(path: Path | None = None) -> dict[str, str]:
    """Level-1 letter -> meaning, read from ``letter,meaning,confirmed`` CSV.

    The table is data because only some letters are confirmed by real codes and the state's
    structure changes (the 2025 mergers). By default it reads the one the package carries,
    ``axis/registry/agency_codes/level1_letters.csv``. Raises ValueError on a row that is not one
    upper-case letter or that repeats a letter: a broken seed file is a bug to fix, not input to skip.
    """
    source: Traversable = path if path is not None else _LETTERS
    letters: dict[str, str] = {}
    reader = csv.DictReader(io.StringIO(source.read_bytes().decode("utf-8-sig"), newline=""))
    for row in reader:
        letter = (row.get("letter") or "").strip()
        if len(letter) != 1 or not "A" <= letter <= "Z":
            raise ValueError(f"{source}:{reader.line_num}: {letter!r} is not one upper-case letter")
        if letter in letters:
            raise ValueError(f"{source}:{reader.line_num}: letter {letter} is listed twice")
        letters[letter] = (row.get("meaning") or "").strip()
    return letters
