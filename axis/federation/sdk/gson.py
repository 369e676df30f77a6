"""gson 2.2 as the national Java SDK (SDKVXP-2.0.1) uses it: JSON written and read its way.

Why: the SDK writes its sign-header with gson and reads every answer with gson's lenient parser,
so both the bytes it sends and the values it gets back depend on gson's quirks, not on standard
JSON (README §3, §6 in ``../shared/domain/sdk-wire/``). The client (:mod:`axis.federation.sdk.wire`) and the
reader (``tests/vdxp/sdk_reader.py``) share this one imitation. No gson code is copied; it is imitated only as
far as the SDK's requests and answers need:
- writing: ``JsonElement.toString()`` (compact, non-ASCII left as is, gson's string escaping) and
  ``getAsString()`` of the header values a vendor passes in (:func:`header_value_as_string`);
- reading: the lenient ``JsonParser`` (unquoted and single-quoted strings, comments, ``=``/``;``
  separators, empty array slots as null, case-insensitive ``true``/``false``/``null``), numbers
  kept as their text, and the ``getAsString``/``getAsInt``/``getAsBoolean`` coercions, which throw
  :class:`JavaException` where gson throws.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

# --- writing ----------------------------------------------------------------------------------------


def gson_json(value: object) -> str:
    """Compact JSON as gson 2.2's ``JsonElement.toString()`` writes it (non-ASCII left as is)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        return gson_string(value)
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{gson_string(str(k))}:{gson_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(gson_json(v) for v in value) + "]"
    raise TypeError(f"not a JSON value: {value!r}")


_GSON_ESCAPES = {'"': '\\"', "\\": "\\\\", "\t": "\\t", "\b": "\\b", "\n": "\\n", "\r": "\\r", "\f": "\\f"}


def gson_string(text: str) -> str:
    """A JSON string as gson 2.2 writes it: its escapes, other controls and U+2028/9 as ``\\uXXXX``."""
    out = []
    for ch in text:
        if ch in _GSON_ESCAPES:
            out.append(_GSON_ESCAPES[ch])
        elif ord(ch) < 0x20 or ch in "\u2028\u2029":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def header_value_as_string(key: str, value: object) -> str:
    """gson's ``getAsString()`` of a header value; where it throws, the SDK sends nothing."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, list | tuple) and len(value) == 1:
        return header_value_as_string(key, value[0])
    raise ValueError(f"header {key!r}: gson's getAsString() throws on {value!r}, so the SDK sends no request")


# --- reading, lenient ------------------------------------------------------------------------------


@dataclass(frozen=True)
class GsonNumber:
    """A JSON number as gson keeps it: its text (``getAsString`` gives the text back unchanged)."""

    text: str


class GsonSyntaxError(ValueError):
    """``JsonParser.parse`` throws: the SDK's method then returns null (or fakes success)."""


_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]*)?([eE][+-]?[0-9]+)?")
_LITERAL_END = set("/\\;#={}[]:, \t\f\r\n")


