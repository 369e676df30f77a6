"""A province runs its own axis, linked to the national one through the national SDK's interface.

Here the national axis is the world's axis (its ``/vdxp``; the province's platform is its system
``bac``, serving the northern province ``000.00.00.H98``), and the province's axis is a second axis
of this test, in a database of its own, whose local eOffice ``bac-eoffice`` serves the same
province. What leaves the province goes up with sendEdoc; what the national axis has for the
province comes down by polling; statuses travel both ways; nothing is taken twice.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import amqp
import pg
import pytest
from aiohttp.test_utils import TestClient, TestServer
from browsing import CHEAP, PASSWORD, Visitor
from sdk_world import Sdk, make_sdk
from world import World, axis_settings, status_of, wait_until

from axis import pki
from axis.accounts import passwords, users
from axis.accounts.users import Role
from axis.app import build_app
from axis.edxml import build, sign
from axis.edxml import model as m
from axis.federation import links
from axis.http.context import AXIS
from axis.registry import agencies, history, systems
from axis.store import db
from axis.vdxp.secret import SecretBox

NORTH = "000.00.00.H98"
SOUTH = "000.00.00.H99"
NORTH_DEPT = "000.00.05.H98"  # a department of the northern province, known only to its own axis


@dataclass
class Province:
    """The northern province's own axis, linked upstream to the world's (national) axis."""

    client: TestClient
    database_url: str
    token: str  # its local eOffice's API token
    identity: pki.Identity  # the province's agency certificate (issued by the national CA)

    @property
    def axis(self) -> Any:
        app = self.client.app
        assert app is not None
        return app[AXIS]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def post(self, data: bytes) -> dict[str, Any]:
        response = await self.client.post("/api/v1/packages", data=data, headers=self.headers)
        body: dict[str, Any] = await response.json()
        assert response.status == 202, body
        return body

    async def get(self, path: str) -> Any:
        response = await self.client.get(path, headers=self.headers)
        assert response.status == 200, await response.text()
        return await response.json() if response.content_type == "application/json" else await response.read()

    async def inbox(self) -> list[dict[str, Any]]:
        body = await self.get("/api/v1/inbox")
        return [item for item in body["items"] if item["type"] == "package"]

    async def fetch(self, conn_sql: str, *args: Any) -> list[Any]:
        conn = await db.connect(self.database_url)
        try:
            return list(await conn.fetch(conn_sql, *args))
        finally:
            await conn.close()


@pytest.fixture
async def national(world: World) -> Sdk:
    return await make_sdk(world)


@pytest.fixture
async def province(national: Sdk, pg_template: str, tmp_path: Path) -> AsyncIterator[Province]:
    world = national.world
    url = await pg.create_from(pg_template)
    settings, _, vhost = await axis_settings(
        url,
        tmp_path / "province",
        trust_anchors=world.settings.trust_anchors,  # one national CA signs every agency's certificate
        upstream_forward_interval=0.2,
        upstream_poll_interval=0.3,
    )
    identity = world["north"].identity
    conn = await db.connect(world.settings.database_url)
    try:  # the national axis knows the province's agencies (as registerAgency would have told it)
        async with conn.transaction():
            await agencies.add(conn, "national", NORTH_DEPT, "Sở Nội vụ Tỉnh Thử Nghiệm Bắc")
        version = await history.version(conn)
    finally:
        await conn.close()
    await world.axis.registry.wait_for(version)
    conn = await db.connect(url)
    try:
        async with conn.transaction():
            for code, name in ((NORTH, "UBND Tỉnh Thử Nghiệm Bắc"), (NORTH_DEPT, "Sở Nội vụ Tỉnh Thử Nghiệm Bắc")):
                await agencies.add(conn, "province", code, name)
            await systems.add(conn, "province", "bac-eoffice", "eOffice tỉnh Bắc")
            await systems.bind(conn, "province", "bac-eoffice", NORTH)
            await systems.add_certificate(conn, "province", "bac-eoffice", pki.cert_pem(identity.certificate))
            _, token = await systems.issue_token(conn, "province", "bac-eoffice")
            await users.add(
                conn, "province", "vanthu.tinh", passwords.hash_password(PASSWORD, CHEAP), role=Role.CLERK,
                system_id="bac-eoffice", full_name="Nguyễn Thị Văn Thư",
            )  # fmt: skip
            await links.configure(
                conn, "province", "upstream", endpoint=national.endpoint, system_id="bac", serves=(NORTH,)
            )
            box, _ = SecretBox.load_or_create(settings.vdxp_key_path)
            await links.set_secret(conn, "province", "upstream", national.secrets["north"], box)
    finally:
        await conn.close()
    client = TestClient(TestServer(build_app(settings)))
    await client.start_server()
    try:
        yield Province(client, url, token, identity)
    finally:
        await client.close()
        await amqp.delete_vhost(vhost)
        await pg.drop(db.database_name(url))


def signed_by_north(package: m.Package, province: Province) -> bytes:
    return sign(build(package), province.identity.key, province.identity.cert_chain)


async def arrived(world: World, name: str, timeout: float = 15.0) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    async def some() -> bool:
        body = await world.get("/api/v1/inbox", name)
        found[:] = [item for item in body["items"] if item["type"] == "package"]
        return bool(found)

    await wait_until(some, timeout)
    return found


async def test_a_document_to_an_agency_of_another_province_is_handed_to_the_national_axis(
    national: Sdk, province: Province
) -> None:
    """Stored and acknowledged locally as today, then sent up with sendEdoc: the recipient on the
    national axis gets the very bytes the province's eOffice signed, and the sender's timeline
    names the national axis's DocId."""
    world = national.world
    document = world.document(to=(SOUTH, NORTH_DEPT))
    data = signed_by_north(document, province)
    accepted = await province.post(data)
    assert {r["system"] for r in accepted["recipients"]} == {"upstream", "bac-eoffice"}

    items = await arrived(world, "south")
    assert await world.get(f"/api/v1/packages/{items[0]['package_id']}", "south") == data

    async def handed() -> bool:
        rows = await province.fetch("SELECT state, upstream_doc_id FROM upstream_sent")
        return bool(rows) and rows[0]["state"] == "handed"

    async def acknowledged() -> bool:
        # The worker notes the DocId first, then acknowledges the delivery here (a crash between
        # the two sends nothing twice): on a slow machine the test saw the first without the second.
        timeline = await province.get(f"/api/v1/documents/{document.document_id}/status")
        south = next(r for r in timeline["recipients"] if r["agency"] == SOUTH)
        return bool(south["delivery"]["state"] == "delivered")

    await wait_until(handed)
    await wait_until(acknowledged)
    timeline = await province.get(f"/api/v1/documents/{document.document_id}/status")
    south = next(r for r in timeline["recipients"] if r["agency"] == SOUTH)
    assert south["system"] == "upstream"
    assert south["delivery"]["state"] == "delivered"
    assert south["delivery"]["upstream"]["doc_id"] == str(items[0]["package_id"])
    # The local recipient has it through the local path.
    assert [i["package_id"] for i in await province.inbox()] == [accepted["package_id"]]

    # Statuses from the other province come back down to the sender's timeline.
    status = status_of(document, m.StatusCode.ACCEPTED, "south", SOUTH)
    await world.post(world.signed(status, "south"), "south")

    async def status_arrived() -> bool:
        timeline = await province.get(f"/api/v1/documents/{document.document_id}/status")
        south = next(r for r in timeline["recipients"] if r["agency"] == SOUTH)
        return any(s["code"] == "03" for s in south["statuses"])

    await wait_until(status_arrived, 15)

    # The province's clerk sees the same on the document's page: handed to the national axis, under
    # its DocId there, and the other province's status.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        clerk = Visitor(province.client.make_url("/"), session)
        await clerk.log_in("vanthu.tinh")
        page = await clerk.get(f"/ui/documents/{accepted['package_id']}")
    assert "Đã chuyển lên trục liên thông quốc gia" in page
    assert str(items[0]["package_id"]) in page
    assert 'class="step status status-03"' in page


