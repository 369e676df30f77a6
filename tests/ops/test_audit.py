"""The event log and the registry history are hash-chained: a row edited by hand is found."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys

from world import World

from axis import audit
from axis.registry import agencies


async def test_chains_are_intact_after_real_work_and_a_hand_edit_is_found(world: World) -> None:
    document = world.document(to=("000.00.00.H99", "000.00.00.G98"))
    await world.post(world.signed(document))
    async with world.axis.pool.acquire() as conn:
        await agencies.rename(conn, "test", "000.00.11.H99", "Sở Tài chính (đổi tên)")
        assert await audit.link(conn, settle=dt.timedelta(0)) > 0  # what the linker does every second
        for chain in audit.CHAINS:
            report = await audit.verify(conn, chain)
            assert report.intact, report
            assert report.rows > 0
        # Someone with database access rewrites history: the accepted event now names another digest.
        victim = await conn.fetchrow(
            "SELECT id, chain_seq FROM events WHERE kind = 'queued' ORDER BY chain_seq LIMIT 1"
        )
        await conn.execute("UPDATE events SET agency_code = '000.00.00.G01' WHERE id = $1", victim["id"])
        report = await audit.verify(conn, "events")
    assert not report.intact
    assert report.broken_at == victim["chain_seq"]
    assert "edited" in report.reason

    env = {**os.environ, "AXIS_DATABASE_URL": world.settings.database_url}
    cli = subprocess.run([sys.executable, "-m", "axis", "audit", "verify"], env=env, capture_output=True, text=True)
    assert cli.returncode == 1
    assert f"events: BROKEN at row {victim['chain_seq']}" in cli.stdout
    assert "registry_history: intact" in cli.stdout


async def test_a_deleted_row_breaks_the_chain(world: World) -> None:
    await world.post(world.signed(world.document(to=("000.00.00.H99", "000.00.00.G98"))))
    async with world.axis.pool.acquire() as conn:
        await audit.link(conn, settle=dt.timedelta(0))
        middle = await conn.fetchval("SELECT chain_seq FROM events ORDER BY chain_seq OFFSET 1 LIMIT 1")
        await conn.execute("DELETE FROM events WHERE chain_seq = $1", middle)
        report = await audit.verify(conn, "events")
    assert report.broken_at == middle
    assert "missing" in report.reason


HISTORY_ROWS = """INSERT INTO registry_history (actor, action, subject_kind, subject_id)
                  SELECT $1, 'agency.rename', 'agency', code FROM unnest($2::text[]) AS t (code)"""


async def test_the_history_chain_holds_through_big_statements_savepoints_and_writers_that_wait(
    world: World,
) -> None:
    """An import writes its whole history in one statement; the chain's head is then written once
    for the statement, not once per row (which made a national import take minutes). Whatever
    the shape of the work, the chain stays one unbroken line in commit order, and its head is
    its last row."""

    async with world.axis.pool.acquire() as first, world.axis.pool.acquire() as second:
        before = await first.fetchval("SELECT count(*) FROM registry_history")
        async with first.transaction():
            await first.execute(HISTORY_ROWS, "import", [f"000.00.{n:02}.H99" for n in range(1, 51)])
            await first.execute(HISTORY_ROWS, "admin", ["000.00.00.G98"])
            abandoned = first.transaction()  # a savepoint: its rows and its head go back
            await abandoned.start()
            await first.execute(HISTORY_ROWS, "admin", ["000.00.00.G01", "000.00.00.G02"])
            await abandoned.rollback()
            await first.execute(HISTORY_ROWS, "admin", ["000.00.00.G03"])
            waiting = asyncio.create_task(second.execute(HISTORY_ROWS, "other", ["000.00.00.G04"]))
            await asyncio.sleep(0.3)
            assert not waiting.done()  # another writer waits for this transaction's end
        await waiting
        report = await audit.verify(first, "registry_history")
        assert report.intact, report
        assert await first.fetchval("SELECT count(*) FROM registry_history") == before + 53
        last = await first.fetchrow("SELECT actor, subject_id FROM registry_history ORDER BY chain_seq DESC LIMIT 1")
        assert (last["actor"], last["subject_id"]) == ("other", "000.00.00.G04")


async def test_verify_walks_a_long_chain_in_short_batches_and_reports_its_progress(world: World) -> None:
    """On a year of events the walk takes minutes: it goes in batches (no snapshot held for the
    whole walk) and says how far it is; a batch boundary changes nothing in what it finds."""
    for number in range(3):
        await world.post(world.signed(world.document(to=("000.00.00.H99", "000.00.00.G98"), number=str(number))))
    seen: list[tuple[int, int]] = []
    async with world.axis.pool.acquire() as conn:
        await audit.link(conn, settle=dt.timedelta(0))
        whole = await audit.verify(conn, "events")
        batched = await audit.verify(conn, "events", batch=2, progress=lambda done, total: seen.append((done, total)))
        third = await conn.fetchval("SELECT id FROM events WHERE chain_seq = 3")
        await conn.execute("UPDATE events SET kind = 'edited' WHERE id = $1", third)
        broken = await audit.verify(conn, "events", batch=2)
    assert batched == whole
    assert whole.intact
    assert whole.rows > 4
    assert [done for done, _ in seen] == sorted({min(n, whole.rows) for n in range(2, whole.rows + 2, 2)})
    assert {total for _, total in seen} == {whole.rows}
    assert (broken.broken_at, broken.broken_id) == (3, third)
