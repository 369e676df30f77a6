"""Faults under load: what the fault tests and ``scripts/chaos.py`` run.

Real axis processes (``tests/cluster.py``) take a steady stream of signed documents from simulated
systems; recipients pull over HTTP or consume over AMQP and acknowledge. Meanwhile the faults of
issue 7 happen for real: RabbitMQ stops and restarts, PostgreSQL restarts, an axis process is
killed with SIGKILL while packages are in flight, a consumer crashes before acknowledging. Senders
behave like good clients: a failed or unanswered submission is sent again with the same bytes
(idempotent). Afterwards the ledger is checked against the database:

- every package the axis accepted (202, or 200 for a resubmission) reached each recipient system
  exactly once in effect (the client's mailbox absorbs copies; copies on the wire are counted),
- nothing the axis did not accept is stored,
- every package has its acceptance receipt and one delivery receipt per recipient system,
- ``/readyz`` said "not ready" while a dependency was down, ``/healthz`` stayed up.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import os
import random
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import aio_pika
import aiohttp
import builders
import cluster as cluster_module
from cluster import Cluster, Sim
from cluster_faults import CLUSTER_FAULTS, FaultCost, HighAvailability, fault_cost, inject_cluster

from axis.client import AxisClient
from axis.edxml import build, sign
from axis.errors import AxisError
from axis.store import db

if TYPE_CHECKING:  # tests/ha, on the path when the cluster faults run (scripts/chaos.py, tests/ha)
    pass

FAULTS = ("rabbitmq", "postgresql", "sigkill", "consumer")


@dataclass
class Ledger:
    """What the simulated systems saw."""

    accepted: set[str] = field(default_factory=set)
    expected: dict[str, set[str]] = field(default_factory=dict)  # package id -> recipient system ids
    effect: Counter[tuple[str, str]] = field(default_factory=Counter)  # (package, system) -> effects
    wire: Counter[tuple[str, str]] = field(default_factory=Counter)  # (package, system) -> copies received
    submissions: int = 0
    retries: int = 0
    readiness: dict[str, set[int]] = field(default_factory=dict)  # phase -> /readyz statuses seen
    health: set[int] = field(default_factory=set)
    faults: list[str] = field(default_factory=list)
    # Time series for what each cluster fault cost (time.monotonic()):
    attempts: list[tuple[float, int]] = field(default_factory=list)  # submissions: HTTP status, 0 = no answer
    acks: dict[str, list[float]] = field(default_factory=dict)  # "HTTP"/"AMQP" -> when a delivery was acknowledged
    probes: list[tuple[float, int]] = field(default_factory=list)  # /readyz: HTTP status, 0 = no answer
    windows: list[tuple[str, list[str], float, float]] = field(default_factory=list)  # fault, what, began, recovered
    extra_documents: int = 0  # sent beyond the plan to keep the load on until the faults were over

    def done(self) -> bool:
        return all(self.effect[(p, s)] >= 1 for p, systems in self.expected.items() for s in systems)


@dataclass
class Report:
    documents: int
    seconds: float
    faults: list[str]
    accepted: int
    stored: int
    delivered_pairs: int
    expected_pairs: int
    lost: int
    duplicates_in_effect: int
    copies_on_wire: int
    unaccepted_stored: int
    missing_receipts: int
    retries: int
    readiness: dict[str, list[int]]
    healthz: list[int]
    costs: list[FaultCost] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.lost == 0
            and self.duplicates_in_effect == 0
            and self.unaccepted_stored == 0
            and self.missing_receipts == 0
        )

    def lines(self) -> list[str]:
        return [
            f"load           {self.documents} signed documents in {self.seconds:.0f} s, each to 2 systems (HTTP and AMQP)",
            f"faults         {', '.join(self.faults) or 'none'}",
            f"accepted       {self.accepted} (client retries with the same bytes: {self.retries})",
            f"stored         {self.stored} (stored but never accepted: {self.unaccepted_stored})",
            f"delivered      {self.delivered_pairs} of {self.expected_pairs} (package, recipient) pairs",
            f"lost           {self.lost}",
            f"duplicates     {self.duplicates_in_effect} in effect; {self.copies_on_wire} extra copies on the wire, absorbed",
            f"receipts       {self.missing_receipts} missing",
            "readyz         " + "; ".join(f"{phase}: {codes}" for phase, codes in self.readiness.items()),
            f"healthz        {self.healthz}",
            *(line for cost in self.costs for line in cost.lines()),
            "RESULT         " + ("OK" if self.ok else "FAILED"),
        ]


# --- the systems ----------------------------------------------------------------------------------------


async def send_until_accepted(
    cluster: Cluster, sim: Sim, data: bytes, ledger: Ledger, stop: asyncio.Event
) -> str | None:
    """A careful client: the same bytes again until the axis answers 202 or 200."""
    async with AxisClient(cluster.base_url, sim.token) as client:
        for attempt in range(600):
            ledger.submissions += 1
            try:
                answer = await client.submit(data)
                ledger.attempts.append((time.monotonic(), 202))
                return str(answer["package_id"])
            except AxisError as refusal:
                ledger.attempts.append((time.monotonic(), refusal.http_status))
                if refusal.code not in ("service.unavailable", "intake.overloaded", "internal", "rate.limited"):
                    raise
            except (aiohttp.ClientError, OSError, TimeoutError):
                ledger.attempts.append((time.monotonic(), 0))
            ledger.retries += 1
            if stop.is_set() and attempt > 200:
                return None
            await asyncio.sleep(0.25)
    return None


async def sender(
    cluster: Cluster,
    sim: Sim,
    plan: list[tuple[bytes, set[str]]],
    ledger: Ledger,
    stop: asyncio.Event,
    rate: float,
    more: Callable[[int], tuple[bytes, set[str]]] | None = None,
    until: asyncio.Event | None = None,
) -> None:
    """Send the plan at ``rate``; then, given ``more`` and ``until``, document ``n`` of ``more``
    after the plan's last, until ``until`` is set (the load goes on while faults are injected)."""

    def extra() -> Iterator[tuple[bytes, set[str]]]:
        n = len(plan)
        while more is not None and until is not None and not until.is_set():
            n += 1
            ledger.extra_documents += 1
            yield more(n)

    for data, recipients in itertools.chain(plan, extra()):
        package_id = await send_until_accepted(cluster, sim, data, ledger, stop)
        if package_id is not None:
            ledger.accepted.add(package_id)
            ledger.expected.setdefault(package_id, set()).update(recipients)
        await asyncio.sleep(1.0 / rate)


