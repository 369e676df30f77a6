"""A small world for exchange tests: a running axis (real PostgreSQL and RabbitMQ) with fictitious
agencies and their connected systems, each with a token, a signing certificate and, for AMQP
systems, a RabbitMQ user of its own.

    north  bac      000.00.00.H98  sends                    HTTP
    south  nam      000.00.00.H99  receives                 HTTP
    dept   nam-stc  000.00.11.H99  (most specific binding)  HTTP
    bo     bo-tn    000.00.00.G98  receives                 AMQP
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aio_pika
import amqp
import builders
from aiohttp.test_utils import TestClient, TestServer
from signxml.algorithms import DigestAlgorithm, SignatureMethod

from axis import pki
from axis.app import build_app
from axis.broker.management import AmqpGrant, Management
from axis.config import Settings
from axis.edxml import build, sign
from axis.edxml import model as m
from axis.edxml.trust import TrustAnchors
from axis.http.context import AXIS
from axis.registry import agencies, systems
from axis.store import db

AGENCIES = [
    ("000.00.00.H98", "UBND Tỉnh Thử Nghiệm Bắc"),
    ("000.00.00.H99", "UBND Tỉnh Thử Nghiệm Nam"),
    ("000.00.11.H99", "Sở Tài chính Tỉnh Thử Nghiệm Nam"),
    ("000.00.00.G98", "Bộ Thử Nghiệm"),
]


@dataclass
class Party:
    """A connected system and the agency it signs for."""

    system_id: str
    code: str
    identity: pki.Identity
    token: str = ""
    grant: AmqpGrant | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class World:
    client: TestClient
    settings: Settings
    trust: TrustAnchors
    ca: pki.Identity
    vhost: str
    parties: dict[str, Party] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Party:
        return self.parties[name]

    @property
    def axis(self) -> Any:
        app = self.client.app
        assert app is not None
        return app[AXIS]

    def document(self, sender: str = "north", to: tuple[str, ...] = ("000.00.00.H99",), **kw: Any) -> m.DocumentPackage:
        party = self[sender]
        return builders.document(sender=party.code, recipients=to, **kw)

    def signed(self, package: m.Package, by: str = "north", *, sha1: bool = False) -> bytes:
        """Signed by ``by``'s agency; ``sha1``: with RSA-SHA1, as the national SDKs still sign."""
        party = self[by]
        if not sha1:
            return sign(build(package), party.identity.key, party.identity.cert_chain)
        return sign(
            build(package),
            party.identity.key,
            party.identity.cert_chain,
            signature_method=SignatureMethod.RSA_SHA1,
            digest=DigestAlgorithm.SHA1,
        )

    async def relax_signature_policy(self, name: str, *, sha1: bool = False, unsigned: bool = False) -> None:
        """What ``axis systems policy ID --legacy-sha1 / --allow-unsigned`` does for ``name``'s
        system; returns once this axis's registry has the change."""
        conn = await db.connect(self.settings.database_url)
        try:
            async with conn.transaction():
                await systems.update(conn, "test", self[name].system_id, allow_sha1=sha1, allow_unsigned=unsigned)
            version = await conn.fetchval("SELECT version FROM registry_version")
        finally:
            await conn.close()
        await self.axis.registry.wait_for(version)

    async def post(self, data: bytes, by: str = "north", *, expect: int = 202) -> dict[str, Any]:
        response = await self.client.post("/api/v1/packages", data=data, headers=self[by].headers)
        body: dict[str, Any] = await response.json()
        assert response.status == expect, body
        return body

    async def get(self, path: str, by: str, *, expect: int = 200) -> Any:
        response = await self.client.get(path, headers=self[by].headers)
        assert response.status == expect, await response.text()
        if response.content_type == "application/json":
            return await response.json()
        return await response.read()

    async def ack(self, package_id: str, by: str) -> dict[str, Any]:
        response = await self.client.post(f"/api/v1/packages/{package_id}/ack", headers=self[by].headers)
        body: dict[str, Any] = await response.json()
        assert response.status == 200, body
        return body

    async def amqp_connection(self, name: str) -> aio_pika.abc.AbstractRobustConnection:
        grant = self[name].grant
        assert grant is not None
        return await aio_pika.connect_robust(amqp.url(self.vhost, grant.username, grant.password))

    async def peek(self, name: str) -> aio_pika.abc.AbstractIncomingMessage:
        """The next message on a system's queue, left there (unacknowledged when the look ends)."""
        async with await self.amqp_connection(name) as connection:
            channel = await connection.channel()
            queue = await channel.get_queue(f"axis.system.{self[name].system_id}", ensure=False)
            message = await queue.get(timeout=10, no_ack=False)
            assert message is not None
            return message

    async def count(self, table: str) -> int:
        async with self.axis.pool.acquire() as conn:
            return int(await conn.fetchval(f"SELECT count(*) FROM {table}"))


async def wait_until(predicate: Any, timeout: float = 10.0, interval: float = 0.05) -> None:
    """Await a condition (sync or async callable) with a timeout; never a bare sleep-and-hope."""
    async with asyncio.timeout(timeout):
        while True:
            result = predicate()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return
            await asyncio.sleep(interval)


