"""SQL for where documents stand: per-recipient timelines and the search over sent and received.

A system sees a document it sent in full, and of a document it received only the rows of the
agencies it serves; a document it has nothing to do with does not exist (404, never 403). The
rule is ``axis.exchange.visibility``'s.

Every package shown carries the ``signature_policy`` it was accepted under, and the timeline lists
in ``legacy_packages`` those of its packages (the document, its revocation, updates, replacement,
statuses) that no SHA-2 XML Signature stood behind, so that nobody has to look for them.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from axis.edxml.model import VN_TZ
from axis.edxml.trust import AppliedPolicy
from axis.errors import AxisError
from axis.exchange import visibility
from axis.exchange.deliveries import DeliveryState
from axis.registry import folding
from axis.store.db import Conn, contains

# The rows of package p, with its recipients pr, that the system $2 (timeline) or $1 (search) may see.
_TIMELINE, _SEARCH = visibility.rule("$2", "p"), visibility.rule("$1", "p")


def _legacy(policy: str | None) -> bool:
    return policy is not None and policy != AppliedPolicy.STRICT


# What ``timeline`` and ``search`` return. Their field names are the native API's JSON names
# (``axis.http.documents`` writes them as they are, times in ISO 8601); the pages read them too.


@dataclass(frozen=True, slots=True, kw_only=True)
class Requeue:
    """The axis's operators sent a failed delivery again (who did stays in the axis's logs)."""

    at: dt.datetime
    previous_reason: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Handover:
    """A delivery to the axis above (federation): handed with sendEdoc, under the upstream's DocId.
    ``state``: sending (not yet answered), handed, or refused (``last_error`` says why; retried)."""

    state: str
    doc_id: str | None
    handed_at: dt.datetime | None
    last_error: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryStep:
    """One of the document's packages on its way to the recipient agency's system."""

    package_id: str
    business_type: int | None
    signature_policy: str
    state: str  # a DeliveryState's value
    queued_at: dt.datetime
    published_at: dt.datetime | None
    fetched_at: dt.datetime | None
    delivered_at: dt.datetime | None
    failed_reason: str | None
    requeued: tuple[Requeue, ...]
    upstream: Handover | None = None  # a recipient beyond this axis: its handover to the axis above


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusStep:
    """A status package about the document, for this agency (``by``: its recipient or sender)."""

    package_id: str | None
    signature_policy: str | None
    code: str | None
    by: str
    description: str
    time: str | None  # as the status package says it (its own clock)
    received_at: dt.datetime
    staff: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestStep:
    """A revocation, update or replacement the sender asked of this agency."""

    type: int | None
    reason: str
    at: dt.datetime
    package_id: str | None
    signature_policy: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class RecipientTimeline:
    """Where the document stands at one recipient agency."""

    package_id: str
    business_type: int | None
    requested: str  # the code the sender wrote
    agency: str  # the agency that has it (after redirects)
    name: str
    system: str
    redirects: tuple[str, ...]
    delivery: DeliveryStep  # the first package's
    deliveries: tuple[DeliveryStep, ...]
    statuses: tuple[StatusStep, ...]
    requests: tuple[RequestStep, ...]
    overdue: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class LegacyPackage:
    """A package of the document accepted without a SHA-2 XML Signature behind it."""

    package_id: str
    kind: str
    document_id: str
    business_type: int | None
    status_code: str | None
    sender: str
    sender_system: str
    signature_policy: str
    received_at: dt.datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class PackageLine:
    package_id: str
    business_type: int | None
    received_at: dt.datetime
    signature_policy: str
    #: What the signatures in its files are (``axis.files.findings.Verdict``), None if not checked.
    file_signatures: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Timeline:
    """A document as the caller may see it, per recipient agency."""

    document_id: str
    sender: str
    sender_system: str
    subject: str
    received_at: dt.datetime
    signature_policy: str
    legacy_packages: tuple[LegacyPackage, ...]
    state: str
    superseded_by: str | None
    replaces: tuple[str, ...]
    due_date: dt.date | None
    packages: tuple[PackageLine, ...]
    recipients: tuple[RecipientTimeline, ...]
    #: The file verdict of the document's latest package whose files were checked (each package's
    #: own is in ``packages``; the whole report: ``GET /api/v1/packages/{id}/files``).
    file_signatures: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryCounts:
    delivered: int
    queued: int
    failed: int


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentSummary:
    """A document in the search's list, with how many of its recipient agencies (those the
    caller may see) have it in each state."""

    package_id: str
    document_id: str
    business_type: int | None
    direction: str  # "sent" or "received"
    sender: str
    subject: str
    number: str | None
    notation: str | None
    promulgation_date: dt.date | None
    due_date: dt.date | None
    received_at: dt.datetime
    signature_policy: str
    deliveries: DeliveryCounts
    #: What the signatures in its files are (``axis.files.findings.Verdict``), None if not checked.
    file_signatures: str | None = None


async def timeline(
    conn: Conn,
    document_id: str,
    system_id: str,
    *,
    ack_deadline: dt.timedelta = dt.timedelta(hours=24),
    now: dt.datetime | None = None,
) -> Timeline:
    """Per recipient agency: where each of the document's packages stands, every status with its
    author and time, and what is overdue; plus the document's own state (revoked, replaced)."""
    now = now or dt.datetime.now(dt.UTC)
    rows = await conn.fetch(
        f"""SELECT p.id AS package_id, p.business_type, p.sender_code, p.sender_system, p.subject,
                  p.received_at, p.signature_policy, p.status_code, pr.requested_code, pr.agency_code,
                  coalesce(a.name, ea.name, '') AS agency_name, pr.system_id, pr.redirects, d.state,
                  d.created_at, d.published_at, d.fetched_at, d.delivered_at, d.failed_reason, d.requeued_at,
                  us.state AS upstream_state, us.upstream_doc_id, us.handed_at, us.last_error AS upstream_error,
                  fc.verdict AS file_signatures
             FROM packages p
             JOIN package_recipients pr ON pr.package_id = p.id
             LEFT JOIN file_checks fc ON fc.package_id = p.id
             JOIN deliveries d ON d.package_id = p.id AND d.system_id = pr.system_id
             LEFT JOIN agencies a ON a.code = pr.agency_code
             LEFT JOIN external_agencies ea ON a.code IS NULL AND ea.code = pr.agency_code
             LEFT JOIN upstream_sent us ON us.package_id = p.id AND us.link_id = pr.system_id
            WHERE p.document_id = $1 AND p.kind = 'document'
              AND {_TIMELINE.recipient}
            ORDER BY p.received_at, pr.requested_code""",
        document_id,
        system_id,
    )
    if not rows:
        raise AxisError("document.unknown", f"No document {document_id!r} for this system.", document_id=document_id)
    document = await conn.fetchrow(
        "SELECT state, superseded_by, due_date FROM documents WHERE document_id = $1", document_id
    )
    replaces = await conn.fetch(
        """SELECT DISTINCT l.target_document_id FROM document_links l JOIN packages p ON p.id = l.package_id
            WHERE p.document_id = $1 AND l.relation = 'replaces' ORDER BY 1""",
        document_id,
    )
    events = await conn.fetch(
        """SELECT e.at, e.kind, e.package_id, e.system_id, e.agency_code, e.detail, p.signature_policy,
                  p.kind AS package_kind, p.document_id AS package_document_id, p.business_type,
                  p.status_code, p.sender_code, p.sender_system, p.received_at
             FROM events e LEFT JOIN packages p ON p.id = e.package_id
            WHERE e.document_id = $1 AND e.kind IN ('status', 'business', 'requeued') ORDER BY e.id""",
        document_id,
    )
    due = document["due_date"] if document else None
    first = rows[0]
    requeues: dict[tuple[Any, str], list[Requeue]] = {}
    for e in events:
        if e["kind"] == "requeued":
            requeues.setdefault((e["package_id"], e["system_id"]), []).append(
                Requeue(at=e["at"], previous_reason=e["detail"].get("previous_reason"))
            )
    recipients: dict[str, _Recipient] = {}
    # The packages this caller sees that were accepted under a legacy policy, by id, in order.
    legacy: dict[str, LegacyPackage] = {}

    def note(r: Any, kind: str, document: str) -> None:
        if _legacy(r["signature_policy"]) and str(r["package_id"]) not in legacy:
            legacy[str(r["package_id"])] = LegacyPackage(
                package_id=str(r["package_id"]),
                kind=kind,
                document_id=document,
                business_type=r["business_type"],
                status_code=r["status_code"] if kind == "status" else None,
                sender=r["sender_code"],
                sender_system=r["sender_system"],
                signature_policy=r["signature_policy"],
                received_at=r["received_at"],
            )

    for r in rows:
        note(r, "document", document_id)
        delivery = DeliveryStep(
            package_id=str(r["package_id"]),
            business_type=r["business_type"],
            signature_policy=r["signature_policy"],
            state=r["state"],
            queued_at=r["created_at"],
            published_at=r["published_at"],
            fetched_at=r["fetched_at"],
            delivered_at=r["delivered_at"],
            failed_reason=r["failed_reason"],
            # When the axis's operators sent it again, and why it had failed (who did it stays in
            # the axis's own logs: agencies see the operator's act, not the operator's account).
            requeued=tuple(requeues.get((r["package_id"], r["system_id"]), [])),
            upstream=Handover(
                state=r["upstream_state"],
                doc_id=r["upstream_doc_id"],
                handed_at=r["handed_at"],
                last_error=r["upstream_error"],
            )
            if r["upstream_state"]
            else None,
        )
        entry = recipients.get(r["agency_code"])
        if entry is None:
            entry = recipients[r["agency_code"]] = _Recipient(r, delivery)
        entry.deliveries.append(delivery)
        # A delivery sent again has the whole deadline again, from the time it was requeued.
        waiting_since = r["requeued_at"] or r["created_at"]
        if r["state"] == DeliveryState.QUEUED and waiting_since + ack_deadline < now:
            hours = ack_deadline.total_seconds() / 3600
            entry.overdue.append(f"package {r['package_id']} not acknowledged within {hours:g} h")
    for e in events:
        entry = recipients.get(e["agency_code"])
        if entry is None or e["kind"] == "requeued":
            continue
        detail = e["detail"]
        package_id = str(e["package_id"]) if e["package_id"] else None
        if e["package_kind"] is not None:
            note(e, e["package_kind"], e["package_document_id"])
        if e["kind"] == "business":
            entry.requests.append(
                RequestStep(
                    type=detail.get("type"),
                    reason=detail.get("reason", ""),
                    at=e["at"],
                    package_id=package_id,
                    signature_policy=e["signature_policy"],
                )
            )
            continue
        entry.statuses.append(
            StatusStep(
                package_id=package_id,
                signature_policy=e["signature_policy"],
                code=detail.get("code"),
                by=detail.get("by", "recipient"),
                description=detail.get("description", ""),
                time=detail.get("timestamp"),
                received_at=e["at"],
                staff=detail.get("staff", ""),
            )
        )
    for entry in recipients.values():
        # Handed to the axis above: the upstream acknowledged it, the recipient is still to be heard
        # from. Silence past the deadline is overdue, as a local delivery not acknowledged would be.
        heard = any(s.by == "recipient" for s in entry.statuses)
        for d in entry.deliveries:
            handed = d.upstream.handed_at if d.upstream is not None else None
            if handed is not None and not heard and handed + ack_deadline < now:
                hours = ack_deadline.total_seconds() / 3600
                entry.overdue.append(
                    f"package {d.package_id} handed to the national axis, "
                    f"no answer from the recipient within {hours:g} h"
                )
    today = now.astimezone(VN_TZ).date()
    for entry in recipients.values():
        codes = {s.code for s in entry.statuses if s.by == "recipient"}
        if due is not None and due < today and not codes & {"02", "06"}:
            entry.overdue.append(f"due date {due:%Y-%m-%d} passed before completion (06)")
    lines = tuple(
        PackageLine(package_id=str(pid), business_type=bt, received_at=at, signature_policy=policy, file_signatures=fs)
        for pid, bt, at, policy, fs in dict.fromkeys(
            (r["package_id"], r["business_type"], r["received_at"], r["signature_policy"], r["file_signatures"])
            for r in rows
        )
    )
    return Timeline(
        document_id=document_id,
        sender=first["sender_code"],
        sender_system=first["sender_system"],
        subject=first["subject"],
        received_at=first["received_at"],
        signature_policy=first["signature_policy"],
        legacy_packages=tuple(sorted(legacy.values(), key=lambda p: p.received_at)),
        state=document["state"] if document else "active",
        superseded_by=document["superseded_by"] if document else None,
        replaces=tuple(r["target_document_id"] for r in replaces),
        due_date=due,
        packages=lines,
        recipients=tuple(entry.done() for entry in recipients.values()),
        file_signatures=next((p.file_signatures for p in reversed(lines) if p.file_signatures), None),
    )


