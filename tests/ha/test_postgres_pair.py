"""Issue 18's PostgreSQL pair, made by the project's own code: a primary and its synchronous standby
kept by Patroni. A package the axis answered 202 for is on the standby Patroni promotes after the
primary's machine is killed, and the axis process carries on against it without a restart.

The pair is the session's (``conftest.py``), whole again for each module. A pair found running
(``scripts/ha_postgres.py up``) is used and left running: whoever started it wants it. Otherwise
the fixture brings it up (about 10 s) and takes it down with its data at the end.
The axis is a real ``python -m axis serve`` process (``tests/cluster.py``) given the pair's
multi-host address; RabbitMQ is the machine's own, with a vhost of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import builders
import cluster as cluster_module
import postgres_pair as pg_pair
import pytest
from cluster import Cluster, Sim

from axis.edxml import build, sign
from axis.federation import worker as federation_worker
from axis.registry import agencies
from axis.store import db

pytestmark = pytest.mark.slow

BURST = 30  # accepted before the primary is killed
PACKAGES = 60  # in all: the rest are in flight or on their way while the primary dies
SENDERS = 6


def test_the_primary_waits_for_its_synchronous_standby(pair: pg_pair.Pair) -> None:
    roles = {s.node.name: s.role for s in pg_pair.status(pair)}
    assert sorted(roles.values()) == ["primary", "standby"]
    primary = pg_pair.primary_of(pair)
    assert primary is not None
    standby = pair.other(primary)
    replication = pg_pair.query(primary, "SELECT application_name, state, sync_state FROM pg_stat_replication")
    assert replication == f"{standby.name}|streaming|sync"
    assert pg_pair.query(primary, "SHOW synchronous_commit") == "on"
    assert pg_pair.query(primary, "SHOW synchronous_standby_names") == standby.name


async def test_the_primary_goes_on_alone_when_its_standby_dies_and_takes_it_back_when_it_returns(
    pair: pg_pair.Pair,
) -> None:
    """Patroni's non-strict synchronous mode: a dead standby must not make every commit wait."""
    primary = pg_pair.primary_of(pair)
    assert primary is not None
    standby = pair.other(primary)
    table = f"alone_{time.monotonic_ns()}"
    conn = await db.connect(pair.url())
    try:
        await conn.execute(f"CREATE TABLE {table} (n int)")
        await asyncio.to_thread(pg_pair.kill, standby)
        began = time.monotonic()
        async with asyncio.timeout(pg_pair.TTL * 3):  # a commit may wait until Patroni drops the standby
            await conn.execute(f"INSERT INTO {table} VALUES (1)")
        waited = time.monotonic() - began
        print(f"\nwith the standby dead, a commit waited {waited:.1f} s for Patroni to drop it")
        assert pg_pair.query(primary, "SHOW synchronous_standby_names") == ""
        await asyncio.to_thread(pg_pair.up, pair)  # the standby rejoins and is synchronous again
        await conn.execute(f"INSERT INTO {table} VALUES (2)")
        assert pg_pair.query(standby, f"SELECT count(*) FROM {table}") == "2"
        await conn.execute(f"DROP TABLE {table}")
    finally:
        await conn.close()


@dataclass
class Intake:
    """What the senders saw: every attempt's time and answer (0: no answer), and what was accepted."""

    attempts: list[tuple[float, int]] = field(default_factory=list)
    accepted: set[str] = field(default_factory=set)

    def outage(self, since: float) -> tuple[float, float] | None:
        """From the first failed attempt after ``since`` to the first acceptance after the last failure."""
        failed = [t for t, status in self.attempts if t >= since and status not in (200, 202)]
        if not failed:
            return None
        back = min((t for t, status in self.attempts if t > failed[-1] and status in (200, 202)), default=failed[-1])
        return failed[0], back


async def submit_until_accepted(
    session: aiohttp.ClientSession, base_url: str, sim: Sim, data: bytes, intake: Intake
) -> str:
    """A careful client: the same bytes again until the axis answers 202 (or 200, a repeat), waiting
    as long as a 429 asks."""
    headers = {"Authorization": f"Bearer {sim.token}", "Content-Type": "application/xml"}
    async with asyncio.timeout(120):
        while True:
            status, body = 0, {}
            with contextlib.suppress(aiohttp.ClientError, OSError, TimeoutError):
                async with session.post(
                    base_url + "/api/v1/packages", data=data, headers=headers, timeout=aiohttp.ClientTimeout(total=10)
                ) as response:
                    status = response.status
                    body = await response.json(content_type=None)
            intake.attempts.append((time.monotonic(), status))
            if status in (200, 202):
                intake.accepted.add(str(body["package_id"]))
                return str(body["package_id"])
            if status == 429:  # six senders retrying through a failover reach the system's rate limit
                await asyncio.sleep(float(body["error"]["details"]["retry_after"]))
                continue
            assert status in (0, 503), f"the axis answered {status}: {body}"
            await asyncio.sleep(0.2)


async def readiness(base_url: str, seen: list[tuple[float, int]], stop: asyncio.Event) -> None:
    async with aiohttp.ClientSession() as session:
        while not stop.is_set():
            status = 0
            with contextlib.suppress(aiohttp.ClientError, OSError, TimeoutError):
                async with session.get(base_url + "/readyz", timeout=aiohttp.ClientTimeout(total=3)) as response:
                    status = response.status
            seen.append((time.monotonic(), status))
            await asyncio.sleep(0.1)


async def registry_version(session: aiohttp.ClientSession, base_url: str) -> int:
    async with session.get(base_url + "/readyz") as response:
        checks = (await response.json())["checks"]
    return int(checks["registry"].removeprefix("version "))


