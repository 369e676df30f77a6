"""Packages from plain values: what a clerk fills in becomes an edXML model, ready to sign. Pure.

Vendors should not have to know that a status answers a document through ``ResponseFor`` (whose
parts are read back out of the DocumentId), that a revocation repeats the DocumentId it revokes,
or that a replacement names the replaced document in ``ReplacementInfoList``. These functions
encode those rules once (QCVN 102, EDXML.md §2–3) so that ``AgencyClient`` only adds keys and I/O.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from axis.edxml import model as m
from axis.errors import AxisError


@dataclass(frozen=True, slots=True)
class File:
    """An attachment from memory (a PDF just generated, a scan from the document store); a
    ``Path`` works as well wherever attachments are asked for."""

    name: str
    data: bytes = field(repr=False)
    content_type: str = ""  # guessed from the name when empty
    description: str = ""


AttachmentSource = Path | File


def _content_types() -> mimetypes.MimeTypes:
    """Python's own table, not the machine's /etc/mime.types, so that a file gets the same content
    type on every machine that sends it; plus the office formats agencies send most."""
    table = mimetypes.MimeTypes()
    for extension, content_type in {
        ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ".odt": "application/vnd.oasis.opendocument.text",
        ".ods": "application/vnd.oasis.opendocument.spreadsheet",
        ".rar": "application/vnd.rar",
        ".7z": "application/x-7z-compressed",
    }.items():
        table.add_type(content_type, extension)
    return table


_CONTENT_TYPES = _content_types()


def attachment(source: AttachmentSource, content_id: str) -> m.Attachment:
    """The edXML attachment for a file; its content type is guessed from the name if not given."""
    if isinstance(source, Path):
        try:
            source = File(source.name, source.read_bytes())
        except FileNotFoundError:
            raise AxisError("cli.file_not_found", f"{source} does not exist.") from None
    content_type = source.content_type or _CONTENT_TYPES.guess_type(source.name)[0] or "application/octet-stream"
    return m.Attachment.from_bytes(content_id, source.name, content_type, source.data, source.description)


@dataclass(frozen=True, slots=True)
class DocumentRef:
    """A document named by its DocumentId ``{sender},{YYYY/MM/DD},{number}/{notation}``: the parts a
    status's ``ResponseFor`` and a revocation's header repeat."""

    document_id: str
    sender: str
    date: dt.date
    code: m.Code

    @classmethod
    def parse(cls, document_id: str) -> DocumentRef:
        sender, _, rest = document_id.strip().partition(",")
        date_text, _, code_text = rest.partition(",")
        number, _, notation = code_text.partition("/")
        date = _date(date_text)
        if not sender or date is None or not number:
            raise AxisError(
                "edxml.document_id.malformed",
                f"DocumentId {document_id!r} is not '{{sender code}},{{YYYY/MM/DD}},{{number}}/{{notation}}'.",
                document_id=document_id,
            )
        return cls(document_id.strip(), sender, date, m.Code(number, notation))

    def response_for(self) -> m.ResponseFor:
        return m.ResponseFor(self.sender, str(self.code), self.date, self.document_id)

    def check_sender(self, agency_code: str) -> None:
        """Only a document's sender may take it back, revoke, update or replace it."""
        if self.sender != agency_code:
            raise AxisError(
                "edxml.document_id.sender_mismatch",
                f"{self.document_id} was sent by {self.sender}, not by {agency_code}: only its sender "
                "may take it back, revoke, update or replace it.",
                document_id=self.document_id,
            )


def _date(text: str) -> dt.date | None:
    # DocumentIds in real traffic carry DD/MM/YYYY too (EDXML.md §2).
    for layout in ("%Y/%m/%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text.strip(), layout).date()
        except ValueError:
            continue
    return None


def now() -> dt.datetime:
    """Vietnam's civil time to the second, as edXML timestamps are written."""
    return dt.datetime.now(m.VN_TZ).replace(microsecond=0)


def today() -> dt.date:
    return now().date()


def staff_info(staff: str, department: str) -> m.StaffInfo | None:
    return m.StaffInfo(department=department, staff=staff) if staff or department else None


@dataclass(frozen=True, slots=True)
class Letter:
    """The header fields of an outgoing document, as plain values."""

    subject: str
    code: m.Code
    date: dt.date
    to: Sequence[str]
    attachments: Sequence[AttachmentSource] = ()
    content: str = ""
    due_date: dt.date | None = None
    priority: int = 0
    signer_name: str = ""
    signer_position: str = ""
    place: str = ""
    document_type: int = 1
    type_name: str = "Công văn"
    #: a revocation or update repeats its document's DocumentId verbatim (whatever date layout it has)
    document_id: str = ""


def document(sender: m.Organization, letter: Letter, business: m.Business = m.Business()) -> m.DocumentPackage:
    """A document package (new, revoke, update or replace by ``business``) from ``sender``."""
    if not letter.to:
        raise AxisError("edxml.header.missing", "A document needs at least one recipient (To).", element="To")
    return m.DocumentPackage(
        sender=sender,
        recipients=tuple(m.Organization(code) for code in dict.fromkeys(letter.to)),
        code=letter.code,
        promulgation=m.PromulgationInfo(letter.place, letter.date),
        document_type=m.DocumentType(letter.document_type, 0, letter.type_name),
        subject=letter.subject,
        document_id=letter.document_id or m.document_id_for(sender.organ_id, letter.date, letter.code),
        content=letter.content,
        signer_info=m.SignerInfo(position=letter.signer_position, full_name=letter.signer_name),
        due_date=letter.due_date,
        other_info=m.OtherInfo(priority=letter.priority),
        steering_type=0,
        traces=(m.TraceHeader(sender.organ_id, now()),),
        business=business,
        attachments=tuple(attachment(a, str(i)) for i, a in enumerate(letter.attachments, start=1)),
    )


def status(
    sender: m.Organization,
    about: DocumentRef,
    code: m.StatusCode | str,
    *,
    description: str = "",
    staff: m.StaffInfo | None = None,
) -> m.StatusPackage:
    """A status package from ``sender`` about a document (13 from its sender, others from a recipient)."""
    try:
        status_code = m.StatusCode(code)
    except ValueError:
        raise AxisError("edxml.status_code.unknown", f"Status code {code!r} is unknown.") from None
    return m.StatusPackage(
        sender=sender,
        response_for=about.response_for(),
        status_code=status_code,
        timestamp=now(),
        description=description,
        staff=staff,
    )


def update_info(original: Sequence[str], to: Sequence[str]) -> m.BusinessDocumentInfo:
    """What an update changed: the document always; the receivers, with their new list, if they differ."""
    changed = set(original) != set(to)
    return m.BusinessDocumentInfo(
        document_info="1",
        document_receiver="1" if changed else "0",
        receivers=tuple(m.Receiver(code) for code in dict.fromkeys(to)) if changed else (),
    )
