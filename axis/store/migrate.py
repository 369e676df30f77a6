"""Plain SQL migrations, applied once each, in order, under an advisory lock.

Files are ``axis/store/migrations/NNN_name.sql``. Each runs in its own transaction together with
the row that records it, so a failed migration leaves nothing half-applied; the lock lets several
axis processes start at once without racing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from axis.store.db import Conn

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
_LOCK = 0x61786973  # "axis"


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    path: Path


def available(directory: Path = MIGRATIONS) -> list[Migration]:
    found = []
    for path in sorted(directory.iterdir()):
        match = _NAME.match(path.name)
        if match:
            found.append(Migration(int(match.group(1)), path.stem, path))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a version number in {directory}")
    return found


async def migrate(conn: Conn, directory: Path = MIGRATIONS) -> list[str]:
    """Apply the migrations not yet applied; returns their names."""
    applied_now: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK)
    try:
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   version    integer PRIMARY KEY,
                   name       text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        for migration in available(directory):
            if migration.version in done:
                continue
            async with conn.transaction():
                await conn.execute(migration.path.read_text(encoding="utf-8"))
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                    migration.version,
                    migration.name,
                )
            applied_now.append(migration.name)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK)
    return applied_now
