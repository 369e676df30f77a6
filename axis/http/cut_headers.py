"""Let the SDK's 8-bit header values reach the axis at all.

The SDK's Apache path, on a plain ``http://host:PORT/…`` endpoint, writes each character of a
header value as its low 8 bits (sdk-wire README §8): ``ă`` leaves as the control byte ``0x03``,
``đ`` as ``0x11``. A Windows ``filePath`` such as ``C:\\Văn bản đến`` does that, and the SDK keeps
it in every later request of the instance. aiohttp's C request parser refuses control bytes in a
header value (RFC 9110 §5.5) with a plain-text 400 before any handler runs, and the SDK reads
that text as *success with an empty list* (getReceivedEdocList): the vendor would see no mail,
for good, with nothing in the axis's answers to say why.

So when the axis serves plain HTTP (the only case in which the SDK cuts bytes: over HTTPS it
writes UTF-8), the SDK's connections are parsed by aiohttp's own Python parser with one
difference: in ``XroadVnpt-*`` lines only, control bytes other than CR, LF and NUL pass (masked
for the parser, restored in ``raw_headers``, which is all ``axis.vdxp.signing`` reads). Everything
else stays as strict as before. The Python parser made a simple request cost about a third
more CPU than with the C one (an empty inbox read), so only connections that need it get it: a
connection whose first bytes are a request for ``/vdxp/`` (the SDK sends nothing else on its
connections), or too few to tell. Every other connection keeps aiohttp's C parser; a deployment
that serves HTTPS itself keeps it for all.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from aiohttp import http_parser, web_protocol
from multidict import CIMultiDictProxy

_SDK_LINE = b"xroadvnpt-"
_CONTROL = re.compile(rb"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MASK = b"~"


class _SdkHeaders(http_parser.HeadersParser):
    def parse_headers(self, lines: list[bytes]) -> tuple[CIMultiDictProxy[str], tuple[tuple[bytes, bytes], ...]]:
        originals: dict[tuple[bytes, bytes], bytes] = {}
        masked = []
        for line in lines:
            if line[: len(_SDK_LINE)].lower() == _SDK_LINE and _CONTROL.search(line):
                name, _, value = line.partition(b":")
                hidden = _CONTROL.sub(_MASK, value)
                originals[(name.strip(), hidden.strip(b" \t"))] = value.strip(b" \t")
                line = name + b":" + hidden
            masked.append(line)
        headers, raw = super().parse_headers(masked)
        if originals:
            raw = tuple((name, originals.get((name, value), value)) for name, value in raw)
        return headers, raw


class _Parser(http_parser.HttpRequestParserPy):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        parser = self._headers_parser
        self._headers_parser = _SdkHeaders(parser.max_line_size, parser.max_headers, parser.max_field_size, self.lax)


#: aiohttp's own request parser (its C one, when built): what every other connection keeps.
_AIOHTTP_PARSER: Any = web_protocol.HttpRequestParser  # type: ignore[attr-defined]
#: A request for the SDK's interface (``axis.http.vdxp``), as a connection's first bytes start.
_SDK_REQUEST = re.compile(rb"[A-Z]{3,10} /vdxp/")
#: Fewer first bytes than this cannot tell one request line from another (``OPTIONS /vdxp/``).
_ENOUGH = 15


class _Choosing:
    """A connection's parser, chosen from its first bytes: the lenient one above for the SDK's
    connections, aiohttp's own for the rest. aiohttp builds it where it built its own and calls
    the same methods on it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._made = functools.partial(_AIOHTTP_PARSER, *args, **kwargs)
        self._lenient = functools.partial(_Parser, *args, **kwargs)
        self._parser: Any = None

    def feed_data(self, data: bytes, *args: Any, **kwargs: Any) -> Any:
        if self._parser is None:
            sdk = len(data) < _ENOUGH or _SDK_REQUEST.match(data) is not None
            self._parser = (self._lenient if sdk else self._made)()
        return self._parser.feed_data(data, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:  # message_consumed, set_upgraded, feed_eof…
        if self._parser is None:
            self._parser = self._made()
        return getattr(self._parser, name)


def install() -> None:
    """Parse the SDK's connections of this process with the parser above (called by the
    composition root when the axis serves plain HTTP). Idempotent."""
    web_protocol.HttpRequestParser = _Choosing  # type: ignore[attr-defined,assignment]
