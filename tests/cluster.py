"""Real axis processes (``python -m axis serve``) on a database and a RabbitMQ vhost of their own,
with simulated connected systems: what the exchange benchmark and the fault suite run against.

Unlike the in-process ``world`` fixture, these are separate OS processes, so they can be killed
with SIGKILL, measured (peak memory), and several can share one port.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import signal
import socket
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from axis import pki
from axis.broker.management import AmqpGrant, Management
from axis.config import Settings, amqp_addresses
from axis.registry import agencies, systems
from axis.store import db
from axis.store.migrate import migrate


@dataclass
class Sim:
    """One simulated connected system: its agency, signing identity, token, and how it receives."""

    system_id: str
    code: str
    identity: pki.Identity
    amqp: bool
    token: str = ""
    grant: AmqpGrant | None = None

    def amqp_url(self, settings: Settings) -> str:
        assert self.grant is not None
        return settings.amqp_url.replace("guest:guest", f"{self.grant.username}:{self.grant.password}", 1)

    def amqp_urls(self, settings: Settings) -> tuple[str, ...]:
        """The system's URL at each RabbitMQ node the axis was given (one, or one per cluster node)."""
        assert self.grant is not None
        login = f"{self.grant.username}:{self.grant.password}"
        return tuple(url.replace("guest:guest", login, 1) for url in amqp_addresses(settings.amqp_url))


@dataclass
class Cluster:
    settings: Settings
    vhost: str
    database: str
    keys: Path
    ca: pki.Identity
    sims: list[Sim] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.http_port}"

    def start_process(self) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, "-m", "axis", "serve"], env=self.environment, stderr=subprocess.DEVNULL
        )
        self.processes.append(process)
        return process

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """SIGKILL: no shutdown handler runs, whatever was in flight is cut."""
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        self.processes.remove(process)

    def stop_all(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=60)
        self.processes.clear()

    async def wait_ready(self, timeout: float = 60.0) -> None:
        async with aiohttp.ClientSession() as session, asyncio.timeout(timeout):
            while True:
                if any(p.poll() is not None for p in self.processes):
                    raise RuntimeError("an axis process exited during start-up")
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(self.base_url + "/readyz") as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(0.1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


#: On a RabbitMQ cluster, the queues' leaders spread over the nodes, as an operator's policy does
#: (quorum queues otherwise all start with their leader on the node the axis declared them on).
LEADERS_POLICY = ("axis-leaders", r"^axis\.", {"queue-leader-locator": "balanced"})


async def fresh_services(base: Settings, prefix: str) -> tuple[str, str, str]:
    """A new database and a new RabbitMQ vhost (guest may use it), named after ``prefix`` and
    unique: returns the database's name, its URL and the vhost."""
    database = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    vhost = f"{prefix.replace('_', '-')}-{uuid.uuid4().hex[:8]}"
    url = db.with_database(base.database_url, database)
    await db.ensure_database(url)
    async with Management(base.amqp_management_url) as management:
        await management.create_vhost(vhost)
        await management.set_permissions(vhost, "guest", ".*", ".*", ".*")
        if len(amqp_addresses(base.amqp_url)) > 1:
            await management.set_policy(vhost, *LEADERS_POLICY)
    return database, url, vhost


async def create(
    systems_count: int,
    keys: Path,
    *,
    prefix: str = "axis_cluster",
    amqp_url: str | None = None,
    amqp_management_url: str | None = None,
    database_url: str | None = None,
    **env: str,
) -> Cluster:
    """A fresh database and vhost, development keys, and ``systems_count`` systems (even ones over
    AMQP, odd ones over HTTP), each serving one fictitious province ``000.00.00.Hnn``.

    The servers are those of the environment (``AXIS_*``), or the ones given: ``amqp_url`` and
    ``amqp_management_url`` may name every node of a RabbitMQ cluster (comma-separated, without a
    vhost), ``database_url`` a multi-host PostgreSQL address (its database is replaced)."""
    base = Settings.from_env()
    base = dataclasses.replace(
        base,
        amqp_url=amqp_url or base.amqp_url,
        amqp_management_url=amqp_management_url or base.amqp_management_url,
        database_url=database_url or base.database_url,
    )
    database, url, vhost = await fresh_services(base, prefix)
    ca = pki.new_ca("Cluster CA")
    pki.save(ca, keys, "ca")
    pki.save(pki.issue(ca, None, "Trục liên thông (cluster)", key_type="ec"), keys, "axis")
    settings = Settings(
        database_url=url,
        amqp_url=",".join(address.rstrip("/") + "/" + vhost for address in amqp_addresses(base.amqp_url)),
        amqp_management_url=base.amqp_management_url,
        http_port=free_port(),
        keys_dir=keys,
        trust_anchors=(keys / "ca.pem",),
        document_trust_anchors=(keys / "ca.pem",),
    )
    cluster = Cluster(settings, vhost, database, keys, ca)
    cluster.environment = {
        **os.environ,
        "AXIS_DATABASE_URL": settings.database_url,
        "AXIS_AMQP_URL": settings.amqp_url,
        "AXIS_AMQP_MANAGEMENT_URL": settings.amqp_management_url,
        "AXIS_HTTP_PORT": str(settings.http_port),
        "AXIS_KEYS_DIR": str(keys),
        "AXIS_LOG_LEVEL": "warning",
        **env,
    }
    conn = await db.connect(url)
    try:
        await migrate(conn)
        async with conn.transaction():
            for i in range(1, systems_count + 1):
                code = f"000.00.00.H{i:02d}"
                sim = Sim(
                    f"sys-{i:02d}-{uuid.uuid4().hex[:4]}",
                    code,
                    pki.issue(ca, code, f"UBND tỉnh mô phỏng {i}"),
                    amqp=i % 2 == 0,
                )
                await agencies.add(conn, "cluster", code, f"UBND tỉnh mô phỏng {i}")
                await systems.add(
                    conn, "cluster", sim.system_id, f"Hệ thống {i}", delivery_http=not sim.amqp, delivery_amqp=sim.amqp
                )
                await systems.bind(conn, "cluster", sim.system_id, code)
                await systems.add_certificate(conn, "cluster", sim.system_id, pki.cert_pem(sim.identity.certificate))
                _, sim.token = await systems.issue_token(conn, "cluster", sim.system_id)
                cluster.sims.append(sim)
    finally:
        await conn.close()
    async with Management(base.amqp_management_url) as management:
        for sim in cluster.sims:
            if sim.amqp:
                sim.grant = await management.grant_system(vhost, sim.system_id)
    return cluster


async def destroy(cluster: Cluster) -> None:
    cluster.stop_all()
    async with Management(cluster.settings.amqp_management_url) as management:
        for sim in cluster.sims:
            if sim.amqp:
                await management.revoke_system(cluster.vhost, sim.system_id)
        await management.delete_vhost(cluster.vhost)
    admin = await db.connect(db.with_database(cluster.settings.database_url, "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{cluster.database}" WITH (FORCE)')
    finally:
        await admin.close()
