"""The federation worker: forwards what is for the axis above, takes in what it has for us (I/O).

One axis process at a time works the link: the one holding a PostgreSQL advisory lock on a
connection of its own (the others wait for it, and take over when its process dies, since the
lock dies with the session). Three rounds, each on its own schedule:

- forward (``AXIS_UPSTREAM_FORWARD_INTERVAL``): the deliveries waiting for the upstream's system
  are sent with sendEdoc, as the official SDK sends them, and acknowledged here once the upstream
  answered OK with its DocId. The delivery row is the durable intent (the outbox of this path): it
  stays queued until the upstream said OK, so a crash or an outage only delays it.
- inbound (``AXIS_UPSTREAM_POLL_INTERVAL``): getReceivedEdocList for documents and for statuses,
  getEdoc, local intake as the upstream's system, and only then updateStatus ``done``; a package
  local intake refuses is kept (``upstream_received``) and told ``fail``.
- agencies (``AXIS_UPSTREAM_AGENCIES_INTERVAL``): the upstream's agency lists, kept as external
  agencies (``axis.federation.directory``).

An upstream that does not answer backs the rounds off (doubling up to a minute); a package it
refuses backs off on its own (doubling up to an hour) without holding the others up.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import time
import unicodedata
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg
import structlog

from axis.errors import AxisError
from axis.exchange.service import Exchange
from axis.federation import directory, links, records, upstream
from axis.federation.link import UPSTREAM, UpstreamLink
from axis.federation.sdk.gson import JavaException, get_as_string
from axis.registry.model import System
from axis.store import db
from axis.vdxp.secret import SecretBox

log = structlog.get_logger("axis.federation")

#: Any number will do, as long as nothing else in the database takes the same advisory lock.
_LEADER_LOCK = 0x0A715_17  # "axis 17"
_MAX_LINK_BACKOFF = 60.0
#: Refusals of a package about a document this axis does not have (yet), and how long such a
#: package is taken again before it is refused for good.
_EARLY = frozenset({"status.document.unknown", "business.target.unknown"})
_EARLY_GRACE = 600.0
_MAX_PACKAGE_BACKOFF = 3600.0


def package_backoff(attempts: int) -> float:
    """Seconds before a refused package is offered to the upstream again: 5 s, doubling, up to an hour."""
    return float(min(_MAX_PACKAGE_BACKOFF, 5.0 * 2 ** max(0, attempts - 1)))


def transient(exc: BaseException) -> bool:
    """Whether trying again later may succeed: the upstream or this axis's database unavailable."""
    if isinstance(exc, AxisError):
        return exc.http_status == 503
    return isinstance(exc, db.UNAVAILABLE)


class _CannotLead(Exception):
    """This process cannot work the link (it cannot open the upstream's secret)."""

    def __init__(self, error: AxisError) -> None:
        super().__init__(error.message)
        self.error = error


@dataclass
class Counters:
    """What this process did on the link since it started (metrics read these)."""

    forwarded: int = 0
    ingested: int = 0
    refused_inbound: int = 0
    up: bool = False
    last_round_at: float = 0.0
    errors: dict[str, int] = field(default_factory=dict)


