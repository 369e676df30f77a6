"""A delivery moves only by the transitions ``axis.exchange.deliveries`` names, each with its event:
queued when the package is accepted, delivered when the recipient acknowledges it, failed when it
cannot get there, queued again when an administrator sends it again. Disabling a system is one
way to fail: what waits for it fails in the very transaction that disables it, and an AMQP sender
is told. Whatever became of its delivery, a recipient still sees the package; a stranger never."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import asyncpg
import pytest
from world import World

from axis.errors import AxisError
from axis.exchange import deliveries, reading, status, store, visibility
from axis.exchange.deliveries import DeliveryState
from axis.registry import systems
from axis.store import db

SOUTH = "000.00.00.H99"


async def state_of(conn: asyncpg.Connection, package_id: str, system_id: str) -> DeliveryState:
    found = await conn.fetchval(
        "SELECT state FROM deliveries WHERE package_id = $1 AND system_id = $2", uuid.UUID(package_id), system_id
    )
    return DeliveryState(found)


async def moves(conn: asyncpg.Connection, package_id: str, system_id: str) -> list[tuple[str, dict[str, Any]]]:
    """The events of the delivery's moves after it was queued, in order."""
    rows = await conn.fetch(
        """SELECT kind, detail FROM events WHERE package_id = $1 AND system_id = $2
              AND kind IN ('failed', 'requeued', 'delivered') ORDER BY id""",
        uuid.UUID(package_id),
        system_id,
    )
    return [(r["kind"], r["detail"]) for r in rows]


async def test_a_delivery_moves_only_from_the_state_each_transition_leaves(
    world: World, conn: asyncpg.Connection
) -> None:
    package_id = (await world.post(world.signed(world.document(to=(SOUTH,)))))["package_id"]
    pid, south = uuid.UUID(package_id), world["south"].system_id
    assert await state_of(conn, package_id, south) == DeliveryState.QUEUED

    # It fails once; failing it again, or sending a delivery that never failed again, does nothing.
    assert await deliveries.fail(conn, south, package_id=pid, reason="the consumer choked") == [pid]
    assert await deliveries.fail(conn, south, package_id=pid, reason="again") == []
    assert await state_of(conn, package_id, south) == DeliveryState.FAILED

    # Sent again: queued, the reason kept in the event only; a second requeue finds nothing failed.
    assert await deliveries.requeue(conn, south, [pid], by="admin:ops") == [pid]
    assert await deliveries.requeue(conn, south, [pid], by="admin:ops") == []
    assert await conn.fetchval(
        "SELECT failed_reason IS NULL AND requeued_at IS NOT NULL FROM deliveries WHERE package_id = $1", pid
    )

    # The recipient takes it: delivered is final, neither failure nor requeue moves it back.
    await world.ack(package_id, "south")
    assert await deliveries.fail(conn, south, package_id=pid, reason="too late") == []
    assert await deliveries.requeue(conn, south, [pid], by="admin:ops") == []
    assert await state_of(conn, package_id, south) == DeliveryState.DELIVERED

    # Each move that happened left its event, and only those did.
    assert [kind for kind, _ in await moves(conn, package_id, south)] == ["failed", "requeued", "delivered"]
    failed, requeued, delivered = await moves(conn, package_id, south)
    assert failed[1] == {"reason": "the consumer choked"}
    assert requeued[1] == {"by": "admin:ops", "previous_reason": "the consumer choked"}
    # The delivered event names the delivery receipt the sender got: one event row says both.
    receipt_id = await conn.fetchval(
        "SELECT id FROM receipts WHERE package_id = $1 AND kind = 'delivery' AND about_system = $2", pid, south
    )
    assert delivered[1]["receipt"] == str(receipt_id)
    assert not await conn.fetchval("SELECT count(*) FROM events WHERE package_id = $1 AND kind = 'receipt'", pid)


async def test_a_disabled_systems_queued_deliveries_fail_with_the_reason_and_the_senders_notice(
    world: World, conn: asyncpg.Connection
) -> None:
    south = world["south"].system_id
    taken = await world.post(world.signed(world.document(sender="bo", to=(SOUTH,), number="11"), by="bo"), by="bo")
    waiting = await world.post(world.signed(world.document(sender="bo", to=(SOUTH,), number="12"), by="bo"), by="bo")
    from_http = (await world.post(world.signed(world.document(to=(SOUTH,), number="13"))))["package_id"]
    await world.ack(taken["package_id"], "south")

    # A disable that does not commit fails nothing: the system and its deliveries go together.
    abandoned = conn.transaction()
    await abandoned.start()
    await systems.update(conn, "test", south, status="disabled")
    await abandoned.rollback()
    assert (await systems.require(conn, south)).active
    assert await state_of(conn, waiting["package_id"], south) == DeliveryState.QUEUED

    async with conn.transaction():
        await systems.update(conn, "test", south, status="disabled")
        # Within the disabling transaction, the AMQP sender's failure notice is already queued
        # (010_failure_notices.sql's trigger reacts to the failure); the HTTP sender finds it by search.
        notices = await conn.fetch("SELECT system_id, payload FROM outbox WHERE kind = 'failure'")
    assert [(n["system_id"], n["payload"]["package_id"]) for n in notices] == [
        (world["bo"].system_id, waiting["package_id"])
    ]
    assert notices[0]["payload"]["reason"] == systems.DISABLED_REASON == "the recipient system was disabled"

    assert await state_of(conn, taken["package_id"], south) == DeliveryState.DELIVERED
    for package_id in (waiting["package_id"], from_http):
        assert await state_of(conn, package_id, south) == DeliveryState.FAILED
        assert await moves(conn, package_id, south) == [("failed", {"reason": "the recipient system was disabled"})]
    # Disabled already: changing another setting fails nothing again.
    await systems.update(conn, "test", south, contact="ops@nam.example")
    assert await moves(conn, from_http, south) == [("failed", {"reason": "the recipient system was disabled"})]


