"""Retention: move old packages' bytes out of PostgreSQL into compressed files, keep the rest.

A package is archived once it is older than the configured age and nothing waits for it (no
delivery still queued). Its bytes go to ``<archive>/<YYYY>/<MM>/<package id>.edxml.xz``, written
to a temporary name, synced, read back and checked against the package's SHA-256 digest before the
database lets go of them; the row keeps its digest, the receipts and the event log stay. Fetching an
archived package reads it back from the file (checked again), or answers 410 when the file is gone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import lzma
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from axis.errors import AxisError
from axis.store import bodies
from axis.store.db import Conn


@dataclass(frozen=True, slots=True)
class RetentionReport:
    candidates: int
    archived: int
    bytes_freed: int


def archive_path(directory: Path, package_id: uuid.UUID, received_at: dt.datetime) -> Path:
    return directory / f"{received_at:%Y}" / f"{received_at:%m}" / f"{package_id}.edxml.xz"


def write_archive(path: Path, data: bytes, digest: str) -> None:
    """Write, sync and verify one archived package (never leaves a half-written file in place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    with open(temporary, "wb") as handle:
        handle.write(lzma.compress(data, preset=6))
        handle.flush()
        os.fsync(handle.fileno())
    if read_archive(temporary, digest) != data:
        raise OSError(f"archive {temporary} does not read back as written")
    os.replace(temporary, path)


def read_archive(path: Path, digest: str) -> bytes:
    data = lzma.decompress(path.read_bytes())
    if hashlib.sha256(data).hexdigest() != digest:
        raise AxisError("package.archived", f"The archive {path.name} does not match the package's digest.")
    return data


async def count_candidates(conn: Conn, *, older_than: dt.timedelta) -> int:
    """How many packages ``run`` would archive now, all batches together (a dry run's answer, and
    the total a progress bar counts towards)."""
    count: int = await conn.fetchval(
        """SELECT count(*) FROM packages p
            WHERE p.archived_at IS NULL AND p.received_at < now() - $1::interval
              AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.package_id = p.id AND d.state = 'queued')""",
        older_than,
    )
    return count


async def run(
    conn: Conn, directory: Path, *, older_than: dt.timedelta, dry_run: bool = False, batch: int = 200
) -> RetentionReport:
    rows = await conn.fetch(
        """SELECT p.id, p.received_at, p.digest, p.size, p.document_id, p.chunks FROM packages p
            WHERE p.archived_at IS NULL AND p.received_at < now() - $1::interval
              AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.package_id = p.id AND d.state = 'queued')
            ORDER BY p.received_at LIMIT $2""",
        older_than,
        batch,
    )
    if dry_run:
        return RetentionReport(len(rows), 0, 0)
    archived = freed = 0
    manifest = directory / "manifest.jsonl"
    for row in rows:
        data: bytes = (
            await bodies.read(conn, row["id"], row["chunks"])
            if row["chunks"]
            else await conn.fetchval("SELECT body FROM packages WHERE id = $1", row["id"])
        )
        path = archive_path(directory, row["id"], row["received_at"])
        write_archive(path, data, row["digest"])
        async with conn.transaction():
            done = await conn.fetchval(
                # Checked again here: a delivery requeued since the candidates were read (which
                # locks the package's row meanwhile) still needs the bytes.
                """UPDATE packages p SET body = ''::bytea, chunks = 0, archived_at = now(), archive_path = $2
                    WHERE id = $1 AND archived_at IS NULL
                      AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.package_id = p.id AND d.state = 'queued')
                   RETURNING id""",
                row["id"],
                str(path.relative_to(directory)),
            )
            if done is None:
                continue
            await conn.execute("DELETE FROM package_chunks WHERE package_id = $1", row["id"])
            await conn.execute(
                """INSERT INTO events (document_id, package_id, kind, detail)
                   VALUES ($1, $2, 'archived', jsonb_build_object('path', $3::text, 'digest', $4::text))""",
                row["document_id"],
                row["id"],
                str(path.relative_to(directory)),
                row["digest"],
            )
        with open(manifest, "a", encoding="utf-8") as handle:
            entry = {"package_id": str(row["id"]), "digest": row["digest"], "size": row["size"], "path": str(path)}
            handle.write(json.dumps(entry) + "\n")
        archived += 1
        freed += row["size"]
    return RetentionReport(len(rows), archived, freed)
