"""What the exchange keeps: the protocol its intake and acknowledgement write and read through.

``Exchange.submit``, ``acknowledge_many`` and ``inbox`` decide (verification, admission, the
document flows, receipts, what to publish) and keep what they decided through a ``Ledger``: one
unit of work at a time (``entries``), a transaction inside it where the decision needs one
(``atomic``). ``PostgresLedger`` is the database (the modules ``store``, ``context``,
``deliveries`` and ``inbox`` hold its SQL); ``axis.exchange.memory.MemoryLedger`` keeps the same
rules in dicts, so that the exchange's own logic can be tested without servers. The reads the
pages make (search, timeline) stay SQL: their logic is the query.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

import asyncpg

from axis.exchange import context, deliveries, inbox, store
from axis.exchange.admission import Admission
from axis.exchange.flows import DocumentContext
from axis.exchange.received import Received
from axis.store.db import Conn


class Entries(Protocol):
    """One unit of work of the exchange (a connection lent by the gateway)."""

    def atomic(self) -> AbstractAsyncContextManager[None]:
        """A transaction: the writes within it happen together or not at all."""
        ...

    async def contexts(self, document_ids: Iterable[str]) -> dict[str, DocumentContext]:
        """The documents a package acts on, each locked until the transaction ends."""
        ...

    async def by_dedupe_key(self, key: str) -> store.StoredPackage | None: ...

    async def accepted_as(self, package_id: uuid.UUID) -> store.Held: ...

    async def accept(
        self,
        admission: Admission,
        received: Received,
        *,
        via: str,
        receipt_id: uuid.UUID,
        receipt: bytes,
        amqp_systems: frozenset[str],
    ) -> bool:
        """Store an admitted package, its deliveries, events, acceptance receipt and outbox rows;
        False when a package with the same dedupe key is there already."""
        ...

    async def record_document(self, admission: Admission, links: Sequence[tuple[str, str]]) -> None: ...

    async def add_event(
        self,
        document_id: str,
        package_id: uuid.UUID | None,
        kind: str,
        system_id: str | None,
        agency_code: str | None,
        detail: dict[str, Any] | None = None,
    ) -> None: ...

    async def queued_document_packages(self, document_id: str, system_id: str) -> list[uuid.UUID]: ...

    async def deliveries_of(
        self, package_ids: Sequence[uuid.UUID], system_id: str
    ) -> tuple[dt.datetime, dict[uuid.UUID, store.Delivery]]: ...

    async def deliver(
        self, system_id: str, *, at: dt.datetime, how: str, receipts: Sequence[deliveries.DeliveryReceipt]
    ) -> set[uuid.UUID]: ...

    async def waiting(self, system_id: str, *, limit: int, only: str | None = None) -> list[inbox.InboxItem]: ...


class Ledger(Protocol):
    def entries(self) -> AbstractAsyncContextManager[Entries]:
        """A unit of work; on PostgreSQL, a connection lent within the acquire timeout."""
        ...


class PostgresLedger:
    """The ledger in PostgreSQL, through the gateway's pool."""

    def __init__(self, pool: asyncpg.Pool, *, acquire_timeout: float) -> None:
        self._pool = pool
        self._acquire_timeout = acquire_timeout

    @contextlib.asynccontextmanager
    async def entries(self) -> AsyncIterator[Entries]:
        async with self._pool.acquire(timeout=self._acquire_timeout) as conn:
            yield _PostgresEntries(conn)


class _PostgresEntries:
    def __init__(self, conn: Conn) -> None:
        self._conn = conn

    def atomic(self) -> AbstractAsyncContextManager[None]:
        return _transaction(self._conn)

    async def contexts(self, document_ids: Iterable[str]) -> dict[str, DocumentContext]:
        return await context.load(self._conn, document_ids)

    async def by_dedupe_key(self, key: str) -> store.StoredPackage | None:
        return await store.by_dedupe_key(self._conn, key)

    async def accepted_as(self, package_id: uuid.UUID) -> store.Held:
        return await store.accepted_as(self._conn, package_id)

    async def accept(
        self,
        admission: Admission,
        received: Received,
        *,
        via: str,
        receipt_id: uuid.UUID,
        receipt: bytes,
        amqp_systems: frozenset[str],
    ) -> bool:
        return await store.accept(
            self._conn,
            admission,
            received,
            via=via,
            receipt_id=receipt_id,
            receipt=receipt,
            amqp_systems=amqp_systems,
        )

    async def record_document(self, admission: Admission, links: Sequence[tuple[str, str]]) -> None:
        await store.record_document(self._conn, admission, links)

    async def add_event(
        self,
        document_id: str,
        package_id: uuid.UUID | None,
        kind: str,
        system_id: str | None,
        agency_code: str | None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        await store.add_event(self._conn, document_id, package_id, kind, system_id, agency_code, detail)

    async def queued_document_packages(self, document_id: str, system_id: str) -> list[uuid.UUID]:
        return await store.queued_document_packages(self._conn, document_id, system_id)

    async def deliveries_of(
        self, package_ids: Sequence[uuid.UUID], system_id: str
    ) -> tuple[dt.datetime, dict[uuid.UUID, store.Delivery]]:
        return await store.deliveries_of(self._conn, package_ids, system_id)

    async def deliver(
        self, system_id: str, *, at: dt.datetime, how: str, receipts: Sequence[deliveries.DeliveryReceipt]
    ) -> set[uuid.UUID]:
        return await deliveries.deliver(self._conn, system_id, at=at, how=how, receipts=receipts)

    async def waiting(self, system_id: str, *, limit: int, only: str | None = None) -> list[inbox.InboxItem]:
        return await inbox.waiting(self._conn, system_id, limit=limit, only=only)


@contextlib.asynccontextmanager
async def _transaction(conn: Conn) -> AsyncIterator[None]:
    async with conn.transaction():
        yield