async def test_a_document_from_another_province_comes_down_once_and_is_delivered_locally(
    national: Sdk, province: Province
) -> None:
    """The national axis lists it for the province's platform; the province's axis takes it,
    stores it, delivers it to its eOffice and only then tells the national axis ``done``. Polling
    on never takes it twice."""
    world = national.world
    document = dataclasses.replace(
        world.document(sender="south", to=(NORTH,)), sender=m.Organization(SOUTH, "UBND Tỉnh Thử Nghiệm Nam")
    )
    data = world.signed(document, "south")
    await world.post(data, "south")

    async def delivered_here() -> bool:
        return bool(await province.inbox())

    await wait_until(delivered_here, 15)
    items = await province.inbox()
    assert await province.get(f"/api/v1/packages/{items[0]['package_id']}") == data

    async def told_done() -> bool:
        rows = await province.fetch("SELECT state, told FROM upstream_received")
        return [(r["state"], r["told"]) for r in rows] == [("done", True)]

    await wait_until(told_done)
    await asyncio.sleep(1.0)  # a few more polls
    assert len(await province.inbox()) == 1
    assert len(await province.fetch("SELECT 1 FROM packages")) == 1

    # The province's eOffice answers with a status: it goes up, to the sender in the other province.
    status = status_of(document, m.StatusCode.ARRIVED, "north", NORTH)
    await province.post(signed_by_north(status, province))

    async def status_at_national() -> bool:
        timeline = await world.get(f"/api/v1/documents/{document.document_id}/status", "south")
        north = next(r for r in timeline["recipients"] if r["agency"] == NORTH)
        return any(s["code"] == "01" for s in north["statuses"])

    await wait_until(status_at_national, 15)


