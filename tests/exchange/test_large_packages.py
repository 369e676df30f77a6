"""A large package travels like any other, without the axis holding extra copies of it: its bytes
are stored in 1 MiB chunks, served a chunk at a time, and read whole only by those that need it
whole (the web page, the relay, retention). Every reader gets the bytes exactly as signed."""

from __future__ import annotations

import datetime as dt
import math
import tempfile
from pathlib import Path

import aiohttp
import builders
import pytest
from world import World

from axis import retention
from axis.broker.relay import _load
from axis.exchange import reading
from axis.store import bodies

MINISTRY = "000.00.00.G98"


async def test_a_large_package_is_stored_in_chunks_and_every_reader_gets_it_byte_for_byte(world: World) -> None:
    scan = builders.attachment_of_size(2_300_000, "ban-do-quy-hoach.pdf")  # ~3 MB of base64
    data = world.signed(world.document(to=("000.00.00.H99", MINISTRY), number="31", attachments=(scan,)))
    answer = await world.post(data)
    package_id = answer["package_id"]

    async with world.axis.pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT chunks, length(body) AS inline, size FROM packages WHERE id = $1::uuid", package_id
        )
        stored = await conn.fetch(
            "SELECT seq, length(bytes) AS n FROM package_chunks WHERE package_id = $1::uuid ORDER BY seq", package_id
        )
    assert (row["chunks"], row["inline"], row["size"]) == (math.ceil(len(data) / bodies.CHUNK), 0, len(data))
    assert [r["seq"] for r in stored] == list(range(row["chunks"]))
    assert sum(r["n"] for r in stored) == len(data)

    # HTTP recipient: streamed, with its length announced.
    response = await world.client.get(f"/api/v1/packages/{package_id}", headers=world["south"].headers)
    assert response.status == 200
    assert response.content_length == len(data)
    assert await response.read() == data

    # AMQP recipient (under the inline limit): the bytes are in the message.
    assert (await world.peek("bo")).body == data

    async with world.axis.pool.acquire() as conn:
        # The relay, publishing it again after a lost confirm, reads it whole from the chunks.
        again = await _load(conn, "package", package_id, world["bo"].system_id, world.axis.broker)
        assert again is not None
        assert again.body == data
        # The clerk's page spools it to a file a chunk at a time, and parses it from there.
        shown = await reading.visible_document(conn, package_id, world["south"].system_id)
        with await reading.document_body(conn, shown) as body:
            assert body.spooled
            assert body.data() == data

    # Retention moves it to a file and drops its chunks; fetching reads the file.
    await world.ack(package_id, "south")
    await world.ack(package_id, "bo")
    async with world.axis.pool.acquire() as conn:
        await conn.execute("UPDATE packages SET received_at = received_at - interval '400 days'")
        report = await retention.run(conn, world.settings.archive_dir, older_than=dt.timedelta(days=365))
        left = await conn.fetchval("SELECT count(*) FROM package_chunks WHERE package_id = $1::uuid", package_id)
    assert (report.archived, left) == (1, 0)
    assert await world.get(f"/api/v1/packages/{package_id}", "south") == data


async def test_sending_the_same_large_package_again_stores_nothing_more(world: World) -> None:
    scan = builders.attachment_of_size(1_500_000, "phu-luc.pdf")
    data = world.signed(world.document(number="32", attachments=(scan,)))
    first = await world.post(data)
    again = await world.post(data, expect=200)
    assert again["package_id"] == first["package_id"]
    assert again["repeated"] is True
    assert await world.count("package_chunks") == math.ceil(len(data) / bodies.CHUNK)


async def test_a_large_package_that_cannot_be_spooled_is_try_again_and_nothing_is_stored(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large body goes to a temporary file as it arrives; when that cannot be written (disk
    full, the directory gone) the sender is told to try again, and nothing is half-stored."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "gone"))
    scan = builders.attachment_of_size(1_500_000, "phu-luc.pdf")
    response = await world.client.post(
        "/api/v1/packages",
        data=world.signed(world.document(number="33", attachments=(scan,))),
        headers=world["north"].headers,
    )
    assert response.status == 503
    assert response.headers["Retry-After"] == "30"
    assert (await response.json())["error"]["code"] == "service.unavailable"
    assert await world.count("packages") == 0


async def test_a_download_whose_chunks_vanish_half_way_is_cut_short_not_completed_wrongly(world: World) -> None:
    """The status line is sent before the chunks are read: if the rest disappears mid-way (moved
    to the archive), the download ends short of its Content-Length, so the recipient sees a
    broken transfer rather than a wrong package."""
    scan = builders.attachment_of_size(2_300_000, "ban-do.pdf")
    data = world.signed(world.document(number="34", attachments=(scan,)))
    package_id = (await world.post(data))["package_id"]
    async with world.axis.pool.acquire() as conn:
        await conn.execute("DELETE FROM package_chunks WHERE package_id = $1::uuid AND seq >= 1", package_id)
    response = await world.client.get(f"/api/v1/packages/{package_id}", headers=world["south"].headers)
    assert response.status == 200
    assert response.content_length == len(data)
    with pytest.raises(aiohttp.ClientPayloadError):
        await response.read()
    assert (await world.client.get("/healthz")).status == 200
