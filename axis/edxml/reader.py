"""From a schema-valid edXML tree to the frozen model, with the SDKs' quirks noted, not fatal.

The schema has already checked shapes and leaf types; what is left here is what XSD 1.0 cannot say
while staying tolerant of element order: how often each component occurs, calendar validity of
dates, agency-code structure, DocumentId consistency, and manifest/attachment agreement. Quirks of
real SDKs (``DD/MM/YYYY`` dates, an unsigned ``Signature`` outside the xmldsig namespace, zipped
attachments, status 14) become ``Quirk`` values the caller can show or log.
"""

from __future__ import annotations

import binascii
import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from lxml import etree

from axis.edxml import model as m
from axis.edxml.namespaces import DS_NS, EDXML_NS, XLINK_NS, ed
from axis.errors import PackageError
from axis.registry import codes


@dataclass(frozen=True, slots=True)
class Quirk:
    """A deviation from the standard that real SDKs produce and the axis accepts."""

    code: str
    message: str
    path: str = ""


def detect_kind(root: etree._Element) -> m.Kind:
    """Which package this is; also the first check on any tree, so a foreign root fails here."""
    qname = etree.QName(root)
    if qname.namespace != EDXML_NS:
        raise PackageError(
            "edxml.root.wrong_namespace",
            f"The root element is in namespace {qname.namespace!r}; edXML packages use {EDXML_NS!r}.",
            namespace=qname.namespace,
        )
    if qname.localname != "edXML":
        raise PackageError(
            "edxml.root.wrong_element",
            f"The root element is {qname.localname!r}; an edXML package starts with 'edXML'.",
            element=qname.localname,
        )
    header = root.find(f"{ed('edXMLEnvelope')}/{ed('edXMLHeader')}/{ed('MessageHeader')}")
    if header is None:
        raise PackageError("edxml.kind.unknown", "The package has no edXMLEnvelope/edXMLHeader/MessageHeader.")
    return m.Kind.STATUS if header.find(ed("StatusCode")) is not None else m.Kind.DOCUMENT


#: Which attachments' content to keep: all, none, or those a predicate picks.
Keep = bool | Callable[[m.Attachment], bool]


def read(root: etree._Element, *, attachment_content: Keep = True) -> tuple[m.Package, tuple[Quirk, ...]]:
    """Build the model of a schema-valid package (signature quirks: see ``signature_quirks``).

    ``attachment_content=False`` checks every attachment but leaves its ``encoded`` text out of the
    model: intake stores the package bytes as received and never needs a second copy of megabytes
    of base64 in memory. A predicate keeps only the attachments it picks (intake: the PDFs and zips
    whose signatures ``axis.files`` checks).
    """
    reader = _Reader(attachment_content)
    kind = detect_kind(root)
    header = root.find(f"{ed('edXMLEnvelope')}/{ed('edXMLHeader')}")
    assert header is not None  # detect_kind found it
    package: m.Package
    if kind is m.Kind.STATUS:
        package = reader.status(_one(header, "MessageHeader", required=True))
    else:
        package = reader.document(root, header)
    return package, tuple(reader.quirks)


# --- leaves ---------------------------------------------------------------------------------------

_YMD = re.compile(r"(\d{4})[/-](\d{2})[/-](\d{2})$")
_DMY = re.compile(r"(\d{2})/(\d{2})/(\d{4})$")
_SDK_TIMESTAMP = re.compile(r"(\d{4})/(\d{2})/(\d{2}) (\d{2}):(\d{2}):(\d{2})$")
_SDK_DMY_TIMESTAMP = re.compile(r"(\d{2})/(\d{2})/(\d{4}) (\d{2}):(\d{2}):(\d{2})$")
_DOCUMENT_ID = re.compile(r"([^,]+),([^,]+),(.+)$")
_ZIP_TYPES = frozenset({"application/zip", "application/x-zip-compressed", "application/x-zip"})


def _path(el: etree._Element) -> str:
    return str(el.getroottree().getpath(el))