def packages_for(cluster: Cluster, count: int, notation: str) -> list[bytes]:
    sender, recipient = cluster.sims
    return [
        sign(
            build(
                builders.document(sender=sender.code, recipients=(recipient.code,), number=str(n), notation=notation)
            ),
            sender.identity.key,
            sender.identity.cert_chain,
        )
        for n in range(1, count + 1)
    ]


async def test_a_package_the_axis_accepted_is_on_the_standby_promoted_after_the_primary_is_killed(
    pair: pg_pair.Pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AXIS_DATABASE_URL", pair.url())
    cluster = await cluster_module.create(2, tmp_path / "keys", prefix="axis_ha_pg")  # its database on the primary
    try:
        cluster.start_process()
        await cluster.wait_ready(120)
        sender = cluster.sims[0]
        packages = packages_for(cluster, PACKAGES, "HA-PG")
        intake, ready, stop = Intake(), list[tuple[float, int]](), asyncio.Event()
        prober = asyncio.create_task(readiness(cluster.base_url, ready, stop))
        async with aiohttp.ClientSession() as session:

            async def send(share: list[bytes]) -> None:
                for data in share:
                    await submit_until_accepted(session, cluster.base_url, sender, data, intake)

            senders = asyncio.gather(*(send(packages[i::SENDERS]) for i in range(SENDERS)))
            async with asyncio.timeout(60):
                while len(intake.accepted) < BURST:
                    await asyncio.sleep(0.01)
            accepted_before_kill, killed_at = len(intake.accepted), time.monotonic()
            old = await asyncio.to_thread(pg_pair.kill_primary, pair)  # while six more are on their way
            new = await asyncio.to_thread(pg_pair.await_failover, pair)
            promoted_at = time.monotonic()
            await senders

            # The axis carries on: ready again, a new package accepted, the registry's LISTEN moved.
            await cluster.wait_ready(30)
            [fresh] = packages_for(cluster, 1, "HA-PG-AFTER")
            await submit_until_accepted(session, cluster.base_url, sender, fresh, intake)
            conn = await db.connect(db.with_database(f"postgresql://postgres@127.0.0.1:{new.port}/", cluster.database))
            try:
                async with conn.transaction():
                    await agencies.add(conn, "test", "000.00.00.H97", "UBND tỉnh mới sau chuyển đổi")
                version = await conn.fetchval("SELECT version FROM registry_version")
                changed_at = time.monotonic()
                async with asyncio.timeout(10):  # the cache's poll is 30 s: only LISTEN makes it this soon
                    while await registry_version(session, cluster.base_url) < version:
                        await asyncio.sleep(0.1)
                registry_seen = time.monotonic() - changed_at
                # The federation worker's lead (an advisory lock on a session of the dead primary)
                # is taken again on the new one: the link to the national axis goes on.
                lead = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND granted"
                async with asyncio.timeout(30):
                    while not await conn.fetchval(lead, federation_worker._LEADER_LOCK):
                        await asyncio.sleep(0.2)
                lead_taken = time.monotonic() - promoted_at
                stored = {str(r["id"]) for r in await conn.fetch("SELECT id FROM packages")}
                async with asyncio.timeout(60):  # the outbox relay publishes from the new primary too
                    while await conn.fetchval("SELECT count(*) FROM outbox"):
                        await asyncio.sleep(0.2)
            finally:
                await conn.close()
        stop.set()
        await prober

        outage = intake.outage(killed_at)
        not_ready = [t for t, status in ready if t >= killed_at and status != 200]
        print(
            f"\nkilled {old.name} (Patroni and postmaster) after {accepted_before_kill} accepted; Patroni promoted "
            f"{new.name} {promoted_at - killed_at:.2f} s after the kill"
        )
        if outage:
            print(
                f"intake failed (503 or no answer) for {outage[1] - outage[0]:.2f} s: "
                f"from +{outage[0] - killed_at:.2f} s to +{outage[1] - killed_at:.2f} s after the kill"
            )
        else:
            print("intake never failed")
        if not_ready:
            print(f"/readyz not 200 from +{not_ready[0] - killed_at:.2f} s to +{not_ready[-1] - killed_at:.2f} s")
        print(f"registry change on the new primary seen by the axis after {registry_seen:.2f} s")
        print(f"federation lead held on the new primary {lead_taken:.2f} s after the promotion (at the latest)")
        print(f"{len(intake.accepted)} accepted, {len(intake.accepted & stored)} of them on the promoted standby")

        assert len(intake.accepted) == PACKAGES + 1
        assert intake.accepted <= stored, f"accepted but lost: {sorted(intake.accepted - stored)}"
        assert outage is not None  # the kill was felt ...
        assert outage[1] - outage[0] < promoted_at - killed_at + 10  # ... and only until the promotion
    finally:
        await cluster_module.destroy(cluster)


async def test_a_database_the_axis_creates_through_the_pair_is_usable_at_once_with_the_standby_listed_first(
    pair: pg_pair.Pair,
) -> None:
    await asyncio.to_thread(pg_pair.up, pair)  # the story before killed a primary: it rejoins first
    first = pair.nodes[0]
    if pg_pair.primary_of(pair) == first:  # switch over, so that asyncpg asks the standby first
        await asyncio.to_thread(pg_pair.switchover, pair)
    assert pg_pair.role(first) == "standby"
    names = [f"axis_ha_new_{n}_{time.monotonic_ns()}" for n in range(5)]
    try:
        for name in names:
            url = pair.url(name)
            assert await db.ensure_database(url)
            conn = await db.connect(url)  # the standby must already know the database, or this fails
            try:
                assert await conn.fetchval("SELECT inet_server_port()") == pair.nodes[1].port
            finally:
                await conn.close()
    finally:
        admin = await db.connect(pair.url())
        try:
            for name in names:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        finally:
            await admin.close()