async def test_a_revocation_follows_the_document_up_and_the_answer_comes_back(
    national: Sdk, province: Province
) -> None:
    """The whole life for a revoke: the province's eOffice revokes a document it sent to another
    province; the revocation goes up like the document did, the national axis revokes it there and
    asks the recipient; the recipient's agreement (15) comes back down to the sender's timeline."""
    world = national.world
    document = world.document(to=(SOUTH, NORTH_DEPT))
    await province.post(signed_by_north(document, province))
    await arrived(world, "south")
    revoke = world.document(  # to every recipient: the other province checks only its own
        to=(SOUTH, NORTH_DEPT),
        number=document.code.number,
        notation=document.code.notation,
        date=document.promulgation.date,
        business=m.Business(doc_type=m.BusinessDocType.REVOKE, reason="Ban hành nhầm"),
    )
    await province.post(signed_by_north(revoke, province))

    async def revoked_at_national() -> bool:
        timeline = await world.get(f"/api/v1/documents/{document.document_id}/status", "south")
        return bool(timeline["state"] == "revoked")

    await wait_until(revoked_at_national, 15)
    agree = status_of(document, m.StatusCode.AGREED, "south", SOUTH)
    await world.post(world.signed(agree, "south"), "south")

    async def agreed_here() -> bool:
        timeline = await province.get(f"/api/v1/documents/{document.document_id}/status")
        south = next(r for r in timeline["recipients"] if r["agency"] == SOUTH)
        return timeline["state"] == "revoked" and any(s["code"] == "15" for s in south["statuses"])

    await wait_until(agreed_here, 15)
    sent = await province.fetch("SELECT state FROM upstream_sent")
    assert [r["state"] for r in sent] == ["handed", "handed"]  # the document and the revoke, each once


