"""Fixtures for the web pages over a running axis (the ``world``): its users and visitors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from browsing import CHEAP, PASSWORD, PEOPLE, Visitor
from world import World

from axis.store import db
from axis.web import passwords, users


@pytest.fixture
async def people(world: World) -> dict[str, users.User]:
    conn = await db.connect(world.settings.database_url)
    made = {}
    try:
        for username, (role, system, name) in PEOPLE.items():
            made[username] = await users.add(
                conn, "test", username, passwords.hash_password(PASSWORD, CHEAP), role=role, system_id=system,
                full_name=name,
            )  # fmt: skip
    finally:
        await conn.close()
    return made


@pytest.fixture
async def visit(world: World) -> AsyncIterator[Any]:
    """``visit()``: a new visitor (browser) of the world's axis."""
    sessions: list[aiohttp.ClientSession] = []

    def new() -> Visitor:
        session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        sessions.append(session)
        return Visitor(world.client.make_url("/"), session)

    yield new
    for session in sessions:
        await session.close()
