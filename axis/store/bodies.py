"""Where a package's bytes live: in its row when small, in 1 MiB chunks when large.

asyncpg sends a parameter by building the whole Bind message and copying it into the socket's
buffer: storing a 50 MB package as one value cost the axis three more copies of it. COPY sends
rows as it goes, with flow control, so a chunked body costs a chunk; and serving one reads a chunk
at a time. Chunks are written once, in the package's own transaction, and never change.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable

import asyncpg

from axis.errors import AxisError
from axis.store.db import Conn

CHUNK = 1 << 20  # bytes per chunk; bodies up to this size stay in packages.body


def chunk_count(size: int) -> int:
    """How many chunks a body of ``size`` bytes is stored in (0: in the package row)."""
    return 0 if size <= CHUNK else -(-size // CHUNK)


async def write(conn: Conn, package_id: uuid.UUID, chunks: Iterable[bytes | memoryview]) -> None:
    """Store a large body's chunks of ``CHUNK`` bytes, in order (inside the transaction that
    inserted its package row)."""
    await conn.copy_records_to_table(
        "package_chunks",
        columns=("package_id", "seq", "bytes"),
        records=((package_id, seq, chunk) for seq, chunk in enumerate(chunks)),
    )


async def read(conn: Conn, package_id: uuid.UUID, chunks: int) -> bytes:
    """The whole body of a chunked package, for readers that need it whole."""
    return b"".join([part async for part in parts(conn, package_id, chunks)])


async def parts(conn: Conn, package_id: uuid.UUID, chunks: int) -> AsyncIterator[bytes]:
    """The chunks in order, on one connection (to spool a body somewhere else than memory)."""
    for seq in range(chunks):
        yield await _chunk(conn, package_id, seq)


async def stream(
    pool: asyncpg.Pool, package_id: uuid.UUID, chunks: int, *, acquire_timeout: float = 5.0
) -> AsyncIterator[bytes]:
    """The chunks in order, each read with a connection of its own: a slow download holds no
    connection between chunks."""
    for seq in range(chunks):
        async with pool.acquire(timeout=acquire_timeout) as conn:
            part = await _chunk(conn, package_id, seq)
        yield part


async def _chunk(conn: Conn, package_id: uuid.UUID, seq: int) -> bytes:
    part: bytes | None = await conn.fetchval(
        "SELECT bytes FROM package_chunks WHERE package_id = $1 AND seq = $2", package_id, seq
    )
    if part is None:  # moved to the archive while being read
        raise AxisError(
            "package.archived", f"Package {package_id} was archived while being read; fetch it again.", seq=seq
        )
    return part
