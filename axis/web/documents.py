"""Clerk pages: the documents their system sent and received, one document, its attachments.

A clerk works for one system and sees what ``axis.exchange.status`` shows that system: a
document it sent with every recipient, a document it received with only the agencies it serves.
Anything else answers 404, as in the API, whether the id was guessed or not.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import functools
import re
import unicodedata
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web

from axis import edxml
from axis.edxml import model as m
from axis.edxml import reader
from axis.errors import AxisError
from axis.exchange import status
from axis.exchange.received import Received
from axis.http.packages import send_parts
from axis.http.params import Choice, Integer, Text, Where, accepts
from axis.registry import codes
from axis.registry.model import System
from axis.store import bodies
from axis.web import file_wording, register, render, sessions, vietnamese, wording
from axis.web.site import axis_of, site_of

routes = web.RouteTableDef()
PAGE_SIZE = 20
#: The search form: dates are the page's own (dd/mm/yyyy, said beside the field when wrong).
SEARCH = (
    Choice("direction", ("sent", "received")),
    Text("q", max_length=1000),  # a whole subject line, pasted
    *(Text(name) for name in ("code", "from", "to", "counterpart")),
    Choice("delivery", status.DELIVERY_FILTERS),
)
_FIELDS = tuple(parameter.name for parameter in SEARCH)
PAGE = Integer("page", 1, low=1, high=100_000)
INDEX = Integer("index", 0, high=10_000, where=Where.PATH)


@dataclasses.dataclass(frozen=True, slots=True)
class Query:
    """The search form as typed, and what ``status.search`` makes of it."""

    values: dict[str, str]
    page: int

    @classmethod
    def from_request(cls, request: web.Request) -> Query:
        values = {parameter.name: parameter.of(request) for parameter in SEARCH}
        return cls(values, PAGE.of(request))

    def read(self) -> tuple[dict[str, Any], dict[str, str]]:
        """``status.search``'s arguments, and what is wrong with the form by field (in Vietnamese,
        for beside the field; no search runs while anything is)."""
        errors: dict[str, str] = {}
        dates: dict[str, dt.date | None] = {}
        for name in ("from", "to"):
            try:
                dates[name] = vietnamese.parse_date(self.values[name])
            except vietnamese.DateError as exc:
                errors[name] = str(exc)
        since, until = dates.get("from"), dates.get("to")
        if since and until and since > until:
            errors["to"] = f"Ngày cuối phải từ ngày đầu ({since:%d/%m/%Y}) trở đi."
        try:
            counterpart = _agency_code(self.values["counterpart"])
        except AxisError as exc:
            counterpart, errors["counterpart"] = None, exc.message
        number, notation = _number_notation(self.values["code"])
        arguments = {
            "direction": self.values["direction"] or "all",
            "number": number,
            "notation": notation,
            "words": self.values["q"] or None,
            "since": since,
            "until": until,
            "counterpart": counterpart,
            "delivery": self.values["delivery"] or None,
        }
        return arguments, errors

    def link(self, page: int) -> str:
        kept = {k: v for k, v in self.values.items() if v}
        return "/ui/documents?" + urlencode({**kept, "page": page})

    def register_link(self) -> str:
        """The same search as a CSV file, every page at once."""
        return "/ui/documents.csv?" + urlencode({k: v for k, v in self.values.items() if v})

    def narrowed(self) -> int:
        """How many conditions beyond the subject words are in use (the phone shows them folded)."""
        return sum(1 for name in _FIELDS if name != "q" and self.values[name])


def _number_notation(text: str) -> tuple[str | None, str | None]:
    """``125/UBND-VP`` → number and notation; ``125`` → number; ``UBND-VP`` → notation."""
    if not text:
        return None, None
    if "/" in text:
        number, _, notation = text.partition("/")
        return number.strip() or None, notation.strip() or None
    return (text, None) if text.isdigit() else (None, text)


def _agency_code(text: str) -> str | None:
    """The code at the start of what was typed or picked (``000.00.00.H99 — UBND …``)."""
    if not text:
        return None
    first = text.split()[0]
    try:
        return codes.parse(first).text
    except AxisError:
        message = f"«{first}» không phải mã định danh cơ quan (dạng 000.00.00.H99)."
        raise AxisError("http.bad_request", message) from None


@routes.get("/documents")
@accepts(*SEARCH, PAGE)
async def documents(request: web.Request) -> web.Response:
    """The search and its results; a search that cannot run (a date that does not exist, say)
    is the same page with the form as typed and what is wrong beside the field."""
    _, system = await sessions.require_clerk(request)
    query = Query.from_request(request)
    arguments, errors = query.read()
    axis = axis_of(request)
    found = []
    if not errors:
        offset = (query.page - 1) * PAGE_SIZE
        found = await axis.exchange.documents(system, limit=PAGE_SIZE + 1, offset=offset, **arguments)
    counterparts = await axis.exchange.counterparts(system)
    context = {
        "system": system,
        "query": query.values,
        "errors": errors,
        "narrowed": query.narrowed(),
        "found": found[:PAGE_SIZE],
        "page": query.page,
        "previous": query.link(query.page - 1) if query.page > 1 else None,
        "next": query.link(query.page + 1) if len(found) > PAGE_SIZE else None,
        "counterparts": counterparts,
        "names": {code: a.name for code, a in _agencies(request, found).items()},
        "register_link": query.register_link(),
    }
    return await render.page(request, "documents.html", context, status=400 if errors else 200)


@routes.get("/documents.csv")
@accepts(*SEARCH, PAGE)
async def documents_csv(request: web.Request) -> web.Response:
    """The list as the search form has it, every page at once (up to ``register.MAX_ROWS``), as a
    CSV file: the office's register of documents sent and received."""
    _, system = await sessions.require_clerk(request)
    query = Query.from_request(request)
    arguments, errors = query.read()
    if errors:  # the search page says what is wrong, beside the field
        raise web.HTTPSeeOther(query.link(1))
    found = await axis_of(request).exchange.documents(system, limit=register.MAX_ROWS + 1, **arguments)
    names = {code: a.name for code, a in _agencies(request, found).items()}
    data = register.register_csv(found[: register.MAX_ROWS], names, cut=len(found) > register.MAX_ROWS)
    today = dt.datetime.now(m.VN_TZ).date()
    return web.Response(
        body=data,
        headers={
            "Content-Type": "text/csv; charset=utf-16",  # tab-separated: see axis.web.register
            "Content-Disposition": f'attachment; filename="so-van-ban-{system.id}-{today:%Y%m%d}.csv"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


def _agencies(request: web.Request, found: list[status.DocumentSummary]) -> dict[str, Any]:
    known = axis_of(request).registry.snapshot.agencies
    return {d.sender: known[d.sender] for d in found if d.sender in known}


def _budget(request: web.Request, size: int) -> contextlib.AbstractAsyncContextManager[None]:
    """Reading a large package costs about its size again, as receiving one does: it counts in the
    same budget (AXIS_MAX_INTAKE_BYTES_IN_FLIGHT), so clerks opening large documents at once
    cannot take the process's memory beyond what its operators sized it for."""
    if bodies.chunk_count(size) == 0:
        return contextlib.nullcontext()
    return axis_of(request).intake_gate.enter(size)


def _read(request: web.Request, received: Received) -> Callable[[], edxml.Parsed]:
    """The package read for showing (in a worker thread), without its attachments' base64 in the
    model. A large package is parsed from its temporary file, which goes once it is read."""
    settings = site_of(request).settings
    limits = settings.package_limits

    def parse() -> edxml.Parsed:
        with received:
            return edxml.parse(received.readable(), limits=limits, attachment_content=False)

    return parse


def _document(parsed: edxml.Parsed) -> m.DocumentPackage:
    if not isinstance(parsed.package, m.DocumentPackage):
        raise AxisError("document.unknown", "Không có văn bản này trong hệ thống của bạn.")
    return parsed.package


async def _parsed(request: web.Request, received: Received) -> m.DocumentPackage:
    async with _budget(request, received.size):
        return _document(await asyncio.to_thread(_read(request, received)))


async def timeline_context(
    request: web.Request, system: System, document_id: str, *, shown: str = ""
) -> dict[str, Any]:
    """What the timeline fragment shows (the page and the live stream render the same template).
    ``shown`` is the package the page is about: its signature policy is said at the top of the
    page, so its deliveries are not marked again in every recipient's steps."""
    axis = axis_of(request)
    followed = await axis.exchange.followed(system, document_id)
    return {
        "timeline": followed.view,
        "failed_at": followed.failed_at,  # (package id, system id) → when it failed
        "system": system,
        "watermark": followed.watermark,
        "updated": dt.datetime.now(dt.UTC),
        "shown": shown,
        "agency_label": functools.partial(wording.agency_label, agencies=axis.registry.snapshot.agencies),
    }


@routes.get("/documents/{package_id}")
@accepts()
async def document(request: web.Request) -> web.Response:
    _, system = await sessions.require_clerk(request)
    stored, body = await axis_of(request).exchange.open_document(system, request.match_info["package_id"])
    package = await _parsed(request, body)
    check = await axis_of(request).exchange.files(system, str(stored.package_id))  # None: not checked
    context = await timeline_context(request, system, stored.document_id, shown=str(stored.package_id))
    sender = axis_of(request).registry.snapshot.systems.get(stored.sender_system)
    context |= {
        "stored": stored,
        "sender_system": vietnamese.system_label(stored.sender_system, sender.name if sender else ""),
        "package": package,
        "direction": "sent" if stored.sender_system == system.id else "received",
        "file_signatures": file_wording.view(check, package) if check is not None else None,
        "live_url": f"/ui/documents/{stored.package_id}/live",
        "status_url": "/api/v1/documents/" + quote(stored.document_id, safe="") + "/status",
    }
    return await render.page(request, "document.html", context)


_UNSAFE = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|;]+')


def download_name(name: str, index: int) -> str:
    """A file name fit for Content-Disposition: no path, no control or quoting characters."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip(" .")[:150]
    return name or f"dinh-kem-{index}"


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII fallback and the UTF-8 name (RFC 6266 / RFC 5987)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii") or "dinh-kem"
    ascii_name = ascii_name.replace("%", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


@routes.get("/documents/{package_id}/attachments/{index}")
@accepts(INDEX)
async def attachment(request: web.Request) -> web.StreamResponse:
    """An attachment as a download, never rendered by the browser (whatever type it claims)."""
    _, system = await sessions.require_clerk(request)
    _, body = await axis_of(request).exchange.open_document(system, request.match_info["package_id"])
    index = INDEX.of(request)
    parse = _read(request, body)

    def attachment_and_text() -> tuple[m.Attachment | None, str]:
        """The chosen attachment and its base64 text, taken from the tree in the worker thread,
        where the tree (every attachment's text) is also let go."""
        parsed = parse()
        attachments = _document(parsed).attachments
        item = attachments[index - 1] if 1 <= index <= len(attachments) else None
        return item, reader.encoded_text(parsed.root, item.content_id) if item else ""

    async with _budget(request, body.size):
        item, text = await asyncio.to_thread(attachment_and_text)
    if item is None:
        raise AxisError("http.not_found", "Văn bản không có tệp đính kèm này.")
    response = web.StreamResponse(
        headers={
            "Content-Type": "application/octet-stream",
            "Content-Disposition": content_disposition(download_name(item.name, index)),
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )
    response.content_length = item.size
    async with _budget(request, len(text)):  # held while the client takes it, however slowly
        return await send_parts(request, response, _decoded(text))


async def _decoded(text: str) -> AsyncIterator[bytes]:
    """The attachment decoded a megabyte at a time, off the event loop: never held whole twice."""
    pieces = reader.decoded_pieces(text)
    while (piece := await asyncio.to_thread(next, pieces, None)) is not None:
        yield piece
