"""What a request carries in its URL and forms: declared on each route, checked before it runs.

Every route handler is declared with ``@accepts(...)``: its query parameters, its form fields,
and its path parameters when they are more than text (an id in the path is checked without
being declared). Before the handler runs, the wrapper

1. refuses, in *every* query name and value, path value and (for a route with form fields)
   form text field, declared or not, the characters PostgreSQL cannot store in ``text`` (NUL)
   and the code points that are not characters (unpaired surrogates, which asyncpg cannot
   encode): nothing a request carries reaches SQL with them;
2. parses each declared parameter: its type (an integer is ASCII digits, a date ISO 8601, a
   flag ``1``/``0``), its bounds and length, and its allowed values (``direction``,
   ``delivery``, ``type``, ``kind``, ``status``…): an unknown value is refused, never ignored.

A refusal is ``400 http.bad_request`` naming the parameter (details ``parameter``, or ``field``
for a form field), raised inside the handler, so it takes the shape of where it happened: the
API's JSON (``axis.http.errors``), a page (``axis.web.guard``), the SDK's answer under
``/vdxp/``. Handlers read the values through the same declarations (``LIMIT.of(request)``).
JSON bodies are checked by ``axis.http.body`` with ``refuse_unstorable``; request lines and
headers aiohttp cannot parse by ``axis.http.early``.

The declarations are reachable from the route table (``declared(route.handler)``), so the test
that sends NUL bytes, over-long and unknown values to every parameter of every route
(``tests/security/test_parameters.py``) is generated from it.
"""

from __future__ import annotations

import abc
import datetime as dt
import enum
import functools
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Generic, TypeVar

from aiohttp import web
from multidict import MultiDictProxy

from axis.errors import AxisError

