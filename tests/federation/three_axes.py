"""Three axes on this machine, as real processes: two provinces federated to a national axis.

The national axis serves only its ``/vdxp`` to the two provincial platforms (its SDK systems
``tinh-a`` and ``tinh-b``); each province runs its own axis for its agencies, linked upstream with
the system id and the SDK secret the national axis issued it. Province A's link passes through a
TCP relay of this process that can be cut (``Link.cut``), the national axis's processes and each
province's can be killed with SIGKILL and started again. What ``scripts/federation.py`` and the
reduced test in CI run.

Agencies (fictitious): province A ``000.00.00.H98`` (its people's committee, eOffice ``a-ubnd``)
with a department ``000.00.01.H98`` (its own eOffice ``a-so``); province B ``000.00.00.H99``
(eOffice ``b-ubnd``). One development CA issues every agency's certificate and every axis trusts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from cluster import fresh_services

from axis import pki
from axis.broker.management import Management
from axis.config import Settings
from axis.federation import links
from axis.registry import agencies, systems
from axis.store import db
from axis.store.migrate import migrate
from axis.vdxp.secret import SecretBox

A, A_DEPT, B = "000.00.00.H98", "000.00.01.H98", "000.00.00.H99"
NAMES = {A: "UBND tỉnh mô phỏng A", A_DEPT: "Sở Nội vụ tỉnh mô phỏng A", B: "UBND tỉnh mô phỏng B"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Axis:
    """One axis: its database, vhost, keys, port, and its process (one ``axis serve``)."""

    name: str
    database: str
    url: str
    vhost: str
    keys: Path
    port: int
    environment: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    tokens: dict[str, str] = field(default_factory=dict)  # eOffice system id -> API token

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None
        log = open(self.keys.parent / f"{self.name}.log", "ab")  # noqa: SIM115 (the process keeps it)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "axis", "serve"], env=self.environment, stdout=log, stderr=log
        )

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, whatever was in flight is cut."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=60)

    async def wait_ready(self, timeout: float = 60.0) -> None:
        async with aiohttp.ClientSession() as session, asyncio.timeout(timeout):
            while True:
                if self.process is not None and self.process.poll() is not None:
                    raise RuntimeError(f"axis {self.name} exited during start-up (see {self.name}.log)")
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(self.base_url + "/readyz") as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(0.1)


class Link:
    """A TCP relay between a province and the national axis that can be cut for a while: new
    connections are refused (closed at once) and those open are dropped."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.cut = False
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._open):
                writer.close()

    def sever(self) -> None:
        self.cut = True
        for writer in list(self._open):
            writer.close()

    def mend(self) -> None:
        self.cut = False

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.cut:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self._open |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.IncompleteReadError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._open -= {writer, up_writer}


@dataclass
class Federation:
    national: Axis
    a: Axis
    b: Axis
    link_a: Link
    identities: dict[str, pki.Identity]  # agency code -> its signing identity
    management_url: str

    @property
    def axes(self) -> tuple[Axis, Axis, Axis]:
        return (self.national, self.a, self.b)


async def _axis(name: str, root: Path, ca: pki.Identity, base: Settings, prefix: str, **env: str) -> Axis:
    database, url, vhost = await fresh_services(base, f"{prefix}_{name}")
    keys = root / name / "keys"
    pki.save(ca, keys, "ca")
    pki.save(pki.issue(ca, None, f"Trục liên thông {name}", key_type="ec"), keys, "axis")
    port = free_port()
    environment = {
        **os.environ,
        "AXIS_DATABASE_URL": url,
        "AXIS_AMQP_URL": base.amqp_url.rstrip("/") + "/" + vhost,
        "AXIS_AMQP_MANAGEMENT_URL": base.amqp_management_url,
        "AXIS_HTTP_PORT": str(port),
        "AXIS_KEYS_DIR": str(keys),
        "AXIS_LOG_LEVEL": "warning",
        **env,
    }
    conn = await db.connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    return Axis(name, database, url, vhost, keys, port, environment)


