"""What every web page handler reaches: the composition root's ``Axis`` and the web's own parts.

The web pages are an aiohttp sub-application mounted at ``/ui/``; ``request.config_dict`` sees the
root application's keys, so handlers get the ``Axis`` without importing ``axis.app``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web

from axis.accounts.passwords import Hasher
from axis.config import Settings
from axis.http.context import AXIS

if TYPE_CHECKING:
    from axis.app import Axis


@dataclass
class Site:
    """The web pages' own state, built once per process by ``axis.web.setup``."""

    settings: Settings
    hasher: Hasher = field(default_factory=Hasher)
    #: Set when the process shuts down: live timelines end so that shutdown need not wait for them.
    stopping: asyncio.Event = field(default_factory=asyncio.Event)


SITE: web.AppKey[Site] = web.AppKey("axis.web.site")


def site_of(request: web.Request) -> Site:
    return request.config_dict[SITE]


def axis_of(request: web.Request) -> Axis:
    return request.config_dict[AXIS]
