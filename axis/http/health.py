"""Liveness and readiness: ``/healthz`` says the process runs; ``/readyz`` whether it can work."""

from __future__ import annotations

import asyncpg
from aiohttp import web

from axis.http.context import axis_of

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    axis = axis_of(request)
    checks: dict[str, str] = {}
    try:
        async with axis.pool.acquire(timeout=2.0) as conn:
            await conn.fetchval("SELECT 1", timeout=2.0)
        checks["postgresql"] = "ok"
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        checks["postgresql"] = f"down: {exc.__class__.__name__}"
    checks["rabbitmq"] = "ok" if axis.broker.connected else "down"
    checks["registry"] = f"version {axis.registry.snapshot.version}"
    ready = all(v == "ok" for k, v in checks.items() if k != "registry")
    return web.json_response({"ready": ready, "checks": checks}, status=200 if ready else 503)
