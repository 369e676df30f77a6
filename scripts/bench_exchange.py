"""Benchmark: the exchange end to end, against bare signxml verification of the same packages.

Starts the axis as separate processes (``axis serve``; several share one port) on a fresh
database and RabbitMQ vhost, registers N simulated systems (half pull over HTTP, half consume over
AMQP), and has each send signed 30 KB documents to 3 others. Recipients pull or consume, and
acknowledge. Prints, from one run:

  - packages/s end to end (submitted → acknowledged by all recipients)
  - latency from submit to each recipient's ack: p50 / p95 / p99
  - the axis processes' peak memory (VmHWM)
  - CPU time per package while the load ran: the whole machine, and the axis processes,
    PostgreSQL, RabbitMQ and this load generator (from /proc): where the time goes
  - bare signxml verification of the same packages on one core (XMLVerifier().verify, chain to
    the same CA), and the ratio end-to-end ÷ bare verification — the figure.

``--intake-only``: the same senders, but nobody receives: the axis's intake alone, to set beside
``bench_naive.py`` (the naive single process the issue's bar was set against). Every run also
prints the ceiling this machine puts on the figure even if the axis processes cost no CPU: what
PostgreSQL, RabbitMQ and the load generator take per package, spread over all cores.

``--large`` instead sends one package of about 50 MB (several base64 attachments) through the
whole path and reports the axis's peak memory against the package size (goal: under 4×).

    .venv/bin/python scripts/bench_exchange.py [--systems 6] [--documents 60] [--processes 2] [--intake-only]
    .venv/bin/python scripts/bench_exchange.py --large [--size-mb 50]
    .venv/bin/python scripts/bench_exchange.py --rate 50 [--documents 60]   # open loop at 50 packages/s
    .venv/bin/python scripts/bench_exchange.py --poll 0.05   # HTTP receivers poll instead of waiting
    .venv/bin/python scripts/bench_exchange.py --pdf-mb 1 --intake-only   # signed 1 MB PDFs: check off, then on
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from signxml import SignatureConfiguration, XMLVerifier
from yarl import URL

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "web"))
import browsing
import builders
import cluster as cluster_module
import pdfs
from cluster import Cluster, Sim

from axis.accounts import passwords, users
from axis.client import AxisClient, Mailbox
from axis.edxml import build, sign
from axis.edxml import model as m
from axis.store import db

VERIFY_WORKERS = 1
#: ``--poll``: HTTP receivers ask for their inbox again after this many seconds when it was empty
#: (how agency software did before the inbox could be waited for); None: they wait on it.
POLL_SECONDS: float | None = None
#: Seconds an HTTP receiver's inbox request waits for something to arrive.
INBOX_WAIT = 10
#: Packages every system sends before an open-loop run's clock starts (not counted).
WARMUP_ROUNDS = 3


async def setup(systems_count: int, keys: Path, **env: str) -> Cluster:
    # No per-system rate limit: the benchmark measures throughput, not the limiter.
    return await cluster_module.create(
        systems_count,
        keys,
        prefix="axis_bench",
        AXIS_VERIFY_WORKERS=str(VERIFY_WORKERS),
        AXIS_RATE_LIMIT_PER_MINUTE="0",
        **env,
    )


def start_axis(cluster: Cluster, processes: int) -> list[subprocess.Popen[bytes]]:
    return [cluster.start_process() for _ in range(processes)]


def peak_memory_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(axis_pids: set[int]) -> dict[str, float]:
    """CPU time used so far (user + system), by part of the machine: the axis processes, every
    PostgreSQL and RabbitMQ process, this load generator, and the whole machine (from /proc/stat)."""
    parts = dict.fromkeys(("axis", "PostgreSQL", "RabbitMQ", "load generator", "file checks"), 0.0)
    me = os.getpid()
    stats: list[tuple[int, int, str, float]] = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended meanwhile
            continue
        pid = int(text.split(" ", 1)[0])
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        stats.append((pid, int(fields[1]), name, (int(fields[11]) + int(fields[12])) / _TICK))  # ppid, utime+stime
    # The file checks' worker processes (and their forkserver) descend from the axis processes.
    parent = {pid: ppid for pid, ppid, _, _ in stats}
    workers: set[int] = set()
    for pid, _, _, _ in stats:
        up = parent.get(pid)
        while up is not None and up not in axis_pids and up > 1:
            up = parent.get(up)
        if up in axis_pids:
            workers.add(pid)
    for pid, _, name, used in stats:
        if pid in workers:
            parts["axis"] += used
            parts["file checks"] += used
        elif pid in axis_pids:
            parts["axis"] += used
        elif pid == me:
            parts["load generator"] += used
        elif name == "postgres":
            parts["PostgreSQL"] += used
        elif name == "beam.smp":
            parts["RabbitMQ"] += used
    busy = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    parts["machine"] = (sum(busy) - busy[3] - busy[4]) / _TICK  # all but idle and iowait
    return parts


def signed_document(sender: Sim, recipients: list[Sim], number: int, attachments: tuple[m.Attachment, ...]) -> bytes:
    document = builders.document(
        sender=sender.code,
        recipients=tuple(r.code for r in recipients),
        number=str(number),
        notation=f"BENCH-{sender.system_id}",
        attachments=attachments,
    )
    return sign(build(document), sender.identity.key, sender.identity.cert_chain)


def signed_decision(env: Cluster, sim: Sim, size_mb: float) -> m.Attachment:
    """A decision PDF of about ``size_mb`` MB signed as Decree 30/2020 wants: by the person who signs
    it, then by the sending agency (its certificate carries the agency's code)."""
    # Signed by the person its header names (builders.document), so that the verdict is valid.
    cast = pdfs.cast_for(env.ca, sim.code, f"Cơ quan {sim.code}", person_name="Nguyễn Văn Thử")
    cast = dataclasses.replace(cast, agency=sim.identity)
    data = pdfs.decree(cast, int(size_mb * 1_000_000))
    return m.Attachment.from_bytes("1", "quyet-dinh.pdf", "application/pdf", data)


# --- the load run ---------------------------------------------------------------------------------------


@dataclass
class Tally:
    """Submit and ack times. A recipient may ack before the sender has read the 202 (the axis
    publishes before it answers), so the two sides are matched at the end."""

    submitted_at: dict[str, float] = field(default_factory=dict)
    acked_at: list[tuple[str, float]] = field(default_factory=list)
    receipts_at: list[tuple[str, float]] = field(default_factory=list)  # delivery receipts seen by senders
    done: asyncio.Event = field(default_factory=asyncio.Event)
    total: int = 0
    wait_for_receipts: bool = False

    def ack(self, package_id: str) -> None:
        self.acked_at.append((package_id, time.perf_counter()))
        self._check()

    def receipt(self, package_id: str) -> None:
        self.receipts_at.append((package_id, time.perf_counter()))
        self._check()

    def _check(self) -> None:
        if len(self.acked_at) >= self.total and (not self.wait_for_receipts or len(self.receipts_at) >= self.total):
            self.done.set()

    @property
    def receipt_latencies(self) -> list[float]:
        return [at - self.submitted_at[pid] for pid, at in self.receipts_at if pid in self.submitted_at]

    @property
    def latencies(self) -> list[float]:
        return [at - self.submitted_at[pid] for pid, at in self.acked_at if pid in self.submitted_at]


async def http_receiver(env: Cluster, sim: Sim, tally: Tally, concurrency: int, batch: bool) -> None:
    """Pulls a page of the inbox (waiting for one when empty, or polling: ``POLL_SECONDS``), fetches
    up to ``concurrency`` packages at once, and acknowledges the page in one request (``batch``)
    or each package on its own."""
    gate = asyncio.Semaphore(concurrency)
    async with AxisClient(env.base_url, sim.token) as client:

        async def take(package_id: str) -> None:
            async with gate:
                await client.fetch(package_id)
                if not batch:
                    await client.ack(package_id)
                    tally.ack(package_id)

        while not tally.done.is_set():
            wait = 0 if POLL_SECONDS is not None else INBOX_WAIT
            items = await client.inbox(limit=200, only=None if tally.wait_for_receipts else "package", wait=wait)
            ids = [item["id"] for item in items if item["type"] == "package"]
            receipts = [item for item in items if item["type"] == "receipt"]
            for item in receipts:
                if item["kind"] == "delivery":
                    tally.receipt(item["package_id"])
            await asyncio.gather(*(take(package_id) for package_id in ids))
            if (batch and ids) or receipts:
                await client.ack_many(packages=ids if batch else [], receipts=[r["id"] for r in receipts])
                if batch:
                    for package_id in ids:
                        tally.ack(package_id)
            if not items and POLL_SECONDS is not None:
                await asyncio.sleep(POLL_SECONDS)


async def amqp_receiver(env: Cluster, sim: Sim, tally: Tally, concurrency: int, batch: bool) -> None:
    """Consumes its queue and acknowledges to the axis: what arrived in the last 20 ms in one
    request (``batch``), or each delivery on its own, up to ``concurrency`` at once."""
    assert sim.grant is not None
    url = sim.amqp_url(env.settings)
    gate = asyncio.Semaphore(concurrency)
    pending: list[str] = []
    arrived = asyncio.Event()
    tasks: set[asyncio.Task[None]] = set()
    async with (
        AxisClient(env.base_url, sim.token) as client,
        Mailbox(url, sim.system_id, sim.grant.username, api=client) as mailbox,
    ):

        async def take(package_id: str) -> None:
            try:
                await client.ack(package_id)
                tally.ack(package_id)
            finally:
                gate.release()

        async def flush() -> None:
            while True:
                await arrived.wait()
                await asyncio.sleep(0.02)
                arrived.clear()
                ids = pending.copy()
                pending.clear()
                for start in range(0, len(ids), 500):
                    await client.ack_many(packages=ids[start : start + 500])
                for package_id in ids:
                    tally.ack(package_id)

        async def consume() -> None:
            async with contextlib.aclosing(mailbox.deliveries()) as deliveries:
                async for delivery in deliveries:
                    if delivery.kind == "receipt" and delivery.correlation_id and b"DeliveredTo" in delivery.body:
                        tally.receipt(delivery.correlation_id)  # (a receipt over AMQP needs no ack)
                    if delivery.kind == "document":
                        if batch:
                            pending.append(delivery.message_id)
                            arrived.set()
                        else:
                            await gate.acquire()
                            task = asyncio.create_task(take(delivery.message_id))
                            tasks.add(task)
                            task.add_done_callback(tasks.discard)
                    if tally.done.is_set():
                        return

        try:
            # A failed acknowledgement ends the run with its error (it once left the run waiting
            # for acks that would never come, until the ten-minute timeout).
            async with asyncio.TaskGroup() as group:
                flusher = group.create_task(flush()) if batch else None
                await consume()
                if flusher is not None:
                    flusher.cancel()
        finally:
            for task in tasks:
                task.cancel()


def start_receivers(env: Cluster, tally: Tally, concurrency: int, batch: bool) -> list[asyncio.Task[None]]:
    """Every system receives: over AMQP or by pulling its inbox over HTTP, as it is set up."""
    return [
        asyncio.create_task(
            amqp_receiver(env, sim, tally, concurrency, batch)
            if sim.amqp
            else http_receiver(env, sim, tally, concurrency, batch)
        )
        for sim in env.sims
    ]


async def sender(env: Cluster, sim: Sim, packages: list[bytes], tally: Tally, concurrency: int) -> None:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for data in packages:
        queue.put_nowait(data)

    async def worker(client: AxisClient) -> None:
        while not queue.empty():
            data = queue.get_nowait()
            started = time.perf_counter()
            answer = await client.submit(data)
            tally.submitted_at.setdefault(answer["package_id"], started)

    async with AxisClient(env.base_url, sim.token) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))


