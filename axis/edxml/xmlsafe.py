"""Parsing untrusted bytes into an lxml tree without letting the bytes decide what the parser does.

Every package comes from outside. The parser therefore never reads a DTD, never expands an entity,
never touches the network, and refuses input that is too big, too deep or too wide before it can
cost memory or time. Each refusal has its own error code, because a vendor debugging a rejected
package needs to know *which* rule their bytes broke.
"""

from __future__ import annotations

import codecs
import io
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from lxml import etree

from axis.errors import PackageError

_CHUNK = 1 << 20
_XML_DECL = re.compile(rb"<\?xml\s[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_BOM = codecs.BOM_UTF8


@dataclass(frozen=True, slots=True)
class Limits:
    """How much an untrusted package may ask of the parser."""

    max_bytes: int = 100 * 1024 * 1024
    max_depth: int = 48
    max_elements: int = 100_000


_local = threading.local()


def _parser() -> etree.XMLParser:
    # lxml parsers keep per-parse state: one per thread. huge_tree only lifts libxml2's cap on the
    # size of one text node (a base64 attachment over 10 MB); depth, element count and total size
    # are bounded by Limits, and entities are never expanded, so the cap it lifts is not needed.
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=True,
            collect_ids=False,
            remove_blank_text=False,
            remove_comments=False,
        )
        _local.parser = parser
    return parser


def hardened_parser() -> etree.XMLParser:
    """The parser to hand to libraries (signxml) that re-parse bytes we already checked."""
    return _parser()


def parse(data: bytes, limits: Limits = Limits()) -> etree._Element:
    """Parse untrusted package bytes into the root element, or raise a precise ``PackageError``."""
    if not data or not data.strip():
        raise PackageError("edxml.xml.empty", "The package is empty.")
    _check_size(len(data), limits)
    _check_prolog(data)
    _check_utf8(data)
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc) from None
    _check_shape(root, limits)
    return root


def parse_file(source: BinaryIO, limits: Limits = Limits()) -> etree._Element:
    """``parse`` for bytes that were spooled to a file (a large package): the same checks, in the
    same order and with the same codes, reading the file a chunk at a time; libxml2 reads it the
    same way, so the bytes are never held whole."""
    size = source.seek(0, io.SEEK_END)
    _check_size(size, limits)
    source.seek(0)
    head = source.read(_CHUNK)
    while not _check_prolog(head) and len(head) < size:  # a prolog longer than a chunk: read on
        head += source.read(_CHUNK)
    if not head.strip() and not any(chunk.strip() for chunk in _chunks(source)):
        raise PackageError("edxml.xml.empty", "The package is empty.")
    source.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    offset = 0
    for chunk in _chunks(source):
        _decode(decoder, chunk, offset, final=offset + len(chunk) >= size)
        offset += len(chunk)
    source.seek(0)
    try:
        root = etree.parse(source, parser=_parser()).getroot()
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc) from None
    _check_shape(root, limits)
    return root


def _check_size(size: int, limits: Limits) -> None:
    if size > limits.max_bytes:
        raise PackageError(
            "edxml.xml.too_large",
            f"The package is {size} bytes; the limit is {limits.max_bytes}.",
            size=size,
            limit=limits.max_bytes,
        )


def _chunks(source: BinaryIO) -> Iterator[bytes]:
    while chunk := source.read(_CHUNK):
        yield chunk


def _check_prolog(data: bytes) -> bool:
    """Refuse a DOCTYPE before libxml2 reads it, and any declared encoding but UTF-8; True when
    the scan reached the root element (False: ``data`` ends inside the prolog).

    Refusing after parsing would be too late: an internal subset is read (and its declarations
    processed) during the parse. The prolog is short, so scanning it costs nothing.
    """
    if data.startswith((codecs.BOM_UTF16_BE, codecs.BOM_UTF16_LE)):
        raise PackageError("edxml.xml.encoding", "The package is UTF-16; edXML packages are UTF-8.")
    pos = len(_BOM) if data.startswith(_BOM) else 0
    declaration = _XML_DECL.match(data, pos)
    if declaration and declaration.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
        raise PackageError(
            "edxml.xml.encoding",
            f"The XML declaration says encoding={declaration.group(1).decode('ascii')!r}; edXML packages are UTF-8.",
        )
    end = len(data)
    while pos < end:
        if data[pos] in b" \t\r\n":
            pos += 1
        elif data.startswith(b"<?", pos):
            close = data.find(b"?>", pos)
            pos = end if close < 0 else close + 2
        elif data.startswith(b"<!--", pos):
            close = data.find(b"-->", pos)
            pos = end if close < 0 else close + 3
        elif end - pos < 4 and b"<!--".startswith(data[pos:]):
            return False  # cut short: a comment or a DOCTYPE, the next bytes tell
        elif data.startswith(b"<!", pos):
            raise PackageError(
                "edxml.xml.dtd_forbidden",
                "The package declares a DOCTYPE; DTDs are not allowed in edXML packages.",
            )
        else:
            return True
    return False


def _check_utf8(data: bytes) -> None:
    """Check the encoding chunk by chunk so that a 100 MB package is not decoded in one piece."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    view = memoryview(data)
    for start in range(0, len(data), _CHUNK):
        _decode(decoder, view[start : start + _CHUNK], start, final=start + _CHUNK >= len(data))


def _decode(decoder: codecs.IncrementalDecoder, chunk: bytes | memoryview, start: int, *, final: bool) -> None:
    try:
        decoder.decode(chunk, final=final)
    except UnicodeDecodeError as exc:
        offset = start + exc.start
        raise PackageError(
            "edxml.xml.bad_utf8",
            f"The bytes are not valid UTF-8 at byte offset {offset}.",
            offset=offset,
        ) from None


def _syntax_error(exc: etree.XMLSyntaxError) -> PackageError:
    message = str(exc.msg or exc)
    where = {"line": exc.lineno, "column": exc.offset}
    if "Entity" in message or "entity" in message:
        return PackageError(
            "edxml.xml.entity_forbidden",
            f"Entity references are not allowed: {message}",
            **where,
        )
    if "Excessive depth" in message or "depth" in message.lower():
        return PackageError("edxml.xml.too_deep", f"Nesting is too deep: {message}", **where)
    return PackageError("edxml.xml.malformed", f"The package is not well-formed XML: {message}", **where)


def _check_shape(root: etree._Element, limits: Limits) -> None:
    tree = root.getroottree()
    docinfo = tree.docinfo
    if docinfo.internalDTD is not None or docinfo.system_url or docinfo.public_id:
        raise PackageError("edxml.xml.dtd_forbidden", "DTDs are not allowed in edXML packages.")
    # XPath runs in C: a count and one probe at the depth limit cost microseconds even on big trees.
    count = int(root.xpath("count(//*)"))
    if count > limits.max_elements:
        raise PackageError(
            "edxml.xml.too_many_elements",
            f"The package has {count} elements; the limit is {limits.max_elements}.",
            elements=count,
            limit=limits.max_elements,
        )
    if root.xpath("boolean(/*" + "/*" * limits.max_depth + ")"):
        raise PackageError(
            "edxml.xml.too_deep",
            f"Elements are nested deeper than {limits.max_depth} levels.",
            limit=limits.max_depth,
        )