class Federation:
    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        database_url: str,
        exchange: Exchange,
        system: Callable[[str], System | None],
        box: Callable[[], SecretBox | None],
        forward_interval: float = 1.0,
        poll_interval: float = 5.0,
        agencies_interval: float = 86400.0,
        batch: int = 100,
        call_timeout: float = 30.0,
        acquire_timeout: float = 5.0,
        link_id: str = UPSTREAM,
    ) -> None:
        self._pool = pool
        self._url = database_url
        self._exchange = exchange
        self._system = system
        self._box = box
        self._intervals = {"forward": forward_interval, "inbound": poll_interval, "agencies": agencies_interval}
        self._batch = batch
        self._timeout = call_timeout
        self._acquire_timeout = acquire_timeout
        self._link_id = link_id
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self.counters = Counters()
        self._answered = False  # whether the current round had an answer from the upstream
        self._early: dict[str, float] = {}  # upstream DocId -> when first found ahead of its document

    # --- life -------------------------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._lead(), name="axis-federation")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            # Bounded: a worker that swallowed its cancel must not hang the process's shutdown.
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                async with asyncio.timeout(10):
                    await self._task
            if not self._task.done():
                log.error("federation.stop_timeout", error="the worker did not stop within 10 s")
            self._task = None

    def wake(self) -> None:
        """Forward now (a package for the upstream was just accepted)."""
        self._wake.set()

    async def _lead(self) -> None:
        """Wait to hold the federation lock, then work the link until the connection is lost."""
        while True:
            try:
                conn = await db.connect(self._url)
            except db.UNAVAILABLE:
                await asyncio.sleep(2.0)
                continue
            pause = 1.0
            try:
                while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", _LEADER_LOCK):
                    await asyncio.sleep(2.0)
                log.info("federation.leading")
                await self._work(conn)
            except db.UNAVAILABLE as exc:
                log.warning("federation.connection_lost", error=repr(exc))
            except _CannotLead as exc:
                # This process cannot open the upstream's secret: another one (with the shared key)
                # should work the link. Give the lead up, and try again later.
                log.error("federation.cannot_lead", code=exc.error.code, error=exc.error.message)
                await self._note_failure(exc.error)
                pause = 30.0
            except Exception:  # a bug must not end the worker: the link would stop unnoticed
                log.exception("federation.worker_failed")
                pause = 10.0
            finally:
                with contextlib.suppress(Exception):
                    await conn.close(timeout=2)  # the session's end releases the lock
            await asyncio.sleep(pause)

    async def _work(self, lock: asyncpg.Connection[asyncpg.Record]) -> None:
        due = {name: 0.0 for name in self._intervals}
        backoff = 0.0
        while True:
            await lock.fetchval("SELECT 1")  # the lock's session is alive (else: lose the lead)
            now = time.monotonic()
            ran = False
            try:
                for name, interval in self._intervals.items():
                    if now >= due[name]:
                        ran = True
                        more = await self._round(name)
                        due[name] = time.monotonic() + (0.0 if more else interval)
                if ran:
                    self.counters.up = True
                    backoff = 0.0
            except AxisError as exc:
                if exc.code != "upstream.unknown":  # (no link, or no secret: nothing to work)
                    self.counters.up = False
                    await self._note_failure(exc)
                backoff = min(_MAX_LINK_BACKOFF, max(1.0, backoff * 2))
                due = {name: max(t, time.monotonic() + backoff) for name, t in due.items()}
            except _CannotLead:
                raise
            except Exception as exc:
                if not transient(exc):
                    log.exception("federation.round_failed")
                backoff = min(_MAX_LINK_BACKOFF, max(1.0, backoff * 2))
                due = {name: max(t, time.monotonic() + backoff) for name, t in due.items()}
            self.counters.last_round_at = time.time()
            wait = max(0.05, min(due.values()) - time.monotonic())
            self._wake.clear()
            # asyncio.timeout, not wait_for: on Python 3.11, wait_for returns when its event is set
            # at the moment the task is cancelled, and the cancel is lost (gh-86296): stop() then
            # waited forever for a worker that went on (a test run hung on it).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wake.wait()
            if self._wake.is_set():
                due["forward"] = min(due["forward"], time.monotonic() + backoff)

    async def _note_failure(self, exc: AxisError) -> None:
        self.counters.errors[exc.code] = self.counters.errors.get(exc.code, 0) + 1
        log.warning("federation.upstream_failed", code=exc.code, error=exc.message)
        with contextlib.suppress(*db.UNAVAILABLE):
            async with self._pool.acquire(timeout=self._acquire_timeout) as conn:
                await records.link_failed(conn, self._link_id, f"{exc.code}: {exc.message}")

    # --- one round ----------------------------------------------------------------------------------

    async def _round(self, name: str) -> bool:
        """One round; True when there may be more to do at once."""
        async with self._pool.acquire(timeout=self._acquire_timeout) as conn:
            link = await links.get(conn, self._link_id)
            if link is None or link.secret_set_at is None:
                return False
            box = self._box()
            if box is None:
                raise _CannotLead(
                    AxisError(
                        "vdxp.key.missing",
                        "This axis process has no key to open the upstream's secret: give every process "
                        "the same AXIS_VDXP_SECRET_KEY_FILE.",
                    )
                )
            try:
                secret = await links.secret(conn, self._link_id, box)
            except AxisError as exc:
                if exc.code == "vdxp.key.missing":
                    raise _CannotLead(exc) from None
                raise
        system = self._system(link.id)
        if system is None or not system.active:
            return False
        rounds: dict[str, Callable[[UpstreamLink, bytes, System], Awaitable[bool]]] = {
            "forward": self._forward,
            "inbound": self._inbound,
            "agencies": self._agencies,
        }
        self._answered = False
        more = await rounds[name](link, secret, system)
        if self._answered:  # a round that made no call says nothing about the link
            async with self._pool.acquire(timeout=self._acquire_timeout) as conn:
                await records.link_ok(conn, link.id)
        return more

    async def _call(
        self, link: UpstreamLink, secret: bytes, operation: str, header: dict[str, object], payload: bytes | None = None
    ) -> upstream.Answer:
        answer = await upstream.call(link, secret, operation, header, payload, timeout=self._timeout)
        self._answered = True
        return answer

    # --- outbound -----------------------------------------------------------------------------------

    async def _forward(self, link: UpstreamLink, secret: bytes, system: System) -> bool:
        waiting = await self._exchange.inbox(system, limit=self._batch, only="package")
        receipts = await self._exchange.inbox(system, limit=self._batch, only="receipt")
        if receipts:  # receipts for what the upstream brought: the upstream gets its statuses otherwise
            await self._exchange.acknowledge_receipts(system, [r.id for r in receipts])
        if not waiting:
            return len(receipts) == self._batch
        async with self._pool.acquire(timeout=self._acquire_timeout) as conn:
            due = await records.due(conn, [item.package_id for item in waiting])
        for item in waiting:
            if item.package_id in due:
                await self._hand(link, secret, system, item.package_id, item.kind, item.sender_code)
        return len(waiting) == self._batch and bool(due)

    async def _hand(
        self, link: UpstreamLink, secret: bytes, system: System, package_id: uuid.UUID, kind: str, sender: str
    ) -> None:
        """sendEdoc one package, then acknowledge its delivery here. ``upstream_sent`` is written
        before the call: a package found there 'handed' was sent and only its acknowledgement is
        left; one found 'sending' may have reached the upstream before a crash, and is sent again
        (the upstream answers a repeat of the same bytes with the same DocId, as this axis's /vdxp does)."""
        async with self._pool.acquire(timeout=self._acquire_timeout) as conn:
            row = await records.start_sending(conn, link.id, package_id)
            to = await records.recipients(conn, package_id, system.id)
        if row.state != "handed":
            body = await self._exchange.body(system, str(package_id))
            data = b"".join([part async for part in body.parts()])
            header: dict[str, object] = {
                "servicetype": "eDoc",
                "messagetype": "status" if kind == "status" else "edoc",
                "from": sender,
                "to": to,
            }
            try:
                answer = await self._call(link, secret, "sendEdoc", header, data)
            except AxisError as exc:
                async with self._pool.acquire(timeout=self._acquire_timeout) as conn:
                    if exc.code == "upstream.refused" and exc.details.get("upstream_code"):
                        retry = package_backoff(row.attempts)
                        await records.refused(conn, package_id, f"{exc.code}: {exc.message}", retry)
                        log.warning("federation.forward_refused", package_id=str(package_id), error=exc.message)
                        return
                    await records.unsent(conn, package_id, f"{exc.code}: {exc.message}")
                raise
            doc_id = _text(answer.body.get("DocId"))
            async with self._pool.acquire(timeout=self._acquire_timeout) as conn:
                await records.handed(conn, package_id, doc_id)
            log.info("federation.handed", package_id=str(package_id), upstream_doc_id=doc_id, kind=kind)
        with contextlib.suppress(AxisError):  # already acknowledged: a retry after a crash
            await self._exchange.acknowledge(system, str(package_id))
        self.counters.forwarded += 1

    # --- inbound ------------------------------------------------------------------------------------

    async def _inbound(self, link: UpstreamLink, secret: bytes, system: System) -> bool:
        more = False
        for message_type in ("edoc", "status"):
            answer = await self._call(
                link, secret, "getReceivedEdocList", {"servicetype": "eDoc", "messagetype": message_type}
            )
            items = answer.body.get("data")
            doc_ids = (
                [_text(item.get("docId")) for item in items if isinstance(item, dict)]
                if isinstance(items, list)
                else []
            )
            doc_ids = [d for d in dict.fromkeys(doc_ids) if d][: self._batch]
            if not doc_ids:
                continue
            async with self._pool.acquire(timeout=self._acquire_timeout) as conn:
                known = await records.received(conn, link.id, doc_ids)
            for doc_id in doc_ids:
                seen = known.get(doc_id)
                if seen is None:
                    await self._take(link, secret, system, doc_id, message_type)
                elif not seen.told:
                    failed = seen.state == "failed"
                    await self._tell(
                        link, secret, doc_id, "fail" if failed else "done", seen.reason if failed else None
                    )
            more = more or len(doc_ids) == self._batch
        return more

    async def _take(self, link: UpstreamLink, secret: bytes, system: System, doc_id: str, message_type: str) -> None:
        answer = await self._call(link, secret, "getEdoc", {"docId": doc_id, "filePath": "edoc"})
        try:
            data = base64.b64decode(_text(answer.body.get("data")), validate=True)
        except (binascii.Error, ValueError):
            data = b""
        state, package_id, reason = "stored", None, None
        if not data:
            state, reason = "failed", "getEdoc answered OK without the package's bytes"
        else:
            try:
                accepted = await self._exchange.submit(system, data, via="http")
            except AxisError as exc:
                if transient(exc):
                    raise
                if (
                    exc.code in _EARLY
                    and self._early.setdefault(doc_id, time.monotonic()) > time.monotonic() - _EARLY_GRACE
                ):
                    # A status or revocation listed before the document it is about (an upstream need
                    # not list in order): left untold, so it is listed and taken again later.
                    log.info("federation.inbound_early", upstream_doc_id=doc_id, code=exc.code)
                    return
                if exc.code == "registry.sender.not_served":
                    state = "own"  # this axis's own agency's package, delivered back by the upstream
                else:
                    state, reason = "failed", f"{exc.code}: {exc.message}"
            else:
                package_id = accepted.package_id
        self._early.pop(doc_id, None)
        async with self._pool.acquire(timeout=self._acquire_timeout) as conn:
            await records.record_received(
                conn,
                link.id,
                doc_id,
                message_type,
                state,
                package_id=package_id,
                reason=reason,
                body=data if state == "failed" else None,
            )
        if state == "stored":
            self.counters.ingested += 1
        elif state == "failed":
            self.counters.refused_inbound += 1
            log.warning("federation.inbound_refused", upstream_doc_id=doc_id, reason=reason)
        await self._tell(link, secret, doc_id, "fail" if state == "failed" else "done", reason)

    async def _tell(
        self, link: UpstreamLink, secret: bytes, doc_id: str, status: str, reason: str | None = None
    ) -> None:
        """updateStatus as the SDK sends it; a refusal says why in the header's ``description``
        (a key the vendor passes in the SDK's header map, signed like the others; plain ASCII, so
        that no HTTP stack on the way cuts it)."""
        header: dict[str, object] = {"docId": doc_id, "status": status}
        if reason:
            header["description"] = _ascii(reason)[:500]
        await self._call(link, secret, "updateStatus", header)
        async with self._pool.acquire(timeout=self._acquire_timeout) as conn:
            await records.told(conn, link.id, doc_id)

    # --- agencies -----------------------------------------------------------------------------------

    async def _agencies(self, link: UpstreamLink, secret: bytes, system: System) -> bool:
        answers = {}
        for operation, header in directory.CALLS:  # the four QD20 levels are four answers: keyed apart
            answer = await self._call(link, secret, operation, header)
            answers[directory.answer_key(operation, header)] = answer.body.get("data")
        async with self._pool.acquire(timeout=self._acquire_timeout) as conn:
            await directory.refresh(conn, link.id, answers)
        return False


def _ascii(text: str) -> str:
    """``text`` without its diacritics (and anything else outside ASCII)."""
    return unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D")).encode("ascii", "ignore").decode()


def _text(value: object) -> str:
    try:
        return "" if value is None else get_as_string(value, "value")
    except (JavaException, ValueError):
        return ""