async def load(
    env: Cluster,
    documents: int,
    concurrency: int,
    batch: bool,
    axis_pids: set[int],
    *,
    intake_only: bool = False,
    pdf_mb: float = 0.0,
) -> tuple[float, Tally, list[bytes], dict[str, float]]:
    """``intake_only``: nobody receives; the time is until the last package is accepted.
    ``pdf_mb``: each package carries a decision of that size signed by its signer and its agency
    (one per sender, made before the clock starts), instead of 20 KB of random bytes."""
    rng = random.Random(5)
    per_sender: dict[str, list[bytes]] = {}
    everything: list[bytes] = []
    attachment = builders.attachment_of_size(20_000)
    for sim in env.sims:
        others = [o for o in env.sims if o is not sim]
        if pdf_mb:
            attachment = signed_decision(env, sim, pdf_mb)
        per_sender[sim.system_id] = [
            signed_document(sim, rng.sample(others, 3), n, (attachment,)) for n in range(1, documents + 1)
        ]
        everything += per_sender[sim.system_id]
    tally = Tally(total=len(everything) * 3)
    receivers = [] if intake_only else start_receivers(env, tally, concurrency, batch)
    start, cpu_before = time.perf_counter(), cpu_seconds(axis_pids)
    await asyncio.gather(*(sender(env, sim, per_sender[sim.system_id], tally, concurrency) for sim in env.sims))
    if not intake_only:
        all_acked = asyncio.create_task(tally.done.wait())
        finished, _ = await asyncio.wait([all_acked, *receivers], timeout=600, return_when=asyncio.FIRST_COMPLETED)
        if not finished:
            raise TimeoutError(f"only {len(tally.acked_at)} of {tally.total} deliveries acknowledged in 600 s")
        for task in finished - {all_acked}:
            task.result()  # a receiver that stopped early says why
    elapsed = time.perf_counter() - start
    cpu_after = cpu_seconds(axis_pids)
    cpu = {part: cpu_after[part] - cpu_before[part] for part in cpu_before}
    for task in receivers:
        task.cancel()
    await asyncio.gather(*receivers, return_exceptions=True)
    return elapsed, tally, everything, cpu