def _children(parent: etree._Element, name: str) -> list[etree._Element]:
    # iterchildren, not findall: the same children, without ElementPath's Python layer (reading
    # the model calls this for every field of every package; findall was 4 % of intake's CPU).
    return list(parent.iterchildren(ed(name)))


def _one(parent: etree._Element, name: str, *, required: bool = False) -> etree._Element:
    found = _children(parent, name)
    if len(found) > 1:
        raise PackageError(
            "edxml.header.duplicate",
            f"{name} appears {len(found)} times in {etree.QName(parent).localname}; it may appear once.",
            element=name,
            path=_path(found[1]),
        )
    if not found:
        if required:
            raise PackageError(
                "edxml.header.missing",
                f"{etree.QName(parent).localname} has no {name}.",
                element=name,
                path=_path(parent),
            )
        return etree.Element(ed(name))  # an absent optional component reads as empty
    return found[0]


def _text(parent: etree._Element, name: str, *, required: bool = False) -> str:
    return (_one(parent, name, required=required).text or "").strip()


def _int(text: str) -> int | None:
    return int(text) if text else None


class _Reader:
    def __init__(self, attachment_content: Keep = True) -> None:
        self.quirks: list[Quirk] = []
        self.attachment_content = attachment_content

    def quirk(self, code: str, message: str, el: etree._Element | None = None) -> None:
        self.quirks.append(Quirk(code, message, _path(el) if el is not None else ""))

    # dates and codes ------------------------------------------------------------------------------

    def date(self, parent: etree._Element, name: str, *, required: bool) -> dt.date | None:
        el = _one(parent, name, required=required)
        text = (el.text or "").strip()
        if not text:
            if required:
                raise PackageError("edxml.date.invalid", f"{name} is empty.", path=_path(el))
            return None
        try:
            if match := _YMD.match(text):
                if "-" in text:
                    self.quirk("quirk.date.iso", f"{name} is written ISO-style ({text}).", el)
                year, month, day = match.groups()
            elif match := _DMY.match(text):
                self.quirk("quirk.date.dmy", f"{name} is written DD/MM/YYYY ({text}).", el)
                day, month, year = match.groups()
            else:
                raise ValueError(text)
            return dt.date(int(year), int(month), int(day))
        except ValueError:
            raise PackageError(
                "edxml.date.invalid", f"{name} {text!r} is not a calendar date.", path=_path(el)
            ) from None

    def timestamp(self, parent: etree._Element, name: str) -> dt.datetime:
        el = _one(parent, name, required=True)
        text = (el.text or "").strip()
        try:
            if match := _SDK_TIMESTAMP.match(text):
                year, month, day, hh, mm, ss = match.groups()
            elif match := _SDK_DMY_TIMESTAMP.match(text):
                self.quirk("quirk.date.dmy", f"{name} is written DD/MM/YYYY ({text}).", el)
                day, month, year, hh, mm, ss = match.groups()
            else:
                stamp = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
                return stamp if stamp.tzinfo else stamp.replace(tzinfo=m.VN_TZ)
            return dt.datetime(int(year), int(month), int(day), int(hh), int(mm), int(ss), tzinfo=m.VN_TZ)
        except ValueError:
            raise PackageError(
                "edxml.timestamp.invalid", f"{name} {text!r} is not a valid time.", path=_path(el)
            ) from None

    def organ_id(self, parent: etree._Element) -> str:
        return self.agency_code(_one(parent, "OrganId", required=True))

    def agency_code(self, el: etree._Element) -> str:
        text = (el.text or "").strip()
        reason = codes.problem(text)
        if reason is not None:
            raise PackageError(
                "edxml.agency_code.malformed",
                f"OrganId {text!r} is not a valid agency code: {reason}.",
                path=_path(el),
                code=text,
            )
        return text

    def organization(self, el: etree._Element) -> m.Organization:
        return m.Organization(
            organ_id=self.organ_id(el),
            organ_name=_text(el, "OrganName"),
            organization_in_charge=_text(el, "OrganizationInCharge"),
            organ_add=_text(el, "OrganAdd"),
            email=_text(el, "Email"),
            telephone=_text(el, "Telephone"),
            fax=_text(el, "Fax"),
            website=_text(el, "Website"),
        )

    def staff(self, parent: etree._Element) -> m.StaffInfo | None:
        found = _children(parent, "StaffInfo")
        if not found:
            return None
        el = _one(parent, "StaffInfo")
        return m.StaffInfo(
            department=_text(el, "Department"),
            staff=_text(el, "Staff"),
            mobile=_text(el, "Mobile"),
            email=_text(el, "Email"),
        )

    def response_for(self, el: etree._Element) -> m.ResponseFor:
        return m.ResponseFor(
            organ_id=self.organ_id(el),
            code=_text(el, "Code"),
            promulgation_date=self.date(el, "PromulgationDate", required=False),
            document_id=_text(el, "DocumentId", required=True),
        )

    # packages -------------------------------------------------------------------------------------

    def status(self, header: etree._Element) -> m.StatusPackage:
        code_el = _one(header, "StatusCode", required=True)
        code_text = (code_el.text or "").strip()
        if code_text == "14":
            self.quirk("quirk.status.alias_14", "Status 14 is read as 15 (agreed).", code_el)
            code_text = "15"
        try:
            status_code = m.StatusCode(code_text)
        except ValueError:
            raise PackageError(
                "edxml.status_code.unknown", f"Status code {code_text!r} is unknown.", path=_path(code_el)
            ) from None
        return m.StatusPackage(
            sender=self.organization(_one(header, "From", required=True)),
            response_for=self.response_for(_one(header, "ResponseFor", required=True)),
            status_code=status_code,
            timestamp=self.timestamp(header, "Timestamp"),
            description=_text(header, "Description"),
            staff=self.staff(header),
        )

    def document(self, root: etree._Element, header: etree._Element) -> m.DocumentPackage:
        mh = _one(header, "MessageHeader", required=True)
        sender = self.organization(_one(mh, "From", required=True))
        recipients = tuple(self.organization(el) for el in _children(mh, "To"))
        if not recipients:
            raise PackageError("edxml.header.missing", "MessageHeader has no To.", element="To", path=_path(mh))
        code_el = _one(mh, "Code", required=True)
        promulgation_el = _one(mh, "PromulgationInfo", required=True)
        type_el = _one(mh, "DocumentType", required=True)
        other_el = _one(mh, "OtherInfo")
        signer_el = _one(mh, "SignerInfo")
        document_id = self.document_id(mh, sender.organ_id)
        traces_el = _one(header, "TraceHeaderList")
        direction = _text(other_el, "Direction")
        return m.DocumentPackage(
            sender=sender,
            recipients=recipients,
            code=m.Code(_text(code_el, "CodeNumber"), _text(code_el, "CodeNotation")),
            promulgation=m.PromulgationInfo(
                place=_text(promulgation_el, "Place"),
                date=self.date(promulgation_el, "PromulgationDate", required=True) or dt.date.min,
            ),
            document_type=m.DocumentType(
                type=_int(_text(type_el, "Type")),
                type_detail=_int(_text(type_el, "TypeDetail")),
                type_name=_text(type_el, "TypeName"),
            ),
            subject=_text(mh, "Subject", required=True),
            document_id=document_id,
            content=_text(mh, "Content"),
            signer_info=m.SignerInfo(
                competence=_text(signer_el, "Competence"),
                position=_text(signer_el, "Position"),
                full_name=_text(signer_el, "FullName"),
            ),
            due_date=self.date(mh, "DueDate", required=False),
            to_places=tuple((p.text or "").strip() for p in _children(_one(mh, "ToPlaces"), "Place")),
            other_info=m.OtherInfo(
                priority=_int(_text(other_el, "Priority")) or 0,
                sphere_of_promulgation=_text(other_el, "SphereOfPromulgation"),
                typer_notation=_text(other_el, "TyperNotation"),
                promulgation_amount=_int(_text(other_el, "PromulgationAmount")),
                page_amount=_int(_text(other_el, "PageAmount")),
                direction=direction in ("true", "1") if direction else None,
                appendixes=tuple((a.text or "").strip() for a in _children(_one(other_el, "Appendixes"), "Appendix")),
            ),
            response_for=tuple(self.response_for(el) for el in _children(mh, "ResponseFor")),
            steering_type=_int(_text(mh, "SteeringType")),
            traces=tuple(
                m.TraceHeader(self.organ_id(t), self.timestamp(t, "Timestamp"))
                for t in _children(traces_el, "TraceHeader")
            ),
            business=self.business(traces_el),
            attachments=self.attachments(root),
        )

    def document_id(self, mh: etree._Element, sender_code: str) -> str:
        el = _one(mh, "DocumentId", required=True)
        text = (el.text or "").strip()
        match = _DOCUMENT_ID.match(text)
        if match is None or codes.problem(match.group(1)) is not None:
            raise PackageError(
                "edxml.document_id.malformed",
                f"DocumentId {text!r} is not '{{sender code}},{{date}},{{number}}/{{notation}}'.",
                path=_path(el),
            )
        if match.group(1) != sender_code:
            raise PackageError(
                "edxml.document_id.sender_mismatch",
                f"DocumentId {text!r} names {match.group(1)}, but the sender is {sender_code}.",
                path=_path(el),
            )
        return text

    def business(self, traces: etree._Element) -> m.Business:
        found = _children(traces, "Bussiness")
        if not found:
            return m.Business()
        el = _one(traces, "Bussiness")
        doc_type = m.BusinessDocType(_int(_text(el, "BussinessDocType")) or 0)
        info_el = _children(el, "BussinessDocumentInfo")
        info = None
        if info_el:
            info_node = _one(el, "BussinessDocumentInfo")
            info = m.BusinessDocumentInfo(
                document_info=_text(info_node, "DocumentInfo"),
                document_receiver=_text(info_node, "DocumentReceiver"),
                receivers=tuple(
                    m.Receiver(self.organ_id(r), _int(_text(r, "ReceiverType")))
                    for r in _children(_one(info_node, "ReceiverList"), "Receiver")
                ),
            )
        replacements = tuple(
            m.Replacement(
                document_id=_text(r, "DocumentId", required=True),
                organ_ids=tuple(self.agency_code(o) for o in _children(_one(r, "OrganIdList"), "OrganId")),
            )
            for r in _children(_one(el, "ReplacementInfoList"), "ReplacementInfo")
        )
        if doc_type is m.BusinessDocType.REPLACE and not replacements:
            raise PackageError(
                "edxml.replacement.missing",
                "A replace (BussinessDocType 3) must name the replaced document in ReplacementInfoList.",
                path=_path(el),
            )
        return m.Business(
            doc_type=doc_type,
            reason=_text(el, "BussinessDocReason"),
            document_id=_text(el, "DocumentId"),
            paper=_int(_text(el, "Paper")) or 0,
            staff=self.staff(el),
            document_info=info,
            replacements=replacements,
        )

    def attachments(self, root: etree._Element) -> tuple[m.Attachment, ...]:
        referenced: dict[str, etree._Element] = {}
        manifest = root.find(f"{ed('edXMLEnvelope')}/{ed('edXMLBody')}/{ed('edXMLManifest')}")
        for ref in manifest.findall(ed("Reference")) if manifest is not None else []:
            cid = _cid(_text(ref, "ContentId") or ref.get(f"{{{XLINK_NS}}}href", ""))
            referenced[cid] = ref
        result: list[m.Attachment] = []
        seen: set[str] = set()
        encoded = root.find(ed("AttachmentEncoded"))
        for att in encoded.findall(ed("Attachment")) if encoded is not None else []:
            cid = _cid(_text(att, "ContentId"))
            if cid in seen:
                raise PackageError(
                    "edxml.attachment.duplicate_id",
                    f"Two attachments have ContentId {cid!r}.",
                    path=_path(att),
                )
            seen.add(cid)
            if cid not in referenced:
                raise PackageError(
                    "edxml.attachment.unreferenced",
                    f"Attachment {cid!r} is not listed in the manifest.",
                    path=_path(att),
                )
            content_type = _text(att, "ContentType")
            name = _text(att, "AttachmentName")
            if content_type.lower() in _ZIP_TYPES and not name.lower().endswith(".zip"):
                self.quirk("quirk.attachment.zipped", f"Attachment {name!r} is sent zipped ({content_type}).", att)
            encoded_el = _one(att, "ContentTransferEncoded")
            encoded_text = encoded_el.text or ""
            decoded_size = _check_base64(encoded_text, encoded_el)
            attachment = m.Attachment(
                content_id=cid,
                name=name,
                content_type=content_type,
                encoded=encoded_text,
                description=_text(att, "Description"),
                decoded_size=decoded_size,
            )
            keep = self.attachment_content
            if not (keep(attachment) if callable(keep) else keep):
                attachment = dataclasses.replace(attachment, encoded="")
            result.append(attachment)
        missing = sorted(set(referenced) - seen)
        if missing:
            raise PackageError(
                "edxml.attachment.missing",
                f"The manifest lists {missing[0]!r} but no attachment carries it.",
                path=_path(referenced[missing[0]]),
                content_ids=missing,
            )
        return tuple(result)


