"""The exchange's operations, composed: submit, fetch, acknowledge. HTTP and AMQP both call these.

CPU-heavy steps (parsing, schema, XML Signature verification, receipt signing) run on a thread
pool so that the event loop keeps serving; the registry decisions are pure and cost no query; each
state change is one PostgreSQL transaction; publishing happens after commit, through the outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import functools
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import asyncpg
import structlog
from asyncpg.pool import PoolAcquireContext

from axis import ids, pki, receipts, retention
from axis.broker.publisher import Outgoing
from axis.broker.publishing import Relaying
from axis.edxml import codec
from axis.edxml import model as m
from axis.edxml.trust import TrustAnchors
from axis.edxml.xmlsafe import Limits
from axis.errors import AxisError
from axis.exchange import flows, freshness, inbox, reading, redelivery, reports, statements, status, store, wakeups
from axis.exchange.admission import Admission, admit, authorize, dedupe_key
from axis.exchange.deliveries import DeliveryState
from axis.exchange.freshness import Window
from axis.exchange.inbox import ReceiptEntry
from axis.exchange.ledger import Entries, Ledger, PostgresLedger
from axis.exchange.received import Received
from axis.exchange.results import Accepted, Routed
from axis.exchange.signing import ReceiptSigner
from axis.exchange.wakeups import Wakeups
from axis.files import intake as files_intake
from axis.files import judge
from axis.files import store as files_store
from axis.files.findings import DocumentCheck, Verdict
from axis.files.intake import Checker
from axis.registry.model import System
from axis.registry.resolve import Resolver
from axis.store import bodies, db
from axis.vdxp import store as vdxp_store

log = structlog.get_logger("axis.exchange")
T = TypeVar("T")


class Directory(Protocol):
    """Where the exchange finds the registry: ``axis.registry.cache.RegistryCache`` in a process."""

    @property
    def resolver(self) -> Resolver: ...


@dataclass(frozen=True, slots=True)
class PackageBody:
    """A package's bytes on their way out: ``whole`` when small, else ``stream`` reads a large
    package's chunks one at a time. ``parts()`` gives either as pieces."""

    size: int
    whole: bytes | None
    stream: Callable[[], AsyncIterator[bytes]] | None = None

    async def parts(self) -> AsyncIterator[bytes]:
        if self.whole is not None:
            yield self.whole
        elif self.stream is not None:
            async for part in self.stream():
                yield part


def _conflict(package_id: str, asked: reports.Report, state: str) -> AxisError:
    return AxisError(
        "vdxp.update.conflict",
        f"{package_id} is already {state}; updateStatus {asked} cannot change that.",
        package_id=package_id,
        state=state,
    )


