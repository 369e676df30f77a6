"""The edXML packages as frozen values.

These dataclasses are what the rest of the axis sees of a package: the reader builds them from a
(verified) tree, the writer turns them into bytes. They carry decoded, typed values (dates, aware
datetimes, enums), never raw strings with SDK-specific spellings, so that business code does not
have to know which SDK wrote the package.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import enum
from dataclasses import dataclass, field

#: Vietnam's civil time. SDK timestamps without an offset are in it.
VN_TZ = dt.timezone(dt.timedelta(hours=7), "UTC+07:00")


class BusinessDocType(enum.IntEnum):
    """``BussinessDocType``: what a document package does to the document it names."""

    NEW = 0
    REVOKE = 1  # thu hồi
    UPDATE = 2  # cập nhật
    REPLACE = 3  # thay thế


class StatusCode(enum.StrEnum):
    """The business status codes of QCVN 102 (EDXML.md §3). 14 is read as 15 and never written."""

    ARRIVED = "01"
    REJECTED = "02"
    ACCEPTED = "03"
    ASSIGNED = "04"
    PROCESSING = "05"
    COMPLETED = "06"
    TAKE_BACK_REQUEST = "13"
    AGREED = "15"
    REFUSED = "16"


class Kind(enum.StrEnum):
    """Which of the two package shapes a package has."""

    DOCUMENT = "document"
    STATUS = "status"


@dataclass(frozen=True, slots=True)
class Organization:
    """``From`` / ``To``: an agency as the sender wrote it; only ``organ_id`` is routed on."""

    organ_id: str
    organ_name: str = ""
    organization_in_charge: str = ""
    organ_add: str = ""
    email: str = ""
    telephone: str = ""
    fax: str = ""
    website: str = ""


@dataclass(frozen=True, slots=True)
class Code:
    """Số và ký hiệu: ``7816/VPCP-TTĐT`` is number ``7816``, notation ``VPCP-TTĐT``."""

    number: str
    notation: str = ""

    def __str__(self) -> str:
        return f"{self.number}/{self.notation}" if self.notation else self.number


@dataclass(frozen=True, slots=True)
class PromulgationInfo:
    place: str
    date: dt.date


@dataclass(frozen=True, slots=True)
class DocumentType:
    type: int | None
    type_detail: int | None = None
    type_name: str = ""


@dataclass(frozen=True, slots=True)
class SignerInfo:
    """The official who signed the paper/PDF document (not the XML Signature's signer)."""

    competence: str = ""
    position: str = ""
    full_name: str = ""


@dataclass(frozen=True, slots=True)
class OtherInfo:
    priority: int = 0
    sphere_of_promulgation: str = ""
    typer_notation: str = ""
    promulgation_amount: int | None = None
    page_amount: int | None = None
    direction: bool | None = None
    appendixes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ResponseFor:
    """The earlier document a package answers."""

    organ_id: str
    code: str
    promulgation_date: dt.date | None
    document_id: str


@dataclass(frozen=True, slots=True)
class TraceHeader:
    organ_id: str
    timestamp: dt.datetime


@dataclass(frozen=True, slots=True)
class StaffInfo:
    department: str = ""
    staff: str = ""
    mobile: str = ""
    email: str = ""


@dataclass(frozen=True, slots=True)
class Receiver:
    organ_id: str
    receiver_type: int | None = None


@dataclass(frozen=True, slots=True)
class BusinessDocumentInfo:
    """For an update (2): which parts changed and the new receiver list."""

    document_info: str = ""
    document_receiver: str = ""
    receivers: tuple[Receiver, ...] = ()


@dataclass(frozen=True, slots=True)
class Replacement:
    """For a replace (3): the replaced DocumentId and the agencies concerned."""

    document_id: str
    organ_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Business:
    """``Bussiness`` (sic): the business intent of a document package."""

    doc_type: BusinessDocType = BusinessDocType.NEW
    reason: str = ""
    document_id: str = ""
    paper: int = 0
    staff: StaffInfo | None = None
    document_info: BusinessDocumentInfo | None = None
    replacements: tuple[Replacement, ...] = ()


@dataclass(frozen=True, slots=True)
class Attachment:
    """One attached file. Content is kept base64-encoded, as carried, and decoded on demand:
    a 50 MB package should not hold its attachments twice in memory."""

    content_id: str  # without the "cid:" prefix
    name: str
    content_type: str
    encoded: str = field(repr=False)
    description: str = ""
    # Set by the reader, which counts it while checking the base64: the size stays known when a
    # reader that only shows the package leaves ``encoded`` out (``attachment_content=False``).
    decoded_size: int | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_bytes(
        cls, content_id: str, name: str, content_type: str, data: bytes, description: str = ""
    ) -> Attachment:
        return cls(content_id, name, content_type, base64.b64encode(data).decode("ascii"), description)

    def content(self) -> bytes:
        return binascii.a2b_base64(self.encoded)

    @property
    def size(self) -> int:
        """Decoded size in bytes, without decoding."""
        if self.decoded_size is not None:
            return self.decoded_size
        text = "".join(self.encoded.split())
        return len(text) * 3 // 4 - text[-2:].count("=")


@dataclass(frozen=True, slots=True)
class DocumentPackage:
    """A document: new, revoke, update or replace (see ``business.doc_type``)."""

    sender: Organization
    recipients: tuple[Organization, ...]
    code: Code
    promulgation: PromulgationInfo
    document_type: DocumentType
    subject: str
    document_id: str
    content: str = ""
    signer_info: SignerInfo = SignerInfo()
    due_date: dt.date | None = None
    to_places: tuple[str, ...] = ()
    other_info: OtherInfo = OtherInfo()
    response_for: tuple[ResponseFor, ...] = ()
    steering_type: int | None = None
    traces: tuple[TraceHeader, ...] = ()
    business: Business = Business()
    attachments: tuple[Attachment, ...] = ()

    kind = Kind.DOCUMENT


@dataclass(frozen=True, slots=True)
class StatusPackage:
    """A recipient's (or, for 13, the sender's) answer about a document."""

    sender: Organization
    response_for: ResponseFor
    status_code: StatusCode
    timestamp: dt.datetime
    description: str = ""
    staff: StaffInfo | None = None

    kind = Kind.STATUS

    @property
    def document_id(self) -> str:
        return self.response_for.document_id


Package = DocumentPackage | StatusPackage


def document_id_for(sender_code: str, date: dt.date, code: Code) -> str:
    """The national identity of a document: ``{sender},{YYYY/MM/DD},{number}/{notation}``."""
    return f"{sender_code},{date:%Y/%m/%d},{code}"
