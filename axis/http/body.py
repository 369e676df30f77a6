"""Reading JSON request bodies, with the contract's errors instead of exceptions.

``json_object`` refuses, anywhere in the body (names and values, however deep), the characters
PostgreSQL cannot store in text: NUL, and the unpaired surrogates a JSON ``\\ud800`` escape makes
(asyncpg cannot encode them) — as ``axis.http.params`` does for URLs and forms. ``field`` checks
a field's type, length and allowed values. A refusal is ``400 http.bad_request`` naming the field
(details ``field``, a path such as ``packages[3]`` for what is inside one).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TypeVar

from aiohttp import web

from axis.errors import AxisError
from axis.http.params import refuse_unstorable

T = TypeVar("T")
#: The longest text field the JSON API takes unless the field says otherwise (names, labels, codes).
MAX_TEXT = 1000


async def json_object(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json(loads=json.loads)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise AxisError("http.bad_request", f"The body is not JSON: {exc}") from None
    except RecursionError:
        raise AxisError("http.bad_request", "The body is not JSON the axis reads: nested too deeply.") from None
    if not isinstance(body, dict):
        raise AxisError("http.bad_request", "The body must be a JSON object.")
    _check_strings(body)
    return body


def _check_strings(body: dict[str, Any]) -> None:
    """Every name and string in ``body`` (iteratively: json.loads nests as deep as it may)."""
    pending: list[tuple[str, Any]] = [("", body)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, str):
            refuse_unstorable(value, path, detail="field", noun="field")
        elif isinstance(value, dict):
            for name, item in value.items():
                where = f"{path}.{name}" if path else name
                refuse_unstorable(name, where, detail="field", noun="field")
                pending.append((where, item))
        elif isinstance(value, list):
            pending.extend((f"{path}[{index}]", item) for index, item in enumerate(value))


def field(
    body: dict[str, Any],
    name: str,
    kind: type[T],
    *,
    required: bool = True,
    max_length: int = MAX_TEXT,
    choices: Iterable[str] | None = None,
) -> T | None:
    """``body[name]`` as ``kind``: None when absent and not ``required``; text (and the texts of
    a list) at most ``max_length`` characters and, with ``choices``, one of them."""
    value = body.get(name)
    if value is None:
        if required:
            raise AxisError("http.bad_request", f"The field {name!r} is required.", field=name)
        return None
    if not isinstance(value, kind):
        raise AxisError("http.bad_request", f"The field {name!r} must be {_kind_name(kind)}.", field=name)
    if isinstance(value, str):
        if len(value) > max_length:
            message = f"The field {name!r} is longer than {max_length} characters."
            raise AxisError("http.bad_request", message, field=name, max_length=max_length)
        if choices is not None and value not in (allowed := tuple(choices)):
            message = f"The field {name!r} must be one of: {', '.join(allowed)}."
            raise AxisError("http.bad_request", message, field=name, allowed=list(allowed))
    if isinstance(value, list) and any(isinstance(item, str) and len(item) > max_length for item in value):
        message = f"The field {name!r} holds a text longer than {max_length} characters."
        raise AxisError("http.bad_request", message, field=name, max_length=max_length)
    return value


def _kind_name(kind: Any) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


def text(body: dict[str, Any], name: str, *, max_length: int = MAX_TEXT) -> str:
    value = field(body, name, str, max_length=max_length)
    assert value is not None
    return value
