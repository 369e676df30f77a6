"""Documents across the federation of ``three_axes``: the life of one, latency at ordinary load, and
a load with faults (SIGKILL of each axis, a cut link), checked against a ledger.

The agencies behave as eOffice software does, through the project's client library: province A's
people's committee (``a-ubnd``) sends documents to province B and to its own department; province
B's (``b-ubnd``) sends documents to province A. Each recipient pulls its inbox, verifies,
acknowledges, and answers every new document from the other province with a signed status 01. A
sender whose submission failed or went unanswered sends the same bytes again.

The ledger's verdict, once everything settled: every accepted document at each of its recipients
exactly once in effect (one package, the bytes the sender signed), and every status 01 an axis
accepted in its sender's timeline. Lost, duplicates in effect, altered and statuses missing must
all be 0.
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

#: Each eOffice: the agency it serves.
OFFICES = {"a-ubnd": A, "a-so": A_DEPT, "b-ubnd": B}
#: How often an eOffice looks at an empty inbox (seconds): part of every latency measured.
POLL = 0.25


@dataclass
class Ledger:
    submitted: dict[str, float] = field(default_factory=dict)  # document id -> when first submitted
    digests: dict[str, str] = field(default_factory=dict)  # document id -> sha256 of the signed bytes
    addressed: dict[str, tuple[str, ...]] = field(default_factory=dict)  # document id -> recipient eOffices
    senders: dict[str, str] = field(default_factory=dict)  # document id -> the sending eOffice
    arrivals: dict[str, dict[str, set[str]]] = field(default_factory=dict)  # eOffice -> doc -> package ids
    first_seen: dict[tuple[str, str], float] = field(default_factory=dict)  # (eOffice, doc) -> when
    altered: list[tuple[str, str]] = field(default_factory=list)  # (eOffice, doc) whose bytes differed
    statuses_sent: set[tuple[str, str]] = field(default_factory=set)  # (eOffice, doc): its 01 accepted
    copies_on_the_wire: int = 0  # a package seen again before its acknowledgement took effect

    def arrived(self, office: str, document_id: str) -> bool:
        return bool(self.arrivals.get(office, {}).get(document_id))

    def settled(self, document_id: str) -> bool:
        return all(self.arrived(office, document_id) for office in self.addressed[document_id])


def agency(axis: Axis, system_id: str, federation: Federation) -> AgencyClient:
    code = OFFICES[system_id]
    trust = TrustAnchors.from_files([axis.keys / "ca.pem"])
    return AgencyClient(
        axis.base_url,
        axis.tokens[system_id],
        identity=federation.identities[code],
        agency_name=NAMES[code],
        trust=trust,
    )


def _province(code: str) -> str:
    return code[-3:]


async def insist(action: Callable[[], object], *, limit: float = 300.0) -> object:
    """Again and again while the axis is down or refusing for now (503, 429), as a good client does."""
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
    sender: AgencyClient,
    ledger: Ledger,
    count: int,
    rate: float,
    tag: str,
    *,
    to: tuple[str, ...] = ("b-ubnd", "a-so"),
    sender_office: str = "a-ubnd",
) -> list[str]:
    """``count`` documents at ``rate`` per second to the eOffices ``to``, each signed once and sent
    until accepted; returns their DocumentIds."""
    today = dt.datetime.now(m.VN_TZ).date()
    started = time.monotonic()
    codes = tuple(OFFICES[office] for office in to)
    made: list[str] = []

    async def one(i: int) -> None:
        letter = packages.Letter(
            subject=f"V/v thử nghiệm liên thông ba trục, văn bản số {i + 1}",
            code=m.Code(str(i + 1), tag),
            date=today,
            to=codes,
            content="Đề nghị các cơ quan phối hợp.",
        )
        data = sender.sign_package(packages.document(sender.organization, letter, m.Business()))  # signed once
        document_id = f"{sender.agency_code},{today:%Y/%m/%d},{i + 1}/{tag}"
        made.append(document_id)
        ledger.submitted.setdefault(document_id, time.monotonic())
        ledger.digests[document_id] = hashlib.sha256(data).hexdigest()
        ledger.addressed[document_id] = to
        ledger.senders[document_id] = sender_office
        await insist(lambda: sender.send_signed(data, attempts=1))

    tasks = []
    for i in range(count):
        await asyncio.sleep(max(0.0, started + i / rate - time.monotonic()))
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    return made


async def receive(client: AgencyClient, office: str, ledger: Ledger, stop: asyncio.Event) -> None:
    """Pull, verify, record, answer a document from another province with status 01, acknowledge;
    through restarts of its axis."""
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
                if received.kind is m.Kind.DOCUMENT:
                    doc = received.document_id
                    seen = ledger.arrivals.setdefault(office, {}).setdefault(doc, set())
                    if item.id in seen:
                        ledger.copies_on_the_wire += 1
                    seen.add(item.id)
                    ledger.first_seen.setdefault((office, doc), time.monotonic())
                    business = getattr(received.package, "business", None)
                    new = business is None or business.doc_type is m.BusinessDocType.NEW
                    if new and hashlib.sha256(received.data).hexdigest() != ledger.digests.get(doc):
                        ledger.altered.append((office, doc))
                    elsewhere = _province(received.package.sender.organ_id) != _province(OFFICES[office])
                    if new and elsewhere and (office, doc) not in ledger.statuses_sent:
                        status = client.status_package(doc, StatusCode.ARRIVED, description="Đã đến")
                        await insist(lambda data=status: client.send_signed(data, attempts=1))
                        ledger.statuses_sent.add((office, doc))
                await client.ack(item.id)


@dataclass
class Verdict:
    documents: int
    deliveries: int  # document x recipient
    lost: int
    duplicates: int
    altered: int
    statuses: int  # statuses expected back in senders' timelines
    statuses_missing: int
    copies_on_the_wire: int
    seconds: float

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.duplicates == 0 and self.altered == 0 and self.statuses_missing == 0


def _expected_statuses(ledger: Ledger, documents: list[str]) -> set[tuple[str, str]]:
    """(recipient eOffice, doc): each document's recipients in another province than its sender's."""
    return {
        (office, doc)
        for doc in documents
        for office in ledger.addressed[doc]
        if _province(OFFICES[office]) != _province(OFFICES[ledger.senders[doc]])
    }


async def settle(
    clients: dict[str, AgencyClient], ledger: Ledger, documents: list[str], *, limit: float
) -> set[tuple[str, str]]:
    """Wait until every document is at each of its recipients and each status 01 from another
    province is in its sender's timeline; returns the (recipient, doc) statuses still missing."""
    deadline = time.monotonic() + limit
    missing = _expected_statuses(ledger, documents)
    while time.monotonic() < deadline:
        if all(ledger.settled(doc) for doc in documents):
            for office, doc in list(missing):
                with contextlib.suppress(aiohttp.ClientError, TimeoutError, AxisError):
                    timeline = await clients[ledger.senders[doc]].status(doc)
                    code = OFFICES[office]
                    if any(s.code == "01" for r in timeline.recipients if r.agency == code for s in r.statuses):
                        missing.discard((office, doc))
            if not missing:
                return missing
        await asyncio.sleep(1.0)
    return missing


