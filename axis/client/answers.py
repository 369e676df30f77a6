"""What the axis answers, as typed values: sent packages, inbox items, receipts, timelines.

The JSON of the agency API (docs/api.md) is read into frozen dataclasses so that integrations get
names their type checker knows instead of dictionary keys. Each value keeps the JSON it was read
from (``raw``): an axis newer than this library may add fields, and those stay reachable.
Everything here is pure; ``AgencyClient`` does the I/O.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from axis import receipts
from axis.edxml import model as m
from axis.edxml.reader import Quirk
from axis.edxml.trust import AppliedPolicy, Signer


def _time(value: Any) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if isinstance(value, str) and value else None


def _policy(value: Any) -> str | None:
    """A package's ``signature_policy`` as the axis states it (``strict``, ``legacy:sha1``,
    ``legacy:unsigned``); None from an axis that does not state it."""
    return str(value) if isinstance(value, str) and value else None


def is_legacy(policy: str | None) -> bool:
    """Whether a package was let in under a legacy policy: no SHA-2 XML Signature stood behind it
    (check the signature on its attached files). False for strict and for unknown."""
    return policy is not None and policy != AppliedPolicy.STRICT


@dataclass(frozen=True, slots=True)
class Routed:
    """One addressee as the axis routed it: the code asked for, the agency it resolved to (after
    following ``redirects`` from retired agencies) and the system that receives for it."""

    requested: str
    agency: str
    name: str
    system: str
    redirects: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Routed:
        return cls(
            requested=str(raw.get("requested", "")),
            agency=str(raw.get("agency", "")),
            name=str(raw.get("name", "")),
            system=str(raw.get("system", "")),
            redirects=tuple(raw.get("redirects") or ()),
        )


@dataclass(frozen=True, slots=True)
class Sent:
    """The axis accepted a package. ``package`` is the signed bytes as sent: keep them with the
    receipts, which attest their SHA-256 digest."""

    package_id: str
    document_id: str
    kind: str  # document | status
    recipients: tuple[Routed, ...]
    repeated: bool  # the same bytes were accepted before; this is the earlier answer
    package: bytes = field(repr=False)
    raw: Mapping[str, Any] = field(repr=False)
    #: The rule the axis accepted it under (None in the answer to a repeat, which does not say).
    signature_policy: str | None = None
    #: What the axis found in the signatures of the document's files (see ``InboxItem.file_signatures``):
    #: an ``unsigned`` or ``invalid`` decision is known to its sender at once.
    file_signatures: str | None = None

    @classmethod
    def from_json(cls, raw: Mapping[str, Any], package: bytes) -> Sent:
        return cls(
            package_id=str(raw["package_id"]),
            document_id=str(raw["document_id"]),
            kind=str(raw.get("kind", "")),
            recipients=tuple(Routed.from_json(r) for r in raw.get("recipients", ())),
            repeated=bool(raw.get("repeated", False)),
            package=package,
            raw=raw,
            signature_policy=_policy(raw.get("signature_policy")),
            file_signatures=raw.get("file_signatures"),
        )


@dataclass(frozen=True, slots=True)
class InboxItem:
    """Something waiting for this system: a package addressed to an agency it serves, or a receipt
    for a package it sent."""

    type: str  # package | receipt
    id: str  # package id or receipt id: what to fetch and acknowledge
    kind: str  # document | status (packages); acceptance | delivery (receipts)
    document_id: str
    sender: str
    sender_system: str
    at: dt.datetime | None
    package_id: str  # for a receipt: the package it is about
    raw: Mapping[str, Any] = field(repr=False)
    #: The signatures inside a document's files, as the axis found them at intake: valid, warning,
    #: invalid, unsigned, unchecked or none (no PDF); None when not checked. The whole report:
    #: ``AgencyClient.files``.
    file_signatures: str | None = None

    @property
    def is_package(self) -> bool:
        return self.type == "package"

    @property
    def is_receipt(self) -> bool:
        return self.type == "receipt"

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> InboxItem:
        return cls(
            type=str(raw.get("type", "")),
            id=str(raw["id"]),
            kind=str(raw.get("kind", "")),
            document_id=str(raw.get("document_id", "")),
            sender=str(raw.get("sender", "")),
            sender_system=str(raw.get("sender_system", "")),
            at=_time(raw.get("at")),
            package_id=str(raw.get("package_id", raw["id"])),
            raw=raw,
            file_signatures=raw.get("file_signatures"),
        )


@dataclass(frozen=True, slots=True)
class Received:
    """A package fetched from the axis (or taken from the AMQP queue), read into the edXML model.

    ``signer`` is who signed it, as the verified certificate says; it is None when the client was
    given no trust anchors (the package was parsed, not verified) or when a legacy policy let an
    unsigned package through. Only a ``verified`` package is evidence of who sent what.
    """

    package_id: str
    package: m.Package
    quirks: tuple[Quirk, ...]
    signer: Signer | None
    verified: bool
    data: bytes = field(repr=False)

    @property
    def kind(self) -> m.Kind:
        return self.package.kind

    @property
    def document_id(self) -> str:
        return self.package.document_id


@dataclass(frozen=True, slots=True)
class VerifiedReceipt:
    """An axis receipt whose signature was checked against the pinned axis certificate."""

    id: str
    receipt: receipts.Receipt
    signer: Signer
    data: bytes = field(repr=False)

    @property
    def kind(self) -> receipts.ReceiptKind:
        return self.receipt.kind

    @property
    def package_id(self) -> str:
        return self.receipt.package_id

    @property
    def delivered_to(self) -> str | None:
        return self.receipt.delivered_to

    @property
    def at(self) -> dt.datetime:
        return self.receipt.at

    @property
    def signature_policy(self) -> AppliedPolicy | None:
        """The rule the axis accepted the package under, as the receipt attests; None for a
        receipt made before the axis stated it (unknown, not strict)."""
        return self.receipt.signature_policy

    def covers(self, package: bytes) -> bool:
        """Whether this receipt attests exactly these package bytes (``Sent.package``)."""
        return hashlib.sha256(package).hexdigest() == self.receipt.digest_sha256


@dataclass(frozen=True, slots=True)
class StatusEntry:
    """One business status a recipient agency sent about the document."""

    code: str  # 01 … 06, 13, 15, 16
    description: str
    time: dt.datetime | None  # the time the status package states
    received_at: dt.datetime | None  # when the axis accepted it
    staff: str
    package_id: str = ""  # the status package
    signature_policy: str | None = None  # the rule the status package was accepted under

    @property
    def legacy(self) -> bool:
        """The status package came in under a legacy policy (no SHA-2 XML Signature behind it)."""
        return is_legacy(self.signature_policy)

    @property
    def status(self) -> m.StatusCode | None:
        """The code as a ``StatusCode``; None for a code this library does not know."""
        try:
            return m.StatusCode(self.code)
        except ValueError:
            return None

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> StatusEntry:
        return cls(
            code=str(raw.get("code", "")),
            description=str(raw.get("description") or ""),
            time=_time(raw.get("time")),
            received_at=_time(raw.get("received_at")),
            staff=str(raw.get("staff") or ""),
            package_id=str(raw.get("package_id") or ""),
            signature_policy=_policy(raw.get("signature_policy")),
        )


@dataclass(frozen=True, slots=True)
class DeliveryState:
    """Where the package stands on its way to one recipient system."""

    state: str  # queued | delivered | failed | expired
    queued_at: dt.datetime | None
    published_at: dt.datetime | None
    fetched_at: dt.datetime | None
    delivered_at: dt.datetime | None
    failed_reason: str | None
    #: Each time the axis's operators sent it again after a failure: (when, why it had failed).
    requeued: tuple[tuple[dt.datetime | None, str | None], ...] = ()
    #: The rule the package was accepted under (None from an axis that does not say).
    signature_policy: str | None = None

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> DeliveryState:
        return cls(
            state=str(raw.get("state", "")),
            queued_at=_time(raw.get("queued_at")),
            published_at=_time(raw.get("published_at")),
            fetched_at=_time(raw.get("fetched_at")),
            delivered_at=_time(raw.get("delivered_at")),
            failed_reason=raw.get("failed_reason"),
            requeued=tuple((_time(r.get("at")), r.get("previous_reason")) for r in raw.get("requeued") or ()),
            signature_policy=_policy(raw.get("signature_policy")),
        )


@dataclass(frozen=True, slots=True)
class RecipientTimeline:
    """One recipient agency of one package about the document (a revoke or update of the document
    has rows of its own, with its ``business_type``)."""

    package_id: str
    business_type: int | None  # 0 new, 1 revoke, 2 update, 3 replace
    requested: str
    agency: str
    name: str
    system: str
    redirects: tuple[str, ...]
    delivery: DeliveryState
    statuses: tuple[StatusEntry, ...]
    raw: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> RecipientTimeline:
        business = raw.get("business_type")
        return cls(
            package_id=str(raw.get("package_id", "")),
            business_type=int(business) if business is not None else None,
            requested=str(raw.get("requested", "")),
            agency=str(raw.get("agency", "")),
            name=str(raw.get("name") or ""),
            system=str(raw.get("system", "")),
            redirects=tuple(raw.get("redirects") or ()),
            delivery=DeliveryState.from_json(raw.get("delivery") or {}),
            statuses=tuple(StatusEntry.from_json(s) for s in raw.get("statuses") or ()),
            raw=raw,
        )


@dataclass(frozen=True, slots=True)
class LegacyPackage:
    """A package of the document (the document itself, its revocation, update or replacement, a
    status) that the axis accepted under a legacy policy: without an XML Signature
    (``legacy:unsigned``) or with a SHA-1 one (``legacy:sha1``)."""

    package_id: str
    kind: str  # document | status
    document_id: str  # the package's own DocumentId (a replacement has its own)
    signature_policy: str
    sender: str
    sender_system: str
    received_at: dt.datetime | None
    business_type: int | None = None  # documents: 0 new, 1 revoke, 2 update, 3 replace
    status_code: str | None = None  # statuses: 01 … 06, 13, 15, 16

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> LegacyPackage:
        business = raw.get("business_type")
        return cls(
            package_id=str(raw.get("package_id", "")),
            kind=str(raw.get("kind", "")),
            document_id=str(raw.get("document_id", "")),
            signature_policy=str(raw.get("signature_policy", "")),
            sender=str(raw.get("sender", "")),
            sender_system=str(raw.get("sender_system", "")),
            received_at=_time(raw.get("received_at")),
            business_type=int(business) if business is not None else None,
            status_code=raw.get("status_code"),
        )


@dataclass(frozen=True, slots=True)
class Timeline:
    """``GET /api/v1/documents/{id}/status``: per recipient, its delivery and its statuses. The
    sender sees every recipient; a recipient sees only the agencies its system serves."""

    document_id: str
    sender: str
    sender_system: str
    subject: str
    received_at: dt.datetime | None
    recipients: tuple[RecipientTimeline, ...]
    #: active | revoked | superseded, as the axis reports it ("" from an axis that does not)
    state: str = ""
    superseded_by: str | None = None  # the replacing DocumentId, for a superseded document
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)
    #: The rule the document's own package was accepted under (None from an axis that does not say).
    signature_policy: str | None = None
    #: The packages shown here that came in under a legacy policy: empty when all were strict.
    legacy_packages: tuple[LegacyPackage, ...] = ()
    #: The file verdict of the document's latest checked package (see ``InboxItem.file_signatures``).
    file_signatures: str | None = None

    @property
    def legacy(self) -> bool:
        """Some package of the document (as this system sees it) had no SHA-2 XML Signature."""
        return bool(self.legacy_packages)

    @property
    def addressed(self) -> tuple[str, ...]:
        """The codes the sender addressed, each once, in order: the To list a revoke goes to."""
        return tuple(dict.fromkeys(r.requested for r in self.recipients))

    def recipient(self, code: str) -> RecipientTimeline:
        """The newest row for an agency, by the code addressed or the code it resolved to."""
        for row in reversed(self.recipients):
            if code in (row.requested, row.agency):
                return row
        raise KeyError(f"{code} is not a recipient of {self.document_id}")

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Timeline:
        return cls(
            document_id=str(raw.get("document_id", "")),
            sender=str(raw.get("sender", "")),
            sender_system=str(raw.get("sender_system", "")),
            subject=str(raw.get("subject") or ""),
            received_at=_time(raw.get("received_at")),
            recipients=tuple(RecipientTimeline.from_json(r) for r in raw.get("recipients", ())),
            state=str(raw.get("state") or ""),
            superseded_by=raw.get("superseded_by"),
            raw=raw,
            signature_policy=_policy(raw.get("signature_policy")),
            legacy_packages=tuple(LegacyPackage.from_json(p) for p in raw.get("legacy_packages") or ()),
            file_signatures=raw.get("file_signatures"),
        )


@dataclass(frozen=True, slots=True)
class DocumentSummary:
    """A document this system sent or received, as the search lists it."""

    package_id: str
    document_id: str
    business_type: int | None
    direction: str  # sent | received
    sender: str
    subject: str
    number: str
    notation: str
    promulgation_date: dt.date | None
    due_date: dt.date | None
    received_at: dt.datetime | None
    #: Recipient agencies (those this system may see) by delivery state: delivered, queued, failed.
    deliveries: Mapping[str, int]
    raw: Mapping[str, Any] = field(repr=False)
    #: The rule the package was accepted under (None from an axis that does not say).
    signature_policy: str | None = None
    #: What the signatures in its files are (see ``InboxItem.file_signatures``).
    file_signatures: str | None = None

    @property
    def legacy(self) -> bool:
        """Accepted without an XML Signature or with a SHA-1 one: check the attached files' signature."""
        return is_legacy(self.signature_policy)

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> DocumentSummary:
        business = raw.get("business_type")
        return cls(
            package_id=str(raw.get("package_id", "")),
            document_id=str(raw.get("document_id", "")),
            business_type=int(business) if business is not None else None,
            direction=str(raw.get("direction", "")),
            sender=str(raw.get("sender", "")),
            subject=str(raw.get("subject") or ""),
            number=str(raw.get("number") or ""),
            notation=str(raw.get("notation") or ""),
            promulgation_date=_date(raw.get("promulgation_date")),
            due_date=_date(raw.get("due_date")),
            received_at=_time(raw.get("received_at")),
            deliveries={str(k): int(v) for k, v in (raw.get("deliveries") or {}).items()},
            raw=raw,
            signature_policy=_policy(raw.get("signature_policy")),
            file_signatures=raw.get("file_signatures"),
        )
