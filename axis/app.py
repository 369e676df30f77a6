"""The composition root: builds pools, caches, the broker and the workers, and wires the web app.

Nothing else in the axis opens a connection on its own; handlers reach what they need through
``request.app[AXIS]``. Shutdown is orderly: stop taking AMQP work and let the messages in hand
finish, let HTTP requests in flight finish (aiohttp), then stop the relay and close connections.
Nothing is half-done, because every state change is one transaction and every publish is in the
outbox until confirmed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import asyncpg
import structlog
from aiohttp import web
from asyncpg.pool import PoolAcquireContext

from axis import collector, memory, pki
from axis import web as web_ui
from axis.audit import Linker
from axis.broker.consumer import IntakeConsumer
from axis.broker.dead_letters import DeadLetters
from axis.broker.publisher import Broker
from axis.broker.relay import OutboxRelay
from axis.config import Settings
from axis.edxml.codec import default_schemas
from axis.edxml.trust import TrustAnchors
from axis.errors import AxisError
from axis.exchange import wakeups
from axis.exchange.freshness import Window
from axis.exchange.service import Exchange
from axis.federation.worker import Federation
from axis.files import intake as files_intake
from axis.files.worker import FileChecker
from axis.http import admin, agencies, cut_headers, documents, early, headers, health, packages, tls, upstream
from axis.http import vdxp as vdxp_http
from axis.http.context import AXIS
from axis.http.errors import REFUSALS, Refusals, errors_middleware
from axis.http.limits import IntakeGate, RateLimiter
from axis.log import configure as configure_logging
from axis.metrics import Metrics
from axis.registry.cache import RegistryCache
from axis.registry.registrar import Registrar
from axis.store import db
from axis.store.migrate import migrate
from axis.vdxp.secret import SecretBox

log = structlog.get_logger("axis.app")


@dataclass
class Axis:
    """Everything a request handler or worker needs, built once per process."""

    settings: Settings
    pool: asyncpg.Pool
    registry: RegistryCache
    broker: Broker
    relay: OutboxRelay
    exchange: Exchange
    consumer: IntakeConsumer
    dead_letters: DeadLetters
    identity: pki.Identity
    executor: ThreadPoolExecutor | None
    metrics: Metrics
    intake_gate: IntakeGate
    rate_limiter: RateLimiter
    linker: Linker
    registrar: Registrar
    federation: Federation
    files: FileChecker | None = None

    def connection(self, *, timeout: float | None = None) -> PoolAcquireContext[asyncpg.Record]:
        """A connection lent by the pool within ``AXIS_DB_ACQUIRE_TIMEOUT`` (or a shorter
        ``timeout``, for probes): a database that cannot lend one in time is the caller's 503 (with
        Retry-After), never a request that hangs."""
        limit = self.settings.db_acquire_timeout
        return self.pool.acquire(timeout=limit if timeout is None else min(timeout, limit))

    @classmethod
    async def start(cls, settings: Settings) -> Axis:
        identity = _identity(settings)
        trust = TrustAnchors.from_files(settings.trust_anchors, settings.crl_files)
        default_schemas()  # load once now rather than on the first package
        await db.ensure_database(settings.database_url)
        pool = await db.create_pool(settings.database_url, max_size=settings.db_pool_size)
        async with pool.acquire(timeout=settings.db_acquire_timeout) as conn:
            applied = await migrate(conn)
        if applied:
            log.info("db.migrated", migrations=applied)
        registry = RegistryCache(pool, settings.database_url, acquire_timeout=settings.db_acquire_timeout)
        await registry.start()
        broker = Broker(
            settings.amqp_url,
            inline_max=settings.amqp_inline_max_bytes,
            confirm_timeout=settings.publisher_confirm_timeout,
        )
        await broker.start()
        for system in registry.snapshot.systems.values():
            if system.delivery_amqp:
                await broker.ensure_system(system.id)
        relay = OutboxRelay(
            pool,
            broker,
            interval=settings.relay_interval,
            batch=settings.relay_batch,
            acquire_timeout=settings.db_acquire_timeout,
        )
        executor = (
            ThreadPoolExecutor(settings.verify_workers, thread_name_prefix="axis-verify")
            if settings.verify_workers > 0
            else None
        )
        files = files_intake.checker_from(settings) if settings.file_check else None
        exchange = Exchange(
            pool=pool,
            files=files,
            registry=registry,
            relay=relay,
            trust=trust,
            identity=identity,
            limits=settings.package_limits,
            executor=executor,
            acquire_timeout=settings.db_acquire_timeout,
            archive_dir=settings.archive_dir,
            timestamps=Window.of(settings.max_clock_skew_seconds, settings.max_package_age_days),
            ack_deadline=dt.timedelta(hours=settings.ack_deadline_hours),
        )

        metrics = Metrics()

        async def from_amqp(system_id: str, data: bytes) -> object:
            with metrics.intake("amqp"):
                system = registry.snapshot.systems.get(system_id)
                if system is None:
                    raise AxisError("registry.system.unknown", f"No system {system_id!r}.", system=system_id)
                accepted = await exchange.submit(system, data, via="amqp")
            if not accepted.repeated:
                metrics.accepted.labels(accepted.kind.value, "amqp").inc()
            return accepted

        consumer = IntakeConsumer(
            broker, from_amqp, prefetch=settings.intake_prefetch, retry_limit=settings.intake_retry_limit
        )
        dead_letters = DeadLetters(broker, pool, acquire_timeout=settings.db_acquire_timeout)
        linker = Linker(pool)
        federation = Federation(
            pool=pool,
            database_url=settings.database_url,
            exchange=exchange,
            system=lambda system_id: registry.snapshot.systems.get(system_id),
            box=lambda: _secret_box(settings),
            forward_interval=settings.upstream_forward_interval,
            poll_interval=settings.upstream_poll_interval,
            agencies_interval=settings.upstream_agencies_interval,
            call_timeout=settings.upstream_call_timeout,
            acquire_timeout=settings.db_acquire_timeout,
        )
        exchange.on_upstream = federation.wake
        await registry.also_listen(wakeups.CHANNEL, exchange.wakeups.on_notify)
        metrics.follow(lambda: federation.counters)
        relay.start()
        linker.start()
        federation.start()
        await consumer.start()
        await dead_letters.start()
        log.info("axis.ready", registry_version=registry.snapshot.version)
        return cls(
            settings,
            pool,
            registry,
            broker,
            relay,
            exchange,
            consumer,
            dead_letters,
            identity,
            executor,
            metrics,
            IntakeGate(settings.max_intake_in_flight, settings.max_intake_bytes_in_flight),
            RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst),
            linker,
            Registrar(lambda: pool.acquire(timeout=settings.db_acquire_timeout), registry),
            federation,
            files,
        )

    async def stop_taking_work(self) -> None:
        self.exchange.wakeups.close()  # requests waiting for an inbox answer now
        await self.consumer.stop()
        await self.dead_letters.stop()

    async def close(self) -> None:
        await self.stop_taking_work()
        await self.federation.stop()
        await self.relay.stop()
        await self.linker.stop()
        if self.executor is not None:
            self.executor.shutdown(wait=True)
        if self.files is not None:
            await asyncio.to_thread(self.files.close)  # joins its worker processes
        await self.broker.close()
        await self.registry.close()
        # asyncpg's close waits, without end, for every connection to come back: a task that
        # still holds one would make the process hang at shutdown (a test run hung here).
        try:
            async with asyncio.timeout(10):
                await self.pool.close()
        except TimeoutError:
            log.warning("axis.pool_close_timeout", error="connections still held after 10 s; terminated")
            self.pool.terminate()


def _secret_box(settings: Settings) -> SecretBox | None:
    """The key that opens the upstream's secret, if this axis has one (read when the link is used)."""
    try:
        return SecretBox.load(settings.vdxp_key_path)
    except AxisError:
        return None


