"""The fault suite at full size, with a report: real axis processes under a steady load of signed
documents while RabbitMQ stops and restarts, PostgreSQL restarts, an axis process is killed with
SIGKILL mid-intake and a consumer crashes before acknowledging.

It stops and restarts this machine's RabbitMQ and PostgreSQL: run it when nothing else uses them.

    .venv/bin/python scripts/chaos.py [--systems 6] [--documents 300] [--rate 10] [--gap 8]

With ``--cluster`` the same load and ledger run on the high-availability setup of issue 18 instead
(the machine's own RabbitMQ and PostgreSQL are left alone): the three-node RabbitMQ cluster
(``scripts/ha_cluster.py``) and the PostgreSQL primary with its synchronous standby kept by Patroni
(``scripts/ha_postgres.py``), each brought up when it is not running and taken down again (wiped)
if this script brought it up. The axis processes get every RabbitMQ node and the pair's multi-host
address. The faults, in order, each under load: kill -9 of the node leading most queues; a second
node stopped while it is down (the last one is a minority and pauses); both started again; kill -9
of the PostgreSQL primary (its Patroni and postmaster), Patroni promoting the standby, the killed
node rejoining; a network partition cutting one node off (ss -K and iptables on the loopback, if
they work here). The load goes on past ``--documents`` until the last fault is over; for each
fault the report says how long intake refused (503 or no answer), how long deliveries paused and
whether /readyz told the truth. Run it as root (the nodes run as rabbitmq and postgres; iptables).

    .venv/bin/python scripts/chaos.py --cluster [--documents 300] [--rate 10] [--gap 8]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "faults"), str(ROOT / "tests" / "ha")]

import chaos  # noqa: E402
import cluster_faults  # noqa: E402
import postgres_pair as pg_pair  # noqa: E402
import rabbitmq_cluster as rc  # noqa: E402


def say(line: str) -> None:
    print(line, flush=True)


def bring_up() -> tuple[cluster_faults.HighAvailability, list[str]]:
    """The cluster and the pair running: what was started here, to take down afterwards."""
    rabbit, pair, started = rc.Cluster.default(), pg_pair.Pair(), []
    if not rc.status(rabbit).complete(rabbit):
        if not any(rc.is_up(node) for node in rabbit.nodes):
            started.append("rabbitmq")
        rc.up(rabbit, say=say)
    if not any(node.pid() is not None for node in pair.nodes):
        started.append("postgresql")
    pg_pair.up(pair, say)  # also repairs a pair found without its synchronous standby
    return cluster_faults.HighAvailability(rabbit, pair), started


def take_down(ha: cluster_faults.HighAvailability, started: list[str]) -> None:
    if "rabbitmq" in started:
        rc.down(ha.rabbit, wipe=True, say=say)
    if "postgresql" in started:
        pg_pair.down(ha.pair, wipe=True, say=say)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--systems", type=int, default=6)
    parser.add_argument("--documents", type=int, default=300)
    parser.add_argument("--rate", type=float, default=10.0, help="documents per second, all senders together")
    parser.add_argument("--gap", type=float, default=8.0, help="seconds between faults (and RabbitMQ's outage)")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--cluster", action="store_true", help="the RabbitMQ cluster and PostgreSQL pair (issue 18)")
    parser.add_argument(
        "--faults",
        help=f"any of {','.join(chaos.FAULTS)}; with --cluster any of {','.join((*cluster_faults.CLUSTER_FAULTS, 'consumer'))}",
    )
    args = parser.parse_args()
    faults = args.faults or ",".join(cluster_faults.CLUSTER_FAULTS if args.cluster else chaos.FAULTS)
    if (
        args.cluster
    ):  # the clients' reconnection attempts while nodes are down are expected: the report says what they cost
        logging.getLogger("aio_pika").setLevel(logging.CRITICAL)
        logging.getLogger("aiormq").setLevel(logging.CRITICAL)
    ha, started = bring_up() if args.cluster else (None, [])
    try:
        with tempfile.TemporaryDirectory() as tmp:
            report = asyncio.run(
                chaos.run(
                    systems=args.systems,
                    documents=args.documents,
                    rate=args.rate,
                    gap=args.gap,
                    processes=args.processes,
                    faults=tuple(f for f in faults.split(",") if f),
                    keys=Path(tmp) / "keys",
                    settle=300.0,
                    progress=say,
                    ha=ha,
                )
            )
    finally:
        if ha is not None:
            cluster_faults.heal()  # never leave the partition's firewall rules behind
            take_down(ha, started)
    print("\n".join(report.lines()))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
