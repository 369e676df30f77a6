"""Helpers of the security tests (importable: pytest puts this folder on the path)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from aiohttp.test_utils import TestClient

from axis.edxml import model as m
from axis.http.context import AXIS

#: The ``second_axis`` fixture: ``async with second_axis(ssl=…, **settings) as client``.
SecondAxis = Callable[..., AbstractAsyncContextManager[TestClient]]


def axis_of(client: TestClient) -> Any:
    """The composition root of the axis behind a test client."""
    app = client.app
    assert app is not None
    return app[AXIS]


def sent_now(package: m.Package) -> m.Package:
    """The package as if sent now: ``tests/builders.py`` dates its packages on a fixed day, which
    intake refuses as stale once AXIS_MAX_PACKAGE_AGE_DAYS have passed since."""
    now = dt.datetime.now(m.VN_TZ).replace(microsecond=0)
    if isinstance(package, m.StatusPackage):
        return dataclasses.replace(package, timestamp=now)
    return dataclasses.replace(package, traces=(m.TraceHeader(package.sender.organ_id, now),))
