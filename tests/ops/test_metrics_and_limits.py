"""Operators see what happens (/metrics); a busy or slow axis says "later" instead of queueing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import world as world_module
from world import World

from axis.errors import AxisError
from axis.http.limits import RateLimiter


async def test_metrics_count_intake_deliveries_queues_and_outbox(world: World) -> None:
    await world.post(world.signed(world.document(to=("000.00.00.H99", "000.00.00.G98"))))
    refused = await world.client.post("/api/v1/packages", data=b"<not-edxml/>", headers=world["north"].headers)
    assert refused.status == 400
    response = await world.client.get("/metrics")
    text = await response.text()
    assert response.status == 200
    assert 'axis_packages_accepted_total{kind="document",via="http"} 1.0' in text
    assert 'axis_packages_refused_total{code="edxml.root.wrong_namespace",via="http"} 1.0' in text
    assert 'axis_deliveries{state="queued"} 2.0' in text
    assert f'axis_queue_messages{{queue="axis.system.{world["bo"].system_id}"}}' in text
    assert "axis_outbox_lag_seconds" in text
    assert 'axis_intake_seconds_count{via="http"} 2.0' in text


def test_token_bucket_allows_bursts_then_asks_to_wait() -> None:
    limiter = RateLimiter(per_minute=60, burst=3)
    for _ in range(3):
        limiter.check("bac", now=100.0)
    with pytest.raises(AxisError) as limited:
        limiter.check("bac", now=100.0)
    assert limited.value.code == "rate.limited"
    assert limited.value.details["retry_after"] == 1
    limiter.check("bac", now=101.5)  # a token came back
    limiter.check("nam", now=100.0)  # other systems have their own bucket


@pytest.fixture
async def strict_world(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    overrides = {"rate_limit_per_minute": 60.0, "rate_limit_burst": 2, "db_acquire_timeout": 0.3}
    async for built in world_module.make_world(database_url, tmp_path, **overrides):
        yield built


async def test_a_system_over_its_rate_gets_429_with_retry_after(strict_world: World) -> None:
    world = strict_world
    answers = [await world.client.get("/api/v1/inbox", headers=world["south"].headers) for _ in range(3)]
    assert [a.status for a in answers] == [200, 200, 429]
    assert answers[2].headers["Retry-After"] == "1"
    assert (await answers[2].json())["error"]["code"] == "rate.limited"
    other = await world.client.get("/api/v1/inbox", headers=world["north"].headers)
    assert other.status == 200


async def test_slow_database_means_503_not_a_queue(strict_world: World) -> None:
    world = strict_world
    pool = world.axis.pool
    held = [await pool.acquire() for _ in range(pool.get_max_size())]  # every connection busy
    try:
        answer = await world.client.post(
            "/api/v1/packages", data=world.signed(world.document()), headers=world["north"].headers
        )
        assert answer.status == 503
        assert answer.headers["Retry-After"] == "5"
        assert (await answer.json())["error"]["code"] == "service.unavailable"
    finally:
        for conn in held:
            await pool.release(conn)
    assert await world.count("packages") == 0


async def test_too_many_intakes_in_flight_get_503(strict_world: World) -> None:
    world = strict_world
    world.axis.intake_gate.limit = 0  # as if every slot were taken
    answer = await world.client.post(
        "/api/v1/packages", data=world.signed(world.document()), headers=world["north"].headers
    )
    assert answer.status == 503
    assert answer.headers["Retry-After"] == "1"
    assert (await answer.json())["error"]["code"] == "intake.overloaded"


async def test_packages_beyond_the_byte_budget_get_503_yet_one_always_gets_in(strict_world: World) -> None:
    """Receiving a package costs a few times its size: the sum being received is bounded, but a
    package larger than the whole budget still goes through when it is the only one."""
    world = strict_world
    gate = world.axis.intake_gate
    gate.byte_budget = 1000  # smaller than any signed package
    alone = await world.client.post(
        "/api/v1/packages", data=world.signed(world.document(number="1")), headers=world["north"].headers
    )
    assert alone.status == 202
    async with gate.enter(500):  # another package being received
        crowded = await world.client.post(
            "/api/v1/packages", data=world.signed(world.document(number="2")), headers=world["north"].headers
        )
        assert crowded.status == 503
        assert crowded.headers["Retry-After"] == "5"
        assert (await crowded.json())["error"]["code"] == "intake.overloaded"
    assert (gate.in_flight, gate.bytes_in_flight) == (0, 0)
    assert await world.count("packages") == 1


async def test_a_pooled_connection_broken_by_a_server_shutdown_is_unavailable_not_an_error(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When PostgreSQL shuts down, a connection idle in the pool can fail its next query with
    asyncpg's InternalClientError before asyncpg has seen the socket close (seen in the fault
    suite). That race cannot be caused on purpose, so it is simulated: /readyz says "not ready"
    and an API call says "try again", never 500."""

    async def broken(*_: object, **__: object) -> None:
        raise asyncpg.InternalClientError("cannot switch to state 12; another operation (2) is in progress")

    monkeypatch.setattr(asyncpg.Connection, "fetchval", broken)
    monkeypatch.setattr(asyncpg.Connection, "fetch", broken)
    ready = await world.client.get("/readyz")
    assert ready.status == 503
    assert (await ready.json())["checks"]["postgresql"] == "down: InternalClientError"
    inbox = await world.client.get("/api/v1/inbox", headers=world["south"].headers)
    assert inbox.status == 503
    assert (await inbox.json())["error"]["code"] == "service.unavailable"


async def test_a_request_postgresql_rolled_back_to_break_a_deadlock_is_told_to_try_again(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A transaction PostgreSQL chose to roll back (a deadlock, a serialization failure) succeeds
    when repeated: the client hears "try again" (503 with Retry-After), never a 500 that says its
    request was wrong. The deliveries' statements no longer deadlock each other
    (``tests/exchange/test_deliveries.py``), so the fault is simulated here."""

    async def rolled_back(*_: object, **__: object) -> None:
        raise asyncpg.exceptions.DeadlockDetectedError("deadlock detected")

    monkeypatch.setattr(asyncpg.Connection, "fetch", rolled_back)
    inbox = await world.client.get("/api/v1/inbox", headers=world["south"].headers)
    assert inbox.status == 503
    assert inbox.headers["Retry-After"]
    assert (await inbox.json())["error"]["code"] == "service.unavailable"
