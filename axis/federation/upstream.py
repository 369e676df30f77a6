"""Calls to the upstream axis, as the official SDK makes them (I/O).

Each call is a new SDK service instance (a fresh parameter map and timestamp, as the SDK's
vendors create one per use), its request built byte for byte by ``axis.federation.sdk.wire`` and
sent by ``axis.federation.sdk.transport``; the answer is read as the SDK reads it (gson, leniently).
What goes wrong is said with two codes: ``upstream.unreachable`` (no answer: the network, TLS, a
timeout; worth retrying) and ``upstream.refused`` (the upstream answered and said no: its own
ErrorCode and ErrorDesc are kept in the details).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from axis.errors import AxisError
from axis.federation.link import UpstreamLink
from axis.federation.sdk.gson import GsonSyntaxError, JavaException, get_as_string, parse_gson
from axis.federation.sdk.transport import exchange
from axis.federation.sdk.wire import Endpoint, SdkService

#: Answers longer than this are read on a thread (the gson reader is pure Python).
_PARSE_ON_LOOP = 64 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """The upstream's answer to one call, as the SDK reads it."""

    status: str  # OK, SUCCESS or FAIL
    error_code: str
    description: str
    body: Mapping[str, Any] = field(default_factory=dict)

    def count(self) -> int:
        """The ``count`` a countReceiveEdoc/countReceiveStatus answer carries (0 when it has none)."""
        value = self.body.get("count")
        try:
            return int(get_as_string(value, "count")) if value is not None else 0
        except (JavaException, ValueError):
            return 0


async def call(
    link: UpstreamLink,
    secret: bytes,
    operation: str,
    header: Mapping[str, object],
    payload: bytes | str | None = None,
    *,
    timeout: float = 30.0,
) -> Answer:
    """One SDK operation on the upstream; ``upstream.refused`` unless it answered OK."""
    endpoint = Endpoint.parse(link.endpoint)
    service = SdkService(endpoint, link.system_id, secret.decode("utf-8"))
    raw = service.call(operation, header, payload)
    tls = ssl.create_default_context() if endpoint.scheme == "https" else None
    try:
        reply = await exchange(endpoint.host, endpoint.effective_port, raw, timeout=timeout, tls=tls)
    except (OSError, TimeoutError, ssl.SSLError) as exc:
        raise AxisError(
            "upstream.unreachable",
            f"The upstream at {link.endpoint} did not answer {operation}: {exc!r}.",
            operation=operation,
        ) from None
    except (ValueError, IndexError) as exc:  # bytes that are not an HTTP answer
        raise AxisError(
            "upstream.refused",
            f"The upstream at {link.endpoint} answered {operation} with something that is not HTTP: {exc}.",
            operation=operation,
            upstream_code="",
            upstream_description="not an HTTP answer",
        ) from None
    if len(reply.body) > _PARSE_ON_LOOP:  # a package or a national agency list: off the event loop
        answer = await asyncio.to_thread(_read, reply.body, operation, reply.status)
    else:
        answer = _read(reply.body, operation, reply.status)
    if answer.status not in ("OK", "SUCCESS") or answer.error_code not in ("0", ""):
        raise AxisError(
            "upstream.refused",
            f"The upstream refused {operation}: {answer.error_code} {answer.description}".strip(),
            operation=operation,
            upstream_code=answer.error_code,
            upstream_description=answer.description,
        )
    return answer


def _read(body: bytes, operation: str, http_status: int) -> Answer:
    try:
        parsed = parse_gson(body.decode("utf-8", "replace"))
    except GsonSyntaxError:
        parsed = None
    if not isinstance(parsed, dict):
        raise AxisError(
            "upstream.refused",
            f"The upstream answered {operation} with HTTP {http_status} and no SDK answer: {body[:200]!r}.",
            operation=operation,
            upstream_code="",
            upstream_description=f"HTTP {http_status}",
        )

    def text(name: str) -> str:
        value = parsed.get(name)
        try:
            return "" if value is None else get_as_string(value, name)
        except JavaException:  # not a scalar: the SDK's own read would have thrown
            return ""

    return Answer(status=text("status"), error_code=text("ErrorCode"), description=text("ErrorDesc"), body=parsed)
