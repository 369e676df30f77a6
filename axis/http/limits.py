"""Backpressure and per-system rate limits: say "later" early instead of queueing in memory.

Intake holds a package's bytes and a verification's working memory; an axis that accepts every
request while PostgreSQL or RabbitMQ is slow grows until it falls over. So: a bounded number of
intakes in flight per process (503 + Retry-After beyond it), and a token bucket per system
(429 + Retry-After), both answered before any work is done.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from axis.errors import AxisError


class IntakeGate:
    """At most ``limit`` intakes at once in this process; the next one is refused, not queued."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_flight = 0

    @contextlib.asynccontextmanager
    async def enter(self) -> AsyncIterator[None]:
        if self.in_flight >= self.limit:
            raise AxisError(
                "intake.overloaded",
                f"The axis is handling {self.in_flight} packages already; send again shortly.",
                retry_after=1,
            )
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1


@dataclass
class _Bucket:
    tokens: float
    stamp: float


@dataclass
class RateLimiter:
    """A token bucket per system: ``per_minute`` requests on average, bursts up to ``burst``."""

    per_minute: float
    burst: int
    buckets: dict[str, _Bucket] = field(default_factory=dict)

    def check(self, key: str, now: float | None = None) -> None:
        if self.per_minute <= 0:
            return
        now = time.monotonic() if now is None else now
        rate = self.per_minute / 60.0
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.stamp) * rate)
        bucket.stamp = now
        if bucket.tokens < 1.0:
            wait = math.ceil((1.0 - bucket.tokens) / rate)
            raise AxisError(
                "rate.limited",
                f"The system {key} sends more than {self.per_minute:g} requests a minute; wait {wait} s.",
                retry_after=wait,
                system=key,
            )
        bucket.tokens -= 1.0