async def ack_with_retry(client: AxisClient, package_id: str) -> None:
    for _ in range(600):
        try:
            await client.ack(package_id)
            return
        except AxisError as error:
            if error.code not in ("service.unavailable", "internal", "rate.limited"):
                raise
        except (aiohttp.ClientError, OSError, TimeoutError):
            pass
        await asyncio.sleep(0.25)


async def http_receiver(cluster: Cluster, sim: Sim, ledger: Ledger, stop: asyncio.Event) -> None:
    async with AxisClient(cluster.base_url, sim.token) as client:
        while not stop.is_set():
            try:
                items = await client.inbox(limit=200, only="package")
            except (AxisError, aiohttp.ClientError, OSError, TimeoutError):
                await asyncio.sleep(0.25)
                continue
            for item in items:
                if item["kind"] != "document":
                    continue
                ledger.wire[(item["id"], sim.system_id)] += 1
                await ack_with_retry(client, item["id"])
                ledger.effect[(item["id"], sim.system_id)] += 1
                ledger.acks.setdefault("HTTP", []).append(time.monotonic())
            if not items:
                await asyncio.sleep(0.1)


async def amqp_receiver(cluster: Cluster, sim: Sim, ledger: Ledger, stop: asyncio.Event, crash_first: int = 0) -> None:
    """Consume the system's queue, de-duplicating by message id as the client library does; the
    first ``crash_first`` messages are dropped without an ack, the connection torn down, as a
    consumer that crashes."""
    assert sim.grant is not None
    seen: set[str] = set()
    crashes = crash_first
    urls, node = sim.amqp_urls(cluster.settings), 0  # a client of a cluster tries the next node when one fails
    async with AxisClient(cluster.base_url, sim.token) as client:
        while not stop.is_set():
            try:
                connection = await aio_pika.connect(urls[node % len(urls)], timeout=5)
            except (aio_pika.exceptions.AMQPError, OSError, TimeoutError):
                node += 1
                await asyncio.sleep(0.5 if node % len(urls) == 0 else 0)
                continue
            try:
                channel = await connection.channel()
                await channel.set_qos(prefetch_count=20)
                queue = await channel.get_queue(f"axis.system.{sim.system_id}", ensure=False)
                async with queue.iterator() as messages:
                    async for message in messages:
                        key = (message.message_id or "", sim.system_id)
                        if (message.headers or {}).get("kind") != "document":
                            await message.ack()
                            continue
                        ledger.wire[key] += 1
                        if crashes > 0:
                            crashes -= 1
                            ledger.faults.append("consumer crashed before acking")
                            await connection.close()  # the message goes back to the queue
                            break
                        if key[0] not in seen:
                            await ack_with_retry(client, key[0])
                            seen.add(key[0])
                            ledger.effect[key] += 1
                            ledger.acks.setdefault("AMQP", []).append(time.monotonic())
                        await message.ack()
                        if stop.is_set():
                            break
            except (aio_pika.exceptions.AMQPError, OSError, RuntimeError, asyncio.CancelledError) as exc:
                if isinstance(exc, asyncio.CancelledError):
                    raise
                node += 1
                await asyncio.sleep(0.5)
            finally:
                with contextlib.suppress(Exception):
                    await connection.close()