def verdict(ledger: Ledger, documents: list[str], statuses_missing: set[tuple[str, str]], seconds: float) -> Verdict:
    pairs = [(office, doc) for doc in documents for office in ledger.addressed[doc]]
    return Verdict(
        documents=len(documents),
        deliveries=len(pairs),
        lost=sum(1 for office, doc in pairs if not ledger.arrived(office, doc)),
        duplicates=sum(max(0, len(ledger.arrivals.get(office, {}).get(doc, ())) - 1) for office, doc in pairs),
        altered=len(ledger.altered),
        statuses=len(_expected_statuses(ledger, documents)),
        statuses_missing=len(statuses_missing),
        copies_on_the_wire=ledger.copies_on_the_wire,
        seconds=seconds,
    )


def latencies(ledger: Ledger, office: str, documents: list[str]) -> tuple[float, float, float]:
    """p50, p99 and max of submit -> the recipient's eOffice sees it in its inbox, in seconds."""
    values = sorted(
        ledger.first_seen[(office, d)] - ledger.submitted[d] for d in documents if (office, d) in ledger.first_seen
    )
    if not values:
        return (float("nan"),) * 3  # type: ignore[return-value]
    p99 = values[min(len(values) - 1, round(0.99 * (len(values) - 1)))]
    return statistics.median(values), p99, values[-1]


@dataclass
class Agencies:
    """The three eOffices and their receiving loops."""

    clients: dict[str, AgencyClient]
    ledger: Ledger
    stop: asyncio.Event
    tasks: list[asyncio.Task[None]]

    @property
    def sender(self) -> AgencyClient:  # province A's people's committee
        return self.clients["a-ubnd"]

    @property
    def b(self) -> AgencyClient:
        return self.clients["b-ubnd"]

    async def close(self) -> None:
        self.stop.set()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for client in self.clients.values():
            await client.close()


def agencies(federation: Federation) -> Agencies:
    ledger, stop = Ledger(), asyncio.Event()
    homes = {"a-ubnd": federation.a, "a-so": federation.a, "b-ubnd": federation.b}
    clients = {office: agency(axis, office, federation) for office, axis in homes.items()}
    tasks = [asyncio.create_task(receive(client, office, ledger, stop)) for office, client in clients.items()]
    return Agencies(clients, ledger, stop, tasks)
