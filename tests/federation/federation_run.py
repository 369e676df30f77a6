"""Documents across the federation of ``three_axes``: the life of one, latency at ordinary load, and
a load with faults (SIGKILL of each axis, a cut link), checked against a ledger.

The agencies behave as eOffice software does, through the project's client library: province A's
people's committee sends each document to province B and to its own department, signed; each
recipient pulls its inbox, verifies, acknowledges; province B answers every document with a signed
status 01. A sender whose submission failed or went unanswered sends the same bytes again.

The ledger's verdict, once everything settled: every accepted document at each recipient exactly
once in effect (one package, the bytes the sender signed), every status B's axis accepted in A's
timeline. Lost, duplicates in effect and statuses missing must all be 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp
from three_axes import A_DEPT, NAMES, A, Axis, B, Federation

from axis.client import AgencyClient, StatusCode, packages
from axis.edxml import model as m
from axis.edxml.trust import TrustAnchors
from axis.errors import AxisError

RECIPIENTS = {"b-ubnd": B, "a-so": A_DEPT}
#: How often an eOffice looks at an empty inbox (seconds): part of every latency measured.
POLL = 0.25


@dataclass
class Ledger:
    submitted: dict[str, float] = field(default_factory=dict)  # document id -> when first submitted
    digests: dict[str, str] = field(default_factory=dict)  # document id -> sha256 of the signed bytes
    arrivals: dict[str, dict[str, set[str]]] = field(default_factory=dict)  # recipient -> doc -> package ids
    first_seen: dict[tuple[str, str], float] = field(default_factory=dict)  # (recipient, doc) -> when
    altered: list[tuple[str, str]] = field(default_factory=list)  # (recipient, doc) whose bytes differed
    statuses_sent: set[str] = field(default_factory=set)  # doc ids B's axis accepted a status 01 for
    copies_on_the_wire: int = 0  # a package seen again before its acknowledgement took effect

    def arrived(self, recipient: str, document_id: str) -> bool:
        return bool(self.arrivals.get(recipient, {}).get(document_id))


def agency(axis: Axis, system_id: str, federation: Federation) -> AgencyClient:
    code = RECIPIENTS.get(system_id, A)
    trust = TrustAnchors.from_files([axis.keys / "ca.pem"])
    return AgencyClient(
        axis.base_url,
        axis.tokens[system_id],
        identity=federation.identities[code],
        agency_name=NAMES[code],
        trust=trust,
    )


async def insist(action: Callable[[], object], *, limit: float = 300.0) -> object:
    """Again and again while the axis is down or refusing for now (503), as a good client does."""
    deadline = time.monotonic() + limit
    while True:
        try:
            return await action()  # type: ignore[misc]
        except (aiohttp.ClientError, TimeoutError, ConnectionError) as exc:
            problem: BaseException = exc
        except AxisError as exc:
            if exc.http_status < 500 and exc.http_status != 429:  # too many requests: wait, as asked
                raise
            problem = exc
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {limit} s: {problem!r}")
        await asyncio.sleep(0.5)


async def send_documents(
    sender: AgencyClient, ledger: Ledger, count: int, rate: float, tag: str, *, to: tuple[str, ...] = (B, A_DEPT)
) -> None:
    """``count`` documents at ``rate`` per second, each signed once and sent until accepted."""
    today = dt.datetime.now(m.VN_TZ).date()
    started = time.monotonic()

    async def one(i: int) -> None:
        letter = sender.sign_package(
            _letter(sender, to, number=str(i + 1), notation=tag, date=today)  # signed once: resent as is
        )
        document_id = f"{A},{today:%Y/%m/%d},{i + 1}/{tag}"
        ledger.submitted.setdefault(document_id, time.monotonic())
        ledger.digests[document_id] = hashlib.sha256(letter).hexdigest()
        await insist(lambda: sender.send_signed(letter, attempts=1))

    tasks = []
    for i in range(count):
        await asyncio.sleep(max(0.0, started + i / rate - time.monotonic()))
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)


def _letter(sender: AgencyClient, to: tuple[str, ...], *, number: str, notation: str, date: dt.date) -> m.Package:
    letter = packages.Letter(
        subject=f"V/v thử nghiệm liên thông ba trục, văn bản số {number}",
        code=m.Code(number, notation),
        date=date,
        to=to,
        attachments=(),
        content="Đề nghị các cơ quan phối hợp.",
    )
    return packages.document(sender.organization, letter, m.Business())


async def receive(
    client: AgencyClient, system_id: str, ledger: Ledger, stop: asyncio.Event, *, answer: bool = False
) -> None:
    """Pull, verify, record, (answer with status 01,) acknowledge; through restarts of its axis."""
    while not stop.is_set():
        try:
            items = await client.inbox(limit=100)
        except (aiohttp.ClientError, TimeoutError, ConnectionError, AxisError):
            await asyncio.sleep(0.5)
            continue
        if not items:
            await asyncio.sleep(POLL)
            continue
        for item in items:
            with contextlib.suppress(aiohttp.ClientError, TimeoutError, ConnectionError, AxisError):
                if item.type == "receipt":
                    await client.ack_receipt(item.id)
                    continue
                received = await client.receive(item.id)
                if received.kind is m.Kind.DOCUMENT and system_id in RECIPIENTS:
                    doc = received.document_id
                    seen = ledger.arrivals.setdefault(system_id, {}).setdefault(doc, set())
                    if item.id in seen:
                        ledger.copies_on_the_wire += 1
                    seen.add(item.id)
                    ledger.first_seen.setdefault((system_id, doc), time.monotonic())
                    business = getattr(received.package, "business", None)
                    new = business is None or business.doc_type is m.BusinessDocType.NEW
                    if new and hashlib.sha256(received.data).hexdigest() != ledger.digests.get(doc):
                        ledger.altered.append((system_id, doc))
                    if answer and new and doc not in ledger.statuses_sent:
                        status = client.status_package(doc, StatusCode.ARRIVED, description="Đã đến")
                        await insist(lambda data=status: client.send_signed(data, attempts=1))
                        ledger.statuses_sent.add(doc)
                await client.ack(item.id)


@dataclass
class Verdict:
    documents: int
    accepted: int
    lost: int
    duplicates: int
    altered: int
    statuses_missing: int
    copies_on_the_wire: int
    seconds: float

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.duplicates == 0 and self.altered == 0 and self.statuses_missing == 0


async def settle(sender: AgencyClient, ledger: Ledger, documents: list[str], *, limit: float) -> set[str]:
    """Wait until every document arrived at both recipients and B's status reached A's timeline;
    returns the documents whose status is still missing at the end."""
    deadline = time.monotonic() + limit
    missing = set(documents)
    while time.monotonic() < deadline:
        arrived = all(ledger.arrived(r, d) for r in RECIPIENTS for d in documents)
        if arrived:
            for doc in list(missing):
                with contextlib.suppress(aiohttp.ClientError, TimeoutError, AxisError):
                    timeline = await sender.status(doc)
                    if any(s.code == "01" for r in timeline.recipients if r.agency == B for s in r.statuses):
                        missing.discard(doc)
            if not missing:
                return missing
        await asyncio.sleep(1.0)
    return missing


def verdict(ledger: Ledger, documents: list[str], statuses_missing: set[str], seconds: float) -> Verdict:
    lost = sum(1 for r in RECIPIENTS for d in documents if not ledger.arrived(r, d))
    duplicates = sum(max(0, len(ledger.arrivals.get(r, {}).get(d, ())) - 1) for r in RECIPIENTS for d in documents)
    return Verdict(
        documents=len(documents),
        accepted=len(documents),
        lost=lost,
        duplicates=duplicates,
        altered=len(ledger.altered),
        statuses_missing=len(statuses_missing & ledger.statuses_sent) + len(set(documents) - ledger.statuses_sent),
        copies_on_the_wire=ledger.copies_on_the_wire,
        seconds=seconds,
    )


def latencies(ledger: Ledger, recipient: str, documents: list[str]) -> tuple[float, float, float]:
    """p50, p99 and max of submit -> the recipient's eOffice sees it in its inbox, in seconds."""
    values = sorted(
        ledger.first_seen[(recipient, d)] - ledger.submitted[d]
        for d in documents
        if (recipient, d) in ledger.first_seen
    )
    if not values:
        return (float("nan"),) * 3  # type: ignore[return-value]
    p99 = values[min(len(values) - 1, round(0.99 * (len(values) - 1)))]
    return statistics.median(values), p99, values[-1]


@dataclass
class Agencies:
    """The three eOffices and their receiving loops."""

    sender: AgencyClient
    b: AgencyClient
    dept: AgencyClient
    ledger: Ledger
    stop: asyncio.Event
    tasks: list[asyncio.Task[None]]

    async def close(self) -> None:
        self.stop.set()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for client in (self.sender, self.b, self.dept):
            await client.close()


def agencies(federation: Federation) -> Agencies:
    ledger, stop = Ledger(), asyncio.Event()
    sender = agency(federation.a, "a-ubnd", federation)
    b = agency(federation.b, "b-ubnd", federation)
    dept = agency(federation.a, "a-so", federation)
    tasks = [
        asyncio.create_task(receive(b, "b-ubnd", ledger, stop, answer=True)),
        asyncio.create_task(receive(dept, "a-so", ledger, stop)),
        asyncio.create_task(receive(sender, "a-ubnd", ledger, stop)),  # receipts and statuses for the sender
    ]
    return Agencies(sender, b, dept, ledger, stop, tasks)
