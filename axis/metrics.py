"""Prometheus metrics: what operators watch. Counters and the latency histogram are kept as work
happens; the gauges (deliveries by state, queue depths, outbox lag, the upstream link's state) are
read from PostgreSQL and RabbitMQ when ``/metrics`` is scraped, so every process reports the same
truth about shared state.

The upstream link (issue 17) has its gauges only where a link is configured (label ``link``): what
waits for the axis above and for how long, what it refused, what came down and was refused here,
and whether its last call succeeded. Its counters (handed up, taken in) are the federation
worker's, in the one process that works the link, read through ``follow``.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Protocol

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
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from axis.errors import AxisError
from axis.federation import records
from axis.federation.link import UPSTREAM
from axis.store.db import Conn

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class LinkCounters(Protocol):
    """What the federation worker counts as it works the link (``axis.federation.worker.Counters``)."""

    forwarded: int
    ingested: int
    refused_inbound: int


#: The federation worker's counters: metric, attribute of ``LinkCounters``, help.
_LINK_COUNTERS = (
    ("axis_upstream_forwarded", "forwarded", "Packages handed to the upstream axis (sendEdoc) by this process."),
    ("axis_upstream_ingested", "ingested", "Upstream documents taken in and stored here by this process."),
    ("axis_upstream_inbound_refused", "refused_inbound", "Upstream documents local intake refused, in this process."),
)


class _Federation(Collector):
    """The federation worker's counters, read when scraped; none until ``Metrics.follow``."""

    def __init__(self) -> None:
        self.counters: Callable[[], LinkCounters] | None = None

    def collect(self) -> Iterable[CounterMetricFamily]:
        if self.counters is None:
            return []
        counters = self.counters()
        families = []
        for name, attribute, documentation in _LINK_COUNTERS:
            family = CounterMetricFamily(name, documentation, labels=["link"])
            family.add_metric([UPSTREAM], getattr(counters, attribute))
            families.append(family)
        return families


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
        upstream = (
            ("waiting", "axis_upstream_waiting", "Packages waiting to be handed to the upstream axis."),
            (
                "oldest_waiting",
                "axis_upstream_oldest_waiting_seconds",
                "Age of the oldest package waiting for the upstream axis (0 when none waits).",
            ),
            (
                "refused",
                "axis_upstream_refused",
                "Packages waiting for the upstream axis that it refused at the last attempt (retried).",
            ),
            (
                "inbound_failed",
                "axis_upstream_inbound_failed",
                "Upstream documents local intake refused, kept with their bytes for an operator.",
            ),
            (
                "last_ok_age",
                "axis_upstream_last_ok_age_seconds",
                "Seconds since the upstream last answered a call (-1: never).",
            ),
            ("up", "axis_upstream_up", "1 when the upstream's last answer is more recent than its last failure."),
            ("external_agencies", "axis_upstream_external_agencies", "Agencies known from the upstream's lists."),
        )
        self.upstream = {
            key: Gauge(name, documentation, ["link"], registry=self.registry) for key, name, documentation in upstream
        }
        self._federation = _Federation()
        self.registry.register(self._federation)

    def follow(self, counters: Callable[[], LinkCounters]) -> None:
        """Report the federation worker's counters (the composition root passes its worker's)."""
        self._federation.counters = counters

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
        await self._refresh_upstream(conn)

    async def _refresh_upstream(self, conn: Conn) -> None:
        state = await records.state(conn, UPSTREAM)
        if state is None:  # no link: no upstream gauges at all (rather than zeros that look healthy)
            for gauge in self.upstream.values():
                gauge.clear()
            return
        now: dt.datetime = await conn.fetchval("SELECT now()")
        values = {
            "waiting": state.waiting,
            "oldest_waiting": (now - state.oldest_waiting_at).total_seconds() if state.oldest_waiting_at else 0.0,
            "refused": state.refused,
            "inbound_failed": state.failed_inbound,
            "last_ok_age": (now - state.last_ok_at).total_seconds() if state.last_ok_at else -1.0,
            "up": 1.0 if state.up else 0.0,
            "external_agencies": state.external_agencies,
        }
        for key, value in values.items():
            self.upstream[key].labels(UPSTREAM).set(value)

    def render(self) -> bytes:
        return bytes(generate_latest(self.registry))
