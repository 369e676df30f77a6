"""The fault suite's cluster faults (issue 18): the RabbitMQ node leading the most queues killed,
a minority left when a second node stops, the PostgreSQL primary killed and its standby promoted
by Patroni, and a partition between RabbitMQ nodes where iptables can make one; each measured (how long
intake was refused, how long deliveries paused, whether /readyz told the truth).

``chaos.run(..., cluster_faults=...)`` drives them with the same load and ledger as the
single-server faults; ``scripts/chaos.py --cluster`` at full size, ``tests/ha`` in CI.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import aiohttp
from cluster import Cluster

if TYPE_CHECKING:  # tests/ha, on the path when the cluster faults run (scripts/chaos.py, tests/ha)
    import postgres_pair as pg_pair
    import rabbitmq_cluster as rc


if TYPE_CHECKING:
    from chaos import Ledger


#: How long a node cut off by a partition may take to run again after the heal before it is
#: restarted (measured: 4 s when it recovers by itself).
REJOIN_WAIT = 45.0
CLUSTER_FAULTS = ("rabbitmq-leader", "rabbitmq-minority", "postgresql-failover", "partition")
#: The iptables chain that cuts one RabbitMQ node off from the others (loopback, distribution ports only).
PARTITION_CHAIN = "AXIS-HA-PARTITION"
CONNECTION_MARK = "0x2568"  # connections between the nodes opened after the cut


@dataclass(frozen=True)
class HighAvailability:
    """The three-node RabbitMQ cluster and the PostgreSQL pair of ``tests/ha``, which the cluster
    faults act on; the axis processes are given every node and the pair's multi-host address."""

    rabbit: rc.Cluster
    pair: pg_pair.Pair

    @property
    def amqp_url(self) -> str:
        """Every node, without a vhost (``tests/cluster.py`` adds its own)."""
        import rabbitmq_cluster

        return ",".join(f"amqp://guest:guest@{rabbitmq_cluster.HOST}:{n.amqp_port}" for n in self.rabbit.nodes)

    @property
    def amqp_management_url(self) -> str:
        return self.rabbit.management_urls

    @property
    def database_url(self) -> str:
        return self.pair.url("postgres")


@dataclass(frozen=True)
class FaultCost:
    """What one fault cost the systems, measured from their side over the fault's window (from the
    fault until the next one began, or the load ended)."""

    fault: str
    what: list[str]
    lasted: float  # from the fault until its recovery step had finished
    refused: float  # seconds in which the latest submission was refused (503) or not answered
    refusals: dict[int, int]  # HTTP status (0: no answer) -> how many submissions got it
    paused: dict[str, float]  # per way of delivery: the longest time in which no recipient acknowledged one
    not_ready: float  # seconds in which /readyz last said "not ready" (or did not answer)
    lies: int  # /readyz said 200 well inside a time in which intake refused everything

    def lines(self) -> list[str]:
        refusals = ", ".join(f"{status or 'no answer'}: {n}" for status, n in sorted(self.refusals.items()))
        truth = "told the truth" if self.lies == 0 else f"said ready {self.lies} times while intake refused"
        return [
            f"fault          {self.fault} ({self.lasted:.1f} s until recovered)",
            *(f"  what         {line}" for line in self.what),
            f"  intake       refused for {self.refused:.1f} s" + (f" ({refusals})" if refusals else ""),
            "  deliveries   paused at the longest: "
            + ", ".join(f"{k} {v:.1f} s" for k, v in sorted(self.paused.items())),
            f"  readyz       not ready for {self.not_ready:.1f} s; {truth}",
        ]


def _spans(
    samples: list[tuple[float, int]], bad: Callable[[int], bool], start: float, until: float
) -> list[tuple[float, float]]:
    """The times from a bad sample to the next good one, for spans that begin within [start, until]."""
    spans, since, last = [], None, start
    for t, status in sorted(samples):
        if t < start:
            continue
        last = t
        if bad(status):
            if since is None:
                if t > until:
                    break
                since = t
        elif since is not None:
            spans.append((since, t))
            since = None
    if since is not None:
        spans.append((since, last))
    return spans


def _longest_gap(times: list[float], began: float, until: float) -> float:
    """The longest time within [began, until] in which nothing happened (a pause that goes on
    into the next fault's window is counted there)."""
    acks = sorted(times)
    before, after = [t for t in acks if t < began][-1:], [t for t in acks if t > until][:1]
    acks = before + [t for t in acks if began <= t <= until] + after
    gaps = (min(b, until) - max(a, began) for a, b in itertools.pairwise(acks))
    return max(gaps, default=until - began)