async def load_as_asked(
    env: Cluster, args: argparse.Namespace, processes: list[subprocess.Popen[bytes]], *, pdf_mb: float = 0.0
) -> tuple[float, Tally, list[bytes], dict[str, float]]:
    """The closed-loop load with the command line's documents, concurrency, acks and intake-only."""
    pids = {p.pid for p in processes}
    batch = args.ack == "batch"
    return await load(env, args.documents, args.concurrency, batch, pids, intake_only=args.intake_only, pdf_mb=pdf_mb)


async def load_at_rate(
    env: Cluster, documents: int, rate: float, concurrency: int, axis_pids: set[int]
) -> tuple[float, Tally, list[bytes], dict[str, float]]:
    """Open loop: every package is submitted at its own time, ``rate`` a second across all senders,
    whatever the earlier ones are doing (a closed loop measures latency only at saturation)."""
    rng = random.Random(5)
    attachment = builders.attachment_of_size(20_000)
    schedule: list[tuple[Sim, bytes]] = []
    for n in range(1, documents + 1):
        for sim in env.sims:
            others = [o for o in env.sims if o is not sim]
            schedule.append((sim, signed_document(sim, rng.sample(others, 3), n, (attachment,))))
    warmup = [
        (sim, signed_document(sim, rng.sample([o for o in env.sims if o is not sim], 3), documents + n, (attachment,)))
        for n in range(1, WARMUP_ROUNDS + 1)
        for sim in env.sims
    ]
    tally = Tally(total=(len(warmup) + len(schedule)) * 3, wait_for_receipts=True)
    receivers = start_receivers(env, tally, concurrency, True)
    clients = {sim.system_id: AxisClient(env.base_url, sim.token) for sim in env.sims}
    late: list[float] = []
    # Before the clock: a few packages from every system, acknowledged and receipted, so that what
    # is measured is a running axis with its recipients already listening, as agencies' systems
    # are, and not each receiver connecting or each process's first request (the first packages
    # of a cold start waited ~250 ms for that, and in a ten-second run set the p99).
    warm = {(await clients[sim.system_id].submit(data))["package_id"] for sim, data in warmup}

    def seen() -> int:
        return sum(pid in warm for pid, _ in (*tally.acked_at, *tally.receipts_at))

    deadline = time.perf_counter() + 60
    while seen() < 6 * len(warm):  # three acks and three delivery receipts each
        if time.perf_counter() > deadline or any(task.done() for task in receivers):
            raise TimeoutError(f"the warm-up got {seen()} of {6 * len(warm)} acks and receipts in 60 s")
        await asyncio.sleep(0.05)
    # This process holds every package of the run: a full collection of its own walked them for
    # ~100 ms in the middle of a run, added to the latency of every request in flight. What the
    # axis does is measured, not the load generator's pauses (the axis freezes its own too).
    gc.collect()
    gc.freeze()

    async def submit(sim: Sim, data: bytes, at: float) -> None:
        late.append(time.perf_counter() - at)
        started = time.perf_counter()
        answer = await clients[sim.system_id].submit(data)
        tally.submitted_at.setdefault(answer["package_id"], started)

    start, cpu_before = time.perf_counter(), cpu_seconds(axis_pids)
    try:
        async with asyncio.TaskGroup() as group:
            for index, (sim, data) in enumerate(schedule):
                at = start + index / rate
                await asyncio.sleep(max(0.0, at - time.perf_counter()))
                group.create_task(submit(sim, data, at))
        finished, _ = await asyncio.wait(
            [asyncio.create_task(tally.done.wait()), *receivers], timeout=600, return_when=asyncio.FIRST_COMPLETED
        )
        for task in finished:
            if task in receivers:
                task.result()  # a receiver that stopped early says why
        if not tally.done.is_set():
            raise TimeoutError(f"{len(tally.acked_at)} acks, {len(tally.receipts_at)} receipts of {tally.total}")
    finally:
        for task in receivers:
            task.cancel()
        await asyncio.gather(*receivers, return_exceptions=True)
        for client in clients.values():
            await client.close()
    elapsed = time.perf_counter() - start
    cpu_after = cpu_seconds(axis_pids)
    if max(late) > 0.1:
        print(f"warning: the load generator fell behind its schedule by up to {max(late) * 1000:.0f} ms")
    return elapsed, tally, [data for _, data in schedule], {k: cpu_after[k] - cpu_before[k] for k in cpu_before}


