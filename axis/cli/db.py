"""``axis db migrate`` and ``axis serve``."""

from __future__ import annotations

import argparse
from typing import Any

import asyncpg

from axis import app
from axis.cli import runtime
from axis.config import Settings
from axis.store.db import Conn


def register(sub: Any) -> None:
    database = sub.add_parser("db", help="database schema")
    actions = database.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    actions.add_parser("migrate", help="create the database if needed and apply migrations").set_defaults(
        handler=_migrate
    )
    serve = sub.add_parser("serve", help="run the axis: HTTP API and background workers")
    serve.set_defaults(handler=_serve)


def _migrate(_: argparse.Namespace) -> int:
    async def applied(conn: Conn) -> list[asyncpg.Record]:
        # runtime.run created the database if needed and applied what was pending.
        return await conn.fetch("SELECT version, name, applied_at FROM schema_migrations ORDER BY version")

    for row in runtime.run(applied):
        print(f"{row['version']:03d} {row['name']:<32} applied {row['applied_at']:%Y-%m-%d %H:%M:%S}")
    return 0


def _serve(_: argparse.Namespace) -> int:
    app.serve(Settings.from_env())
    return 0