@dataclass
class _Recipient:
    """A recipient's timeline while ``timeline`` gathers it."""

    row: Any  # the first of its rows
    delivery: DeliveryStep
    deliveries: list[DeliveryStep] = field(default_factory=list)
    statuses: list[StatusStep] = field(default_factory=list)
    requests: list[RequestStep] = field(default_factory=list)
    overdue: list[str] = field(default_factory=list)

    def done(self) -> RecipientTimeline:
        r = self.row
        return RecipientTimeline(
            package_id=str(r["package_id"]),
            business_type=r["business_type"],
            requested=r["requested_code"],
            agency=r["agency_code"],
            name=r["agency_name"],
            system=r["system_id"],
            redirects=tuple(r["redirects"]),
            delivery=self.delivery,
            deliveries=tuple(self.deliveries),
            statuses=tuple(self.statuses),
            requests=tuple(self.requests),
            overdue=tuple(self.overdue),
        )


#: What makes a LIKE pattern more than a string to compare (then the notation filter walks).
_LIKE_WILDCARDS = re.compile(r"[%_\\]")

#: ``search``'s ``delivery`` filter: some recipient failed, some still waits, all took it.
DELIVERY_FILTERS = ("failed", "waiting", "done")

# A package's recipient agencies that the caller may see (all when it sent the package, else the
# agencies it serves), each with its delivery: the rows ``search`` counts and filters on.
_VISIBLE_DELIVERIES = f"""package_recipients pr
    JOIN deliveries d ON d.package_id = pr.package_id AND d.system_id = pr.system_id
   WHERE pr.package_id = p.id AND {_SEARCH.recipient}"""


