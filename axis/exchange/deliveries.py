"""Deliveries: a package on its way to one recipient system, and the only ways its state moves.

A delivery starts ``queued`` when its package is accepted, becomes ``delivered`` when the
recipient system acknowledges it, or ``failed`` when it cannot get there; a failed one goes back
to ``queued`` when an administrator sends it again once the system is mended::

    accept ─► queued ──deliver──► delivered
               │  ▲
          fail │  │ requeue
               ▼  │
              failed

Each move is written once, here, so that no path can change a delivery's state without the
event the status views read, or move one that is no longer in the state it leaves: each is one
statement that changes only rows still in that state (a delivery another request moved meanwhile
is left alone) and writes its events in that statement. Callers: ``axis.exchange.store``
(``accept`` starts them), ``axis.exchange.ledger`` (deliver), ``axis.broker.dead_letters`` and
``axis.vdxp.store`` (fail one), ``axis.registry.systems.update`` (a system disabled: all of its queued deliveries fail
in the transaction that disables it), ``axis.exchange.redelivery`` (requeue).

What stays a trigger: ``deliveries_failed_tell_sender`` (``010_failure_notices.sql``) queues the
sender's failure notice whenever a delivery becomes failed. It reacts to the state and changes
none, and as a trigger a new way to fail cannot forget it.

Statements that change several deliveries first lock them in one order, by package and then
system (``ORDER BY … FOR UPDATE``; ``mark_published`` for the relay's ``published_at``): two such
statements over the same rows (a recipient's batch acknowledgement, the relay marking what it
published) then wait for each other instead of deadlocking, as they did under load when each
locked its rows in whatever order its plan met them.

The states are written into the SQL as literals taken from the enum, never as parameters: the
partial indexes ``deliveries_waiting`` and ``deliveries_failed`` (``WHERE state = 'queued'`` /
``'failed'``) serve a prepared statement's generic plan only when the state is a literal.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from axis.broker import kinds
from axis.broker.kinds import DUE_AFTER_GRACE, OutboxKind
from axis.store.db import Conn


class DeliveryState(enum.StrEnum):
    """The values of ``deliveries.state`` (its CHECK constraint is in ``002_exchange.sql``)."""

    QUEUED = "queued"  # waiting for the recipient system to take and acknowledge it
    DELIVERED = "delivered"  # acknowledged: the sender has its delivery receipt
    FAILED = "failed"  # it cannot get there (``failed_reason`` says why) until it is requeued


def _literal(state: DeliveryState) -> str:
    return f"'{state.value}'"


_PACKAGE_ROW, _RECEIPT_ROW = kinds.literal(OutboxKind.PACKAGE), kinds.literal(OutboxKind.RECEIPT)
_QUEUED, _DELIVERED, _FAILED = (
    _literal(DeliveryState.QUEUED),
    _literal(DeliveryState.DELIVERED),
    _literal(DeliveryState.FAILED),
)


def start(package: str, systems: str, sender: str) -> str:
    """The INSERT that starts one queued delivery per recipient system, for a CTE of the statement
    that stores a package (``axis.exchange.store.accept``): ``package`` names the CTE that inserted
    the package, ``systems`` the ``text[]`` placeholder of its recipient systems, ``sender`` the
    placeholder of its sender's system (kept on each delivery so that the sender's search for its
    failed or waiting deliveries starts from those few, migration 021).

    A fragment rather than a call so that a package and its deliveries stay one round trip. The
    ``queued`` events stay with ``accept``: there is one per recipient agency, naming the agency
    the sender asked for and its redirects, which only the routing knows.
    """
    return (
        f"INSERT INTO deliveries (package_id, system_id, state, sender_system)"
        f" SELECT {package}.id, unnest({systems}::text[]), {_QUEUED}, {sender} FROM {package}"
    )


def mark_published(sent: str) -> str:
    """The end of a statement that notes when RabbitMQ confirmed these deliveries' messages
    (``published_at``, kept from the first time): ``sent`` names a CTE of ``(package_id,
    system_id)`` written before it. Not a move of state, but it locks the rows like one, in the
    same order (the relay's rounds ran into recipients' batch acknowledgements)."""
    return f"""mine AS (
       SELECT d.package_id, d.system_id
         FROM deliveries d JOIN {sent} s ON d.package_id = s.package_id AND d.system_id = s.system_id
        ORDER BY d.package_id, d.system_id FOR UPDATE OF d)
   UPDATE deliveries d SET published_at = coalesce(d.published_at, now())
     FROM mine WHERE d.package_id = mine.package_id AND d.system_id = mine.system_id"""


@dataclass(frozen=True, slots=True)
class DeliveryReceipt:
    """The signed receipt that goes with marking one delivery done."""

    package_id: uuid.UUID
    receipt_id: uuid.UUID
    body: bytes
    document_id: str
    for_system: str
    to_amqp: bool


_DELIVER = f"""WITH t AS (
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bytea[], $4::text[], $5::text[], $6::bool[])
           WITH ORDINALITY AS t (package_id, receipt_id, body, document_id, for_system, to_amqp, ord)),
   mine AS (
       SELECT x.package_id FROM deliveries x JOIN t USING (package_id)
        WHERE x.system_id = $8 AND x.state = {_QUEUED}
        ORDER BY x.package_id FOR UPDATE OF x),
   d AS (
       UPDATE deliveries x SET state = {_DELIVERED}, delivered_at = $7
         FROM mine WHERE x.package_id = mine.package_id AND x.system_id = $8
       RETURNING x.package_id),
   done AS (SELECT t.* FROM t JOIN d USING (package_id)),
   r AS (
       INSERT INTO receipts (id, package_id, kind, for_system, about_system, body)
       SELECT receipt_id, package_id, 'delivery', for_system, $8, body FROM done),
   e AS (
       -- One event says both: delivered, and under which receipt (a ``receipt`` event of its own
       -- beside each was a quarter of a document's event rows, repeating what this one knows).
       INSERT INTO events (document_id, package_id, kind, system_id, detail)
       SELECT document_id, package_id, 'delivered', $8, jsonb_build_object('how', $9::text, 'receipt', receipt_id::text)
         FROM done ORDER BY ord),
   o AS (
       INSERT INTO outbox (message_id, kind, system_id, next_attempt_at)
       SELECT receipt_id::text, {_RECEIPT_ROW}, for_system, {DUE_AFTER_GRACE} FROM done WHERE to_amqp)
   SELECT package_id FROM d"""


async def deliver(
    conn: Conn, system_id: str, *, at: dt.datetime, how: str, receipts: Sequence[DeliveryReceipt]
) -> set[uuid.UUID]:
    """queued → delivered: the recipient system acknowledged these packages (``how``: HTTP ack,
    status 01, …). Each goes with the sender's signed delivery receipt (its row, its id in the
    ``delivered`` event, an outbox row for an AMQP sender), so a delivered delivery always has
    one; the packages actually marked now. A delivery done meanwhile by another request keeps its
    first receipt: this one is dropped."""
    rows = await conn.fetch(
        _DELIVER,
        [r.package_id for r in receipts],
        [r.receipt_id for r in receipts],
        [r.body for r in receipts],
        [r.document_id for r in receipts],
        [r.for_system for r in receipts],
        [r.to_amqp for r in receipts],
        at,
        system_id,
        how,
    )
    return {row["package_id"] for row in rows}


def _fail(which: str) -> str:
    return f"""WITH mine AS (
           SELECT package_id FROM deliveries
            WHERE system_id = $1 AND state = {_QUEUED}{which}
            ORDER BY package_id FOR UPDATE),
       f AS (
           UPDATE deliveries d SET state = {_FAILED}, failed_reason = $2
             FROM mine WHERE d.package_id = mine.package_id AND d.system_id = $1
        RETURNING d.package_id)
       INSERT INTO events (document_id, package_id, kind, system_id, detail)
       SELECT p.document_id, p.id, 'failed', $1, $3::jsonb FROM f JOIN packages p ON p.id = f.package_id
       RETURNING package_id"""


# One package's delivery (by the primary key), or all that wait for the system (deliveries_waiting).
_FAIL_ONE, _FAIL_ALL = _fail(" AND package_id = $4"), _fail("")


async def fail(
    conn: Conn, system_id: str, *, reason: str, package_id: uuid.UUID | None = None, how: str | None = None
) -> list[uuid.UUID]:
    """queued → failed, with ``reason`` on the delivery and in a ``failed`` event (with ``how``,
    when the path says more than the reason): the delivery of ``package_id`` to the system, or,
    without one, every queued delivery of the system (it was disabled). The packages whose
    delivery failed now; a delivery no longer queued is left as it is."""
    detail: dict[str, Any] = {"reason": reason} | ({"how": how} if how else {})
    if package_id is None:
        rows = await conn.fetch(_FAIL_ALL, system_id, reason, detail)
    else:
        rows = await conn.fetch(_FAIL_ONE, system_id, reason, detail, package_id)
    return [r["package_id"] for r in rows]


_REQUEUE = f"""WITH old AS (
       SELECT d.package_id, d.failed_reason, p.document_id, t.ord
         FROM unnest($2::uuid[]) WITH ORDINALITY AS t (package_id, ord)
         JOIN deliveries d ON d.package_id = t.package_id AND d.system_id = $1 AND d.state = {_FAILED}
         JOIN packages p ON p.id = d.package_id
        ORDER BY d.package_id FOR UPDATE OF d),
   back AS (
       UPDATE deliveries d SET state = {_QUEUED}, failed_reason = NULL, published_at = NULL, requeued_at = now()
         FROM old WHERE d.package_id = old.package_id AND d.system_id = $1),
   e AS (
       INSERT INTO events (document_id, package_id, kind, system_id, detail)
       SELECT old.document_id, old.package_id, 'requeued', $1,
              jsonb_build_object('by', $3::text, 'previous_reason', old.failed_reason)
         FROM old ORDER BY old.ord),
   o AS (
       INSERT INTO outbox (message_id, kind, system_id)
       SELECT old.package_id::text, {_PACKAGE_ROW}, $1 FROM old JOIN systems s ON s.id = $1
        WHERE s.delivery_amqp ORDER BY old.ord)
   SELECT package_id FROM old ORDER BY ord"""


async def requeue(conn: Conn, system_id: str, package_ids: Sequence[uuid.UUID], *, by: str) -> list[uuid.UUID]:
    """failed → queued, for those of these packages whose delivery to the system failed: the
    reason is cleared from the delivery and kept in a ``requeued`` event naming ``by``, the
    acknowledgement deadline runs again from now (``requeued_at``), and an AMQP system gets the
    message again through the outbox (an HTTP system finds it in its inbox). The packages put
    back, in the order given. Choosing which (and refusing while the system is disabled) is the
    caller's: ``axis.exchange.redelivery``."""
    rows = await conn.fetch(_REQUEUE, system_id, list(package_ids), by)
    return [r["package_id"] for r in rows]