_WHITESPACE = b" \t\r\n"
_BASE64_CHUNK = 1 << 20


def decoded_pieces(text: str) -> Iterator[bytes]:
    """An attachment's base64, decoded strictly (apart from line breaks) about a megabyte at a time.

    libxml2's base64Binary check skips stray characters; binascii in strict mode does not, and
    runs at memory speed. Slices (carrying the incomplete 4-character group over) keep a 50 MB
    attachment from being copied whole several times, whether it is only checked or sent on.
    Raises ``UnicodeEncodeError`` or ``binascii.Error`` on what is not base64.
    """
    carry = b""
    for start in range(0, len(text), _BASE64_CHUNK):
        piece = carry + text[start : start + _BASE64_CHUNK].encode("ascii").translate(None, _WHITESPACE)
        usable = len(piece) - len(piece) % 4
        yield binascii.a2b_base64(piece[:usable], strict_mode=True)
        carry = piece[usable:]
    if carry:
        binascii.a2b_base64(carry, strict_mode=True)  # a last group that is incomplete: refused


def encoded_text(root: etree._Element, content_id: str) -> str:
    """The base64 text of one attachment of a package ``read`` accepted (``""`` if it has none):
    what a download decodes, without every other attachment's text copied into the model."""
    encoded = root.find(ed("AttachmentEncoded"))
    for att in encoded.findall(ed("Attachment")) if encoded is not None else []:
        if _cid(_text(att, "ContentId")) == content_id:
            return _one(att, "ContentTransferEncoded").text or ""
    return ""


