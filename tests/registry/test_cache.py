"""Each axis process keeps the registry in memory and learns of changes from PostgreSQL at once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import asyncpg
import pytest

from axis.registry import agencies, systems
from axis.registry import snapshot as snapshot_store
from axis.registry.cache import RegistryCache
from axis.registry.model import Snapshot
from axis.store import db


async def test_a_change_made_by_another_process_reaches_the_cache(database_url: str, pool: asyncpg.Pool) -> None:
    cache = RegistryCache(pool, database_url)
    await cache.start()
    try:
        before = cache.snapshot.version
        env = {**os.environ, "AXIS_DATABASE_URL": database_url}
        for args in (
            ["agencies", "add", "000.00.00.H98", "--name", "UBND Tỉnh Thử Nghiệm Bắc"],
            ["systems", "add", "bac-eoffice", "--name", "eOffice Bắc"],
            ["systems", "bind", "bac-eoffice", "000.00.00.H98"],
        ):
            done = subprocess.run([sys.executable, "-m", "axis", *args], env=env, capture_output=True, text=True)
            assert done.returncode == 0, done.stderr
        await cache.wait_for(before + 3, timeout=10)
        assert cache.resolver.resolve("000.00.00.H98").system.id == "bac-eoffice"
    finally:
        await cache.close()


async def test_two_caches_agree_after_a_burst_of_changes(database_url: str, pool: asyncpg.Pool) -> None:
    other_pool = await db.create_pool(database_url, max_size=2)
    first, second = RegistryCache(pool, database_url), RegistryCache(other_pool, database_url)
    await first.start()
    await second.start()
    try:
        async with pool.acquire() as conn:
            await agencies.add(conn, "test", "000.00.00.H98", "UBND Tỉnh Thử Nghiệm Bắc")
            await systems.add(conn, "test", "bac", "eOffice Bắc")
            await systems.bind(conn, "test", "bac", "000.00.00.H98")
            for unit in range(1, 40):
                await agencies.add(conn, "test", f"000.00.{unit:02d}.H98", f"Đơn vị {unit}")
            version = await conn.fetchval("SELECT version FROM registry_version")
        for cache in (first, second):
            await cache.wait_for(version, timeout=10)
            assert len(cache.snapshot.agencies) == 40
            assert cache.resolver.resolve("000.00.39.H98").system.id == "bac"
    finally:
        await first.close()
        await second.close()
        await other_pool.close()


async def test_cache_reloads_after_its_listening_connection_is_lost(database_url: str, pool: asyncpg.Pool) -> None:
    cache = RegistryCache(pool, database_url, poll_seconds=0.2)
    await cache.start()
    try:
        async with pool.acquire() as conn:
            # Kill the cache's LISTEN connection, as a PostgreSQL restart would.
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND query LIKE 'LISTEN%'"
            )
            await agencies.add(conn, "test", "000.00.00.H98", "UBND Tỉnh Thử Nghiệm Bắc")
            version = await conn.fetchval("SELECT version FROM registry_version")
        await cache.wait_for(version, timeout=10)
        assert "000.00.00.H98" in cache.snapshot.agencies
    finally:
        await cache.close()


async def test_closing_while_a_reload_starts_its_transaction_is_quiet(
    database_url: str, pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancelled while asyncpg begins its transaction, a reload can end with the server's error
    instead of CancelledError (seen once in a federation test's teardown); closing must not fail."""
    cache = RegistryCache(pool, database_url)
    await cache.start()
    started = asyncio.Event()

    async def load_cut_short(_conn: object) -> Snapshot:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            raise asyncpg.exceptions.ActiveSQLTransactionError(
                "SET TRANSACTION ISOLATION LEVEL must be called before any query"
            ) from None
        raise AssertionError("unreachable")

    monkeypatch.setattr(snapshot_store, "load", load_cut_short)
    async with pool.acquire() as conn:
        await agencies.add(conn, "test", "000.00.00.H98", "UBND Tỉnh Thử Nghiệm Bắc")
    await asyncio.wait_for(started.wait(), timeout=10)
    await cache.close()
