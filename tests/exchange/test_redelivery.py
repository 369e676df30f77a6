"""A failed delivery is not the end: once the recipient system is mended, an administrator sends
its failed deliveries again (API, CLI), the recipient takes them once, and the sender sees it all."""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from typing import Any

import asyncpg
import pytest
from world import World, wait_until

from axis.cli import main
from axis.exchange import redelivery
from axis.registry import history, systems
from axis.store import db

SOUTH, MINISTRY = "000.00.00.H99", "000.00.00.G98"


async def admin_headers(world: World) -> dict[str, str]:
    conn = await db.connect(world.settings.database_url)
    try:
        _, token = await systems.issue_admin_token(conn, "test", "ops")
        await world.axis.registrar.caught_up(await history.version(conn))
    finally:
        await conn.close()
    return {"Authorization": f"Bearer {token}"}


async def as_admin(world: World, headers: dict[str, str], method: str, path: str, expect: int, **kw: Any) -> Any:
    response = await world.client.request(method, path, headers=headers, **kw)
    body = await response.json()
    assert response.status == expect, body
    return body


async def recipient(world: World, document_id: str, agency: str) -> dict[str, Any]:
    path = f"/api/v1/documents/{urllib.parse.quote(document_id, safe='')}/status"
    view = await world.get(path, "north")
    entry: dict[str, Any] = next(r for r in view["recipients"] if r["agency"] == agency)
    return entry


async def set_status(world: World, system_id: str, status: str) -> None:
    conn = await db.connect(world.settings.database_url)
    try:
        await systems.update(conn, "test", system_id, status=status)
        await world.axis.registrar.caught_up(await history.version(conn))  # the axis routes by the change from now on
    finally:
        await conn.close()


async def take_one(world: World, *, reject: bool) -> str:
    """The ministry's consumer takes the next message off its queue: rejects it, or acknowledges it."""
    async with await world.amqp_connection("bo") as connection:
        channel = await connection.channel()
        queue = await channel.get_queue(f"axis.system.{world['bo'].system_id}", ensure=False)
        async with asyncio.timeout(10), queue.iterator() as messages:
            async for message in messages:
                if reject:
                    await message.reject(requeue=False)
                else:
                    await message.ack()
                return str(message.message_id)
    raise AssertionError("the queue ended")


async def test_a_rejected_package_is_sent_again_once_the_consumer_is_mended(world: World) -> None:
    document = world.document(to=(MINISTRY,))
    package_id = (await world.post(world.signed(document)))["package_id"]
    assert await take_one(world, reject=True) == package_id

    async def failed() -> bool:
        return (await recipient(world, document.document_id, MINISTRY))["delivery"]["state"] == "failed"

    await wait_until(failed)
    admin = await admin_headers(world)
    bo = world["bo"].system_id
    listed = await as_admin(world, admin, "GET", f"/api/v1/admin/systems/{bo}/failed-deliveries", 200)
    assert listed["total"] == 1
    assert listed["deliveries"][0]["package_id"] == package_id
    assert "rejected" in listed["deliveries"][0]["reason"]
    assert listed["deliveries"][0]["failed_at"] is not None

    # The systems list shows it too, beside what still waits for each system.
    every = await as_admin(world, admin, "GET", "/api/v1/admin/systems", 200)
    deliveries = {s["id"]: s["deliveries"] for s in every["systems"]}
    assert deliveries[bo] == {"queued": 0, "failed": 1, "oldest_queued_at": None}
    assert deliveries["nam"]["failed"] == 0

    # A system's own token may not do it; the administrator may.
    refused = await world.client.post(
        f"/api/v1/admin/systems/{bo}/failed-deliveries/requeue", headers=world["bo"].headers
    )
    assert refused.status == 403
    done = await as_admin(world, admin, "POST", f"/api/v1/admin/systems/{bo}/failed-deliveries/requeue", 200)
    assert done["remaining"] == 0
    assert [r["package_id"] for r in done["requeued"]] == [package_id]
    assert "rejected" in done["requeued"][0]["reason"]
    every = await as_admin(world, admin, "GET", "/api/v1/admin/systems", 200)
    [waiting] = [s["deliveries"] for s in every["systems"] if s["id"] == bo]
    assert (waiting["queued"], waiting["failed"]) == (1, 0)
    # It waits since it was requeued, as the status view's acknowledgement deadline counts.
    [requeued] = (await recipient(world, document.document_id, MINISTRY))["delivery"]["requeued"]
    assert waiting["oldest_queued_at"] == requeued["at"]

    # The consumer, mended, gets the package again and acknowledges it.
    assert await take_one(world, reject=False) == package_id
    await world.ack(package_id, "bo")
    entry = await recipient(world, document.document_id, MINISTRY)
    assert entry["delivery"]["state"] == "delivered"
    assert entry["delivery"]["failed_reason"] is None
    [again] = entry["delivery"]["requeued"]
    assert "rejected" in again["previous_reason"]
    assert "by" not in again  # agencies see that the axis sent it again, not which operator did
    receipts = await world.get(f"/api/v1/packages/{package_id}/receipts", "north")
    assert {r["kind"] for r in receipts["receipts"]} == {"acceptance", "delivery"}
    # Nothing failed is left, and the administrator's act is in the system's history.
    listed = await as_admin(world, admin, "GET", f"/api/v1/admin/systems/{bo}/failed-deliveries", 200)
    assert listed == {"system": bo, "total": 0, "deliveries": []}
    conn = await db.connect(world.settings.database_url)
    try:
        [entry_] = await history.entries(conn, subject_kind="system", subject_id=bo, action="system.requeue")
    finally:
        await conn.close()
    assert entry_.actor == "admin:ops"
    assert entry_.after == {"requeued": 1, "package_ids": [package_id]}