class Exchange:
    def __init__(
        self,
        *,
        pool: asyncpg.Pool | None,
        registry: Directory,
        relay: Relaying | None,
        trust: TrustAnchors,
        identity: pki.Identity,
        limits: Limits,
        executor: Executor | None,
        acquire_timeout: float = 5.0,
        archive_dir: Path | None = None,
        timestamps: Window | None = None,
        ack_deadline: dt.timedelta = dt.timedelta(hours=24),
        ledger: Ledger | None = None,
        files: Checker | None = None,
    ) -> None:
        """``files``: checks the signatures inside documents' PDF files (``axis.files``; None: not
        checked). ``pool``: PostgreSQL, for what the pages and the API read; ``ledger``: where intake and
        acknowledgement keep what they decide (by default the same database). A test of the
        exchange's logic gives a ``MemoryLedger`` and no pool."""
        self._pool = pool
        if ledger is None:
            assert pool is not None, "an exchange keeps its ledger in PostgreSQL unless given another"
            ledger = PostgresLedger(pool, acquire_timeout=acquire_timeout)
        self._ledger = ledger
        self._registry = registry
        self._relay = relay
        self._trust = trust
        self._identity = identity
        self._limits = limits
        self._executor = executor
        self._signer = ReceiptSigner(self._sign_batch, self._off_loop)
        self._files = files
        self._archive_dir = archive_dir
        self._timestamps = timestamps or Window()  # AXIS_MAX_CLOCK_SKEW_SECONDS, AXIS_MAX_PACKAGE_AGE_DAYS
        self._acquire_timeout = acquire_timeout  # a database too slow to lend a connection: 503, not a queue
        self._ack_deadline = ack_deadline  # AXIS_ACK_DEADLINE_HOURS: a delivery waiting longer is overdue
        #: Called when a package for the upstream's system was accepted (``axis.federation``).
        self.on_upstream: Callable[[], None] | None = None
        #: Requests waiting for an inbox; the process's listener feeds it (``axis.app``).
        self.wakeups = Wakeups()

    def _connection(self) -> PoolAcquireContext[asyncpg.Record]:
        assert self._pool is not None, "this exchange was built without PostgreSQL (a MemoryLedger test)"
        return self._pool.acquire(timeout=self._acquire_timeout)

    async def _off_loop(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if self._executor is None:  # AXIS_VERIFY_WORKERS=0: on the loop (fewer threads fighting for the GIL)
            return function(*args, **kwargs)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(function, *args, **kwargs))

    def _amqp(self, system_id: str) -> bool:
        system = self._registry.resolver.snapshot.systems.get(system_id)
        return system is not None and system.delivery_amqp

    # --- submit -------------------------------------------------------------------------------------

    async def submit(self, caller: System, data: bytes | Received, *, via: str) -> Accepted:
        """Verify, admit, store and publish one package from ``caller`` (its bytes in memory, or
        spooled as they arrived; the caller closes a ``Received``)."""
        received = data if isinstance(data, Received) else Received.of(data)
        verified = await self._off_loop(
            codec.verify,
            received.readable(),
            self._trust,
            policy=caller.policy,
            limits=self._limits,
            # Only the PDFs and zips whose signatures are checked are kept in memory, decoded later.
            attachment_content=files_intake.checkable if self._files is not None else False,
        )
        package = verified.package
        resolver = self._registry.resolver
        authorize(verified, caller, resolver)  # before any look-up, so that refusals leak nothing
        try:
            files = await self._check_files(caller, package)
        except AxisError:
            # Refused for its files (a policy made stricter since?): the same bytes accepted before
            # still get their first answer, as every other rule's refusal does.
            async with self._ledger.entries() as ledger:
                repeated = await self._repeated(ledger, caller, package, received.digest)
            if repeated is not None:
                return repeated
            raise
        # A new document names no other document, so it has nothing to read or lock first: its whole
        # write is one statement (atomic on its own), and a repeat shows as that statement's conflict.
        # Packages that act on documents lock them in a transaction, after answering a repeat; a
        # large package's chunks follow its row in the same transaction.
        concerned = flows.concerned(package)
        one_statement = not concerned and not bodies.chunk_count(received.size)
        async with self._ledger.entries() as ledger:
            if concerned:
                repeated = await self._repeated(ledger, caller, package, received.digest)
                if repeated is not None:
                    return repeated
            async with contextlib.nullcontext() if one_statement else ledger.atomic():
                contexts = await ledger.contexts(concerned)
                try:
                    freshness.check(package, dt.datetime.now(dt.UTC), self._timestamps)
                    from_above = caller.id == resolver.upstream_system()
                    plan = flows.plan(package, contexts, resolver.served_here if from_above else None)
                    admission = admit(
                        verified, caller, resolver, digest=received.digest, size=received.size, route=plan.route
                    )
                    admission = dataclasses.replace(admission, files=files)
                except AxisError:
                    # A new package must be believable now; the same bytes accepted before get the same
                    # answer, however old or re-routed since (a package that locks was checked above).
                    repeated = None if concerned else await self._repeated(ledger, caller, package, received.digest)
                    if repeated is not None:
                        return repeated
                    raise
                receipt_id = ids.time_ordered()
                (receipt,) = await self._signer.sign([statements.acceptance(admission, dt.datetime.now(dt.UTC))])
                amqp = frozenset(s for s in (*admission.systems, caller.id) if self._amqp(s))
                stored = await ledger.accept(
                    admission, received, via=via, receipt_id=receipt_id, receipt=receipt, amqp_systems=amqp
                )
                receipts_made: list[Outgoing] = []
                if stored:
                    receipts_made = await self._effects(ledger, admission, plan)
            if not stored:  # the same key committed before (a repeat) or concurrently
                repeated = await self._repeated(ledger, caller, package, admission.digest)
                assert repeated is not None
                return repeated
        log.info(
            "package.accepted",
            package_id=str(admission.package_id),
            document_id=admission.document_id,
            kind=admission.kind.value,
            system=caller.id,
            recipients=len(admission.recipients),
        )
        sender = package.sender.organ_id
        pid = str(admission.package_id)
        kind = admission.kind.value
        # A package over the AMQP inline limit is published by reference: its bytes are not needed.
        inline = self._relay is not None and not self._relay.by_reference(received.size, kind)
        body = received.data() if inline and any(s in amqp for s in admission.systems) else b""
        outgoing = [
            Outgoing(
                system_id=s,
                message_id=pid,
                kind=kind,
                body=body,
                document_id=admission.document_id,
                sender=sender,
                sender_system=caller.id,
                digest=admission.digest,
                size=received.size,
            )
            for s in admission.systems
            if s in amqp
        ]
        if caller.id in amqp:
            outgoing.append(
                Outgoing(
                    system_id=caller.id,
                    message_id=str(receipt_id),
                    kind="receipt",
                    body=receipt,
                    document_id=admission.document_id,
                    sender=sender,
                    sender_system=caller.id,
                    correlation_id=pid,
                )
            )
        await self._publish([*outgoing, *receipts_made])
        if self.on_upstream is not None and resolver.upstream_system() in admission.systems:
            self.on_upstream()  # the federation worker forwards it now rather than at its next round
        return self._accepted(admission)

    async def _check_files(self, caller: System, package: m.Package) -> DocumentCheck | None:
        """The signatures in a document's files, before anything is stored; refused here under a
        ``require`` policy. Checked in worker processes, so intake's event loop keeps serving."""
        if self._files is None or not isinstance(package, m.DocumentPackage):
            return None
        check = await files_intake.check(self._files, package, self._off_loop, at=dt.datetime.now(dt.UTC))
        if judge.refuses(check, package, caller.file_policy):
            raise files_intake.refusal(check)
        if check.verdict is not Verdict.NONE:
            log.info("package.files", document_id=package.document_id, verdict=check.verdict.value, codes=check.codes)
        return check

    async def _effects(self, ledger: Entries, admission: Admission, plan: flows.Plan) -> list[Outgoing]:
        """What an accepted package does to documents: their record, links, statuses, acks."""
        package = admission.package
        if isinstance(package, m.StatusPackage):
            return await self._status_effects(ledger, admission, package, plan)
        await ledger.record_document(admission, plan.links)
        return []

    async def _repeated(self, ledger: Entries, caller: System, package: m.Package, digest: str) -> Accepted | None:
        """The same bytes from the same system, accepted before: described as they were then."""
        existing = await ledger.by_dedupe_key(dedupe_key(package, digest))
        if existing is None:
            return None
        if existing.digest != digest or existing.sender_system != caller.id:
            raise AxisError(
                "intake.duplicate",
                f"{package.document_id} was already submitted with other content; send an update (2) or "
                "replace (3) instead.",
                document_id=package.document_id,
                package_id=str(existing.id) if existing.sender_system == caller.id else None,
            )
        held = await ledger.accepted_as(existing.id)
        return Accepted(
            package_id=existing.id,
            document_id=existing.document_id,
            kind=m.Kind(existing.kind),
            recipients=held.recipients,
            signature_policy=held.signature_policy,
            quirks=held.quirks,
            repeated=True,
            file_signatures=held.file_signatures,
        )

    @staticmethod
    def _accepted(admission: Admission) -> Accepted:
        return Accepted(
            package_id=admission.package_id,
            document_id=admission.document_id,
            kind=admission.kind,
            recipients=tuple(
                Routed(
                    requested=r.requested_code,
                    agency=r.agency_code,
                    name=r.agency_name,
                    system=r.system_id,
                    redirects=tuple(r.redirects),
                )
                for r in admission.recipients
            ),
            signature_policy=admission.verified.policy,
            quirks=tuple(q.code for q in admission.verified.quirks),
            file_signatures=admission.file_verdict,
        )

    def _sign_batch(self, batch: Sequence[receipts.Receipt]) -> list[bytes]:
        return receipts.sign_batch(batch, self._identity.key, self._identity.cert_chain)

    async def _status_effects(
        self, ledger: Entries, admission: Admission, status: m.StatusPackage, plan: flows.Plan
    ) -> list[Outgoing]:
        """Record the steps in each recipient's history. A status from a recipient system also
        shows it has the document: its deliveries of that document are done."""
        for agency, step in plan.steps:
            await ledger.add_event(
                status.document_id,
                admission.package_id,
                "status",
                admission.caller.id,
                agency,
                {
                    "code": step.code.value,
                    "by": step.by.value,
                    "author": status.sender.organ_id,
                    "description": status.description,
                    "timestamp": status.timestamp.isoformat(),
                    "staff": status.staff.staff if status.staff else "",
                },
            )
        if status.status_code is m.StatusCode.TAKE_BACK_REQUEST:
            return []
        waiting = await ledger.queued_document_packages(status.document_id, admission.caller.id)
        if not waiting:
            return []
        _, made = await self._deliver(ledger, waiting, admission.caller.id, how=f"status {status.status_code}")
        return made

    # --- fetch and acknowledge ----------------------------------------------------------------------

    async def body(self, caller: System, package_id: str) -> PackageBody:
        """The package bytes as the sender signed them: whole when small, chunk by chunk when large."""
        async with self._connection() as conn:
            fetched = await store.fetch_body(conn, package_id, caller.id)
        if fetched.archive_path is not None:
            return PackageBody(fetched.size, await self._archived(package_id, fetched))
        if fetched.chunks:
            pool, chunks = self._pool, fetched.chunks
            assert pool is not None  # fetched through it just now
            return PackageBody(
                fetched.size,
                None,
                lambda: bodies.stream(pool, fetched.package_id, chunks, acquire_timeout=self._acquire_timeout),
            )
        return PackageBody(fetched.size, fetched.body)

    async def _archived(self, package_id: str, fetched: store.Fetched) -> bytes:
        assert fetched.archive_path is not None
        path = (self._archive_dir or Path("var/archive")) / fetched.archive_path
        if not path.exists():
            raise AxisError(
                "package.archived",
                f"Package {package_id} was archived and its file is not available here.",
                archive_path=fetched.archive_path,
            )
        return await asyncio.to_thread(retention.read_archive, path, fetched.digest)

    async def acknowledge(self, caller: System, package_id: str) -> store.Delivery:
        """The recipient system has the package: the delivery is done and the sender gets a receipt."""
        pid = store.package_uuid(package_id)
        delivery = (await self.acknowledge_many(caller, [pid])).get(pid)
        if delivery is None:
            raise AxisError("package.unknown", f"No package {package_id} addressed to this system.")
        return delivery

    async def acknowledge_many(
        self, caller: System, package_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, store.Delivery]:
        """Acknowledge several packages at once (one read, one write, one batch of signatures):
        the deliveries found, by package; a package not addressed to ``caller`` is absent."""
        async with self._ledger.entries() as ledger:
            deliveries, made = await self._deliver(ledger, package_ids, caller.id, how="http ack")
        await self._publish(made)
        return deliveries

    async def _deliver(
        self, ledger: Entries, package_ids: Sequence[uuid.UUID], system_id: str, *, how: str
    ) -> tuple[dict[uuid.UUID, store.Delivery], list[Outgoing]]:
        """Mark deliveries done, each with the sender's signed delivery receipt; the receipts also
        come back as messages for the senders' queues (published only to AMQP senders).

        The receipts are signed between a read and a single-statement write, so no transaction
        or row lock waits on the signing; a delivery another request completes in between keeps
        that request's receipt.
        """
        at, found = await ledger.deliveries_of(list(dict.fromkeys(package_ids)), system_id)
        queued = [d for d in found.values() if d.state == DeliveryState.QUEUED]
        if not queued:
            return found, []
        signed = await self._delivery_receipts(queued, at)
        newly = await ledger.deliver(system_id, at=at, how=how, receipts=signed)
        made = []
        for receipt in signed:
            if receipt.package_id not in newly:
                continue
            delivery = found[receipt.package_id]
            found[receipt.package_id] = dataclasses.replace(
                delivery, state=DeliveryState.DELIVERED, delivered_at=at, newly_delivered=True
            )
            made.append(
                Outgoing(
                    system_id=delivery.sender_system,
                    message_id=str(receipt.receipt_id),
                    kind="receipt",
                    body=receipt.body,
                    document_id=delivery.document_id,
                    sender=delivery.sender_code,
                    sender_system=delivery.sender_system,
                    correlation_id=str(delivery.package_id),
                )
            )
        raced = [d.package_id for d in queued if d.package_id not in newly]
        if raced:  # done by a concurrent request between the read and the write: its state now
            found.update((await ledger.deliveries_of(raced, system_id))[1])
        return found, made

    async def _delivery_receipts(self, queued: list[store.Delivery], at: dt.datetime) -> list[store.DeliveryReceipt]:
        """The receipts of one acknowledgement, signed together (with whatever other receipts
        wait for a signature at the same time: ``axis.exchange.signing``)."""
        bodies = await self._signer.sign([statements.delivery(delivery, at) for delivery in queued])
        return [
            store.DeliveryReceipt(
                package_id=delivery.package_id,
                receipt_id=ids.time_ordered(),
                body=body,
                document_id=delivery.document_id,
                for_system=delivery.sender_system,
                to_amqp=self._amqp(delivery.sender_system),
            )
            for delivery, body in zip(queued, bodies, strict=True)
        ]

    async def report(
        self, caller: System, package_id: str, report: reports.Report, *, reason: str, via: str
    ) -> reports.Reported:
        """A recipient system reports on its delivery of a package (``axis.exchange.reports``):
        ``done`` acknowledges it (once fetched), ``processing`` records the fetch, ``fail`` fails
        it with ``reason`` — or, before any fetch, is only noted. ``via`` names the interface in
        the delivery's events."""
        pid = store.package_uuid(package_id)
        async with self._connection() as conn:
            delivery = await reports.delivery(conn, pid, caller.id)
        if delivery is None:
            raise AxisError(
                "package.unknown", f"No package {package_id} addressed to this system.", package_id=package_id
            )
        state, fetched = DeliveryState(delivery["state"]), delivery["fetched_at"] is not None
        if report is reports.Report.DONE:
            if state == DeliveryState.QUEUED and not fetched:
                raise AxisError(
                    "vdxp.update.unfetched",
                    f"{package_id} was never fetched by this system: get it (getEdoc) before updateStatus done. "
                    "It stays listed.",
                    package_id=package_id,
                )
            done = await self.acknowledge(caller, package_id)
            if done.state != DeliveryState.DELIVERED:
                raise _conflict(package_id, report, done.state)
            return reports.Reported(state=DeliveryState.DELIVERED)
        if report is reports.Report.PROCESSING:
            async with self._connection() as conn:
                row = await reports.mark_processing(conn, pid, caller.id, how=f"{via} processing")
            if row is not None and row["state"] == DeliveryState.FAILED:
                raise _conflict(package_id, report, DeliveryState.FAILED)
            return reports.Reported(state=state)
        if state == DeliveryState.DELIVERED:
            raise _conflict(package_id, report, state)
        if state == DeliveryState.QUEUED and not fetched:
            async with self._connection() as conn:
                await reports.note_failure_before_fetch(
                    conn, pid, caller.id, reason, how=f"{via} fail before any fetch"
                )
            return reports.Reported(state=state, noted_only=True)
        async with self._connection() as conn:
            await reports.mark_failed(conn, pid, caller.id, reason, how=f"{via} fail")
        return reports.Reported(state=DeliveryState.FAILED)

    # --- what waits, receipts, documents: reads that carry the rule of who may see what ------------------

    async def inbox(
        self, caller: System, *, limit: int, only: str | None = None, wait: float = 0.0
    ) -> list[inbox.InboxItem]:
        """What waits for ``caller``: packages addressed to agencies it serves, receipts for its own.
        ``wait``: seconds to wait for something when nothing waits yet (no connection is held
        meanwhile); an empty list once they pass."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while True:
            ticket = self.wakeups.ticket(caller.id)
            async with self._ledger.entries() as ledger:
                items = await ledger.waiting(caller.id, limit=limit, only=only)
            left = deadline - loop.time()
            if items or left <= 0 or self.wakeups.closed:
                return items
            await self.wakeups.wait(ticket, min(left, wakeups.RECHECK))

    async def acceptance_receipt(self, caller: System, package_id: str) -> bytes:
        """The signed acceptance receipt of a package the caller may see."""
        async with self._connection() as conn:
            package = await store.visible_package(conn, package_id, caller.id)
            return await inbox.acceptance_receipt(conn, package.id)

    async def receipts(self, caller: System, package_id: str) -> list[ReceiptEntry]:
        """The receipts of a package, for its sender's system only."""
        async with self._connection() as conn:
            package = await store.visible_package(conn, package_id, caller.id)
            if package.sender_system != caller.id:
                raise AxisError("package.unknown", "Receipts are for the sender's system.")
            return await inbox.receipts_of(conn, package.id)

    async def receipt(self, caller: System, receipt_id: str) -> bytes:
        async with self._connection() as conn:
            return await inbox.receipt_body(conn, receipt_id, caller.id)

    async def acknowledge_receipt(self, caller: System, receipt_id: str) -> None:
        async with self._connection() as conn:
            await inbox.ack_receipt(conn, receipt_id, caller.id)

    async def acknowledge_receipts(self, caller: System, receipt_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """Several receipts at once: those found for ``caller``."""
        async with self._connection() as conn:
            return await inbox.ack_receipts(conn, receipt_ids, caller.id)

    async def documents(self, caller: System, **filters: Any) -> list[status.DocumentSummary]:
        """The documents ``caller`` sent or received, by ``status.search``'s filters."""
        async with self._connection() as conn:
            return await status.search(conn, caller.id, **filters)

    async def timeline(self, caller: System, document_id: str) -> status.Timeline:
        """Where a document the caller may see stands, per recipient agency."""
        async with self._connection() as conn:
            return await status.timeline(conn, document_id, caller.id, ack_deadline=self._ack_deadline)

    # --- what a clerk reads (the pages) ------------------------------------------------------------

    async def document(self, caller: System, package_id: str) -> reading.StoredDocument:
        """A document package ``caller`` sent or received; any other does not exist
        (``document.unknown``). A clerk reading it is not the system fetching it."""
        async with self._connection() as conn:
            return await reading.visible_document(conn, package_id, caller.id)

    async def files(self, caller: System, package_id: str) -> DocumentCheck | None:
        """What intake found in the files of a document package ``caller`` sent or received (None:
        not checked); any other package does not exist (``document.unknown``)."""
        async with self._connection() as conn:
            stored = await reading.visible_document(conn, package_id, caller.id)
            return await files_store.load(conn, stored.package_id)

    async def open_document(self, caller: System, package_id: str) -> tuple[reading.StoredDocument, Received]:
        """The same document and its bytes as received: spooled to a file when large (close them)."""
        async with self._connection() as conn:
            stored = await reading.visible_document(conn, package_id, caller.id)
            return stored, await reading.document_body(conn, stored)

    async def followed(self, caller: System, document_id: str) -> reading.Followed:
        """A document's timeline as the live page follows it: the watermark read first (a change
        meanwhile shows again rather than hides), the view, when each failed delivery failed."""
        async with self._connection() as conn:
            mark = await reading.watermark(conn, document_id)
            view = await status.timeline(conn, document_id, caller.id, ack_deadline=self._ack_deadline)
            return reading.Followed(watermark=mark, view=view, failed_at=await reading.failed_at(conn, document_id))

    async def watermark(self, document: reading.StoredDocument) -> int:
        """The newest event of a document already read through ``document``: has it moved?"""
        async with self._connection() as conn:
            return await reading.watermark(conn, document.document_id)

    async def counterparts(self, caller: System) -> list[tuple[str, str]]:
        """The agencies ``caller`` exchanged documents with (code, name), for the search form."""
        async with self._connection() as conn:
            return await reading.counterparts(conn, caller.id)

    # --- the SDK's lists (/vdxp) --------------------------------------------------------------------

    async def waiting(self, caller: System, kind: str | None) -> list[vdxp_store.Waiting]:
        """What waits for ``caller`` (neither acknowledged nor failed), oldest first, with the
        agencies of ``caller`` each is addressed to: the SDK's received list."""
        async with self._connection() as conn:
            return await vdxp_store.received(conn, caller.id, kind)

    async def count_waiting(self, caller: System, kind: str) -> int:
        async with self._connection() as conn:
            return await vdxp_store.count_received(conn, caller.id, kind)

    async def sent(
        self, caller: System, kind: str | None, *, package_id: uuid.UUID | None = None
    ) -> list[vdxp_store.Sent]:
        """What ``caller`` sent, newest first (or the one named), each with its recipients'
        deliveries and the latest business status each recipient agency answered."""
        async with self._connection() as conn:
            return await vdxp_store.sent(conn, caller.id, kind, package_id=package_id)

    # --- requeue ------------------------------------------------------------------------------------

    async def requeue(
        self, actor: str, system_id: str, package_ids: Sequence[str] | None = None
    ) -> redelivery.Requeued:
        """An administrator sends a system's failed deliveries again (``redelivery.requeue`` says
        which); an AMQP system's are published now rather than at the relay's next round."""
        async with self._connection() as conn, conn.transaction():
            done = await redelivery.requeue(conn, actor, system_id, package_ids)
        if self._relay is not None and done.deliveries:
            self._relay.nudge()
        return done

    async def _publish(self, messages: list[Outgoing]) -> None:
        """Publish what was just committed, from memory; the outbox covers any failure."""
        wanted = [message for message in messages if self._amqp(message.system_id)]
        if self._relay is None or not wanted:
            return
        try:
            await self._relay.publish_now(wanted)
        except db.UNAVAILABLE as exc:
            log.warning("publish.deferred", error=str(exc), messages=len(wanted))
