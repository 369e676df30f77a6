"""A recipient system's report on a delivery: ``done`` (it has the package), ``processing`` (it
works on it), ``fail`` (it cannot process it). The national SDK's ``updateStatus`` is such a
report; the decisions (``Exchange.report``) and the statements they need live here, in the
exchange, so that ``/vdxp`` only translates and no delivery changes state outside
``axis.exchange.deliveries``.

A ``fail`` from a system that never fetched the package is what a vendor's loop sends when its
download failed, whoever's fault that was: it is noted, and the package stays listed to be
fetched again, rather than failing a delivery the system never had.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from axis.exchange import deliveries
from axis.exchange.deliveries import DeliveryState
from axis.store.db import Conn


class Report(enum.StrEnum):
    DONE = "done"
    PROCESSING = "processing"
    FAIL = "fail"


@dataclass(frozen=True, slots=True, kw_only=True)
class Reported:
    """What a report did: the delivery's state afterwards, and whether a ``fail`` was only noted."""

    state: DeliveryState
    noted_only: bool = False


async def delivery(conn: Conn, package_id: uuid.UUID, system_id: str) -> asyncpg.Record | None:
    """The system's delivery of a package: its state and whether it was ever fetched."""
    return await conn.fetchrow(
        "SELECT state, fetched_at FROM deliveries WHERE package_id = $1 AND system_id = $2", package_id, system_id
    )


async def mark_processing(conn: Conn, package_id: uuid.UUID, system_id: str, *, how: str) -> dict[str, Any] | None:
    """updateStatus ``processing``: the system has the package and works on it. Recorded as a first
    download is (``fetched_at`` and a ``fetched`` event, once); the delivery stays queued. None
    when the package is not addressed to the system."""
    row = await conn.fetchrow(
        """WITH d AS (
               SELECT state, fetched_at FROM deliveries WHERE package_id = $1 AND system_id = $2),
           f AS (
               UPDATE deliveries SET fetched_at = now()
                WHERE package_id = $1 AND system_id = $2 AND state = $3 AND fetched_at IS NULL
            RETURNING fetched_at),
           e AS (
               INSERT INTO events (document_id, package_id, kind, system_id, detail)
               SELECT p.document_id, p.id, 'fetched', $2, jsonb_build_object('how', $4::text)
                 FROM packages p, f WHERE p.id = $1)
           SELECT d.state, coalesce((SELECT fetched_at FROM f), d.fetched_at) AS fetched_at FROM d""",
        package_id,
        system_id,
        DeliveryState.QUEUED,
        how,
    )
    return dict(row) if row else None


async def mark_failed(conn: Conn, package_id: uuid.UUID, system_id: str, reason: str, *, how: str) -> str | None:
    """updateStatus ``fail`` after the system fetched the package: it could not process it. A
    queued delivery becomes ``failed`` with the reason and a ``failed`` event, as a dead-lettered
    one does, and the sender's status view shows it. Returns the delivery's state afterwards
    (None when the package is not addressed to the system)."""
    if await deliveries.fail(conn, system_id, package_id=package_id, reason=reason, how=how):
        return DeliveryState.FAILED
    row = await delivery(conn, package_id, system_id)  # it was not queued: as it stands
    return DeliveryState(row["state"]) if row else None


async def note_failure_before_fetch(
    conn: Conn, package_id: uuid.UUID, system_id: str, reason: str, *, how: str
) -> None:
    """updateStatus ``fail`` from a system that never fetched the package: what the vendor's
    loop sends when its getEdoc failed, whoever's fault that was. The delivery stays queued (the
    package stays listed, to be fetched again); the report is kept as an event."""
    await conn.execute(
        """INSERT INTO events (document_id, package_id, kind, system_id, detail)
           SELECT p.document_id, p.id, 'failure_reported', $2,
                  jsonb_build_object('reason', $3::text, 'how', $4::text)
             FROM packages p WHERE p.id = $1""",
        package_id,
        system_id,
        reason,
        how,
    )
