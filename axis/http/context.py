"""How handlers reach the composition root's services without importing it (no import cycle)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from axis.app import Axis

AXIS: web.AppKey[Axis] = web.AppKey("axis")


def axis_of(request: web.Request) -> Axis:
    return request.app[AXIS]