async def test_a_crash_between_local_intake_and_its_record_takes_the_document_once(
    national: Sdk, province: Province
) -> None:
    """The worker died after storing an upstream document here but before noting it: the next
    worker fetches it again, local intake answers with the package it already has, and the
    province holds it once."""
    world = national.world
    await province.axis.federation.stop()
    document = dataclasses.replace(world.document(sender="south", to=(NORTH,)), sender=m.Organization(SOUTH, "Nam"))
    await world.post(world.signed(document, "south"), "south")
    service = national.service("north")
    listed = await national.ok(service, "getReceivedEdocList", {"servicetype": "eDoc", "messagetype": "edoc"})
    assert listed.items is not None
    got = await national.ok(national.service("north"), "getEdoc", {"docId": listed.items[0]["docId"], "filePath": "x"})
    assert got.data is not None
    upstream_system = province.axis.registry.snapshot.systems["upstream"]
    first = await province.axis.exchange.submit(upstream_system, got.data, via="http")  # ... and then the crash

    province.axis.federation.start()

    async def noted() -> bool:
        rows = await province.fetch("SELECT state, package_id FROM upstream_received")
        return [(r["state"], r["package_id"]) for r in rows] == [("done", first.package_id)]

    await wait_until(noted, 15)
    assert len(await province.fetch("SELECT 1 FROM packages")) == 1


async def test_a_crash_after_the_upstream_took_a_package_sends_it_again_without_effect(
    national: Sdk, province: Province
) -> None:
    """The worker died after the upstream answered OK but before it noted the DocId: the next one
    sends the same bytes again, the upstream answers with the same DocId, the recipient has it once."""
    world = national.world
    await province.axis.federation.stop()
    document = world.document(to=(SOUTH,))
    data = signed_by_north(document, province)
    accepted = await province.post(data)
    conn = await db.connect(province.database_url)
    try:  # what the worker had done before the crash: noted the attempt, and sent it
        await conn.execute(
            "INSERT INTO upstream_sent (package_id, link_id, state, attempts) VALUES ($1, 'upstream', 'sending', 1)",
            uuid.UUID(accepted["package_id"]),
        )
    finally:
        await conn.close()
    sent = await national.ok(
        national.service("north"), "sendEdoc", {"servicetype": "eDoc", "messagetype": "edoc", "from": NORTH}, data
    )

    province.axis.federation.start()

    async def handed() -> bool:
        rows = await province.fetch("SELECT state, upstream_doc_id, attempts FROM upstream_sent")
        return [r["state"] for r in rows] == ["handed"]

    await wait_until(handed, 15)
    rows = await province.fetch("SELECT upstream_doc_id, attempts FROM upstream_sent")
    assert (rows[0]["upstream_doc_id"], rows[0]["attempts"]) == (sent.doc_id, 2)
    assert len(await arrived(world, "south")) == 1


async def test_while_the_upstream_is_unreachable_packages_wait_and_go_when_it_is_back(
    national: Sdk, province: Province
) -> None:
    """A cut link loses nothing: the package waits as a queued delivery (local traffic and
    /readyz unaffected), the link's last error is kept for the operator, and once the upstream
    answers again the package goes up."""
    world = national.world
    conn = await db.connect(province.database_url)
    try:
        async with conn.transaction():
            await links.configure(
                conn, "test", "upstream", endpoint="http://127.0.0.1:9/vdxp", system_id="bac", serves=(NORTH,)
            )
    finally:
        await conn.close()
    document = world.document(to=(SOUTH, NORTH))
    accepted = await province.post(signed_by_north(document, province))
    assert len(await province.inbox()) == 1  # the local recipient has it at once

    async def failing() -> bool:
        rows = await province.fetch("SELECT last_error FROM upstream_links")
        return bool(rows[0]["last_error"]) and "upstream.unreachable" in rows[0]["last_error"]

    await wait_until(failing, 15)
    ready = await province.client.get("/readyz")
    assert ready.status == 200
    waiting = await province.fetch("SELECT state FROM deliveries WHERE system_id = 'upstream'")
    assert [r["state"] for r in waiting] == ["queued"]

    conn = await db.connect(province.database_url)
    try:
        async with conn.transaction():
            await links.configure(
                conn, "test", "upstream", endpoint=national.endpoint, system_id="bac", serves=(NORTH,)
            )
    finally:
        await conn.close()
    province.axis.federation.wake()
    items = await arrived(world, "south", timeout=90)
    assert items[0]["package_id"] != accepted["package_id"]  # the national axis's own id for it