async def test_a_disabled_system_gets_its_documents_again_once_enabled_from_the_cli(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AXIS_DATABASE_URL", world.settings.database_url)
    document = world.document(to=(SOUTH,))
    package_id = (await world.post(world.signed(document)))["package_id"]
    await set_status(world, "nam", "disabled")
    assert (await recipient(world, document.document_id, SOUTH))["delivery"]["failed_reason"] == (
        "the recipient system was disabled"
    )

    # While disabled it would only fail again: refused, and nothing changes.
    assert await asyncio.to_thread(main, ["systems", "requeue", "nam"]) == 1
    assert "registry.system.disabled" in capsys.readouterr().err
    assert (await recipient(world, document.document_id, SOUTH))["delivery"]["state"] == "failed"

    await set_status(world, "nam", "active")
    assert await asyncio.to_thread(main, ["systems", "failed", "nam"]) == 0
    listing = capsys.readouterr().out
    assert package_id in listing
    assert "the recipient system was disabled" in listing
    assert await asyncio.to_thread(main, ["systems", "requeue", "nam"]) == 0
    assert "1 deliveries to nam queued again" in capsys.readouterr().out

    inbox = await world.get("/api/v1/inbox", "south")
    assert [i["package_id"] for i in inbox["items"]] == [package_id]
    await world.ack(package_id, "south")
    entry = await recipient(world, document.document_id, SOUTH)
    assert entry["delivery"]["state"] == "delivered"
    assert entry["delivery"]["requeued"][0]["previous_reason"] == "the recipient system was disabled"


async def test_only_failed_deliveries_go_back_and_a_wrong_name_requeues_nothing(world: World) -> None:
    first, second = world.document(to=(SOUTH,), number="201"), world.document(to=(SOUTH,), number="202")
    failed_id = (await world.post(world.signed(first)))["package_id"]
    await set_status(world, "nam", "disabled")
    await set_status(world, "nam", "active")
    waiting_id = (await world.post(world.signed(second)))["package_id"]  # queued, not failed
    admin = await admin_headers(world)
    path = "/api/v1/admin/systems/nam/failed-deliveries/requeue"

    refused = await as_admin(world, admin, "POST", path, 409, json={"package_ids": [failed_id, waiting_id]})
    assert refused["error"]["code"] == "delivery.not_failed"
    assert refused["error"]["details"]["states"] == {waiting_id: "queued"}
    assert (await recipient(world, first.document_id, SOUTH))["delivery"]["state"] == "failed"  # all or nothing
    unknown = await as_admin(world, admin, "POST", path, 404, json={"package_ids": ["not-a-package"]})
    assert unknown["error"]["code"] == "package.unknown"
    bad = await as_admin(world, admin, "POST", path, 400, json={"package_ids": [1]})
    assert bad["error"]["code"] == "http.bad_request"
    nobody = await as_admin(world, admin, "POST", "/api/v1/admin/systems/nobody/failed-deliveries/requeue", 404)
    assert nobody["error"]["code"] == "registry.system.unknown"

    done = await as_admin(world, admin, "POST", path, 200, json={"package_ids": [failed_id]})
    assert [r["package_id"] for r in done["requeued"]] == [failed_id]
    inbox = await world.get("/api/v1/inbox", "south")
    assert {i["package_id"] for i in inbox["items"]} == {failed_id, waiting_id}


async def test_the_sender_finds_the_documents_that_did_not_reach_every_recipient(world: World) -> None:
    everywhere = world.document(to=(SOUTH, "000.00.11.H99", MINISTRY), number="301")
    south_only = world.document(to=(SOUTH,), number="302")
    everywhere_id = (await world.post(world.signed(everywhere)))["package_id"]
    south_only_id = (await world.post(world.signed(south_only)))["package_id"]
    await world.ack(south_only_id, "south")
    await world.ack(everywhere_id, "dept")
    await set_status(world, "nam", "disabled")  # the southern province's copy of the first fails

    async def search(query: str, by: str = "north", expect: int = 200) -> Any:
        return await world.get(f"/api/v1/documents?{query}", by, expect=expect)

    [failed] = (await search("delivery=failed"))["documents"]
    assert failed["package_id"] == everywhere_id
    assert failed["deliveries"] == {"delivered": 1, "queued": 1, "failed": 1}  # dept took it, bo waits
    assert [d["package_id"] for d in (await search("delivery=waiting"))["documents"]] == [everywhere_id]
    [done] = (await search("delivery=done"))["documents"]
    assert done["package_id"] == south_only_id
    assert done["deliveries"] == {"delivered": 1, "queued": 0, "failed": 0}
    # A recipient counts only the agencies it serves.
    [seen_by_dept] = (await search(f"document_id={urllib.parse.quote(everywhere.document_id)}", "dept"))["documents"]
    assert seen_by_dept["deliveries"] == {"delivered": 1, "queued": 0, "failed": 0}
    wrong = await search("delivery=lost", expect=400)
    assert wrong["error"]["code"] == "http.bad_request"


async def test_many_failures_go_back_a_batch_at_a_time_oldest_first(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AXIS_DATABASE_URL", world.settings.database_url)
    monkeypatch.setattr(redelivery, "BATCH", 2)
    sent = [
        (await world.post(world.signed(world.document(to=(SOUTH,), number=str(500 + i)))))["package_id"]
        for i in range(5)
    ]
    await set_status(world, "nam", "disabled")
    await set_status(world, "nam", "active")
    admin = await admin_headers(world)
    path = "/api/v1/admin/systems/nam/failed-deliveries/requeue"
    first = await as_admin(world, admin, "POST", path, 200)
    assert (sorted(r["package_id"] for r in first["requeued"]), first["remaining"]) == (sorted(sent[:2]), 3)
    # The command line goes on until none is left.
    assert await asyncio.to_thread(main, ["systems", "requeue", "nam"]) == 0
    assert "3 deliveries to nam queued again" in capsys.readouterr().out
    inbox = await world.get("/api/v1/inbox", "south")
    assert sorted(i["package_id"] for i in inbox["items"]) == sorted(sent)


async def test_a_sender_on_amqp_is_told_when_a_delivery_fails(world: World) -> None:
    """As a delivery receipt tells it of a delivery, a 'failure' message tells it of a failure."""
    document = world.document(sender="bo", to=(SOUTH,), number="601")
    package_id = (await world.post(world.signed(document, by="bo"), by="bo"))["package_id"]
    await set_status(world, "nam", "disabled")

    async with await world.amqp_connection("bo") as connection:
        channel = await connection.channel()
        queue = await channel.get_queue(f"axis.system.{world['bo'].system_id}", ensure=False)
        async with asyncio.timeout(10), queue.iterator() as messages:
            async for message in messages:
                await message.ack()
                if (message.headers or {}).get("kind") == "failure":  # after the acceptance receipt
                    break
    assert message.correlation_id == package_id
    assert message.content_type == "application/json"
    notice = json.loads(message.body)
    assert notice | {"failed_at": None} == {
        "package_id": package_id,
        "document_id": document.document_id,
        "package_kind": "document",
        "sender": "000.00.00.G98",
        "recipient_system": "nam",
        "reason": "the recipient system was disabled",
        "failed_at": None,
    }


async def test_disabling_a_system_waits_for_a_requeue_in_progress(world: World) -> None:
    """Else the disable's trigger could miss the rows the requeue is about to make queued."""
    document = world.document(to=(SOUTH,), number="701")
    await world.post(world.signed(document))
    await set_status(world, "nam", "disabled")
    await set_status(world, "nam", "active")
    requeuing = await db.connect(world.settings.database_url)
    disabling = await db.connect(world.settings.database_url)
    try:
        async with requeuing.transaction():
            done = await redelivery.requeue(requeuing, "admin:ops", "nam")
            assert len(done.deliveries) == 1
            await disabling.execute("SET lock_timeout = '300ms'")
            with pytest.raises(asyncpg.LockNotAvailableError):
                await systems.update(disabling, "test", "nam", status="disabled")
        # Once the requeue committed, disabling goes through and fails what it requeued.
        await systems.update(disabling, "test", "nam", status="disabled")
    finally:
        await requeuing.close()
        await disabling.close()
    assert (await recipient(world, document.document_id, SOUTH))["delivery"]["state"] == "failed"


async def test_the_outbox_relay_outlives_an_unexpected_error(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug in one round (faked: no real fault raises it) must not stop every later publication;
    and a delivery requeued right after its first publication is not settled away with it."""
    document = world.document(to=(MINISTRY,), number="801")
    package_id = (await world.post(world.signed(document)))["package_id"]
    assert await take_one(world, reject=True) == package_id
    broker = world.axis.broker
    real_publish, calls = broker.publish, []

    async def publish_failing_once(message: Any) -> None:
        calls.append(message.message_id)
        if len(calls) == 1:
            raise ValueError("a bug in the first round")
        await real_publish(message)

    monkeypatch.setattr(broker, "publish", publish_failing_once)

    async def failed() -> bool:
        return (await recipient(world, document.document_id, MINISTRY))["delivery"]["state"] == "failed"

    await wait_until(failed)
    conn = await db.connect(world.settings.database_url)
    try:
        async with conn.transaction():
            await redelivery.requeue(conn, "admin:ops", world["bo"].system_id)
    finally:
        await conn.close()
    world.axis.relay.nudge()
    assert await take_one(world, reject=False) == package_id  # published by a later round
    assert calls[:2] == [package_id, package_id]