def fault_cost(ledger: Ledger, fault: str, what: list[str], began: float, recovered: float, until: float) -> FaultCost:
    """Pure: the cost of one fault, from the ledger's time series."""
    attempts = [(t, s) for t, s in ledger.attempts if began <= t <= until]
    refused = _spans(ledger.attempts, lambda s: s not in (200, 202), began, until)
    not_ready = _spans(ledger.probes, lambda s: s != 200, began, until)
    paused = {way: _longest_gap(times, began, until) for way, times in ledger.acks.items()}
    lies = sum(
        1 for t, s in ledger.probes if s == 200 and any(a + 1.0 < t < b - 1.0 for a, b in refused)
    )  # a second's grace at each end: the probe and the senders do not ask the same process at once
    return FaultCost(
        fault=fault,
        what=what,
        lasted=recovered - began,
        refused=sum(b - a for a, b in refused),
        refusals=dict(Counter(s for _, s in attempts if s not in (200, 202))),
        paused=paused,
        not_ready=sum(b - a for a, b in not_ready),
        lies=lies,
    )


async def queue_leaders(rabbit: rc.Cluster, vhost: str) -> Counter[str]:
    """How many of the vhost's queues each node leads (the management API of any node that answers)."""
    from ha_tools import api

    for node in rabbit.nodes:
        try:
            async with asyncio.timeout(5):
                queues = await api(node, "GET", f"queues/{quote(vhost, safe='')}")
        except (aiohttp.ClientError, OSError, TimeoutError):
            continue
        return Counter(str(q.get("leader") or q.get("node")) for q in queues)
    return Counter()


async def cluster_whole(rabbit: rc.Cluster, timeout: float = 180) -> float:
    """Wait until every node runs and sees the others; the seconds it took."""
    import rabbitmq_cluster

    began = time.monotonic()
    async with asyncio.timeout(timeout):
        while not (await asyncio.to_thread(rabbitmq_cluster.status, rabbit)).complete(rabbit):
            await asyncio.sleep(1)
    return time.monotonic() - began


async def stuck_nodes(rabbit: rc.Cluster) -> list[rc.Node]:
    """Nodes whose VM runs but whose RabbitMQ does not (paused, or stuck after a pause)."""
    import rabbitmq_cluster

    status = await asyncio.to_thread(rabbitmq_cluster.status, rabbit)
    return [n for n in rabbit.nodes if status.up[n.name] and not status.running.get(n.name)]


async def observe(rabbit: rc.Cluster) -> str:
    """Each node as the clients and its peers see it: AMQP listener open or closed (a paused node
    closes it), and whom it sees running."""
    import rabbitmq_cluster

    status = await asyncio.to_thread(rabbitmq_cluster.status, rabbit)
    seen = []
    for node in rabbit.nodes:
        if not status.up[node.name]:
            seen.append(f"{node.short} down")
            continue
        listening = await asyncio.to_thread(rabbitmq_cluster._port_taken, node.amqp_port)
        sees = status.running.get(node.name)
        state = f"sees {'+'.join(n.split('@')[0] for n in sees)}" if sees else "not answering rabbitmqctl"
        seen.append(f"{node.short} AMQP {'open' if listening else 'closed'}, {state}")
    return "; ".join(seen)