async def probe(cluster: Cluster, ledger: Ledger, phase: Callable[[], str], stop: asyncio.Event) -> None:
    async with aiohttp.ClientSession() as session:
        while not stop.is_set():
            for path, target in (("/readyz", None), ("/healthz", ledger.health)):
                try:
                    async with session.get(cluster.base_url + path, timeout=aiohttp.ClientTimeout(total=3)) as r:
                        status = r.status
                except (aiohttp.ClientError, OSError, TimeoutError):
                    status = 0  # no process answered (e.g. between a kill and a restart)
                if target is None:
                    ledger.readiness.setdefault(phase(), set()).add(status)
                    ledger.probes.append((time.monotonic(), status))
                else:
                    target.add(status)
            await asyncio.sleep(0.2)


# --- the faults -----------------------------------------------------------------------------------------


def _run(*command: str) -> None:
    subprocess.run(list(command), check=True, capture_output=True, timeout=120)


def rabbitmq(action: str) -> None:
    _run("rabbitmqctl", "-q", f"{action}_app")
    if action == "start":
        _run("rabbitmqctl", "-q", "await_startup")


def postgresql_restart() -> None:
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1]
    command = ["pg_ctlcluster", version, "main", "restart"]
    if shutil.which("pg_ctlcluster") and Path("/usr/bin/pg_ctlcluster").exists():
        command.insert(1, "--skip-systemctl-redirect")
    _run(*command)


