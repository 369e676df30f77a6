"""What the axis states about a package, as the receipts it signs: pure, from what intake admitted
or what a delivery holds. The exchange signs them off the event loop (``Exchange._off_loop``)."""

from __future__ import annotations

import datetime as dt

from axis import receipts
from axis.edxml.trust import AppliedPolicy
from axis.exchange.admission import Admission
from axis.exchange.store import Delivery


def acceptance(admission: Admission, at: dt.datetime) -> receipts.Receipt:
    """The axis accepted the package, routed to these recipients, under this signature policy."""
    return receipts.Receipt(
        kind=receipts.ReceiptKind.ACCEPTANCE,
        package_id=str(admission.package_id),
        document_id=admission.document_id,
        package_kind=admission.kind.value,
        digest_sha256=admission.digest,
        sender_code=admission.package.sender.organ_id,
        sender_system=admission.caller.id,
        recipients=tuple(
            receipts.ReceiptRecipient(r.requested_code, r.agency_code, r.system_id, r.redirects)
            for r in admission.recipients
        ),
        at=at,
        signature_policy=AppliedPolicy(admission.verified.policy),
    )


def delivery(delivery: Delivery, at: dt.datetime) -> receipts.Receipt:
    """The recipient system took the package, for the agencies it serves."""
    return receipts.Receipt(
        kind=receipts.ReceiptKind.DELIVERY,
        package_id=str(delivery.package_id),
        document_id=delivery.document_id,
        package_kind=delivery.kind,
        digest_sha256=delivery.digest,
        sender_code=delivery.sender_code,
        sender_system=delivery.sender_system,
        recipients=tuple(
            receipts.ReceiptRecipient(requested, agency, delivery.system_id, redirects)
            for requested, agency, redirects in delivery.served
        ),
        at=at,
        delivered_to=delivery.system_id,
        signature_policy=AppliedPolicy(delivery.signature_policy),
    )