def bare_verification_rate(packages: list[bytes], ca_file: Path, seconds: float = 5.0) -> float:
    config = SignatureConfiguration(expect_references=1)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        XMLVerifier().verify(packages[count % len(packages)], ca_pem_file=str(ca_file), expect_config=config)
        count += 1
    return count / (time.perf_counter() - start)


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


async def main_load(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = await setup(args.systems, Path(tmp) / "keys")
        processes = start_axis(env, args.processes)
        try:
            await env.wait_ready()
            if args.rate:
                elapsed, tally, packages, cpu = await load_at_rate(
                    env, args.documents, args.rate, args.concurrency, {p.pid for p in processes}
                )
            else:
                elapsed, tally, packages, cpu = await load_as_asked(env, args, processes)
            peaks = [peak_memory_mb(p.pid) for p in processes]
        finally:
            env.stop_all()
        bare = bare_verification_rate(packages, env.keys / "ca.pem")
        await cluster_module.destroy(env)
    packages_per_second = len(packages) / elapsed
    size = sum(len(p) for p in packages) / len(packages)
    print(
        f"systems {args.systems} ({sum(s.amqp for s in env.sims)} AMQP), axis processes {args.processes}, "
        f"{len(packages)} packages of {size / 1000:.0f} KB to 3 recipients each ({tally.total} deliveries), "
        + (
            "intake only: nobody receives"
            if args.intake_only
            else f"acks {'in batches' if args.ack == 'batch' else 'one request each'}"
        )
    )
    if args.rate:
        acks, receipts = sorted(tally.latencies), sorted(tally.receipt_latencies)
        print(
            f"open loop       {args.rate:8.1f} packages/s offered, {len(packages)} packages in {elapsed:.1f} s "
            f"(after {WARMUP_ROUNDS * args.systems} warm-up packages, not counted)"
        )
        for name, values in (("submit → ack", acks), ("submit → receipt", receipts)):
            print(
                f"{name:<18}p50 {percentile(values, 50) * 1000:6.0f} ms   p99 {percentile(values, 99) * 1000:6.0f} ms   "
                f"max {values[-1] * 1000:6.0f} ms   ({len(values)} deliveries)"
            )
    elif args.intake_only:
        print(f"intake          {packages_per_second:8.1f} packages/s   ({elapsed:.1f} s, first submit → last 202)")
    else:
        latencies = sorted(tally.latencies)
        print(
            f"end to end      {packages_per_second:8.1f} packages/s   ({elapsed:.1f} s, submit → all acks; "
            f"{tally.total / elapsed:.0f} deliveries/s)"
        )
        print(
            f"latency         p50 {percentile(latencies, 50) * 1000:6.0f} ms   "
            f"p95 {percentile(latencies, 95) * 1000:6.0f} ms   "
            f"p99 {percentile(latencies, 99) * 1000:6.0f} ms   (submit → recipient ack)"
        )
    print(f"axis memory     peak {max(peaks):.0f} MB per process ({', '.join(f'{p:.0f}' for p in peaks)})")
    per_package = {part: used * 1000 / len(packages) for part, used in cpu.items()}
    print(
        f"CPU per package {per_package['machine']:.1f} ms on the machine ({cpu['machine'] / elapsed:.2f} of "
        f"{os.cpu_count()} cores busy): "
        + ", ".join(
            f"{part} {per_package[part]:.1f} ms" for part in ("axis", "PostgreSQL", "RabbitMQ", "load generator")
        )
    )
    print(f"bare signxml    {bare:8.1f} verifications/s on one core (same packages, same CA)")
    what = (
        "intake ÷ bare verification   (bench_naive.py: the naive process's)"
        if args.intake_only
        else ("end to end ÷ bare verification   (bar 0.5, target 0.8)")
    )
    print(f"ratio           {packages_per_second / bare:8.2f}   {what}")
    # If the axis processes cost no CPU at all, the rest would still share the cores: with the load
    # generator (this machine as measured), and without it (the agencies' systems elsewhere).
    services = per_package["PostgreSQL"] + per_package["RabbitMQ"]
    with_load = services + per_package["load generator"]
    cores = os.cpu_count() or 1
    print(
        f"ceiling         {cores * 1000 / with_load:8.1f} packages/s, ratio {cores * 1000 / with_load / bare:.2f}, "
        f"if the axis processes cost no CPU: PostgreSQL, RabbitMQ and the load generator take {with_load:.1f} ms "
        f"per package; without the load generator {cores * 1000 / services:.0f}/s, ratio "
        f"{cores * 1000 / services / bare:.2f}"
    )


async def main_large(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = await setup(3, Path(tmp) / "keys")
        processes = start_axis(env, 1)
        try:
            await env.wait_ready()
            pid = processes[0].pid
            parts = 5
            attachments = tuple(
                dataclass_replace(builders.attachment_of_size(args.size_mb * 1_000_000 * 3 // 4 // parts), str(i))
                for i in range(parts)
            )
            sender_sim, http_sim, amqp_sim = env.sims[0], env.sims[2], env.sims[1]
            data = signed_document(sender_sim, [http_sim, amqp_sim], 1, attachments)
            baseline = rss_mb(pid)
            started = time.perf_counter()
            async with AxisClient(env.base_url, sender_sim.token) as client:
                answer = await client.submit(data)
            accepted = time.perf_counter() - started
            async with AxisClient(env.base_url, http_sim.token) as client:
                fetched = await client.fetch(answer["package_id"])
                await client.ack(answer["package_id"])
            assert amqp_sim.grant is not None
            url = env.settings.amqp_url.replace(
                "guest:guest", f"{amqp_sim.grant.username}:{amqp_sim.grant.password}", 1
            )
            async with (
                AxisClient(env.base_url, amqp_sim.token) as amqp_api,
                Mailbox(url, amqp_sim.system_id, amqp_sim.grant.username, api=amqp_api) as mailbox,
            ):
                async for delivery in mailbox.deliveries():
                    consumed = delivery.body
                    break
            total = time.perf_counter() - started
            peak = peak_memory_mb(pid)
            clerk_base, clerk_peak, downloaded = await clerk_reads(env, pid, answer["package_id"], attachments[0])
        finally:
            env.stop_all()
        await cluster_module.destroy(env)
    size_mb = len(data) / 1024 / 1024
    print(f"package         {size_mb:.1f} MB ({parts} base64 attachments), to 1 HTTP and 1 AMQP recipient")
    print(
        f"intake          accepted in {accepted:.1f} s; delivered to both in {total:.1f} s; "
        f"bytes identical: {fetched == data and consumed == data}"
    )
    print(
        f"axis memory     baseline {baseline:.0f} MB, peak {peak:.0f} MB: "
        f"{(peak - baseline) / size_mb:.1f}× the package above baseline, {peak / size_mb:.1f}× in total   (goal < 4×)"
    )
    print(
        f"clerk           the sender's clerk opens the document and downloads an attachment "
        f"({attachments[0].size / 1024 / 1024:.1f} MB, identical: {downloaded}): peak {clerk_peak:.0f} MB, "
        f"{(clerk_peak - clerk_base) / size_mb:.1f}× the package above the {clerk_base:.0f} MB before"
    )


async def clerk_reads(env: Cluster, pid: int, package_id: str, attachment: m.Attachment) -> tuple[float, float, bool]:
    """The sender's clerk logs in, opens the large document's page and downloads its first
    attachment. The axis's peak memory is reset first (``clear_refs``), so the peak is the web's."""
    conn = await db.connect(env.settings.database_url)
    try:
        await users.add(
            conn, "bench", "vanthu.bench", passwords.hash_password(browsing.PASSWORD, browsing.CHEAP),
            role=users.Role.CLERK, system_id=env.sims[0].system_id, full_name="Văn thư (benchmark)",
        )  # fmt: skip
    finally:
        await conn.close()
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := VmRSS
    before = rss_mb(pid)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        clerk = browsing.Visitor(URL(env.base_url), session)
        await clerk.log_in("vanthu.bench")
        await clerk.get(f"/ui/documents/{package_id}")
        response = await clerk.response(f"/ui/documents/{package_id}/attachments/1")
        identical = response.status == 200 and await response.read() == attachment.content()
    return before, peak_memory_mb(pid), identical


def dataclass_replace(attachment: m.Attachment, content_id: str) -> m.Attachment:
    return m.Attachment(content_id, f"phu-luc-{content_id}.pdf", attachment.content_type, attachment.encoded)


async def main_pdf(args: argparse.Namespace) -> None:
    """The same load twice, each package carrying a signed PDF: with the file check off, then on."""
    runs: dict[str, tuple[float, list[bytes], dict[str, float], dict[str, int]]] = {}
    for check in ("0", "1"):
        with tempfile.TemporaryDirectory() as tmp:
            env = await setup(args.systems, Path(tmp) / "keys", AXIS_FILE_CHECK=check)
            processes = start_axis(env, args.processes)
            try:
                await env.wait_ready()
                elapsed, _, packages, cpu = await load_as_asked(env, args, processes, pdf_mb=args.pdf_mb)
                conn = await db.connect(env.settings.database_url)
                try:
                    rows = await conn.fetch("SELECT verdict, count(*) FROM file_checks GROUP BY verdict")
                finally:
                    await conn.close()
            finally:
                env.stop_all()
            await cluster_module.destroy(env)
        runs[check] = (elapsed, packages, cpu, {r["verdict"]: r["count"] for r in rows})
    size = sum(len(p) for p in runs["1"][1]) / len(runs["1"][1])
    what = "intake (first submit → last 202)" if args.intake_only else "end to end (submit → all acks)"
    print(
        f"systems {args.systems}, axis processes {args.processes}, {len(runs['1'][1])} packages of "
        f"{size / 1e6:.2f} MB, each with a {args.pdf_mb:g} MB PDF signed by a person and the sending agency"
    )
    for check, label in (("0", "check off"), ("1", "check on ")):
        elapsed, packages, cpu, verdicts = runs[check]
        per = {part: used * 1000 / len(packages) for part, used in cpu.items()}
        print(
            f"{label}       {len(packages) / elapsed:8.1f} packages/s {what}; CPU per package: axis {per['axis']:.1f} ms "
            f"(file checks {per['file checks']:.1f} ms), machine {per['machine']:.1f} ms; verdicts {verdicts or '-'}"
        )
    off, on = (len(runs[c][1]) / runs[c][0] for c in ("0", "1"))
    checks = runs["1"][2]["file checks"] * 1000 / len(runs["1"][1])
    print(
        f"the check       {checks:.1f} ms of CPU per package in the checking processes; throughput on ÷ off {on / off:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--systems", type=int, default=6)
    parser.add_argument("--documents", type=int, default=60, help="documents per system")
    parser.add_argument("--concurrency", type=int, default=4, help="submissions in flight per system")
    parser.add_argument(
        "--ack",
        choices=("batch", "each"),
        default="batch",
        help="recipients acknowledge in batches (POST /api/v1/inbox/ack) or one request per package",
    )
    parser.add_argument("--processes", type=int, default=2, help="axis processes sharing the port")
    parser.add_argument("--large", action="store_true", help="one ~50 MB package instead of the load run")
    parser.add_argument(
        "--intake-only",
        action="store_true",
        help="only submissions, nobody receives: the axis's intake against bench_naive.py's naive process",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="open loop: submit this many packages a second in all (run it at half the saturated rate); "
        "prints latency submit → each recipient's ack and submit → the sender's delivery receipt",
    )
    parser.add_argument("--size-mb", type=int, default=50)
    parser.add_argument(
        "--pdf-mb",
        type=float,
        default=0.0,
        help="each package carries a signed PDF of this size; runs the load with the file check off, then on",
    )
    parser.add_argument("--verify-workers", type=int, default=1, help="AXIS_VERIFY_WORKERS of each axis process")
    parser.add_argument(
        "--poll",
        type=float,
        default=None,
        metavar="SECONDS",
        help="HTTP receivers poll their inbox this often when it is empty (0.05 before the axis could "
        "answer a waiting request) instead of waiting on it with ?wait=",
    )
    args = parser.parse_args()
    global VERIFY_WORKERS, POLL_SECONDS
    VERIFY_WORKERS = args.verify_workers
    POLL_SECONDS = args.poll
    asyncio.run(main_large(args) if args.large else main_pdf(args) if args.pdf_mb else main_load(args))


if __name__ == "__main__":
    main()
