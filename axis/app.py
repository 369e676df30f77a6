"""The composition root: builds the settings' pools, caches and workers, and wires the web app.

Nothing else in the axis opens a connection on its own; handlers reach what they need through
``request.app[AXIS]``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import structlog
from aiohttp import web

from axis.config import Settings
from axis.http import admin, agencies, health
from axis.http.context import AXIS
from axis.http.errors import errors_middleware
from axis.registry.cache import RegistryCache
from axis.store import db
from axis.store.db import Conn
from axis.store.migrate import migrate

log = structlog.get_logger("axis.app")


@dataclass
class Axis:
    """Everything a request handler or worker needs, built once per process."""

    settings: Settings
    pool: asyncpg.Pool
    registry: RegistryCache

    @classmethod
    async def start(cls, settings: Settings) -> Axis:
        await db.ensure_database(settings.database_url)
        pool = await db.create_pool(settings.database_url)
        async with pool.acquire() as conn:
            applied = await migrate(conn)
        if applied:
            log.info("db.migrated", migrations=applied)
        registry = RegistryCache(pool, settings.database_url)
        await registry.start()
        return cls(settings, pool, registry)

    async def close(self) -> None:
        await self.registry.close()
        await self.pool.close()

    async def registry_changed(self, conn: Conn) -> None:
        """After a committed registry change: wait (briefly) until this process's cache has it,
        so an administrator who issues a token can use it on the next request."""
        version: int = await conn.fetchval("SELECT version FROM registry_version")
        try:
            await self.registry.wait_for(version, timeout=5.0)
        except TimeoutError:
            log.warning("registry.cache_behind", version=version)


def build_app(settings: Settings) -> web.Application:
    app = web.Application(middlewares=[errors_middleware], client_max_size=settings.max_package_bytes)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        app[AXIS] = await Axis.start(settings)
        yield
        await app[AXIS].close()

    app.cleanup_ctx.append(lifecycle)
    app.add_routes(health.routes)
    app.add_routes(agencies.routes)
    app.add_routes(admin.routes)
    return app


def serve(settings: Settings) -> None:
    log.info("axis.start", settings=settings.redacted())
    web.run_app(
        build_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        print=None,
        shutdown_timeout=30.0,
        handler_cancellation=False,
    )


__all__ = ["AXIS", "Axis", "build_app", "serve"]
