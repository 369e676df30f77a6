"""The fault suite on the high-availability setup of issue 18, at a reduced size: real axis
processes given every node of the RabbitMQ cluster and the PostgreSQL pair's multi-host address
take a steady load of signed documents while the cluster faults happen, and nothing the axis
accepted is lost, doubled in effect or left without its receipts.

The faults, in order, each under load: kill -9 of the RabbitMQ node leading most of the vhost's
queues; a second node stopped while it is down (the last node is a minority and pauses), then both
started; kill -9 of the PostgreSQL primary (its Patroni and postmaster), Patroni promotes the
standby, the killed node rejoins; a partition cutting one node off, where iptables works here. ``scripts/chaos.py --cluster`` runs the
same at full size (≥300 documents at 10/s, longer outages) with the report; only it shows the
costs at that load.

The RabbitMQ cluster is the session's (``tests/ha/conftest.py``). The PostgreSQL pair found running
is left running and whole (the killed node rejoined); one brought up here is taken down with its data.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import postgres_pair as pg_pair
import pytest
import rabbitmq_cluster as rc

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "faults"))

import chaos
import cluster_faults

pytestmark = pytest.mark.slow


async def test_every_accepted_package_arrives_once_through_the_cluster_faults(
    rabbit_cluster: rc.Cluster, pair: pg_pair.Pair, tmp_path: Path
) -> None:
    began = time.monotonic()
    try:
        report = await chaos.run(
            systems=4,
            documents=60,
            rate=10.0,
            gap=3.0,
            faults=cluster_faults.CLUSTER_FAULTS,
            keys=tmp_path / "keys",
            ha=cluster_faults.HighAvailability(rabbit_cluster, pair),
            progress=print,
        )
    finally:
        cluster_faults.heal()
    print("\n".join(report.lines()))
    print(f"in {time.monotonic() - began:.0f} s")
    assert report.accepted == report.documents >= 60
    assert report.lost == 0
    assert report.duplicates_in_effect == 0
    assert report.unaccepted_stored == 0
    assert report.missing_receipts == 0
    assert report.delivered_pairs == report.expected_pairs
    assert [cost.fault for cost in report.costs] == list(cluster_faults.CLUSTER_FAULTS)
    # Every fault happened under load: the senders were still sending when it was over.
    assert report.documents > 60
    # /readyz told the truth: never "ready" while intake refused everything, "not ready" while
    # RabbitMQ had no majority, never a crash; /healthz never said the process was unwell.
    assert all(cost.lies == 0 for cost in report.costs), [c.lines() for c in report.costs]
    assert 503 in report.readiness.get("rabbitmq-minority", [])
    assert all(500 not in statuses for statuses in report.readiness.values())
    assert not {500, 503} & set(report.healthz)
    # The cluster and the pair are whole again.
    assert rc.status(rabbit_cluster).complete(rabbit_cluster)
    assert sorted(s.role for s in pg_pair.status(pair)) == ["primary", "standby"]
