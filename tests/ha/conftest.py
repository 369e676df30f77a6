"""The three-node RabbitMQ cluster of issue 18, for every test here.

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
