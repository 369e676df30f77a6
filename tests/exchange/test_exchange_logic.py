"""The exchange's own logic, told without servers: intake, repeats, acknowledgement, statuses and
revocation through an ``Exchange`` whose ledger is in memory (``axis.exchange.memory``), whose
registry is a snapshot built here, and whose RabbitMQ is ``axis.broker.memory``'s; no socket is
opened. Each story runs a second time on ``PostgresLedger`` over a database of its own, which
holds the memory ledger to PostgreSQL's behaviour. The whole axis over HTTP, AMQP and real
RabbitMQ is in ``test_exchange.py``, ``test_flows.py`` and ``test_reliability.py``."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import builders
import pytest
from world import status_of

from axis import pki
from axis.broker.memory import MemoryOutbox, MemoryPublisher
from axis.broker.outbox import OutboxKind
from axis.broker.relay import OutboxRelay
from axis.edxml import build, sign
from axis.edxml import model as m
from axis.edxml.trust import TrustAnchors, fingerprint
from axis.edxml.xmlsafe import Limits
from axis.errors import AxisError
from axis.exchange.deliveries import DeliveryState
from axis.exchange.freshness import Window
from axis.exchange.memory import Event, MemoryLedger
from axis.exchange.service import Exchange
from axis.registry import agencies, systems
from axis.registry.model import Agency, Certificate, Snapshot, System
from axis.registry.resolve import Resolver
from axis.store import db

NORTH, SOUTH, BO = "000.00.00.H98", "000.00.00.H99", "000.00.00.G98"


@dataclass(frozen=True)
class Party:
    system: System
    code: str
    identity: pki.Identity


@dataclass(frozen=True)
class Registry:
    """The registry as the exchange sees it: a snapshot, no database behind it."""

    resolver: Resolver


class PostgresTables:
    """What the stories read of the ledger, read from PostgreSQL as ``MemoryLedger`` answers it."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def state_of(self, package_id: uuid.UUID, system_id: str) -> DeliveryState | None:
        state = await self._pool.fetchval(
            "SELECT state FROM deliveries WHERE package_id = $1 AND system_id = $2", package_id, system_id
        )
        return None if state is None else DeliveryState(state)

    async def events_of(self, document_id: str) -> list[Event]:
        rows = await self._pool.fetch(
            """SELECT document_id, package_id, kind, system_id, agency_code, detail FROM events
                WHERE document_id = $1 ORDER BY id""",
            document_id,
        )
        return [Event(**dict(r)) for r in rows]

    async def document_state(self, document_id: str) -> str | None:
        state: str | None = await self._pool.fetchval("SELECT state FROM documents WHERE document_id = $1", document_id)
        return state

    async def outbox(self) -> list[tuple[str, OutboxKind, str]]:
        rows = await self._pool.fetch("SELECT message_id, kind, system_id FROM outbox ORDER BY id")
        return [(r["message_id"], OutboxKind(r["kind"]), r["system_id"]) for r in rows]

    async def packages(self) -> int:
        count: int = await self._pool.fetchval("SELECT count(*) FROM packages")
        return count


class MemoryTables:
    def __init__(self, ledger: MemoryLedger) -> None:
        self._ledger = ledger

    async def state_of(self, package_id: uuid.UUID, system_id: str) -> DeliveryState | None:
        return self._ledger.state_of(package_id, system_id)

    async def events_of(self, document_id: str) -> list[Event]:
        return self._ledger.events_of(document_id)

    async def document_state(self, document_id: str) -> str | None:
        return self._ledger.document_state(document_id)

    async def outbox(self) -> list[tuple[str, OutboxKind, str]]:
        return self._ledger.outbox

    async def packages(self) -> int:
        return self._ledger.packages


