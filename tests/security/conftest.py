"""What the security tests share: an administrator, and a second axis process on the same world.

A "second axis" is a second ``build_app`` over the world's database and RabbitMQ vhost, with its
own settings (a CRL, TLS): what an operator gets by starting another process or restarting one
with new configuration.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from security_world import SecondAxis
from world import World, wait_until

from axis.app import build_app
from axis.registry import systems
from axis.registry.tokens import token_hash
from axis.store import db


@pytest.fixture
async def admin_token(world: World) -> str:
    """An administrator token the world's axis already knows."""
    conn = await db.connect(world.settings.database_url)
    try:
        async with conn.transaction():
            _, token = await systems.issue_admin_token(conn, "test", "security-admin")
    finally:
        await conn.close()
    await wait_until(lambda: world.axis.registry.resolver.admin_for_token(token_hash(token)) is not None)
    return token


@pytest.fixture
def second_axis(world: World) -> SecondAxis:
    """``async with second_axis(**settings) as client``: another axis process on the world."""

    @asynccontextmanager
    async def start(ssl: Any = None, **overrides: Any) -> AsyncIterator[TestClient]:
        """``ssl``: the server's TLS context (HTTPS); ``overrides``: settings of this process."""
        settings = dataclasses.replace(world.settings, **overrides)
        server = TestServer(build_app(settings))
        try:
            await server.start_server(ssl=ssl)
        except BaseException:
            await server.close()
            raise
        client = TestClient(server)
        try:
            yield client
        finally:
            await client.close()

    return start