def _check_base64(text: str, el: etree._Element) -> int:
    """Strict base64 apart from line breaks; the decoded size."""
    try:
        return sum(len(piece) for piece in decoded_pieces(text))
    except (UnicodeEncodeError, binascii.Error) as exc:
        raise PackageError(
            "edxml.attachment.bad_base64",
            f"ContentTransferEncoded is not valid base64: {exc}.",
            path=_path(el),
        ) from None


def _cid(text: str) -> str:
    text = text.strip()
    return text[4:] if text.lower().startswith("cid:") else text


def signature_quirks(root: etree._Element) -> list[Quirk]:
    """Quirks of the signature slot. Read from the tree as received: a verified tree has no signature."""
    header = root.find(f"{ed('edXMLEnvelope')}/{ed('edXMLHeader')}")
    if header is None:
        return []
    quirks = [
        Quirk(
            "quirk.signature.not_xmldsig",
            "A Signature element outside the XML Signature namespace: it does not sign anything.",
            _path(el),
        )
        for el in _children(header, "Signature")
    ]
    wrapped = header.find(f"{ed('DigitalSignature')}/{{{DS_NS}}}Signature")
    if wrapped is not None:
        quirks.append(Quirk("quirk.signature.wrapped", "The XML Signature is wrapped in DigitalSignature."))
    return quirks
