"""The library document-management software uses to talk to the axis, over HTTP and AMQP.

``AgencyClient`` is the whole of it for most integrations: documents and statuses from plain
Python values, signed with the agency's key, sent, received and verified, with receipts and
timelines as typed values (see docs/client.md). Under it, for software that already builds its own
edXML: ``AxisClient`` speaks the HTTP API one endpoint per method, and ``Mailbox`` consumes a
system's RabbitMQ queue (each message once) and publishes to ``axis.intake``. Errors from the
axis arrive as ``AxisError`` with the axis's own stable code.
"""

from axis.client.agency import AgencyClient
from axis.client.answers import (
    DeliveryState,
    DocumentSummary,
    InboxItem,
    LegacyPackage,
    Received,
    RecipientTimeline,
    Routed,
    Sent,
    StatusEntry,
    Timeline,
    VerifiedReceipt,
)
from axis.client.api import AxisClient
from axis.client.mailbox import Delivery, Mailbox
from axis.client.packages import DocumentRef, File
from axis.edxml.model import BusinessDocType, DocumentPackage, StatusCode, StatusPackage
from axis.edxml.trust import AppliedPolicy
from axis.files.findings import DocumentCheck, FileCheck, SignatureCheck, Verdict

__all__ = [
    "AgencyClient",
    "AppliedPolicy",
    "AxisClient",
    "BusinessDocType",
    "Delivery",
    "DeliveryState",
    "DocumentCheck",
    "DocumentPackage",
    "DocumentRef",
    "DocumentSummary",
    "File",
    "FileCheck",
    "InboxItem",
    "LegacyPackage",
    "Mailbox",
    "Received",
    "RecipientTimeline",
    "Routed",
    "Sent",
    "SignatureCheck",
    "StatusCode",
    "StatusEntry",
    "StatusPackage",
    "Timeline",
    "Verdict",
    "VerifiedReceipt",
]