class _GsonReader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def next_non_whitespace(self) -> str | None:
        text = self.text
        while self.pos < len(text):
            ch = text[self.pos]
            self.pos += 1
            if ch in " \t\r\n":
                continue
            if ch == "/" and text[self.pos : self.pos + 1] == "*":
                end = text.find("*/", self.pos + 1)
                if end < 0:
                    raise GsonSyntaxError("unterminated comment")
                self.pos = end + 2
            elif (ch == "/" and text[self.pos : self.pos + 1] == "/") or ch == "#":
                newline = re.compile(r"[\r\n]").search(text, self.pos)
                self.pos = newline.end() if newline else len(text)
            else:
                return ch
        return None

    def value(self) -> object:
        ch = self.next_non_whitespace()
        if ch == "{":
            return self.json_object()
        if ch == "[":
            return self.array()
        if ch in ('"', "'"):
            return self.string(ch)
        if ch is None:
            raise GsonSyntaxError("end of input")
        self.pos -= 1
        literal = self.literal()
        if not literal:
            raise GsonSyntaxError(f"expected a value at {self.pos}")
        lowered = literal.lower()
        if lowered in ("null", "true", "false"):
            return None if lowered == "null" else lowered == "true"
        return GsonNumber(literal) if _NUMBER.fullmatch(literal) else literal

    def literal(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in _LITERAL_END:
            self.pos += 1
        return self.text[start : self.pos]

    def string(self, quote: str) -> str:
        out: list[str] = []
        text = self.text
        while True:
            if self.pos >= len(text):
                raise GsonSyntaxError("unterminated string")
            ch = text[self.pos]
            self.pos += 1
            if ch == quote:
                return "".join(out)
            if ch != "\\":
                out.append(ch)
                continue
            if self.pos >= len(text):
                raise GsonSyntaxError("unterminated escape")
            escaped = text[self.pos]
            self.pos += 1
            if escaped == "u":
                digits = text[self.pos : self.pos + 4]
                if not re.fullmatch(r"[0-9a-fA-F]{4}", digits):
                    raise GsonSyntaxError(f"bad \\u escape: {digits!r}")
                out.append(chr(int(digits, 16)))
                self.pos += 4
            else:
                out.append({"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f"}.get(escaped, escaped))

    def json_object(self) -> dict[str, object]:
        members: dict[str, object] = {}
        first = True
        while True:
            ch = self.next_non_whitespace()
            if ch == "}":
                return members
            if not first:
                if ch not in (",", ";"):
                    raise GsonSyntaxError("unterminated object")
                ch = self.next_non_whitespace()
            first = False
            if ch in ('"', "'"):
                name = self.string(ch)
            else:
                self.pos -= 1 if ch is not None else 0
                name = self.literal()
                if not name:
                    raise GsonSyntaxError("expected a name")
            separator = self.next_non_whitespace()
            if separator == "=" and self.text[self.pos : self.pos + 1] == ">":
                self.pos += 1
            elif separator not in (":", "="):
                raise GsonSyntaxError("expected ':'")
            members[name] = self.value()

    def array(self) -> list[object]:
        elements: list[object] = []
        first = True
        while True:
            ch = self.next_non_whitespace()
            if not first:
                if ch == "]":
                    return elements
                if ch not in (",", ";"):
                    raise GsonSyntaxError("unterminated array")
                ch = self.next_non_whitespace()
            if ch == "]" and first:
                return elements
            first = False
            if ch in (",", ";", "]"):  # an empty slot reads as null
                elements.append(None)
                self.pos -= 1
                continue
            self.pos -= 1 if ch is not None else 0
            elements.append(self.value())


def parse_gson(text: str) -> object:
    """``new JsonParser().parse(text)``: an empty document is JSON null; trailing content after a
    non-null value is an error. Objects are dicts, arrays lists, numbers :class:`GsonNumber`."""
    reader = _GsonReader(text)
    if reader.next_non_whitespace() is None:
        return None
    reader.pos -= 1
    element = reader.value()
    if element is not None and reader.next_non_whitespace() is not None:
        raise GsonSyntaxError("did not consume the entire document")
    return element


class JavaException(Exception):
    """A Java exception the SDK's method catches (after printing it): thrown here where gson's
    coercions throw, and by the tests' reader where the SDK's own reads would."""


def get_as_string(value: object, name: str) -> str:
    """gson's ``getAsString()``: any scalar as its text, a one-element array as its element; else it throws."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, GsonNumber):
        return value.text
    if isinstance(value, list) and len(value) == 1:
        return get_as_string(value[0], name)
    raise JavaException(f"{name!r} is {'JSON null' if value is None else type(value).__name__}: getAsString() throws")


def _java_int(text: str, *, number: bool) -> int:
    """Integer.parseInt; a JSON number falls back to Long/BigInteger and keeps the low 32 bits."""
    if not re.fullmatch(r"[+-]?\d+", text):
        raise JavaException(f"{text!r}: NumberFormatException")
    value = int(text)
    if not number and not -(2**31) <= value < 2**31:
        raise JavaException(f"{text!r}: NumberFormatException")
    return (value + 2**31) % 2**32 - 2**31


def get_as_int(value: object, name: str) -> int:
    """gson 2.2's ``getAsInt()``: a number must be an integer (kept to 32 bits), a string must parse as one."""
    if isinstance(value, GsonNumber):
        return _java_int(value.text, number=True)
    if isinstance(value, list) and len(value) == 1:
        return get_as_int(value[0], name)
    return _java_int(get_as_string(value, name), number=False)


def get_as_boolean(value: object, name: str) -> bool:
    """JSON ``true``, or ``Boolean.parseBoolean`` of the text: only "true" in any case."""
    if isinstance(value, bool):
        return value
    if isinstance(value, list) and len(value) == 1:
        return get_as_boolean(value[0], name)
    return get_as_string(value, name).lower() == "true"