async def test_a_recipient_sees_a_package_whatever_became_of_its_delivery_and_a_stranger_never(
    world: World, conn: asyncpg.Connection
) -> None:
    document = world.document(to=(SOUTH,), number="21")
    package_id = (await world.post(world.signed(document)))["package_id"]
    north, south, bo = world["north"].system_id, world["south"].system_id, world["bo"].system_id
    await deliveries.fail(conn, south, package_id=uuid.UUID(package_id), reason="the consumer choked")

    for system in (north, south):
        assert str((await store.visible_package(conn, package_id, system)).id) == package_id
        assert str((await reading.visible_document(conn, package_id, system)).package_id) == package_id
    with pytest.raises(AxisError) as unknown:
        await store.visible_package(conn, package_id, bo)
    assert unknown.value.code == "package.unknown"
    with pytest.raises(AxisError):
        await reading.visible_document(conn, package_id, bo)
    with pytest.raises(AxisError):
        await status.timeline(conn, document.document_id, bo)

    async def found(system: str, **filters: Any) -> list[str]:
        return [d.package_id for d in await status.search(conn, system, **filters)]

    assert await found(north, direction="sent", delivery="failed") == [package_id]
    assert await found(south, direction="received") == [package_id]
    assert await found(south, direction="sent") == []
    assert await found(north, delivery="waiting") == []
    assert await found(bo) == []


async def test_a_batch_acknowledgement_and_the_relay_noting_what_it_published_wait_for_each_other(
    world: World, conn: asyncpg.Connection
) -> None:
    """Under load a recipient's batch acknowledgement and the relay's note of what RabbitMQ
    confirmed met over the same deliveries, each locking them in the order its plan found them,
    and PostgreSQL broke the deadlock by failing the acknowledgement (a 500). Made to happen here
    for sure: two other transactions hold the two rows while the statements ask for them in
    opposite orders, with plans that take the rows as given; the holders let go one after the
    other. Each statement locks by package, whatever its order or plan, so neither deadlocks."""
    south = world["south"].system_id
    posted = [
        (await world.post(world.signed(world.document(to=(SOUTH,), number=str(30 + n)))))["package_id"]
        for n in range(2)
    ]
    low, high = sorted(uuid.UUID(p) for p in posted)
    documents = {
        r["id"]: r["document_id"]
        for r in await conn.fetch("SELECT id, document_id FROM packages WHERE id = ANY($1)", [low, high])
    }
    opened = [await db.connect(world.settings.database_url) for _ in range(4)]
    hold_low, hold_high, acking, publishing = opened
    try:
        holds = [hold_low.transaction(), hold_high.transaction()]
        for hold, holder, row in zip(holds, (hold_low, hold_high), (low, high), strict=True):
            await hold.start()
            await holder.execute(
                "SELECT 1 FROM deliveries WHERE package_id = $1 AND system_id = $2 FOR UPDATE", row, south
            )

        for statement in (acking, publishing):  # plans that meet the rows in the order given, as under load
            await statement.execute("SET enable_hashjoin = off; SET enable_mergejoin = off; SET enable_seqscan = off")
        receipts = [
            deliveries.DeliveryReceipt(
                package_id=row,
                receipt_id=uuid.uuid4(),
                body=b"<receipt/>",
                document_id=documents[row],
                for_system=world["north"].system_id,
                to_amqp=False,
            )
            for row in (high, low)
        ]
        ack = asyncio.create_task(
            deliveries.deliver(acking, south, at=dt.datetime.now(dt.UTC), how="http ack", receipts=receipts)
        )
        publish = asyncio.create_task(
            publishing.execute(
                "WITH sent AS (SELECT * FROM unnest($1::uuid[], $2::text[]) AS t (package_id, system_id)), "
                + deliveries.mark_published("sent"),
                [low, high],
                [south, south],
            )
        )
        waiting = [acking.get_server_pid(), publishing.get_server_pid()]
        for _ in range(100):  # both statements are waiting for a row lock
            blocked = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1) AND wait_event_type = 'Lock'", waiting
            )
            if blocked == 2:
                break
            await asyncio.sleep(0.05)
        assert blocked == 2
        await holds[1].rollback()  # the acknowledgement would take the high row and wait for the low one
        await asyncio.sleep(0.2)
        await holds[0].rollback()

        assert await asyncio.wait_for(ack, timeout=10) == {low, high}
        await asyncio.wait_for(publish, timeout=10)
    finally:
        for connection in opened:
            await connection.close()
    for row in (low, high):
        assert await state_of(conn, str(row), south) == DeliveryState.DELIVERED
        assert await conn.fetchval(
            "SELECT published_at IS NOT NULL FROM deliveries WHERE package_id = $1 AND system_id = $2", row, south
        )


def test_the_visibility_rule_takes_placeholders_and_aliases_never_values() -> None:
    rule = visibility.rule("$2", "p")
    assert rule.package == f"({rule.sent} OR {rule.received})"
    for bad in (("'nam'", "p"), ("$2", "p; DROP TABLE packages"), ("$0", "p")):
        with pytest.raises(ValueError, match="not a"):
            visibility.rule(*bad)
