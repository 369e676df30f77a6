"""Liveness and readiness: ``/healthz`` says the process runs; ``/readyz`` whether it can work."""

from __future__ import annotations

import structlog
from aiohttp import web

from axis.broker.management import Management
from axis.errors import AxisError
from axis.http.context import axis_of
from axis.http.params import accepts
from axis.metrics import CONTENT_TYPE
from axis.store import db

routes = web.RouteTableDef()
log = structlog.get_logger("axis.http.health")


@routes.get("/healthz")
@accepts()
async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@routes.get("/readyz")
@accepts()
async def readyz(request: web.Request) -> web.Response:
    axis = axis_of(request)
    checks: dict[str, str] = {}
    try:
        async with axis.connection(timeout=2.0) as conn:
            await db.ping(conn, timeout=2.0)
        checks["postgresql"] = "ok"
    except db.UNAVAILABLE as exc:
        checks["postgresql"] = f"down: {exc.__class__.__name__}"
    checks["rabbitmq"] = "ok" if axis.broker.connected else "down"
    checks["registry"] = f"version {axis.registry.snapshot.version}"
    ready = all(v == "ok" for k, v in checks.items() if k != "registry")
    return web.json_response({"ready": ready, "checks": checks}, status=200 if ready else 503)


@routes.get("/metrics")
@accepts()
async def metrics(request: web.Request) -> web.Response:
    """Prometheus text. Gauges of shared state are read now; a dependency that does not answer
    leaves its gauges as they were (and /readyz says why)."""
    axis = axis_of(request)
    try:
        async with axis.connection(timeout=2.0) as conn:
            await axis.metrics.refresh_from_database(conn)
    except db.UNAVAILABLE as exc:
        log.warning("metrics.database_unavailable", error=repr(exc))
    try:
        async with Management(axis.settings.amqp_management_url) as management:
            for queue, depth in (await management.queue_depths(axis.settings.amqp_vhost)).items():
                axis.metrics.queue_messages.labels(queue).set(depth)
    except AxisError as exc:
        log.warning("metrics.broker_unavailable", code=exc.code)
    axis.metrics.registry_version.set(axis.registry.snapshot.version)
    return web.Response(body=axis.metrics.render(), headers={"Content-Type": CONTENT_TYPE})