async def create(root: Path, *, prefix: str = "axis_fed", poll_interval: float = 1.0) -> Federation:
    """Three fresh databases and vhosts, keys, the registries and the links; nothing started."""
    base = Settings.from_env()
    ca = pki.new_ca("Federation CA")
    identities = {code: pki.issue(ca, code, name) for code, name in NAMES.items()}
    provincial = {"AXIS_UPSTREAM_FORWARD_INTERVAL": "0.5", "AXIS_UPSTREAM_POLL_INTERVAL": str(poll_interval)}
    national = await _axis("national", root, ca, base, prefix)
    a = await _axis("a", root, ca, base, prefix, **provincial)
    b = await _axis("b", root, ca, base, prefix, **provincial)
    link_a = Link(national.port)
    await link_a.start()

    # The national axis: every agency of both provinces, each province's platform an SDK system
    # serving its subtree, the agencies' certificates bound to the platform that brings their packages.
    secrets: dict[str, str] = {}
    box, _ = SecretBox.load_or_create(national.keys / "vdxp-secrets.key")
    conn = await db.connect(national.url)
    try:
        async with conn.transaction():
            for code, name in NAMES.items():
                await agencies.add(conn, "federation", code, name)
            for platform, root_code, signers in (("tinh-a", A, (A, A_DEPT)), ("tinh-b", B, (B,))):
                await systems.add(conn, "federation", platform, f"Nền tảng tỉnh {platform[-1].upper()}")
                await systems.bind(conn, "federation", platform, root_code)
                for code in signers:
                    await systems.add_certificate(
                        conn, "federation", platform, pki.cert_pem(identities[code].certificate)
                    )
                _, secrets[platform] = await systems.issue_sdk_secret(
                    conn, "federation", platform, box.seal, box.key_id
                )
    finally:
        await conn.close()

    # Each province: its own agencies and eOffices, and the link to the national axis.
    for axis, platform, served, offices, endpoint_port in (
        (a, "tinh-a", A, (("a-ubnd", A), ("a-so", A_DEPT)), link_a.port),
        (b, "tinh-b", B, (("b-ubnd", B),), national.port),
    ):
        province_box, _ = SecretBox.load_or_create(axis.keys / "vdxp-secrets.key")
        conn = await db.connect(axis.url)
        try:
            async with conn.transaction():
                for code, name in NAMES.items():
                    if code.endswith(served[-3:]):
                        await agencies.add(conn, "federation", code, name)
                for system_id, code in offices:
                    await systems.add(conn, "federation", system_id, f"eOffice {code}")
                    await systems.bind(conn, "federation", system_id, code)
                    await systems.add_certificate(
                        conn, "federation", system_id, pki.cert_pem(identities[code].certificate)
                    )
                    _, axis.tokens[system_id] = await systems.issue_token(conn, "federation", system_id)
                await links.configure(
                    conn,
                    "federation",
                    "upstream",
                    endpoint=f"http://127.0.0.1:{endpoint_port}/vdxp",
                    system_id=platform,
                    serves=(served,),
                )
                await links.set_secret(conn, "federation", "upstream", secrets[platform], province_box)
        finally:
            await conn.close()
    return Federation(national, a, b, link_a, identities, base.amqp_management_url)


async def start(federation: Federation) -> None:
    for axis in federation.axes:
        axis.start()
    await asyncio.gather(*(axis.wait_ready() for axis in federation.axes))


async def destroy(federation: Federation) -> None:
    await federation.link_a.close()
    for axis in federation.axes:
        axis.stop()
    async with Management(federation.management_url) as management:
        for axis in federation.axes:
            await management.delete_vhost(axis.vhost)
    admin = await db.connect(db.with_database(federation.national.url, "postgres"))
    try:
        for axis in federation.axes:
            await admin.execute(f'DROP DATABASE IF EXISTS "{axis.database}" WITH (FORCE)')
    finally:
        await admin.close()
