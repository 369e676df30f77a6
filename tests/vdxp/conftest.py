"""Fixtures: the exchange tests' world reached through the SDK's interface (``sdk_world``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import world as world_module
from sdk_world import Sdk, make_sdk
from world import World


@pytest.fixture
async def sdk(world: World) -> Sdk:
    return await make_sdk(world)


@pytest.fixture
async def sdk_configured(database_url: str, tmp_path: Path) -> AsyncIterator[Sdk]:
    """An axis whose administrator told it which docId spelling each operation uses, and that
    answers refusals with their HTTP status."""
    overrides = {"vdxp_docid_spelling": "getEdoc=docId,updateStatus=docid", "vdxp_http_errors": True}
    async for built in world_module.make_world(database_url, tmp_path, **overrides):
        yield await make_sdk(built)


@pytest.fixture
async def sdk_behind_proxy(database_url: str, tmp_path: Path) -> AsyncIterator[Sdk]:
    """An axis behind a TLS-terminating reverse proxy on its own host (``AXIS_TRUSTED_PROXIES``)."""
    async for built in world_module.make_world(database_url, tmp_path, trusted_proxies=("127.0.0.1/32",)):
        yield await make_sdk(built)


@pytest.fixture
async def sdk_agency_changes(database_url: str, tmp_path: Path) -> AsyncIterator[Sdk]:
    """An axis that lets systems retire agencies below theirs (``AXIS_VDXP_AGENCY_CHANGES=1``)."""
    async for built in world_module.make_world(database_url, tmp_path, vdxp_agency_changes=True):
        yield await make_sdk(built)
