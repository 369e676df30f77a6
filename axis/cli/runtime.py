"""What CLI commands share: settings, a migrated database connection, the actor they act as."""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import Awaitable, Callable
from typing import TypeVar

from axis.config import Settings
from axis.store import db
from axis.store.db import Conn
from axis.store.migrate import migrate

T = TypeVar("T")


def actor() -> str:
    """History's "who" for changes made from the command line."""
    return f"cli:{getpass.getuser()}"


async def _with_connection(settings: Settings, action: Callable[[Conn], Awaitable[T]]) -> T:
    await db.ensure_database(settings.database_url)
    conn = await db.connect(settings.database_url)
    try:
        await migrate(conn)
        return await action(conn)
    finally:
        await conn.close()


def run(action: Callable[[Conn], Awaitable[T]], settings: Settings | None = None) -> T:
    """Run ``action(conn)`` on a migrated database (created when missing)."""
    return asyncio.run(_with_connection(settings or Settings.from_env(), action))


def transaction(action: Callable[[Conn], Awaitable[T]]) -> Callable[[Conn], Awaitable[T]]:
    async def wrapped(conn: Conn) -> T:
        async with conn.transaction():
            return await action(conn)

    return wrapped
