"""Finding agencies by what a person types, ranked so that what they meant comes first. Pure:
over one registry snapshot, which every axis process holds in memory.

A query is a code (either form, or its start: ``000.00.3``, ``H53``, ``G09.2``) or words of a
name, without accents. Name words match the agency's own name or the names of the agencies above
it, so "so tai chinh tay ninh" finds "Sở Tài chính" under "UBND Tỉnh Tây Ninh". Ranking, first to
last: the name itself ("xa an binh" → "Xã An Bình"), the words as a phrase of whole words of the
name ("UBND Xã An Bình"), every word a whole word of the name, every word inside the name, then
the same with the parents' names; within a rank active agencies first, higher levels, shorter
names, then codes.
So "xa an binh" lists "UBND Xã An Bình" before "Phường Tân Bình", where "an binh" is only a part.
A word that looks like a code but names none ("UBND") is read as a name word too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from axis.errors import AxisError
from axis.registry import codes
from axis.registry.folding import fold, words
from axis.registry.model import Agency, Snapshot

_CODE_LIKE = re.compile(r"^[0-9A-Z][.0-9A-Z]*$")


@dataclass(frozen=True, slots=True)
class _Entry:
    agency: Agency
    own: str
    """The folded name, padded with spaces so that whole words are found as `` word ``."""
    context: str
    """The folded names of the agencies above it, padded likewise."""
    above: frozenset[str]
    """The codes above it."""


def _above(agency: Agency, by_code: dict[str, Agency]) -> list[str]:
    """The codes above an agency: from its QCVN 102 code, or, for a legacy code that breaks the
    pattern, from the parents the registry records."""
    try:
        return [ancestor.text for ancestor in codes.parse(agency.code).ancestors()]
    except AxisError:
        chain: list[str] = []
        parent = agency.parent_code
        while parent and parent not in chain and len(chain) < 8:
            chain.append(parent)
            found = by_code.get(parent)
            parent = found.parent_code if found else None
        return chain


class Finder:
    """The snapshot's agencies, folded once, searched many times."""

    def __init__(self, snapshot: Snapshot) -> None:
        by_code = dict(snapshot.agencies)
        folded = {code: fold(agency.name) for code, agency in by_code.items()}
        entries = []
        for agency in sorted(by_code.values(), key=lambda a: a.code):
            above = _above(agency, by_code)
            context = " ".join(folded[code] for code in above if code in folded)
            entries.append(_Entry(agency, f" {folded[agency.code]} ", f" {context} ", frozenset(above)))
        self._entries = entries
        self.version = snapshot.version

    def search(self, q: str, *, under: str | None = None, include_retired: bool = True) -> list[Agency]:
        """Every agency the query finds, best first (the caller pages through them)."""
        text = q.strip()
        root = codes.parse(under).text if under else None
        pool = [
            e
            for e in self._entries
            if (include_retired or not e.agency.retired) and (root is None or e.agency.code == root or root in e.above)
        ]
        if not text:
            return [e.agency for e in pool]
        found: list[Agency] = []
        if _CODE_LIKE.match(text.upper()):
            found = _by_code(pool, text.upper())
            if found and any(ch.isdigit() or ch == "." for ch in text):
                return found
        seen = {a.code for a in found}
        return found + [a for a in _by_name(pool, words(text)) if a.code not in seen]


def _by_code(pool: Iterable[_Entry], prefix: str) -> list[Agency]:
    level1 = "." + prefix
    return [
        e.agency
        for e in pool
        if e.agency.code.startswith(prefix)
        or (e.agency.code_qd20 or "").startswith(prefix)
        or e.agency.code.endswith(level1)
    ]


def _by_name(pool: Iterable[_Entry], query: list[str]) -> list[Agency]:
    if not query:
        return []
    phrase = f" {' '.join(query)} "
    ranked = []
    for e in pool:
        rank = _rank(e, query, phrase)
        if rank is not None:
            ranked.append(((rank, e.agency.retired, len(e.above), len(e.own), e.agency.code), e.agency))
    ranked.sort(key=lambda pair: pair[0])
    return [agency for _, agency in ranked]


def _rank(e: _Entry, query: list[str], phrase: str) -> int | None:
    if e.own == phrase:
        return 0
    if phrase in e.own:
        return 1
    if all(f" {w} " in e.own for w in query):
        return 2
    if all(w in e.own for w in query):
        return 3
    both = e.own + e.context
    if all(f" {w} " in both for w in query):
        return 4
    if all(w in both for w in query):
        return 5
    return None
