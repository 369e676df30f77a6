"""Old packages leave PostgreSQL for compressed files; receipts, digests and the log stay."""

from __future__ import annotations

import datetime as dt
import lzma
import os
import subprocess
import sys
from pathlib import Path

from world import World

from axis import audit, retention


async def test_retention_archives_old_delivered_packages_and_they_can_still_be_fetched(world: World) -> None:
    delivered = await world.post(world.signed(world.document(to=("000.00.00.H99",), number="1")))
    waiting = await world.post(world.signed(world.document(to=("000.00.00.G98",), number="2")))
    await world.ack(delivered["package_id"], "south")
    original = await world.get(f"/api/v1/packages/{delivered['package_id']}", "south")
    archive = world.settings.archive_dir
    async with world.axis.pool.acquire() as conn:
        await conn.execute("UPDATE packages SET received_at = received_at - interval '400 days'")
        dry = await retention.run(conn, archive, older_than=dt.timedelta(days=365), dry_run=True)
        report = await retention.run(conn, archive, older_than=dt.timedelta(days=365))
        rows = {
            str(r["id"]): r
            for r in await conn.fetch("SELECT id, length(body) AS n, archive_path, digest FROM packages")
        }
        await audit.link(conn, settle=dt.timedelta(0))
        chains = [await audit.verify(conn, chain) for chain in audit.CHAINS]
    assert dry.candidates == 1  # the ministry has not taken its package yet: it stays
    assert report.archived == 1
    archived = rows[delivered["package_id"]]
    assert archived["n"] == 0
    assert lzma.decompress((archive / archived["archive_path"]).read_bytes()) == original
    assert rows[waiting["package_id"]]["archive_path"] is None
    # Fetching reads the file back (checked against the digest); the receipts are untouched.
    assert await world.get(f"/api/v1/packages/{delivered['package_id']}", "south") == original
    assert (await world.get(f"/api/v1/packages/{delivered['package_id']}/receipt", "north")).startswith(b"<?xml")
    assert all(c.intact for c in chains)
    # Without the file, the package is gone (410), not an error.
    (archive / archived["archive_path"]).unlink()
    gone = await world.get(f"/api/v1/packages/{delivered['package_id']}", "south", expect=410)
    assert gone["error"]["code"] == "package.archived"


async def test_an_operator_archives_a_backlog_batch_after_batch_and_the_dry_run_counts_all_of_it(
    world: World, tmp_path: Path
) -> None:
    """A year's backlog is archived in rounds, each its own transactions; the dry run counts what
    every round together will take, not one round's worth."""
    packages = []
    for number in range(5):
        posted = await world.post(world.signed(world.document(to=("000.00.00.H99",), number=str(number))))
        await world.ack(posted["package_id"], "south")
        packages.append(posted["package_id"])
    async with world.axis.pool.acquire() as conn:
        await conn.execute("UPDATE packages SET received_at = received_at - interval '400 days'")
    env = {**os.environ, "AXIS_DATABASE_URL": world.settings.database_url}
    command = [sys.executable, "-m", "axis", "retention", "run", "--older-than-days", "365"]
    command += ["--archive-dir", str(tmp_path), "--batch", "2"]

    dry = subprocess.run([*command, "--dry-run"], env=env, capture_output=True, text=True, check=True)
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)

    assert dry.stdout.startswith("5 packages older than 365 days would be archived")
    assert done.stdout.startswith("archived 5 packages")
    async with world.axis.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM packages WHERE archived_at IS NULL") == 0
        assert await retention.count_candidates(conn, older_than=dt.timedelta(days=365)) == 0
