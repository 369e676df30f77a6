"""Documents as a clerk reads them: one document, its bytes, when its timeline last moved.

Documents are read with the same visibility rule as the API (``axis.exchange.visibility``): the
sender's system or a recipient system, anything else does not exist. Reading a package here does
not count as the recipient system fetching it (``fetched_at`` is the system's, not a clerk's).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from axis.errors import AxisError
from axis.exchange import visibility
from axis.exchange.received import Received
from axis.exchange.status import Timeline
from axis.store import bodies
from axis.store.db import Conn


@dataclass(frozen=True, slots=True)
class StoredDocument:
    package_id: uuid.UUID
    document_id: str
    sender_system: str
    received_at: dt.datetime
    size: int
    chunks: int  # 0: the bytes are in the package row (see ``axis.store.bodies``)
    signature_policy: str  # the rule it was accepted under (axis.edxml.trust.AppliedPolicy)


@dataclass(frozen=True, slots=True)
class Followed:
    """A document's timeline as a page shows and follows it (``Exchange.followed``)."""

    watermark: int  # the newest event read before the view: a later one means "render again"
    view: Timeline
    failed_at: dict[tuple[str, str], dt.datetime]  # (package id, system id) → when it failed


# The package $1 as the system $2 may see it; counterparts: the packages the system $1 may see.
_SEEN = visibility.rule("$2", "p").package


def _unknown(package_id: str) -> AxisError:
    return AxisError("document.unknown", "Không có văn bản này trong hệ thống của bạn.", package_id=package_id)


async def visible_document(conn: Conn, package_id: str, system_id: str) -> StoredDocument:
    """A document package that ``system_id`` sent or received (its bytes: ``document_body``); else 404."""
    try:
        pid = uuid.UUID(package_id)
    except ValueError:
        raise _unknown(package_id) from None
    row = await conn.fetchrow(
        f"""SELECT id, document_id, sender_system, received_at, size, chunks, signature_policy FROM packages p
             WHERE p.id = $1 AND p.kind = 'document' AND {_SEEN}""",
        pid,
        system_id,
    )
    if row is None:
        raise _unknown(package_id)
    return StoredDocument(
        package_id=row["id"],
        document_id=row["document_id"],
        sender_system=row["sender_system"],
        received_at=row["received_at"],
        size=row["size"],
        chunks=row["chunks"],
        signature_policy=row["signature_policy"],
    )


async def document_body(conn: Conn, stored: StoredDocument) -> Received:
    """The package bytes as received: in memory when small, spooled to a temporary file a chunk at
    a time when large, so that showing a 100 MB package does not hold it in memory (close it)."""
    body = Received()
    try:
        if stored.chunks:
            async for part in bodies.parts(conn, stored.package_id, stored.chunks):
                body.append(part)
        else:
            body.append(await conn.fetchval("SELECT body FROM packages WHERE id = $1", stored.package_id))
    except BaseException:
        body.close()
        raise
    return body


async def watermark(conn: Conn, document_id: str) -> int:
    """The newest event of a document: the live timeline re-renders when it moves."""
    value: int = await conn.fetchval("SELECT coalesce(max(id), 0) FROM events WHERE document_id = $1", document_id)
    return value


async def failed_at(conn: Conn, document_id: str) -> dict[tuple[str, str], dt.datetime]:
    """When each of the document's failed deliveries failed (package id, system id → the latest
    ``failed`` event): the status view keeps the reason on the delivery, the time in the events."""
    rows = await conn.fetch(
        """SELECT package_id, system_id, max(at) AS at FROM events
            WHERE document_id = $1 AND kind = 'failed' AND package_id IS NOT NULL
            GROUP BY package_id, system_id""",
        document_id,
    )
    return {(str(r["package_id"]), r["system_id"]): r["at"] for r in rows}


async def counterparts(conn: Conn, system_id: str, limit: int = 500) -> list[tuple[str, str]]:
    """Agencies the system exchanged documents with (those that sent it documents, those it sent
    documents to), for the search form: kept at intake (``system_counterparts``), so reading them
    costs the same after a year as on the first day."""
    rows = await conn.fetch(
        """SELECT c.agency_code AS code, coalesce(a.name, '') AS name
             FROM system_counterparts c LEFT JOIN agencies a ON a.code = c.agency_code
            WHERE c.system_id = $1 ORDER BY c.agency_code LIMIT $2""",
        system_id,
        limit,
    )
    return [(r["code"], r["name"]) for r in rows]