async def search(
    conn: Conn,
    system_id: str,
    *,
    direction: str = "all",
    document_id: str | None = None,
    number: str | None = None,
    notation: str | None = None,
    words: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    counterpart: str | None = None,
    delivery: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[DocumentSummary]:
    """Newest first (by promulgation date when ``since`` or ``until`` is given); each with
    ``deliveries``: how many of its recipient agencies (those the caller may see) have it
    ``delivered``, ``queued`` or ``failed``, so that a list shows where each document stands
    without opening it."""
    conditions = ["sd.system_id = $1"]
    on_packages: list[str] = []  # conditions on the package's own row (others are system_documents')
    args: list[Any] = [system_id]

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if direction == "sent":
        conditions.append("sd.sent")
    elif direction == "received":
        conditions.append("NOT sd.sent")
    if document_id:
        # A document's few packages, found by id first and then looked up among the system's rows
        # by their primary key (and planned for each call: see the settings below).
        conditions.append(
            f"sd.package_id = ANY (ARRAY (SELECT o.id FROM packages o WHERE o.document_id = {arg(document_id)}))"
        )
    if number:
        conditions.append(f"sd.code_number = {arg(number)}")
    if notation and not _LIKE_WILDCARDS.search(notation):
        conditions.append(f"sd.notation_folded = lower({arg(notation)})")  # ILIKE's meaning, on an index
    elif notation:
        on_packages.append(f"p.code_notation ILIKE {arg(notation)}")
    for word in folding.words(words or ""):
        conditions.append(f"sd.subject_folded LIKE {arg(contains(word))}")
    if since:
        conditions.append(f"sd.promulgation_date >= {arg(since)}")
    if until:
        conditions.append(f"sd.promulgation_date <= {arg(until)}")
    if counterpart:
        code = arg(counterpart)
        on_packages.append(
            f"(p.sender_code = {code} OR EXISTS (SELECT 1 FROM package_recipients r"
            f" WHERE r.package_id = p.id AND (r.agency_code = {code} OR r.requested_code = {code})))"
        )
    walk = "system_documents sd"
    by_dates = bool(since or until)
    walks_deliveries = delivery in ("failed", "waiting") and not by_dates
    if delivery in ("failed", "waiting"):
        # The state is a literal, not a parameter: a generic plan uses a partial index only then.
        state = (DeliveryState.FAILED if delivery == "failed" else DeliveryState.QUEUED).value
        if walks_deliveries:
            # Failed deliveries pile up until an operator sends them again, and waiting ones while
            # a recipient is away, so the page is not chosen among all of them: partial indexes
            # hold each system's and each sender's (migrations 021, 025), and the walk merges the
            # two newest first, one row per document (a sender sees each failed recipient of it),
            # looking each up among the caller's documents until a page has passed the other
            # filters. A delivery is created in the statement that stores its package
            # (``store.accept``), so its ``created_at`` is the package's ``received_at``: the same
            # order as the page's.
            mine = f"SELECT o.created_at, o.package_id FROM deliveries o WHERE o.state = '{state}'"
            sides = [
                f"{mine} AND o.{column} = $1"
                for column, side in (("sender_system", "sent"), ("system_id", "received"))
                if direction in ("all", side)
            ]
            # Each delivery walked is looked up among the caller's documents by key (LATERAL;
            # OFFSET 0 keeps it so), in the walk's order, until the page is full: estimating how
            # many it would need, PostgreSQL hashed all the caller's documents instead (14,612
            # rows for 236 failures, bench_scale at 3 M).
            walk = f"""(SELECT DISTINCT o.created_at, o.package_id FROM ({" UNION ALL ".join(sides)}) o
                         ORDER BY o.created_at DESC, o.package_id) f
                       CROSS JOIN LATERAL (SELECT * FROM system_documents s
                                            WHERE s.system_id = $1 AND s.package_id = f.package_id OFFSET 0) sd"""
        else:
            # By promulgation date the walk's order is not the page's: the deliveries the caller
            # may see (all of what it sent, its own of what it received) are read first, never
            # tested document by document, and their documents sorted.
            conditions.append(
                f"sd.package_id = ANY (ARRAY (SELECT o.package_id FROM deliveries o"
                f" WHERE o.state = '{state}' AND (o.sender_system = $1 OR o.system_id = $1)))"
            )
    elif delivery == "done":
        # Done: none of the deliveries the caller may see is still queued or failed. The sender
        # sees every delivery of what it sent, a recipient its own; a delivery is per system, so
        # its rows answer that without the package's row or its recipient agencies (a random read
        # of the biggest table and a join for every document walked).
        conditions.append(
            f"NOT EXISTS (SELECT 1 FROM deliveries o WHERE o.package_id = sd.package_id"
            f" AND o.state <> '{DeliveryState.DELIVERED.value}' AND (sd.sent OR o.system_id = $1))"
        )
    elif delivery is not None:
        raise AxisError("http.bad_request", f"delivery is one of {', '.join(DELIVERY_FILTERS)}.")
    # Promulgated newest first when the search is by promulgation dates (a register of what was
    # promulgated in the period), else arrived newest first: each order an index's, so that a page
    # is read in order and never the whole range sorted.
    if by_dates:
        order = "{t}.promulgation_date DESC, {t}.received_at DESC, {t}.package_id"
    else:
        order = "{t}.received_at DESC, {t}.package_id"
    # The page's order, said as the walk's when it walks deliveries (the same order).
    page_order = "f.created_at DESC, f.package_id" if walks_deliveries else order.format(t="sd")
    # The documents a system may see are its rows of system_documents (written at intake): the
    # search walks those, in time order or down the filter's index (number, dates), never every
    # package, so that its cost follows the system's own share of the history. The page is
    # chosen among those rows first, and only its documents are read from packages (the biggest
    # table, read at random): a filter that starts from many candidates (failed deliveries) sorts
    # them without reading each one's package.
    through_packages = "JOIN packages p ON p.id = sd.package_id" if on_packages else ""
    query = f"""WITH page AS (
                   SELECT sd.package_id, sd.received_at, sd.promulgation_date
                     FROM {walk} {through_packages}
                    WHERE {" AND ".join(conditions + on_packages)}
                    ORDER BY {page_order} LIMIT {arg(limit)} OFFSET {arg(offset)})
                SELECT p.id, p.document_id, p.business_type, p.sender_code, p.sender_system, p.subject,
                       p.code_number, p.code_notation, p.promulgation_date, p.due_date, p.received_at,
                       p.signature_policy,
                       (SELECT jsonb_build_object('delivered', count(*) FILTER (WHERE d.state = 'delivered'),
                                                  'queued', count(*) FILTER (WHERE d.state = 'queued'),
                                                  'failed', count(*) FILTER (WHERE d.state = 'failed'))
                          FROM {_VISIBLE_DELIVERIES}) AS deliveries,
                       (SELECT fc.verdict FROM file_checks fc WHERE fc.package_id = p.id) AS file_signatures
                  FROM page JOIN packages p ON p.id = page.package_id
                 ORDER BY {order.format(t="page")}"""
    settings = []
    if words:
        # Words of one subject phrase ("chuyển đổi số") come together, but PostgreSQL estimates
        # each LIKE as independent, expects almost no match and reads all the system's rows to
        # sort them. Walking in order instead stops at a full page when the words are common and
        # reads no more than that plan when they are rare (bench_scale: 4 ms against 40 ms).
        settings += ["enable_bitmapscan = off", "enable_sort = off"]
    if document_id or (delivery == "failed" and not walks_deliveries):
        # These start from a few rows found elsewhere (a document's packages, the failed
        # deliveries). From its sixth call a prepared statement may run a generic plan, costed
        # for an average system (~350 rows at two million packages); for the busiest system
        # (32,000) it hashed or walked all of them instead (bench_scale at 2 M: by document id
        # 4.1 ms against 0.5 planned for the call, failed 10.2 against 4.8). Planning each call
        # costs the other filters more than it saves them.
        settings.append("plan_cache_mode = force_custom_plan")
    if not settings:
        rows = await conn.fetch(query, *args)
    else:
        async with conn.transaction():
            await conn.execute("; ".join(f"SET LOCAL {setting}" for setting in settings))
            rows = await conn.fetch(query, *args)
    return [
        DocumentSummary(
            package_id=str(r["id"]),
            document_id=r["document_id"],
            business_type=r["business_type"],
            direction="sent" if r["sender_system"] == system_id else "received",
            sender=r["sender_code"],
            subject=r["subject"],
            number=r["code_number"],
            notation=r["code_notation"],
            promulgation_date=r["promulgation_date"],
            due_date=r["due_date"],
            received_at=r["received_at"],
            signature_policy=r["signature_policy"],
            deliveries=DeliveryCounts(**r["deliveries"]),
            file_signatures=r["file_signatures"],
        )
        for r in rows
    ]