T = TypeVar("T")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: NUL (PostgreSQL's text refuses it) and unpaired surrogates (not characters: no UTF-8 for them).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
#: What an id in the path may be at most when its route does not say (ids, codes, DocumentIds).
PATH_MAX = 500
_DECLARED = "axis_parameters"


class Where(enum.Enum):
    QUERY = "query parameter"
    PATH = "path parameter"
    FORM = "form field"


def refuse_unstorable(value: str, name: str, *, detail: str = "parameter", noun: str = "parameter") -> None:
    """Refuse ``value`` (named ``name``) when it holds a character PostgreSQL cannot store."""
    found = _UNSTORABLE.search(value)
    if found is not None:
        point = f"U+{ord(found.group()):04X}"
        raise AxisError(
            "http.bad_request",
            f"The {noun} {name!r} contains {point}, which is not allowed.",
            **{detail: name, "character": point},
        )


class Param(abc.ABC, Generic[T]):
    """One declared parameter: where it is, and how its text becomes a value."""

    def __init__(self, name: str, *, where: Where = Where.QUERY, max_length: int = 200) -> None:
        self.name, self.where, self.max_length = name, where, max_length

    @abc.abstractmethod
    def convert(self, raw: str) -> T:
        """``raw`` (not empty, characters checked) as a value, or ``self.refuse(why)``."""

    @abc.abstractmethod
    def absent(self) -> T:
        """The value when the parameter is absent or empty."""

    @property
    def detail(self) -> str:
        """The detail that names it in a refusal: ``field`` for a form field, else ``parameter``."""
        return "field" if self.where is Where.FORM else "parameter"

    def refuse(self, why: str, **details: Any) -> AxisError:
        message = f"The {self.where.value} {self.name!r} {why}."
        return AxisError("http.bad_request", message, **{self.detail: self.name}, **details)

    def parse(self, raw: str | None) -> T:
        if raw is None or not raw.strip():
            return self.absent()
        self.check(raw)
        return self.convert(raw.strip())

    def check(self, raw: str) -> None:
        """Characters and length: what every declared parameter must pass, whatever its type."""
        refuse_unstorable(raw, self.name, detail=self.detail, noun=self.where.value)
        if len(raw) > self.max_length:
            raise self.refuse(f"is longer than {self.max_length} characters", max_length=self.max_length)

    def of(self, request: web.Request) -> T:
        """The value of a query or path parameter."""
        if self.where is Where.PATH:
            return self.parse(request.match_info.get(self.name))
        assert self.where is Where.QUERY, f"{self.name}: a form field is read with posted()"
        return self.parse(request.query.get(self.name))

    async def posted(self, request: web.Request) -> T:
        """The value of a form field (the first, when it is sent more than once)."""
        return self.parse(_text(await request.post(), self.name))


class Text(Param[str]):
    """Text, stripped; ``""`` when absent."""

    def convert(self, raw: str) -> str:
        return raw

    def absent(self) -> str:
        return ""


class Choice(Param[str]):
    """One of ``values``; ``default`` when absent (an unknown value is refused, never ignored)."""

    def __init__(self, name: str, values: Iterable[str], *, default: str = "", where: Where = Where.QUERY) -> None:
        self.values = tuple(values)
        self.default = default
        super().__init__(name, where=where, max_length=max(map(len, self.values)))

    def check(self, raw: str) -> None:
        if raw.strip() not in self.values:
            raise self.refuse(f"must be one of: {', '.join(self.values)}", allowed=list(self.values))

    def convert(self, raw: str) -> str:
        return raw

    def absent(self) -> str:
        return self.default


_DIGITS = re.compile(r"-?[0-9]{1,19}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class Integer(Param[int]):
    """An integer written in ASCII digits, within ``[low, high]``; ``default`` when absent."""

    def __init__(self, name: str, default: int, *, low: int = 0, high: int = 2**62, where: Where = Where.QUERY) -> None:
        self.default, self.low, self.high = default, low, high
        super().__init__(name, where=where, max_length=20)

    def convert(self, raw: str) -> int:
        if not _DIGITS.fullmatch(raw):
            raise self.refuse("must be an integer")
        value = int(raw)
        if not self.low <= value <= self.high:
            raise self.refuse(f"must be between {self.low} and {self.high}", low=self.low, high=self.high)
        return value

    def absent(self) -> int:
        return self.default


class Flag(Param[bool]):
    """Yes or no: ``1``/``true``/``yes``/``on`` or ``0``/``false``/``no``/``off``; no when absent."""

    YES, NO = ("1", "true", "yes", "on"), ("0", "false", "no", "off")

    def __init__(self, name: str, *, where: Where = Where.QUERY) -> None:
        super().__init__(name, where=where, max_length=5)

    def convert(self, raw: str) -> bool:
        if raw.lower() in self.YES:
            return True
        if raw.lower() in self.NO:
            return False
        raise self.refuse("must be 1 or 0")

    def absent(self) -> bool:
        return False


class Date(Param[dt.date | None]):
    """A calendar date ``YYYY-MM-DD``; None when absent."""

    def __init__(self, name: str, *, where: Where = Where.QUERY) -> None:
        super().__init__(name, where=where, max_length=10)

    def convert(self, raw: str) -> dt.date | None:
        if _ISO_DATE.fullmatch(raw):
            try:
                return dt.date.fromisoformat(raw)
            except ValueError:
                pass  # 2026-02-30
        raise self.refuse("must be a date YYYY-MM-DD")

    def absent(self) -> dt.date | None:
        return None


class File(Param[web.FileField | None]):
    """A file sent with a multipart form: its bytes are the handler's to read (never text-checked)."""

    def __init__(self, name: str) -> None:
        super().__init__(name, where=Where.FORM, max_length=0)

    def convert(self, raw: str) -> web.FileField | None:
        return None  # text where a file was expected: no file

    def absent(self) -> web.FileField | None:
        return None

    async def posted(self, request: web.Request) -> web.FileField | None:
        value = (await request.post()).get(self.name)
        return value if isinstance(value, web.FileField) else None


def _text(form: MultiDictProxy[Any], name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None


def accepts(*parameters: Param[Any]) -> Callable[[Handler], Handler]:
    """Declare what the decorated handler reads; everything is checked before it runs."""
    keys = [(p.where, p.name) for p in parameters]
    assert len(set(keys)) == len(keys), f"declared twice: {keys}"

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def checked(request: web.Request) -> web.StreamResponse:
            await check(request, parameters)
            return await handler(request)

        setattr(checked, _DECLARED, parameters)
        return checked

    return decorate


def declared(handler: object) -> tuple[Param[Any], ...] | None:
    """What a route's handler declared with ``accepts``; None when it is not declared."""
    found = getattr(handler, _DECLARED, None)
    return found if isinstance(found, tuple) else None


async def check(request: web.Request, parameters: tuple[Param[Any], ...]) -> None:
    """Everything ``accepts`` promises, for one request."""
    for name, value in request.query.items():
        refuse_unstorable(name, name, noun=Where.QUERY.value)
        refuse_unstorable(value, name, noun=Where.QUERY.value)
    typed_paths = {p.name for p in parameters if p.where is Where.PATH}
    for name, value in request.match_info.items():
        if name not in typed_paths:
            Text(name, where=Where.PATH, max_length=PATH_MAX).parse(value)
    fields = [p for p in parameters if p.where is Where.FORM]
    if fields:
        form = await request.post()
        for name, item in form.items():
            if isinstance(item, str):
                refuse_unstorable(name, name, detail="field", noun=Where.FORM.value)
                refuse_unstorable(item, name, detail="field", noun=Where.FORM.value)
    for parameter in parameters:
        if parameter.where is Where.FORM:
            await parameter.posted(request)
        else:
            parameter.of(request)