async def test_a_package_the_province_cannot_take_is_kept_and_the_national_axis_told_why(
    national: Sdk, province: Province
) -> None:
    """The national axis knows an agency of the province that the province's own registry does
    not: local intake refuses the package, the province keeps its bytes for an operator, and the
    national axis hears ``fail`` with the reason, which its sender sees on the timeline."""
    world = national.world
    unknown_here = "000.00.07.H98"
    conn = await db.connect(world.settings.database_url)
    try:
        async with conn.transaction():
            await agencies.add(conn, "national", unknown_here, "Sở Mới Tỉnh Thử Nghiệm Bắc")
        version = await history.version(conn)
    finally:
        await conn.close()
    await world.axis.registry.wait_for(version)  # the national axis knows it before the package comes
    document = dataclasses.replace(
        world.document(sender="south", to=(unknown_here,)), sender=m.Organization(SOUTH, "UBND Tỉnh Thử Nghiệm Nam")
    )
    data = world.signed(document, "south")
    await world.post(data, "south")

    async def kept() -> bool:
        rows = await province.fetch("SELECT state, told, reason, body FROM upstream_received")
        return [(r["state"], r["told"]) for r in rows] == [("failed", True)]

    await wait_until(kept, 15)
    (row,) = await province.fetch("SELECT reason, body FROM upstream_received")
    assert row["reason"].startswith("intake.recipient.unknown")
    assert row["body"] == data  # nothing lost: the operator has the very bytes
    timeline = await world.get(f"/api/v1/documents/{document.document_id}/status", "south")
    (recipient,) = timeline["recipients"]
    assert recipient["delivery"]["state"] == "failed"
    assert "intake.recipient.unknown" in recipient["delivery"]["failed_reason"]


async def test_a_revocation_listed_before_its_document_waits_for_it(national: Sdk, province: Province) -> None:
    """An upstream need not list in order: a revocation met before the document it revokes is
    left untold (listed again), not refused, and takes effect once the document is here."""
    world = national.world
    await province.axis.federation.stop()
    document = dataclasses.replace(world.document(sender="south", to=(NORTH,)), sender=m.Organization(SOUTH, "Nam"))
    await world.post(world.signed(document, "south"), "south")
    revoke = dataclasses.replace(
        document, business=m.Business(doc_type=m.BusinessDocType.REVOKE, reason="Ban hành nhầm")
    )
    await world.post(world.signed(revoke, "south"), "south")
    listed = await national.ok(
        national.service("north"), "getReceivedEdocList", {"servicetype": "eDoc", "messagetype": "edoc"}
    )
    assert listed.items is not None
    first, second = (str(item["docId"]) for item in listed.items)

    # The worker meets the revocation first (as if the upstream had listed it first).
    federation = province.axis.federation
    conn = await db.connect(province.database_url)
    try:
        link = await links.require(conn, "upstream")
        secret = await links.secret(conn, "upstream", SecretBox.load(province.axis.settings.vdxp_key_path))
    finally:
        await conn.close()
    upstream_system = province.axis.registry.snapshot.systems["upstream"]
    await federation._take(link, secret, upstream_system, second, "edoc")
    assert await province.fetch("SELECT 1 FROM upstream_received") == []  # not refused: to be taken again

    federation.start()

    async def revoked_here() -> bool:
        rows = await province.fetch("SELECT upstream_doc_id, state FROM upstream_received ORDER BY received_at")
        return [(r["upstream_doc_id"], r["state"]) for r in rows] == [(first, "done"), (second, "done")]

    await wait_until(revoked_here, 15)
    timeline = await province.get(f"/api/v1/documents/{document.document_id}/status")
    assert timeline["state"] == "revoked"