def _identity(settings: Settings) -> pki.Identity:
    if not settings.axis_key.exists():
        raise AxisError(
            "keys.missing",
            f"The axis's receipt key {settings.axis_key} does not exist: run `axis keys init` for "
            "development keys, or set AXIS_KEYS_DIR to where the production key and certificate are.",
        )
    return pki.load(settings.axis_key, settings.axis_certificate)


def build_app(settings: Settings) -> web.Application:
    refusals = Refusals(sdk_http_errors=settings.vdxp_http_errors)
    app = web.Application(
        middlewares=[errors_middleware],
        client_max_size=settings.max_package_bytes + 1,
        handler_args=early.handler_args(refusals),  # aiohttp's own refusals in our shapes (axis.http.early)
    )
    app[REFUSALS] = refusals

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        app[AXIS] = await Axis.start(settings)
        yield
        await app[AXIS].close()

    async def on_shutdown(app: web.Application) -> None:
        if AXIS in app:
            await app[AXIS].stop_taking_work()

    headers.install(app)  # security headers on every response
    app.cleanup_ctx.append(lifecycle)
    app.on_shutdown.append(on_shutdown)
    for module in (health, agencies, admin, upstream, packages, documents):
        app.add_routes(module.routes)
    web_ui.setup(app, settings)  # the web pages under /ui/ (axis/web)
    vdxp_http.install(app, settings)  # the national SDK's interface under /vdxp/ (axis/vdxp)
    early.install()
    if settings.tls_cert is None:
        cut_headers.install()  # plain HTTP: the SDK may cut header values to 8 bits (axis.http.cut_headers)
    return app


def serve(settings: Settings) -> None:
    configure_logging(settings.log_level)
    memory.return_large_buffers()
    log.info("axis.start", settings=settings.redacted())
    app = build_app(settings)
    app.on_startup.append(collector.freeze_startup_objects)  # after the axis started (axis.collector)
    web.run_app(
        app,
        host=settings.http_host,
        port=settings.http_port,
        print=None,
        shutdown_timeout=30.0,
        handler_cancellation=False,
        reuse_port=True,  # several axis processes may share the port (the kernel spreads connections)
        ssl_context=tls.server_context(settings),  # HTTPS (and client certificates) when configured
    )
