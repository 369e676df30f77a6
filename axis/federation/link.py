"""The upstream link as a value, and the one routing decision it makes: served here, or upstream.

Pure: no I/O. ``axis.federation.links`` keeps it in PostgreSQL; the CLI, the admin API and (later)
the admin page change it only through there.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from axis.errors import AxisError
from axis.federation.sdk.wire import Endpoint
from axis.registry import codes

#: The one link a provincial axis has today: to the axis above it.
UPSTREAM = "upstream"


@dataclass(frozen=True, slots=True, kw_only=True)
class UpstreamLink:
    """Where the axis above this one is, who this axis is to it, and what stays here."""

    id: str
    endpoint: str  # the upstream's SDK interface, e.g. https://truc.example.gov.vn/vdxp
    system_id: str  # the system id the upstream gave this axis
    serves: tuple[str, ...]  # roots of the agency subtrees this axis serves itself
    secret_set_at: dt.datetime | None  # when its secret was last set (the secret is never shown)
    updated_at: dt.datetime

    def served_here(self, code: str) -> bool:
        """Whether an agency code belongs to this axis (within a served subtree) rather than to
        the upstream. A code that is not a valid agency code is neither: the caller refuses it."""
        agency = codes.parse(code)
        return any(agency.is_within(codes.parse(root)) for root in self.serves)


def checked_endpoint(text: str) -> str:
    """The upstream's /vdxp URL as the SDK's client can use it (``Endpoint.parse``: absolute,
    http or https, no query or fragment), without a trailing slash."""
    try:
        Endpoint.parse(text.strip())
    except ValueError:
        raise AxisError(
            "upstream.endpoint.invalid",
            f"The upstream endpoint must be an absolute http(s) URL without query or fragment, "
            f"e.g. https://truc.example.gov.vn/vdxp; got {text!r}.",
        ) from None
    return text.strip().rstrip("/")


def checked_serves(roots: tuple[str, ...]) -> tuple[str, ...]:
    """The served subtrees' roots, each a valid agency code, sorted, none within another."""
    parsed = []
    for root in roots:
        problem = codes.problem(root.strip())
        if problem:
            raise AxisError("upstream.serves.invalid", f"{root!r} is not an agency code: {problem}.", code=root)
        parsed.append(codes.parse(root.strip()))
    if not parsed:
        raise AxisError(
            "upstream.serves.invalid",
            "Name at least one agency subtree this axis serves itself (e.g. the province's code).",
        )
    kept = sorted({str(p) for p in parsed if not any(p != q and p.is_within(q) for q in parsed)})
    return tuple(kept)
