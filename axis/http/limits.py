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
    """At most ``limit`` intakes and ``byte_budget`` bytes of packages at once in this process;
    the next one is refused, not queued.

    Receiving a package costs a few times its size (its bytes, its tree, its canonical form), so
    64 packages of 100 MB at once would need tens of gigabytes: the byte budget keeps the sum of
    what is being received bounded. A package counts with its Content-Length, or with the size
    limit when it has none. One package is always let in when nothing else is being received,
    so that a budget below the size limit slows large packages down but never refuses them all.
    """

    def __init__(self, limit: int, byte_budget: int = 0) -> None:
        self.limit = limit
        self.byte_budget = byte_budget  # 0: no budget
        self.in_flight = 0
        self.bytes_in_flight = 0

    @contextlib.asynccontextmanager
    async def enter(self, size: int = 0) -> AsyncIterator[None]:
        if self.in_flight >= self.limit:
            raise AxisError(
                "intake.overloaded",
                f"The axis is handling {self.in_flight} packages already; send again shortly.",
                retry_after=1,
            )
        if self.byte_budget and self.bytes_in_flight and self.bytes_in_flight + size > self.byte_budget:
            raise AxisError(
                "intake.overloaded",
                f"The axis is receiving {self.bytes_in_flight / 1_048_576:.0f} MiB of packages already; "
                "send again shortly.",
                retry_after=5,
            )
        self.in_flight += 1
        self.bytes_in_flight += size
        try:
            yield
        finally:
            self.in_flight -= 1
            self.bytes_in_flight -= size


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