class Offline:
    """Three agencies on three systems (north and south over HTTP, bo over AMQP), one CA; the
    ledger in memory, or in PostgreSQL when given a pool."""

    def __init__(self, pool: asyncpg.Pool | None = None) -> None:
        ca = pki.new_ca("Offline CA")
        self.parties = {
            name: Party(System(system_id, f"Hệ thống {system_id}", delivery_amqp=amqp), code, pki.issue(ca, code, name))
            for name, system_id, code, amqp in (
                ("north", "bac", NORTH, False),
                ("south", "nam", SOUTH, False),
                ("bo", "bo", BO, True),
            )
        }
        snapshot = Snapshot(
            version=1,
            agencies={p.code: Agency(p.code, f"Cơ quan {p.code}") for p in self.parties.values()},
            systems={p.system.id: p.system for p in self.parties.values()},
            bindings={p.code: p.system.id for p in self.parties.values()},
            certificates={
                fingerprint(p.identity.certificate): Certificate(
                    fingerprint(p.identity.certificate),
                    p.system.id,
                    p.identity.certificate.subject.rfc4514_string(),
                    p.code,
                    p.identity.certificate.not_valid_before_utc,
                    p.identity.certificate.not_valid_after_utc,
                )
                for p in self.parties.values()
            },
        )
        memory = MemoryLedger() if pool is None else None
        self.tables: MemoryTables | PostgresTables = MemoryTables(memory) if memory else PostgresTables(pool)
        self.entries = "axis.exchange.memory._MemoryEntries" if memory else "axis.exchange.ledger._PostgresEntries"
        self.rabbitmq = MemoryPublisher()
        self.exchange = Exchange(
            pool=pool,
            ledger=memory,
            registry=Registry(Resolver(snapshot)),
            relay=OutboxRelay(MemoryOutbox(), self.rabbitmq),
            trust=TrustAnchors((ca.certificate,)),
            identity=pki.issue(ca, None, "Trục liên thông (offline)", key_type="ec"),
            limits=Limits(),
            executor=None,
            timestamps=Window.of(600, 0),  # the packages carry fixed dates
        )

    def system(self, name: str) -> System:
        return self.parties[name].system

    def signed(self, package: m.Package, by: str) -> bytes:
        party = self.parties[by]
        return sign(build(package), party.identity.key, party.identity.cert_chain)

    def document(self, by: str, to: tuple[str, ...], **kw: Any) -> m.DocumentPackage:
        return builders.document(sender=self.parties[by].code, recipients=to, **kw)


@pytest.fixture(params=["memory", "postgresql"])
def database(request: pytest.FixtureRequest) -> str | None:
    """No database and no network for the ledger in memory; a database of its own otherwise."""
    if request.param == "memory":
        request.getfixturevalue("no_network")
        return None
    url: str = request.getfixturevalue("database_url")
    return url


@pytest.fixture
async def axis(database: str | None) -> AsyncIterator[Offline]:
    if database is None:
        yield Offline()
        return
    pool = await db.create_pool(database, max_size=3)
    try:
        built = Offline(pool)
        async with pool.acquire() as conn:  # the rows the tables' foreign keys need
            for party in built.parties.values():
                await agencies.add(conn, "test", party.code, f"Cơ quan {party.code}")
                await systems.add(
                    conn, "test", party.system.id, party.system.name, delivery_amqp=party.system.delivery_amqp
                )
        yield built
    finally:
        await pool.close()


async def test_a_document_is_kept_queued_for_each_system_and_published_only_to_amqp_ones(axis: Offline) -> None:
    data = axis.signed(axis.document("north", (SOUTH, BO)), "north")
    accepted = await axis.exchange.submit(axis.system("north"), data, via="http")

    assert not accepted.repeated
    assert [(r.requested, r.system) for r in accepted.recipients] == [(SOUTH, "nam"), (BO, "bo")]
    for system in ("nam", "bo"):
        assert await axis.tables.state_of(accepted.package_id, system) is DeliveryState.QUEUED
    # The outbox row is written with the package; the AMQP system's copy went out after commit,
    # with the bytes inline; the HTTP system finds it in its inbox.
    assert await axis.tables.outbox() == [(str(accepted.package_id), OutboxKind.PACKAGE, "bo")]
    assert [(p.system_id, p.message_id) for p in axis.rabbitmq.published] == [("bo", str(accepted.package_id))]
    assert axis.rabbitmq.published[0].body == data
    waiting = await axis.exchange.inbox(axis.system("south"), limit=10)
    assert [(i.type, i.id) for i in waiting] == [("package", accepted.package_id)]
    # The sender's acceptance receipt waits in its own inbox.
    assert [i.type for i in await axis.exchange.inbox(axis.system("north"), limit=10)] == ["receipt"]


async def test_the_same_bytes_again_get_the_first_answer_and_other_content_is_a_conflict(axis: Offline) -> None:
    document = axis.document("north", (SOUTH,))
    data = axis.signed(document, "north")
    first = await axis.exchange.submit(axis.system("north"), data, via="http")
    again = await axis.exchange.submit(axis.system("north"), data, via="http")

    assert again.repeated
    assert again.package_id == first.package_id
    assert (again.recipients, again.signature_policy, again.quirks) == (
        first.recipients,
        first.signature_policy,
        first.quirks,
    )
    assert await axis.tables.packages() == 1

    other = axis.document("north", (SOUTH,), subject="Một nội dung khác")
    with pytest.raises(AxisError) as conflict:
        await axis.exchange.submit(axis.system("north"), axis.signed(other, "north"), via="http")
    assert conflict.value.code == "intake.duplicate"
    assert await axis.tables.packages() == 1


