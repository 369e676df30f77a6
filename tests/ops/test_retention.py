"""Old packages leave PostgreSQL for compressed files; receipts, digests and the log stay."""

from __future__ import annotations

import datetime as dt
import lzma

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
