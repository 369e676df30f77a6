"""Reading request bodies and query parameters, with the contract's errors instead of exceptions."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from aiohttp import web

from axis.errors import AxisError

T = TypeVar("T")


async def json_object(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json(loads=json.loads)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise AxisError("http.bad_request", f"The body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise AxisError("http.bad_request", "The body must be a JSON object.")
    return body


def field(body: dict[str, Any], name: str, kind: type[T], *, required: bool = True) -> T | None:
    value = body.get(name)
    if value is None:
        if required:
            raise AxisError("http.bad_request", f"The field {name!r} is required.", field=name)
        return None
    if not isinstance(value, kind):
        raise AxisError("http.bad_request", f"The field {name!r} must be {kind.__name__}.", field=name)
    return value


def text(body: dict[str, Any], name: str) -> str:
    value = field(body, name, str)
    assert value is not None
    return value


def int_query(request: web.Request, name: str, default: int, *, low: int = 0, high: int = 1000) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise AxisError("http.bad_request", f"The parameter {name!r} must be an integer.") from None
    if not low <= value <= high:
        raise AxisError("http.bad_request", f"The parameter {name!r} must be between {low} and {high}.")
    return value


def flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "").lower() in ("1", "true", "yes")
