"""The three-node RabbitMQ cluster and the PostgreSQL pair of issue 18, for every test here.

It is the session's: a complete cluster found running (``scripts/ha_cluster.py up``) is used and
left running, since whoever started it wants it. Otherwise the fixture brings it up (about 40 s)
and takes it down with its data at the end, so that CI leaves no three extra brokers (~450 MB)
behind and every run starts from nothing.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator

import aiohttp
import postgres_pair as pg_pair
import pytest
import rabbitmq_cluster as rc
from ha_tools import api


@pytest.fixture(scope="session")
def rabbit_cluster() -> Iterator[rc.Cluster]:
    cluster = rc.Cluster.default()
    if rc.status(cluster).complete(cluster):
        yield cluster
        return
    began = time.monotonic()
    try:
        rc.up(cluster)
    except rc.ClusterError:
        rc.down(cluster)  # no nodes left running by a failed start; their logs kept to read
        raise
    print(f"cluster up in {time.monotonic() - began:.1f} s")
    try:
        yield cluster
    finally:
        rc.down(cluster, wipe=True)


@pytest.fixture
async def vhost(rabbit_cluster: rc.Cluster) -> AsyncIterator[str]:
    name = f"axis-ha-test-{uuid.uuid4().hex[:8]}"
    await api(rabbit_cluster.nodes[0], "PUT", f"vhosts/{name}", {})  # its creator, guest, may do anything there
    yield name
    for node in rabbit_cluster.nodes:  # any node that answers deletes it for the whole cluster
        try:
            await api(node, "DELETE", f"vhosts/{name}")
            break
        except aiohttp.ClientError:
            continue


@pytest.fixture(scope="session")
def pair_made() -> Iterator[pg_pair.Pair]:
    """A primary with a synchronous standby, kept by Patroni. One found running is used and left
    whole again (a killed node rejoined); else it is made and wiped at the end."""
    if not (pg_pair.BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL 15 is not installed in {pg_pair.BIN}")
    pair = pg_pair.Pair()
    found_running = any(node.patroni_pid() is not None for node in pair.nodes)
    began = time.monotonic()
    pg_pair.up(pair)
    print(f"\npair up in {time.monotonic() - began:.1f} s")
    try:
        yield pair
    finally:
        if found_running:
            pg_pair.up(pair)
        else:
            pg_pair.down(pair, wipe=True)


@pytest.fixture(scope="module")
def pair(pair_made: pg_pair.Pair) -> pg_pair.Pair:
    """The pair whole again (a primary and its synchronous standby) for each module: the faults of
    the one before may have left a promoted primary alone."""
    pg_pair.up(pair_made)
    return pair_made
