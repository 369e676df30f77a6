"""The exchange's ledger in memory, for tests of its logic that need no server.

``MemoryLedger`` keeps what ``PostgresLedger`` keeps (packages, their recipients and deliveries,
documents and their links, events, receipts, outbox rows) in dicts, with the rules the SQL
enforces: a dedupe key is stored once (a second ``accept`` is False), a delivery moves only from
``queued`` (a second acknowledgement keeps the first receipt), a document record is started only
by a new or replacing document, and a transaction (``atomic``) that raises leaves nothing behind.
Units of work run one at a time, as row locks would have them. ``tests/exchange/test_exchange_logic.py``
tells the same stories on both ledgers. Production code never imports this module.

What it does not imitate: the names of agencies are those at acceptance (PostgreSQL reads the
registry's current name when a repeat is answered), and times are this process's clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import datetime as dt
import itertools
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

from axis.broker.outbox import OutboxKind
from axis.edxml import model as m
from axis.exchange import deliveries, inbox, store
from axis.exchange.admission import Admission
from axis.exchange.deliveries import DeliveryState
from axis.exchange.flows import DocumentContext
from axis.exchange.ledger import Entries
from axis.exchange.lifecycle import Party, Step
from axis.exchange.received import Received
from axis.exchange.results import Routed

_ANSWERS = (m.StatusCode.AGREED.value, m.StatusCode.REFUSED.value)
_STARTS_A_RECORD = (m.BusinessDocType.NEW, m.BusinessDocType.REPLACE)


@dataclass(frozen=True, slots=True)
class Event:
    document_id: str
    package_id: uuid.UUID | None
    kind: str
    system_id: str | None
    agency_code: str | None
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Recipient:
    requested: str
    agency: str
    name: str
    system: str
    redirects: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Package:
    stored: store.StoredPackage
    dedupe_key: str
    signature_policy: str
    quirks: tuple[str, ...]
    body: bytes
    file_signatures: str | None
    recipients: tuple[_Recipient, ...]


@dataclass(frozen=True, slots=True)
class _Delivery:
    state: DeliveryState
    created: int  # the order deliveries were made in
    created_at: dt.datetime
    delivered_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class _Receipt:
    package_id: uuid.UUID
    kind: str
    for_system: str
    body: bytes
    created: int
    created_at: dt.datetime
    acknowledged: bool = False


@dataclass(frozen=True, slots=True)
class _Document:
    sender_code: str
    sender_system: str
    state: str = "active"
    superseded_by: str | None = None
    due_date: dt.date | None = None


@dataclass
class _Tables:
    packages: dict[uuid.UUID, _Package] = field(default_factory=dict)
    dedupe: dict[str, uuid.UUID] = field(default_factory=dict)
    deliveries: dict[tuple[uuid.UUID, str], _Delivery] = field(default_factory=dict)
    documents: dict[str, _Document] = field(default_factory=dict)
    links: list[tuple[uuid.UUID, str, str]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    receipts: dict[uuid.UUID, _Receipt] = field(default_factory=dict)
    #: (message id, kind, system): what the relay would publish
    outbox: list[tuple[str, OutboxKind, str]] = field(default_factory=list)


class MemoryLedger:
    """A ``Ledger`` in dicts. Its tables are readable by tests through the methods below."""

    def __init__(self) -> None:
        self._tables = _Tables()
        self._order = itertools.count(1)
        self._one_at_a_time = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def entries(self) -> AsyncIterator[Entries]:
        async with self._one_at_a_time:
            yield _MemoryEntries(self)

    # --- what a test reads ----------------------------------------------------------------------

    def state_of(self, package_id: uuid.UUID, system_id: str) -> DeliveryState | None:
        delivery = self._tables.deliveries.get((package_id, system_id))
        return None if delivery is None else delivery.state

    def events_of(self, document_id: str) -> list[Event]:
        return [e for e in self._tables.events if e.document_id == document_id]

    def document_state(self, document_id: str) -> str | None:
        document = self._tables.documents.get(document_id)
        return None if document is None else document.state

    @property
    def outbox(self) -> list[tuple[str, OutboxKind, str]]:
        return list(self._tables.outbox)

    @property
    def packages(self) -> int:
        return len(self._tables.packages)

    def _now(self) -> tuple[int, dt.datetime]:
        return next(self._order), dt.datetime.now(dt.UTC)


class _MemoryEntries:
    def __init__(self, ledger: MemoryLedger) -> None:
        self._ledger = ledger

    @property
    def _t(self) -> _Tables:
        return self._ledger._tables

    def atomic(self) -> AbstractAsyncContextManager[None]:
        return self._atomic()

    @contextlib.asynccontextmanager
    async def _atomic(self) -> AsyncIterator[None]:
        before = copy.deepcopy(self._ledger._tables)
        try:
            yield
        except BaseException:
            self._ledger._tables = before
            raise

    async def contexts(self, document_ids: Iterable[str]) -> dict[str, DocumentContext]:
        contexts = {}
        for document_id in sorted(set(document_ids)):
            document = self._t.documents.get(document_id)
            if document is None:
                continue
            addressed = {
                r.agency: r.requested
                for p in self._t.packages.values()
                if p.stored.document_id == document_id and p.stored.kind == "document"
                for r in p.recipients
            }
            histories: dict[str, list[Step]] = {}
            pending: set[str] = set()
            for event in self._t.events:
                if event.document_id != document_id or event.agency_code is None:
                    continue
                if event.kind == "business":
                    pending.add(event.agency_code)
                elif event.kind == "status":
                    code = event.detail["code"]
                    histories.setdefault(event.agency_code, []).append(
                        Step(m.StatusCode(code), Party(event.detail["by"]))
                    )
                    if code in _ANSWERS:
                        pending.discard(event.agency_code)
            contexts[document_id] = DocumentContext(
                document_id=document_id,
                sender_code=document.sender_code,
                sender_system=document.sender_system,
                state=document.state,
                recipients=addressed,
                histories={k: tuple(v) for k, v in histories.items()},
                business_pending=frozenset(pending),
            )
        return contexts

    async def by_dedupe_key(self, key: str) -> store.StoredPackage | None:
        package_id = self._t.dedupe.get(key)
        return None if package_id is None else self._t.packages[package_id].stored

    async def accepted_as(self, package_id: uuid.UUID) -> store.Held:
        package = self._t.packages[package_id]
        return store.Held(
            recipients=tuple(
                Routed(requested=r.requested, agency=r.agency, name=r.name, system=r.system, redirects=r.redirects)
                for r in sorted(package.recipients, key=lambda r: r.requested)
            ),
            signature_policy=package.signature_policy,
            quirks=package.quirks,
            file_signatures=package.file_signatures,
        )

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
        if admission.dedupe_key in self._t.dedupe:
            return False
        package = admission.package
        document = package if isinstance(package, m.DocumentPackage) else None
        status = package if isinstance(package, m.StatusPackage) else None
        order, now = self._ledger._now()
        caller = admission.caller.id
        stored = store.StoredPackage(
            id=admission.package_id,
            kind=admission.kind.value,
            document_id=admission.document_id,
            sender_code=package.sender.organ_id,
            sender_system=caller,
            digest=admission.digest,
            size=admission.size,
            received_at=now,
            status_code=status.status_code.value if status else None,
            subject=document.subject if document else None,
        )
        self._t.packages[admission.package_id] = _Package(
            stored=stored,
            dedupe_key=admission.dedupe_key,
            signature_policy=admission.verified.policy,
            quirks=tuple(q.code for q in admission.verified.quirks),
            body=received.data(),
            file_signatures=admission.file_verdict,
            recipients=tuple(
                _Recipient(r.requested_code, r.agency_code, r.agency_name, r.system_id, tuple(r.redirects))
                for r in admission.recipients
            ),
        )
        self._t.dedupe[admission.dedupe_key] = admission.package_id
        for system in admission.systems:
            self._t.deliveries[(admission.package_id, system)] = _Delivery(DeliveryState.QUEUED, order, now)
        self._t.events.append(
            Event(
                admission.document_id,
                admission.package_id,
                "accepted",
                caller,
                None,
                {"kind": admission.kind.value, "digest": admission.digest, "via": via},
            )
        )
        for r in admission.recipients:
            redirects = list(r.redirects) or None
            self._t.events.append(
                Event(
                    admission.document_id,
                    admission.package_id,
                    "queued",
                    r.system_id,
                    r.agency_code,
                    {"requested": r.requested_code, "redirects": redirects},
                )
            )
        self._t.receipts[receipt_id] = _Receipt(admission.package_id, "acceptance", caller, receipt, order, now)
        self._t.outbox.extend(
            (str(admission.package_id), OutboxKind.PACKAGE, s) for s in admission.systems if s in amqp_systems
        )
        if caller in amqp_systems:
            self._t.outbox.append((str(receipt_id), OutboxKind.RECEIPT, caller))
        starts = document is not None and document.business.doc_type in _STARTS_A_RECORD
        if document is not None and starts and admission.document_id not in self._t.documents:
            self._t.documents[admission.document_id] = _Document(
                package.sender.organ_id, caller, due_date=document.due_date
            )
        return True

    async def record_document(self, admission: Admission, links: Sequence[tuple[str, str]]) -> None:
        package = admission.package
        assert isinstance(package, m.DocumentPackage)
        kind = package.business.doc_type
        if not links:
            return
        self._t.links.extend((admission.package_id, relation, target) for relation, target in links)
        documents = self._t.documents
        for _, target in links:
            if target not in documents:
                continue
            if kind is m.BusinessDocType.REVOKE:
                documents[target] = dataclasses.replace(documents[target], state="revoked")
            elif kind is m.BusinessDocType.REPLACE:
                documents[target] = dataclasses.replace(
                    documents[target], state="superseded", superseded_by=package.document_id
                )
        if kind not in (m.BusinessDocType.REVOKE, m.BusinessDocType.REPLACE):
            own = documents.get(package.document_id)
            if own is not None and package.due_date is not None:
                documents[package.document_id] = dataclasses.replace(own, due_date=package.due_date)
        for relation, target in links:
            for r in admission.recipients:
                self._t.events.append(
                    Event(
                        target,
                        admission.package_id,
                        "business",
                        r.system_id,
                        r.agency_code,
                        {"type": int(kind), "relation": relation, "reason": package.business.reason},
                    )
                )

    async def add_event(
        self,
        document_id: str,
        package_id: uuid.UUID | None,
        kind: str,
        system_id: str | None,
        agency_code: str | None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        self._t.events.append(Event(document_id, package_id, kind, system_id, agency_code, detail or {}))

    async def queued_document_packages(self, document_id: str, system_id: str) -> list[uuid.UUID]:
        return [
            package_id
            for (package_id, system), delivery in self._t.deliveries.items()
            if system == system_id
            and delivery.state is DeliveryState.QUEUED
            and self._t.packages[package_id].stored.document_id == document_id
            and self._t.packages[package_id].stored.kind == "document"
        ]

    async def deliveries_of(
        self, package_ids: Sequence[uuid.UUID], system_id: str
    ) -> tuple[dt.datetime, dict[uuid.UUID, store.Delivery]]:
        found = {}
        for package_id in package_ids:
            delivery = self._t.deliveries.get((package_id, system_id))
            if delivery is None:
                continue
            package = self._t.packages[package_id]
            served = sorted((r.requested, r.agency, r.redirects) for r in package.recipients if r.system == system_id)
            found[package_id] = store.Delivery(
                package_id=package_id,
                system_id=system_id,
                state=delivery.state,
                delivered_at=delivery.delivered_at,
                newly_delivered=False,
                kind=package.stored.kind,
                document_id=package.stored.document_id,
                digest=package.stored.digest,
                sender_code=package.stored.sender_code,
                sender_system=package.stored.sender_system,
                served=tuple(served),
                signature_policy=package.signature_policy,
            )
        return dt.datetime.now(dt.UTC), found

    async def deliver(
        self, system_id: str, *, at: dt.datetime, how: str, receipts: Sequence[deliveries.DeliveryReceipt]
    ) -> set[uuid.UUID]:
        done = set()
        for receipt in receipts:
            key = (receipt.package_id, system_id)
            delivery = self._t.deliveries.get(key)
            if delivery is None or delivery.state is not DeliveryState.QUEUED:
                continue
            self._t.deliveries[key] = dataclasses.replace(delivery, state=DeliveryState.DELIVERED, delivered_at=at)
            order, now = self._ledger._now()
            self._t.receipts[receipt.receipt_id] = _Receipt(
                receipt.package_id, "delivery", receipt.for_system, receipt.body, order, now
            )
            self._t.events.append(
                Event(
                    receipt.document_id,
                    receipt.package_id,
                    "delivered",
                    system_id,
                    None,
                    {"how": how, "receipt": str(receipt.receipt_id)},
                )
            )
            if receipt.to_amqp:
                self._t.outbox.append((str(receipt.receipt_id), OutboxKind.RECEIPT, receipt.for_system))
            done.add(receipt.package_id)
        return done

    async def waiting(self, system_id: str, *, limit: int, only: str | None = None) -> list[inbox.InboxItem]:
        items: list[tuple[int, inbox.InboxItem]] = []
        if only != "receipt":
            for (package_id, system), delivery in self._t.deliveries.items():
                if system != system_id or delivery.state is not DeliveryState.QUEUED:
                    continue
                p = self._t.packages[package_id].stored
                items.append(
                    (
                        delivery.created,
                        inbox.InboxItem(
                            "package",
                            p.id,
                            p.kind,
                            p.document_id,
                            p.sender_code,
                            p.sender_system,
                            delivery.created_at,
                            p.id,
                        ),
                    )
                )
        if only != "package":
            for receipt_id, receipt in self._t.receipts.items():
                if receipt.for_system != system_id or receipt.acknowledged:
                    continue
                p = self._t.packages[receipt.package_id].stored
                items.append(
                    (
                        receipt.created,
                        inbox.InboxItem(
                            "receipt",
                            receipt_id,
                            receipt.kind,
                            p.document_id,
                            p.sender_code,
                            p.sender_system,
                            receipt.created_at,
                            p.id,
                        ),
                    )
                )
        return [item for _, item in sorted(items, key=lambda pair: pair[0])][:limit]
