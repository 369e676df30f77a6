"""Real PostgreSQL for tests: one migrated template per run, one fresh database per test.

``CREATE DATABASE … TEMPLATE`` copies the migrated schema in a few hundred milliseconds, so every
test gets a database nobody else touches, and nothing depends on test order.
"""

from __future__ import annotations

import asyncio
import os
import uuid

import asyncpg

from axis.store import db
from axis.store.migrate import migrate

SERVER = os.environ.get("AXIS_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


async def _admin() -> asyncpg.Connection:
    try:
        conn: asyncpg.Connection = await asyncpg.connect(SERVER)
    except (OSError, asyncpg.PostgresError) as exc:
        raise RuntimeError(
            f"PostgreSQL is not reachable at {SERVER} ({exc}); ./dev test starts it when it is installed"
        ) from exc
    return conn


async def create_template() -> str:
    name = f"axis_test_{os.getpid()}_{uuid.uuid4().hex[:8]}_template"
    admin = await _admin()
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    conn = await db.connect(db.with_database(SERVER, name))
    try:
        await migrate(conn)
    finally:
        await conn.close()
    return name


async def create_from(template: str) -> str:
    name = f"{template.removesuffix('_template')}_{uuid.uuid4().hex[:8]}"
    admin = await _admin()
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        await admin.close()
    return db.with_database(SERVER, name)


async def drop(name: str) -> None:
    admin = await _admin()
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def run(coroutine: object) -> object:
    return asyncio.run(coroutine)  # type: ignore[arg-type]
