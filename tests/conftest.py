"""Fixtures shared by every suite: the real SDK samples (when present) and development keys."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pg
import pytest
import world as world_module
from browsing import CHEAP, PASSWORD, PEOPLE, Visitor

from axis import pki
from axis.accounts import passwords, users
from axis.edxml.trust import TrustAnchors
from axis.store import db as store_db

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "domain" / "samples"


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """For tests told without servers: any attempt to connect anywhere fails the test."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a network connection was attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture(scope="session")
def samples() -> Path:
    """The public SDK samples. They carry personal details, so they stay in ../shared."""
    if not SAMPLES.is_dir():
        pytest.skip(f"SDK samples not present at {SAMPLES}")
    return SAMPLES


@pytest.fixture(scope="session")
def dev_ca() -> pki.Identity:
    return pki.new_ca("Test CA")


@pytest.fixture(scope="session")
def trust(dev_ca: pki.Identity) -> TrustAnchors:
    return TrustAnchors((dev_ca.certificate,))


@pytest.fixture(scope="session")
def north(dev_ca: pki.Identity) -> pki.Identity:
    """The fictitious northern province's signing identity (RSA, as most agencies have)."""
    return pki.issue(dev_ca, "000.00.00.H98", "UBND Tỉnh Thử Nghiệm Bắc")


@pytest.fixture(scope="session")
def south_ec(dev_ca: pki.Identity) -> pki.Identity:
    """The fictitious southern province signs with an ECDSA key."""
    return pki.issue(dev_ca, "000.00.00.H99", "UBND Tỉnh Thử Nghiệm Nam", key_type="ec")


@pytest.fixture(scope="session")
def expired(dev_ca: pki.Identity) -> pki.Identity:
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=800)
    return pki.issue(dev_ca, "000.00.00.H98", "UBND Tỉnh Thử Nghiệm Bắc", not_before=long_ago, days=365)


@pytest.fixture(scope="session")
def stranger() -> pki.Identity:
    """A well-formed certificate from a CA the axis does not trust."""
    return pki.issue(pki.new_ca("Unknown CA"), "000.00.00.H98", "Kẻ Mạo Danh")


# --- PostgreSQL -------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    name = asyncio.run(pg.create_template())
    yield name
    asyncio.run(pg.drop(name))


@pytest.fixture
def database_url(pg_template: str) -> Iterator[str]:
    """A fresh, migrated database of this test's own."""
    url = asyncio.run(pg.create_from(pg_template))
    yield url
    asyncio.run(pg.drop(store_db.database_name(url)))


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await store_db.create_pool(database_url, max_size=5)
    yield pool
    await pool.close()


# --- a running axis with fictitious agencies (real PostgreSQL and RabbitMQ) -------------------------------


@pytest.fixture
async def api(database_url: str, tmp_path: Path) -> AsyncIterator[world_module.Api]:
    """An empty axis and its administrator's token (the admin API's stories)."""
    async for built in world_module.make_api(database_url, tmp_path):
        yield built


@pytest.fixture
async def world(database_url: str, tmp_path: Path) -> AsyncIterator[world_module.World]:
    async for built in world_module.make_world(database_url, tmp_path):
        yield built


# --- the web pages: their users and visitors -------------------------------------------------------------


@pytest.fixture
async def people(world: world_module.World) -> dict[str, users.User]:
    conn = await store_db.connect(world.settings.database_url)
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
async def visit(world: world_module.World) -> AsyncIterator[Any]:
    """``visit()``: a new visitor (browser) of the world's axis."""
    sessions: list[aiohttp.ClientSession] = []

    def new() -> Visitor:
        session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        sessions.append(session)
        return Visitor(world.client.make_url("/"), session)

    yield new
    for session in sessions:
        await session.close()