def _server_pid_for(client_port: int, server_port: int) -> int | None:
    """The process holding the server side of our TCP connection (from /proc: socket inode → pid)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, remote, inode = fields[1], fields[2], fields[9]
                if int(local.rsplit(":", 1)[1], 16) == server_port and int(remote.rsplit(":", 1)[1], 16) == client_port:
                    inodes.add(f"socket:[{inode}]")
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (proc / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in inodes:
                        return int(proc.name)
    return None


async def kill_mid_intake(cluster: Cluster, sim: Sim, data: bytes, ledger: Ledger) -> str:
    """Start sending ``data`` slowly, kill the axis process that is reading it: the kill lands in
    the middle of an intake, provably (the caller then sends the same bytes again)."""
    port = cluster.settings.http_port
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        f"POST /api/v1/packages HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {sim.token}\r\n"
        f"Content-Type: application/xml\r\nContent-Length: {len(data)}\r\n\r\n"
    ).encode()
    writer.write(head + data[: len(data) // 2])
    await writer.drain()
    await asyncio.sleep(0.3)
    pid = _server_pid_for(writer.get_extra_info("sockname")[1], port)
    victim = next((p for p in cluster.processes if p.pid == pid), cluster.processes[0])
    cluster.kill(victim)
    with contextlib.suppress(ConnectionError, OSError):
        writer.write(data[len(data) // 2 :])
        await writer.drain()
        await reader.read(100)
    writer.close()
    ledger.retries += 1
    how = "identified from its socket" if pid else "guessed"
    return f"axis process {victim.pid} killed (SIGKILL) while reading a package ({how})"


async def inject(
    cluster: Cluster,
    ledger: Ledger,
    faults: tuple[str, ...],
    gap: float,
    set_phase: Callable[[str], None],
    mid_intake: Callable[[], Awaitable[str]],
) -> None:
    loop = asyncio.get_running_loop()
    for fault in faults:
        await asyncio.sleep(gap)
        if fault == "rabbitmq":
            set_phase("rabbitmq down")
            await loop.run_in_executor(None, rabbitmq, "stop")
            ledger.faults.append("RabbitMQ stopped")
            await asyncio.sleep(gap)
            await loop.run_in_executor(None, rabbitmq, "start")
            ledger.faults.append("RabbitMQ started")
        elif fault == "postgresql":
            set_phase("postgresql restarting")
            await loop.run_in_executor(None, postgresql_restart)
            ledger.faults.append("PostgreSQL restarted")
        elif fault == "sigkill":
            set_phase("axis process killed")
            ledger.faults.append(await mid_intake())
            cluster.start_process()
            await cluster.wait_ready(120)
        set_phase("normal")


# --- the cluster faults (issue 18) ------------------------------------------------------------------


async def run(
    *,
    systems: int = 4,
    documents: int = 40,
    rate: float = 4.0,
    faults: tuple[str, ...] = FAULTS,
    gap: float = 3.0,
    processes: int = 2,
    keys: Path,
    settle: float = 120.0,
    progress: Callable[[str], None] = lambda _: None,
    ha: HighAvailability | None = None,
) -> Report:
    """The load through ``faults``. Given ``ha``, the axis runs on the RabbitMQ cluster and the
    PostgreSQL pair, ``faults`` are cluster faults, and the load goes on past ``documents`` until
    the last fault is over (every fault happens under load); the report says what each one cost."""
    if ha is not None and (wrong := set(faults) - {*CLUSTER_FAULTS, "consumer"}):
        raise ValueError(f"on the HA setup the faults are {', '.join(CLUSTER_FAULTS)}, not {', '.join(sorted(wrong))}")
    servers = {}
    if ha is not None:
        servers = {
            "amqp_url": ha.amqp_url,
            "amqp_management_url": ha.amqp_management_url,
            "database_url": ha.database_url,
        }
    cluster = await cluster_module.create(systems, keys, prefix="axis_chaos", **servers)
    ledger = Ledger()
    phase = {"now": "normal"}
    try:
        for _ in range(processes):
            cluster.start_process()
        await cluster.wait_ready(120)
        rng = random.Random(3)
        attachment = builders.attachment_of_size(8_000)
        https = [s for s in cluster.sims if not s.amqp]
        amqps = [s for s in cluster.sims if s.amqp]

        def compose(index: int, sim: Sim, n: int) -> tuple[bytes, set[str]]:
            to = [rng.choice([s for s in https if s is not sim]), rng.choice([s for s in amqps if s is not sim])]
            document = builders.document(
                sender=sim.code,
                recipients=tuple(t.code for t in to),
                number=str(n),
                notation=f"CHAOS-{index}",
                attachments=(attachment,),
            )
            return sign(build(document), sim.identity.key, sim.identity.cert_chain), {t.system_id for t in to}

        plans = {
            sim.system_id: [compose(index, sim, n) for n in range(1, documents // len(cluster.sims) + 1)]
            for index, sim in enumerate(cluster.sims)
        }
        stop, faults_over = asyncio.Event(), asyncio.Event()
        crasher = amqps[0] if "consumer" in faults else None  # this consumer crashes twice before acking
        receivers = [
            asyncio.create_task(
                amqp_receiver(cluster, s, ledger, stop, crash_first=2 if s is crasher else 0)
                if s.amqp
                else http_receiver(cluster, s, ledger, stop)
            )
            for s in cluster.sims
        ]
        prober = asyncio.create_task(probe(cluster, ledger, lambda: phase["now"], stop))
        started = time.monotonic()
        senders = asyncio.gather(
            *(
                sender(
                    cluster,
                    s,
                    plans[s.system_id],
                    ledger,
                    stop,
                    rate / len(cluster.sims),
                    more=functools.partial(compose, index, s) if ha is not None else None,
                    until=faults_over,
                )
                for index, s in enumerate(cluster.sims)
            )
        )
        # The package cut in the middle goes again with the same bytes, like every other failed send.
        victim_sender = cluster.sims[0]
        cut = [plans[victim_sender.system_id].pop()] if "sigkill" in faults else []

        async def mid_intake() -> str:
            [(cut_data, cut_to)] = cut
            line = await kill_mid_intake(cluster, victim_sender, cut_data, ledger)
            package_id = await send_until_accepted(cluster, victim_sender, cut_data, ledger, stop)
            if package_id is not None:
                ledger.accepted.add(package_id)
                ledger.expected.setdefault(package_id, set()).update(cut_to)
            return line

        set_phase = functools.partial(phase.__setitem__, "now")
        injected = tuple(f for f in faults if f != "consumer")
        if ha is None:
            injector = inject(cluster, ledger, injected, gap, set_phase, mid_intake)
        else:
            injector = inject_cluster(ha, cluster, ledger, injected, gap, set_phase, progress)

        async def injecting() -> None:
            try:
                await injector
            finally:
                faults_over.set()

        await asyncio.gather(senders, injecting())
        progress(f"load sent: {len(ledger.accepted)} accepted; waiting for every delivery")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(settle):
                while not ledger.done():
                    await asyncio.sleep(0.5)
        settled = time.monotonic()
        seconds = time.monotonic() - started
        stop.set()
        for task in (*receivers, prober):
            task.cancel()
        await asyncio.gather(*receivers, prober, return_exceptions=True)
        report = await _report(
            cluster, ledger, sum(len(p) for p in plans.values()) + len(cut) + ledger.extra_documents, seconds
        )
        ends = [began for _, _, began, _ in ledger.windows[1:]] + [settled] if ledger.windows else []
        report.costs = [
            fault_cost(ledger, fault, what, began, recovered, max(until, recovered))
            for (fault, what, began, recovered), until in zip(ledger.windows, ends, strict=True)
        ]
        return report
    finally:
        await cluster_module.destroy(cluster)


async def _report(cluster: Cluster, ledger: Ledger, documents: int, seconds: float) -> Report:
    conn = await db.connect(cluster.settings.database_url)
    try:
        stored = {str(r["id"]) for r in await conn.fetch("SELECT id FROM packages WHERE kind = 'document'")}
        receipts = await conn.fetch("SELECT package_id, kind, about_system FROM receipts")
        delivered = {
            (str(r["package_id"]), r["system_id"])
            for r in await conn.fetch("SELECT package_id, system_id FROM deliveries WHERE state = 'delivered'")
        }
    finally:
        await conn.close()
    expected = {(p, s) for p, systems in ledger.expected.items() for s in systems}
    have = {(str(r["package_id"]), r["kind"], r["about_system"]) for r in receipts}
    missing = sum((p, "acceptance", None) not in have for p in ledger.accepted) + sum(
        (p, "delivery", s) not in have for p, s in expected
    )
    return Report(
        documents=documents,
        seconds=seconds,
        faults=ledger.faults,
        accepted=len(ledger.accepted),
        stored=len(stored),
        delivered_pairs=len(expected & delivered),
        expected_pairs=len(expected),
        lost=len(expected - {k for k, n in ledger.effect.items() if n >= 1}),
        duplicates_in_effect=sum(n - 1 for n in ledger.effect.values() if n > 1),
        copies_on_wire=sum(n - 1 for n in ledger.wire.values() if n > 1),
        unaccepted_stored=len(stored - ledger.accepted),
        missing_receipts=missing,
        retries=ledger.retries,
        readiness={phase: sorted(codes) for phase, codes in ledger.readiness.items()},
        healthz=sorted(ledger.health),
    )
