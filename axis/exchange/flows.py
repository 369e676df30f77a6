"""What a status or a business package may do to the document it concerns: pure, over its context.

A status package answers a document: it must exist, come from one of its recipient agencies (or,
for a take-back request 13, from its sender), and be a legal next step for that recipient
(``lifecycle``). A revoke (1) or update (2) acts on the sender's own document with the same
DocumentId, only towards its recipients; a replace (3) names the documents it replaces. The
context is loaded (and locked) by the caller; everything here is decided without I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from axis.edxml import model as m
from axis.errors import AxisError
from axis.exchange.lifecycle import Party, Step, check


@dataclass(frozen=True)
class DocumentContext:
    """A document as the exchange knows it, with each recipient agency's history so far."""

    document_id: str
    sender_code: str
    sender_system: str
    state: str  # active | revoked | superseded
    #: resolved agency code -> the code the sender addressed
    recipients: Mapping[str, str]
    #: agency code -> its status steps about this document, in order
    histories: Mapping[str, tuple[Step, ...]] = field(default_factory=dict)
    #: agency codes with a revoke/update/replace delivered and not yet answered by 15/16
    business_pending: frozenset[str] = frozenset()

    def addressed(self, code: str) -> str | None:
        """The recipient agency a code names (resolved or as addressed), if the document went there."""
        if code in self.recipients:
            return code
        for agency, requested in self.recipients.items():
            if requested == code:
                return agency
        return None


@dataclass(frozen=True, slots=True)
class StatusPlan:
    """Where a status package goes and which steps it adds to which recipient's history."""

    route: tuple[str, ...]  # agency codes to deliver to
    steps: tuple[tuple[str, Step], ...]  # (recipient agency, step)


def _unknown(status: m.StatusPackage) -> AxisError:
    # One answer for "no such document" and "not addressed to you": no existence leaks.
    return AxisError(
        "status.document.unknown",
        f"No document {status.document_id!r} from {status.response_for.organ_id} "
        f"addressed to {status.sender.organ_id}.",
        document_id=status.document_id,
        agency_code=status.sender.organ_id,
    )


def plan_status(status: m.StatusPackage, context: DocumentContext | None) -> StatusPlan:
    if context is None or context.sender_code != status.response_for.organ_id:
        raise _unknown(status)
    author = status.sender.organ_id
    code = status.status_code
    if author == context.sender_code:
        # From the sender only 13 is legal (lifecycle says so for anything else); it goes to every
        # recipient still holding the document.
        step = Step(code, Party.SENDER)
        route, refusals = [], []
        for agency in context.recipients:
            try:
                check(
                    context.histories.get(agency, ()),
                    step,
                    business_pending=agency in context.business_pending,
                )
            except AxisError as refusal:
                refusals.append(refusal)
                continue
            route.append(agency)
        if not route:
            raise refusals[0]
        return StatusPlan(tuple(route), tuple((agency, step) for agency in route))
    addressed = context.addressed(author)
    if addressed is None:
        raise _unknown(status)
    agency = addressed
    step = Step(code, Party.RECIPIENT)
    if context.state == "revoked" and code not in (m.StatusCode.AGREED, m.StatusCode.REFUSED):
        raise AxisError(
            "status.document.revoked",
            f"{status.document_id} was revoked by its sender; only 15 (agreed) or 16 (refused) may answer now.",
            document_id=status.document_id,
        )
    try:
        check(context.histories.get(agency, ()), step, business_pending=agency in context.business_pending)
    except AxisError as refusal:
        refusal.details.setdefault("agency_code", agency)
        raise
    return StatusPlan((context.sender_code,), ((agency, step),))


@dataclass(frozen=True, slots=True)
class BusinessPlan:
    """The documents a business package acts on, and how."""

    links: tuple[tuple[str, str], ...] = ()  # (relation, target DocumentId)


def plan_business(
    document: m.DocumentPackage,
    contexts: Mapping[str, DocumentContext],
    here: Callable[[str], bool] | None = None,
) -> BusinessPlan:
    """Check a revoke/update/replace against the documents it names (``contexts`` by DocumentId).
    ``here``: for a package the axis above brought, which recipients this axis serves; only those
    were recipients here, the others were the upstream's to check."""
    kind = document.business.doc_type
    if kind is m.BusinessDocType.NEW:
        return BusinessPlan()
    if kind is m.BusinessDocType.REPLACE:
        if document.document_id in contexts:
            raise AxisError(
                "business.replacement.same_id",
                f"A replacement needs a DocumentId of its own; {document.document_id} exists already.",
                document_id=document.document_id,
            )
        targets = [r.document_id for r in document.business.replacements]
        for target in targets:
            _active_target(document, contexts.get(target), target)
        return BusinessPlan(tuple(("replaces", target) for target in targets))
    acted_on = _active_target(document, contexts.get(document.document_id), document.document_id)
    allowed = set(acted_on.recipients) | set(acted_on.recipients.values())
    if kind is m.BusinessDocType.UPDATE and document.business.document_info is not None:
        allowed |= {r.organ_id for r in document.business.document_info.receivers}
    strangers = [
        r.organ_id for r in document.recipients if r.organ_id not in allowed and (here is None or here(r.organ_id))
    ]
    if strangers:
        raise AxisError(
            "business.recipient.not_original",
            f"{document.document_id} was not sent to {', '.join(strangers)}; a "
            f"{'revocation' if kind is m.BusinessDocType.REVOKE else 'update'} goes only to its recipients"
            + (" (or, for an update, those in its ReceiverList)." if kind is m.BusinessDocType.UPDATE else "."),
            recipients=strangers,
        )
    relation = "revokes" if kind is m.BusinessDocType.REVOKE else "updates"
    return BusinessPlan(((relation, acted_on.document_id),))


def _active_target(document: m.DocumentPackage, context: DocumentContext | None, target: str) -> DocumentContext:
    if context is None or context.sender_code != document.sender.organ_id:
        raise AxisError(
            "business.target.unknown",
            f"{document.sender.organ_id} sent no document {target!r} to act on.",
            document_id=target,
        )
    if context.state != "active":
        raise AxisError(
            f"business.target.{context.state}",
            f"{target} is {context.state}; it can no longer be revoked, updated or replaced.",
            document_id=target,
        )
    return context


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything the exchange needs from the flow rules for one package."""

    route: tuple[str, ...] | None = None  # agency codes to deliver to; None: the package's To list
    steps: tuple[tuple[str, Step], ...] = ()
    links: tuple[tuple[str, str], ...] = ()


def concerned(package: m.Package) -> list[str]:
    """The DocumentIds whose context a package needs (loaded and locked before ``plan``)."""
    if isinstance(package, m.StatusPackage):
        return [package.document_id]
    kind = package.business.doc_type
    if kind is m.BusinessDocType.REPLACE:
        return [package.document_id, *(r.document_id for r in package.business.replacements)]
    if kind in (m.BusinessDocType.REVOKE, m.BusinessDocType.UPDATE):
        return [package.document_id]
    return []


def plan(
    package: m.Package, contexts: Mapping[str, DocumentContext], here: Callable[[str], bool] | None = None
) -> Plan:
    if isinstance(package, m.StatusPackage):
        status = plan_status(package, contexts.get(package.document_id))
        return Plan(route=status.route, steps=status.steps)
    return Plan(links=plan_business(package, contexts, here).links)