@dataclass
class Api:
    """An axis of the test's own, with nothing in its registry, called as its administrator."""

    client: TestClient
    admin: dict[str, str]

    async def call(
        self, method: str, path: str, *, status: int, headers: dict[str, str] | None = None, **kw: Any
    ) -> dict[str, Any]:
        """Call as the administrator (or with ``headers``) and expect ``status``."""
        response = await self.client.request(method, path, headers=self.admin if headers is None else headers, **kw)
        body: dict[str, Any] = await response.json() if response.status != 204 else {}
        assert response.status == status, body
        return body


async def make_api(database_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    conn = await db.connect(database_url)
    async with conn.transaction():
        _, token = await systems.issue_admin_token(conn, "test", "registry-admin")
    await conn.close()
    settings, _, vhost = await axis_settings(database_url, tmp_path)
    try:
        async with TestClient(TestServer(build_app(settings))) as client:
            yield Api(client, {"Authorization": f"Bearer {token}"})
    finally:
        await amqp.delete_vhost(vhost)


@contextlib.asynccontextmanager
async def every_connection_held(world: World) -> AsyncIterator[None]:
    """Every connection of the axis's pool lent out: the database can lend none until this ends."""
    pool = world.axis.pool
    held = [await pool.acquire() for _ in range(pool.get_max_size())]
    try:
        yield
    finally:
        for conn in held:
            await pool.release(conn)


async def axis_settings(database_url: str, tmp_path: Path, **overrides: Any) -> tuple[Settings, pki.Identity, str]:
    """Settings for an axis of this test's own: its database, a fresh vhost, development keys.
    Returns (settings, the CA, the vhost to delete afterwards)."""
    vhost, guest_url = await amqp.new_vhost()
    ca = pki.new_ca("World CA")
    keys = tmp_path / "keys"
    pki.save(ca, keys, "ca")
    pki.save(pki.issue(ca, None, "Trục liên thông (test)", key_type="ec"), keys, "axis")
    settings = Settings(
        database_url=database_url,
        amqp_url=guest_url,
        amqp_management_url=amqp.MANAGEMENT_URL,
        keys_dir=keys,
        trust_anchors=(keys / "ca.pem",),
        document_trust_anchors=(keys / "ca.pem",),
        archive_dir=tmp_path / "archive",
        # Test packages carry fixed dates (stable DocumentIds and bytes); the freshness rules have
        # tests of their own with explicit windows.
        max_package_age_days=0,
    )
    return dataclasses.replace(settings, **overrides), ca, vhost


async def make_world(database_url: str, tmp_path: Path, **overrides: Any) -> AsyncIterator[World]:
    settings, ca, vhost = await axis_settings(database_url, tmp_path, **overrides)
    parties = {
        "north": Party("bac", "000.00.00.H98", pki.issue(ca, "000.00.00.H98", "UBND Tỉnh Thử Nghiệm Bắc")),
        "south": Party("nam", "000.00.00.H99", pki.issue(ca, "000.00.00.H99", "UBND Tỉnh Thử Nghiệm Nam")),
        "dept": Party("nam-stc", "000.00.11.H99", pki.issue(ca, "000.00.11.H99", "Sở Tài chính Nam", key_type="ec")),
        # RabbitMQ users are broker-wide: a unique id keeps parallel test runs apart.
        "bo": Party(f"bo-{uuid.uuid4().hex[:8]}", "000.00.00.G98", pki.issue(ca, "000.00.00.G98", "Bộ Thử Nghiệm")),
    }
    conn = await db.connect(database_url)
    try:
        async with conn.transaction():
            for code, name in AGENCIES:
                await agencies.add(conn, "world", code, name)
            for party in parties.values():
                amqp_mode = party is parties["bo"]
                await systems.add(
                    conn,
                    "world",
                    party.system_id,
                    f"Hệ thống {party.system_id}",
                    delivery_http=not amqp_mode,
                    delivery_amqp=amqp_mode,
                )
                await systems.bind(conn, "world", party.system_id, party.code)
                await systems.add_certificate(conn, "world", party.system_id, pki.cert_pem(party.identity.certificate))
                _, party.token = await systems.issue_token(conn, "world", party.system_id)
    finally:
        await conn.close()
    async with Management(amqp.MANAGEMENT_URL) as management:
        parties["bo"].grant = await management.grant_system(vhost, parties["bo"].system_id)
    client = TestClient(TestServer(build_app(settings)))
    await client.start_server()
    try:
        yield World(client, settings, TrustAnchors((ca.certificate,)), ca, vhost, parties)
    finally:
        await client.close()
        async with Management(amqp.MANAGEMENT_URL) as management:
            await management.revoke_system(vhost, parties["bo"].system_id)
        await amqp.delete_vhost(vhost)


def status_of(document: m.DocumentPackage, code: m.StatusCode, by: str, agency: str) -> m.StatusPackage:
    return m.StatusPackage(
        sender=m.Organization(agency, f"Cơ quan {agency}"),
        response_for=m.ResponseFor(
            document.sender.organ_id, str(document.code), document.promulgation.date, document.document_id
        ),
        status_code=code,
        timestamp=dt.datetime.now(m.VN_TZ).replace(microsecond=0),
        description=f"Trạng thái {code.value} từ {by}",
        staff=m.StaffInfo("Văn thư", "Nguyễn Thị Thử"),
    )
