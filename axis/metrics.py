"""Prometheus metrics: what operators watch. Counters and the latency histogram are kept as work
happens; the gauges (deliveries by state, queue depths, outbox lag) are read from PostgreSQL and
RabbitMQ when ``/metrics`` is scraped, so every process reports the same truth about shared state.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

from axis.errors import AxisError
from axis.store.db import Conn

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    def __init__(self) -> None:
        # One registry per process object (not the global one): several apps in one test process
        # must not collide.
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.accepted = Counter(
            "axis_packages_accepted", "Packages accepted at intake.", ["kind", "via"], registry=self.registry
        )
        self.refused = Counter(
            "axis_packages_refused",
            "Packages refused at intake, by stable error code.",
            ["code", "via"],
            registry=self.registry,
        )
        self.intake_seconds = Histogram(
            "axis_intake_seconds",
            "Time from a package's bytes in hand to the answer (verification, storage, publishing).",
            ["via"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.deliveries = Gauge("axis_deliveries", "Deliveries by state.", ["state"], registry=self.registry)
        self.queue_messages = Gauge(
            "axis_queue_messages",
            "Messages in RabbitMQ queues (ready + unacknowledged).",
            ["queue"],
            registry=self.registry,
        )
        self.outbox_messages = Gauge("axis_outbox_messages", "Messages waiting in the outbox.", registry=self.registry)
        self.outbox_lag = Gauge(
            "axis_outbox_lag_seconds", "Age of the oldest message waiting in the outbox.", registry=self.registry
        )
        self.registry_version = Gauge(
            "axis_registry_version", "Registry version held by this process's cache.", registry=self.registry
        )

    @contextmanager
    def intake(self, via: str) -> Iterator[None]:
        """Count one intake (accepted or refused, by code) and time it."""
        started = time.perf_counter()
        try:
            yield
        except AxisError as refusal:
            self.refused.labels(refusal.code, via).inc()
            raise
        finally:
            self.intake_seconds.labels(via).observe(time.perf_counter() - started)

    async def refresh_from_database(self, conn: Conn) -> None:
        for row in await conn.fetch("SELECT state, count(*) AS n FROM deliveries GROUP BY state"):
            self.deliveries.labels(row["state"]).set(row["n"])
        outbox = await conn.fetchrow(
            "SELECT count(*) AS n, extract(epoch FROM now() - min(created_at)) AS lag FROM outbox"
        )
        assert outbox is not None
        self.outbox_messages.set(outbox["n"])
        self.outbox_lag.set(float(outbox["lag"] or 0.0))

    def render(self) -> bytes:
        return bytes(generate_latest(self.registry))
