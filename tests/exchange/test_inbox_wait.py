"""Agency software that pulls over HTTP waits for its inbox instead of asking again and again: the
axis answers as soon as a document or a receipt arrives (``GET /api/v1/inbox?wait=N``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from world import World

from axis.exchange import wakeups
from axis.exchange.wakeups import Wakeups


@pytest.fixture
def no_safety_net(monkeypatch: pytest.MonkeyPatch) -> None:
    """Waiters never read the inbox again on their own: only the database's word wakes them."""
    monkeypatch.setattr(wakeups, "RECHECK", 600.0)


async def test_a_system_waiting_for_its_inbox_gets_the_document_as_it_arrives(
    world: World, no_safety_net: None
) -> None:
    waiting = asyncio.create_task(world.get("/api/v1/inbox?wait=30&type=package", "south"))
    await asyncio.sleep(0.3)  # the request is waiting by now (an empty inbox)
    assert not waiting.done()

    accepted = await world.post(world.signed(world.document(to=("000.00.00.H99",))))

    async with asyncio.timeout(20):  # far less than its wait: woken, not timed out
        answer = await waiting
    assert [item["id"] for item in answer["items"]] == [accepted["package_id"]]


async def test_the_sender_waiting_for_receipts_gets_the_delivery_receipt_as_it_is_signed(
    world: World, no_safety_net: None
) -> None:
    accepted = await world.post(world.signed(world.document(to=("000.00.00.H99",))))
    package_id = accepted["package_id"]
    acceptance = (await world.get("/api/v1/inbox?type=receipt", "north"))["items"]
    response = await world.client.post(
        "/api/v1/inbox/ack", json={"receipts": [r["id"] for r in acceptance]}, headers=world["north"].headers
    )
    assert response.status == 200

    waiting = asyncio.create_task(world.get("/api/v1/inbox?wait=30&type=receipt", "north"))
    await asyncio.sleep(0.3)
    assert not waiting.done()
    await world.ack(package_id, "south")

    async with asyncio.timeout(20):
        answer = await waiting
    assert [(item["kind"], item["package_id"]) for item in answer["items"]] == [("delivery", package_id)]


async def test_an_inbox_that_stays_empty_answers_empty_once_the_wait_is_over(world: World) -> None:
    assert (await world.get("/api/v1/inbox?wait=1", "dept"))["items"] == []


async def test_a_wait_longer_than_thirty_seconds_is_refused(world: World) -> None:
    answer = await world.get("/api/v1/inbox?wait=31", "south", expect=400)
    assert answer["error"]["code"] == "http.bad_request"
    assert answer["error"]["details"]["parameter"] == "wait"


@pytest.fixture
async def listening(world: World) -> AsyncIterator[asyncio.Queue[str]]:
    """What the database tells on ``axis_inbox``, as a listening axis process hears it."""
    heard: asyncio.Queue[str] = asyncio.Queue()
    conn = await asyncpg.connect(world.settings.database_url)
    await conn.add_listener(wakeups.CHANNEL, lambda *args: heard.put_nowait(args[-1]))
    yield heard
    await conn.close()


async def test_the_database_tells_of_every_arrival_whichever_path_wrote_it(
    world: World, listening: asyncio.Queue[str], conn: asyncpg.Connection
) -> None:
    accepted = await world.post(world.signed(world.document(to=("000.00.00.H99", "000.00.11.H99"))))
    # Intake: a delivery for each recipient system, the acceptance receipt for the sender's.
    told = {await asyncio.wait_for(listening.get(), 10) for _ in range(3)}
    assert told == {"nam", "nam-stc", world["north"].system_id}

    # A delivery back in the queue (requeued after a failure) is told again; a fetch is not.
    await conn.execute(
        "UPDATE deliveries SET state = 'failed' WHERE package_id = $1 AND system_id = 'nam'", accepted["package_id"]
    )
    await world.get(f"/api/v1/packages/{accepted['package_id']}", "dept")
    await conn.execute(
        "UPDATE deliveries SET state = 'queued' WHERE package_id = $1 AND system_id = 'nam'", accepted["package_id"]
    )
    assert await asyncio.wait_for(listening.get(), 10) == "nam"
    assert listening.empty()


async def test_a_waiter_that_read_an_empty_inbox_is_still_woken_by_what_arrived_just_after() -> None:
    waits = Wakeups()
    ticket = waits.ticket("nam")  # taken before reading the inbox
    waits.on_notify(None, 0, wakeups.CHANNEL, "nam")  # arrives between the read and the wait
    await waits.wait(ticket, 600)  # returns at once
    assert waits.ticket("nam") is not ticket  # the next waiter waits for the next arrival


async def test_shutting_down_answers_every_waiting_request() -> None:
    waits = Wakeups()
    ticket = waits.ticket("nam")
    waiter = asyncio.create_task(waits.wait(ticket, 600))
    await asyncio.sleep(0)
    waits.close()
    async with asyncio.timeout(5):
        await waiter
    assert waits.closed
    assert waits.ticket("nam").is_set()  # a request arriving now does not wait either