async def test_an_acknowledgement_delivers_once_and_the_sender_gets_one_receipt(axis: Offline) -> None:
    accepted = await axis.exchange.submit(
        axis.system("bo"), axis.signed(axis.document("bo", (SOUTH,)), "bo"), via="amqp"
    )
    south = axis.system("south")
    done = await axis.exchange.acknowledge(south, str(accepted.package_id))
    assert (done.state, done.newly_delivered) == (DeliveryState.DELIVERED, True)
    again = await axis.exchange.acknowledge(south, str(accepted.package_id))
    assert (again.state, again.newly_delivered) == (DeliveryState.DELIVERED, False)

    # bo is an AMQP sender: its acceptance and its one delivery receipt went to its queue.
    receipts = [p for p in axis.rabbitmq.published if p.kind == "receipt"]
    assert len(receipts) == 2
    assert receipts[-1].correlation_id == str(accepted.package_id)
    with pytest.raises(AxisError) as unknown:
        await axis.exchange.acknowledge(axis.system("north"), str(accepted.package_id))
    assert unknown.value.code == "package.unknown"


async def test_a_status_from_the_recipient_acknowledges_what_waits_and_is_kept_in_the_history(
    axis: Offline,
) -> None:
    document = axis.document("north", (SOUTH,))
    accepted = await axis.exchange.submit(axis.system("north"), axis.signed(document, "north"), via="http")
    status = status_of(document, m.StatusCode.ARRIVED, "south", SOUTH)
    await axis.exchange.submit(axis.system("south"), axis.signed(status, "south"), via="http")

    assert await axis.tables.state_of(accepted.package_id, "nam") is DeliveryState.DELIVERED
    kinds = [
        (e.kind, e.detail.get("code") or e.detail.get("how")) for e in await axis.tables.events_of(document.document_id)
    ]
    assert ("status", "01") in kinds
    assert ("delivered", "status 01") in kinds

    # A status about a document the axis never carried is refused, and nothing is kept of it.
    stranger = status_of(axis.document("north", (SOUTH,), number="7"), m.StatusCode.ARRIVED, "south", SOUTH)
    with pytest.raises(AxisError) as unknown:
        await axis.exchange.submit(axis.system("south"), axis.signed(stranger, "south"), via="http")
    assert unknown.value.code == "status.document.unknown"
    assert await axis.tables.packages() == 2


async def test_a_revocation_revokes_the_document_and_asks_each_recipient_to_agree(axis: Offline) -> None:
    document = axis.document("north", (SOUTH,))
    await axis.exchange.submit(axis.system("north"), axis.signed(document, "north"), via="http")
    revoke = axis.document(  # the same DocumentId, with the intent to revoke it
        "north",
        (SOUTH,),
        number=document.code.number,
        notation=document.code.notation,
        date=document.promulgation.date,
        business=m.Business(doc_type=m.BusinessDocType.REVOKE, reason="Ban hành nhầm"),
    )
    await axis.exchange.submit(axis.system("north"), axis.signed(revoke, "north"), via="http")

    assert await axis.tables.document_state(document.document_id) == "revoked"
    asked = [e for e in await axis.tables.events_of(document.document_id) if e.kind == "business"]
    assert [(e.agency_code, e.detail["type"]) for e in asked] == [(SOUTH, int(m.BusinessDocType.REVOKE))]


async def test_a_failure_inside_the_transaction_leaves_nothing_behind(
    axis: Offline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A package that acts on a document is kept in one transaction: when a step fails after the
    package was stored, neither the package nor its deliveries remain, and nothing is published."""
    document = axis.document("north", (SOUTH,))
    await axis.exchange.submit(axis.system("north"), axis.signed(document, "north"), via="http")
    status = status_of(document, m.StatusCode.ARRIVED, "south", SOUTH)
    events = len(await axis.tables.events_of(document.document_id))

    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("the disk is full")

    published = len(axis.rabbitmq.published)
    monkeypatch.setattr(f"{axis.entries}.add_event", broken)
    with pytest.raises(RuntimeError):
        await axis.exchange.submit(axis.system("south"), axis.signed(status, "south"), via="http")
    assert await axis.tables.packages() == 1
    assert len(await axis.tables.events_of(document.document_id)) == events
    assert len(axis.rabbitmq.published) == published
