"""When PostgreSQL cannot lend a connection (every pooled one busy), every kind of request answers
503 with Retry-After within the acquire timeout — the API, the web pages, the SDK's interface, the
readiness probe — and none hangs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import world as world_module
from browsing import CHEAP, PASSWORD, Visitor
from sdk_world import make_sdk
from world import World, every_connection_held

from axis.accounts import passwords, users
from axis.accounts.users import Role
from axis.store import db

TIMEOUT = 0.5


@pytest.fixture
async def small(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    overrides = {"db_pool_size": 2, "db_acquire_timeout": TIMEOUT}
    async for built in world_module.make_world(database_url, tmp_path, **overrides):
        yield built


async def test_every_family_of_requests_answers_503_in_time_when_no_connection_is_free(small: World) -> None:
    world = small
    sdk = await make_sdk(world)
    listing = sdk.service("south").get_received_edoc_list({"servicetype": "eDoc", "messagetype": "edoc"})
    signed = world.signed(world.document("north"))
    headers = world["north"].headers
    conn = await db.connect(world.settings.database_url)
    try:
        await users.add(
            conn, "test", "vanthu.bac", passwords.hash_password(PASSWORD, CHEAP), role=Role.CLERK, system_id="bac"
        )
    finally:
        await conn.close()
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    clerk = Visitor(world.client.make_url("/"), session)
    await clerk.log_in("vanthu.bac")
    async with every_connection_held(world):
        requests = {
            "packages": world.client.post("/api/v1/packages", data=signed, headers=headers),
            "inbox": world.client.get("/api/v1/inbox", headers=headers),
            "documents": world.client.get("/api/v1/documents?direction=sent", headers=headers),
            "agencies": world.client.get("/api/v1/agencies?under=000.00.00.H99"),
            "page": session.get(world.client.make_url("/ui/documents")),
            "readiness": world.client.get("/readyz"),
        }
        for family, request in requests.items():
            started = time.monotonic()
            response = await asyncio.wait_for(request, TIMEOUT + 3)
            took = time.monotonic() - started
            assert response.status == 503, (family, response.status, await response.text())
            if family != "readiness":
                assert response.headers.get("Retry-After"), family
            assert took < TIMEOUT + 2.5, (family, took)
        reply = await asyncio.wait_for(sdk.send(listing), TIMEOUT + 3)
        assert reply.header("Retry-After"), reply  # the SDK's FAIL 901, read by ErrorCode
        assert b'"ErrorCode":"901"' in reply.body
    assert (await world.client.get("/api/v1/inbox", headers=headers)).status == 200  # and back once free
    await session.close()