def partition_unavailable() -> str | None:
    """Why a partition cannot be made here (None: it can): iptables must exist and work as root."""
    if shutil.which("iptables") is None:
        return "no iptables on this machine (apt-get install iptables)"
    done = subprocess.run(["iptables", "-L", "-n"], capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        return f"iptables -L fails: {(done.stderr or done.stdout).strip()}"
    return None


def _iptables(*args: str, check: bool = True) -> None:
    subprocess.run(["iptables", "-w", *args], check=check, capture_output=True, timeout=30)


def _local_ports_of(pid: int, remote_ports: set[int]) -> set[int]:
    """The local ports of ``pid``'s TCP connections to any of ``remote_ports`` (from /proc)."""
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[9] in inodes and int(fields[2].rsplit(":", 1)[1], 16) in remote_ports:
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def isolate(rabbit: rc.Cluster, node: rc.Node) -> list[str]:
    """Cut ``node`` off from the other nodes: every TCP segment of an Erlang distribution
    connection between it and them is answered with a reset, on the loopback only. Which
    connections those are: the ones to its distribution port, the ones it opened to theirs (by
    its sockets' local ports), and any new one it opens (its name in the handshake)."""
    import rabbitmq_cluster

    heal()
    others = {n.dist_port for n in rabbit.nodes if n != node}
    _iptables("-N", PARTITION_CHAIN)
    _iptables("-I", "INPUT", "-i", "lo", "-j", PARTITION_CHAIN)
    reset = ["-j", "REJECT", "--reject-with", "tcp-reset"]
    ports = ",".join(map(str, sorted(others)))
    rules = [
        ["-p", "tcp", "--dport", str(node.dist_port)],
        ["-p", "tcp", "--sport", str(node.dist_port)],
        # A connection it opens anew: its name in its first segment of data (the handshake's
        # send_name). Only there, and only in connections whose SYN came after the cut: the other
        # nodes name it in their own traffic too, which must go on.
        ["-p", "tcp", "-m", "multiport", "--dports", ports, "-m", "connmark", "--mark", CONNECTION_MARK,
         "-m", "connbytes", "--connbytes", "0:3", "--connbytes-dir", "original", "--connbytes-mode", "packets",
         "-m", "string", "--algo", "bm", "--string", node.name],
    ]  # fmt: skip
    _iptables("-A", PARTITION_CHAIN, "-p", "tcp", "-m", "multiport", "--dports", ports, "--syn",
              "-j", "CONNMARK", "--set-mark", CONNECTION_MARK)  # fmt: skip
    pid = rabbitmq_cluster.beam_pid(node)
    for port in sorted(_local_ports_of(pid, others) if pid else set()):
        rules += [["-p", "tcp", "--sport", str(port)], ["-p", "tcp", "--dport", str(port)]]
    for rule in rules:
        _iptables("-A", PARTITION_CHAIN, *rule, *reset)
    # The rules reset a connection only at its next segment: an idle one (a tick every 15 s) would
    # go on for a while, so that one peer saw the node go while the other still saw it, a partial
    # partition, on which pause_minority pauses the peer that noticed first until the whole cluster
    # is back (measured: the majority stopped). So the node's distribution connections are also
    # aborted now, both ends at once (ss -K; the kernel resets them), as a cut cable would be noticed.
    ports = {node.dist_port, *(_local_ports_of(pid, others) if pid else set())}
    sides = " or ".join(f"sport = :{port} or dport = :{port}" for port in sorted(ports))
    subprocess.run(["ss", "-K", "-t", sides], capture_output=True, timeout=30, check=False)
    return [" ".join(rule) for rule in rules]


def heal() -> None:
    """Undo ``isolate`` (whatever of it was done; nothing when there is nothing)."""
    if shutil.which("iptables") is None:
        return
    _iptables("-D", "INPUT", "-i", "lo", "-j", PARTITION_CHAIN, check=False)
    _iptables("-F", PARTITION_CHAIN, check=False)
    _iptables("-X", PARTITION_CHAIN, check=False)


async def partition(ha: HighAvailability, vhost: str, hold: float, note: Callable[[str], None]) -> None:
    """Cut the node leading most queues off from the others for ``hold`` seconds, then heal."""
    import rabbitmq_cluster

    leaders = await queue_leaders(ha.rabbit, vhost)
    node = ha.rabbit.node(leaders.most_common(1)[0][0]) if leaders else ha.rabbit.nodes[-1]
    try:
        rules = await asyncio.to_thread(isolate, ha.rabbit, node)
        note(
            f"{node.short} cut off from the others: its distribution connections aborted (ss -K), "
            f"new ones reset by iptables ({len(rules)} rules on lo)"
        )
        await asyncio.sleep(hold)
        note(f"then: {await observe(ha.rabbit)}")
    finally:
        await asyncio.to_thread(heal)  # whatever happened: the machine's firewall as it was
    healed = time.monotonic()
    try:
        note(f"partition healed; the cluster whole after {await cluster_whole(ha.rabbit, REJOIN_WAIT):.1f} s")
    except TimeoutError:
        # Debian's RabbitMQ 3.10 on Erlang 25: the paused node's RabbitMQ may never start again
        # after the heal, its VM up, `global` stuck (the "global hang workaround" no longer works
        # from Erlang 25.1: rabbitmq-server#6034). What an operator (or a health check) does: restart it.
        stuck = await stuck_nodes(ha.rabbit)
        note(
            f"{', '.join(n.short for n in stuck) or 'a node'} still not running {REJOIN_WAIT:.0f} s after the heal "
            "(VM up, RabbitMQ stopped: the Erlang 25 `global` hang, rabbitmq-server#6034); restarted"
        )
        for node in stuck:
            await asyncio.to_thread(rabbitmq_cluster.kill, node)
            await asyncio.to_thread(rabbitmq_cluster.start, node)
        await cluster_whole(ha.rabbit)
        note(f"the cluster whole {time.monotonic() - healed:.1f} s after the heal")
    status = await asyncio.to_thread(rabbitmq_cluster.cluster_status, ha.rabbit.nodes[0])
    note(f"partitions RabbitMQ still records: {status.get('partitions') or 'none'}")


async def inject_cluster(
    ha: HighAvailability,
    cluster: Cluster,
    ledger: Ledger,
    faults: tuple[str, ...],
    gap: float,
    set_phase: Callable[[str], None],
    say: Callable[[str], None],
) -> None:
    """The cluster faults in order, each under the load, each recorded as a window in the ledger.

    ``rabbitmq-leader`` kills the node leading most of the vhost's queues; followed by
    ``rabbitmq-minority`` it stays down while a second node is stopped too, so that the last node
    is a minority and pauses; then both start again. ``partition`` is skipped (and said so) where
    iptables cannot be used."""
    import postgres_pair
    import rabbitmq_cluster

    down: rc.Node | None = None  # a node left down by one fault for the next
    for index, fault in enumerate(faults):
        if down is None:
            await asyncio.sleep(gap)
        began, what = time.monotonic(), []
        set_phase(fault)

        def note(line: str, what: list[str] = what, fault: str = fault) -> None:
            what.append(line)
            say(f"{fault}: {line}")

        if fault == "rabbitmq-leader":
            leaders = await queue_leaders(ha.rabbit, cluster.vhost)
            leader, count = leaders.most_common(1)[0]
            down = ha.rabbit.node(leader)
            pid = await asyncio.to_thread(rabbitmq_cluster.kill, down)
            note(f"kill -9 {down.short} (pid {pid}), leader of {count} of {sum(leaders.values())} queues")
            await asyncio.sleep(gap)
            if faults[index + 1 : index + 2] != ("rabbitmq-minority",):
                await asyncio.to_thread(rabbitmq_cluster.start, down)
                note(f"{down.short} started again; the cluster whole after {await cluster_whole(ha.rabbit):.1f} s")
                down = None
        elif fault == "rabbitmq-minority":
            first = down
            if first is None:
                first = ha.rabbit.nodes[-1]
                await asyncio.to_thread(rabbitmq_cluster.stop, first)
                note(f"stopped {first.short}")
            second = next(n for n in ha.rabbit.nodes if n != first)
            last = next(n for n in ha.rabbit.nodes if n not in (first, second))
            await asyncio.to_thread(rabbitmq_cluster.stop, second)
            note(f"stopped {second.short} while {first.short} is down: {last.short} alone, a minority")
            await asyncio.sleep(gap)
            note(f"then: {await observe(ha.rabbit)}")
            await asyncio.gather(*(asyncio.to_thread(rabbitmq_cluster.start, n) for n in (first, second)))
            note(
                f"{first.short} and {second.short} started; the cluster whole after {await cluster_whole(ha.rabbit):.1f} s"
            )
            down = None
        elif fault == "postgresql-failover":
            old = await asyncio.to_thread(postgres_pair.kill_primary, ha.pair)
            killed = time.monotonic()
            new = await asyncio.to_thread(postgres_pair.await_failover, ha.pair)
            note(
                f"kill -9 of the primary {old.name} (Patroni and postmaster); Patroni promoted {new.name} "
                f"{time.monotonic() - killed:.1f} s later"
            )
            await asyncio.sleep(gap)
            started = time.monotonic()
            await asyncio.to_thread(postgres_pair.up, ha.pair)
            note(f"{old.name} rejoined as the synchronous standby of {new.name} in {time.monotonic() - started:.1f} s")
        elif fault == "partition":
            if (why := partition_unavailable()) is not None:
                note(f"skipped: {why}")
            else:
                await partition(ha, cluster.vhost, max(gap, 10), note)
        ledger.faults.append(fault)
        ledger.windows.append((fault, what, began, time.monotonic()))
        set_phase("normal")


# --- a whole run ----------------------------------------------------------------------------------------
