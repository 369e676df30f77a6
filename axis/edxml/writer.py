"""From the model to edXML bytes, in the standard's element order and the SDKs' date formats.

What we write is the strict form (every element prefixed ``edXML:``, components in QCVN 102 order,
``YYYY/MM/DD`` dates, ``YYYY/MM/DD HH:MM:SS`` timestamps in UTC+7) so that any SDK-based receiver
reads it. The signature slot is left empty: ``signature.sign`` fills it.
"""

from __future__ import annotations

import datetime as dt

from lxml import etree

from axis.edxml import model as m
from axis.edxml.namespaces import EDXML_NS, EDXML_PREFIX, XLINK_NS, ed

_NSMAP = {EDXML_PREFIX: EDXML_NS}


def build(package: m.Package) -> bytes:
    """Serialize a package to UTF-8 edXML bytes (unsigned)."""
    root = etree.Element(ed("edXML"), nsmap=_NSMAP)
    envelope = _sub(root, "edXMLEnvelope")
    header = _sub(envelope, "edXMLHeader")
    if isinstance(package, m.StatusPackage):
        _status_header(_sub(header, "MessageHeader"), package)
    else:
        _document_header(_sub(header, "MessageHeader"), package)
        _trace_list(_sub(header, "TraceHeaderList"), package)
        _manifest(_sub(_sub(envelope, "edXMLBody"), "edXMLManifest", version="1.0"), package.attachments)
        if package.attachments:
            _attachments(_sub(root, "AttachmentEncoded"), package.attachments)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def _sub(parent: etree._Element, name: str, text: str | None = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, ed(name), attrs)
    if text is not None:
        el.text = text
    return el


def _date(value: dt.date | None) -> str:
    return "" if value is None else f"{value:%Y/%m/%d}"


def _timestamp(value: dt.datetime) -> str:
    local = value.astimezone(m.VN_TZ) if value.tzinfo else value
    return f"{local:%Y/%m/%d %H:%M:%S}"


def _num(value: int | None) -> str:
    return "" if value is None else str(value)


def _organization(parent: etree._Element, name: str, org: m.Organization) -> None:
    el = _sub(parent, name)
    _sub(el, "OrganId", org.organ_id)
    _sub(el, "OrganizationInCharge", org.organization_in_charge)
    _sub(el, "OrganName", org.organ_name)
    _sub(el, "OrganAdd", org.organ_add)
    _sub(el, "Email", org.email)
    _sub(el, "Telephone", org.telephone)
    _sub(el, "Fax", org.fax)
    _sub(el, "Website", org.website)


def _response_for(parent: etree._Element, response: m.ResponseFor) -> None:
    el = _sub(parent, "ResponseFor")
    _sub(el, "OrganId", response.organ_id)
    _sub(el, "Code", response.code)
    _sub(el, "PromulgationDate", _date(response.promulgation_date))
    _sub(el, "DocumentId", response.document_id)


def _staff(parent: etree._Element, staff: m.StaffInfo | None) -> None:
    if staff is None:
        return
    el = _sub(parent, "StaffInfo")
    _sub(el, "Department", staff.department)
    _sub(el, "Staff", staff.staff)
    _sub(el, "Mobile", staff.mobile)
    _sub(el, "Email", staff.email)


def _document_header(mh: etree._Element, doc: m.DocumentPackage) -> None:
    _organization(mh, "From", doc.sender)
    for recipient in doc.recipients:
        _organization(mh, "To", recipient)
    code = _sub(mh, "Code")
    _sub(code, "CodeNumber", doc.code.number)
    _sub(code, "CodeNotation", doc.code.notation)
    promulgation = _sub(mh, "PromulgationInfo")
    _sub(promulgation, "Place", doc.promulgation.place)
    _sub(promulgation, "PromulgationDate", _date(doc.promulgation.date))
    doc_type = _sub(mh, "DocumentType")
    _sub(doc_type, "Type", _num(doc.document_type.type))
    _sub(doc_type, "TypeDetail", _num(doc.document_type.type_detail))
    _sub(doc_type, "TypeName", doc.document_type.type_name)
    _sub(mh, "Subject", doc.subject)
    _sub(mh, "Content", doc.content)
    signer = _sub(mh, "SignerInfo")
    _sub(signer, "Competence", doc.signer_info.competence)
    _sub(signer, "Position", doc.signer_info.position)
    _sub(signer, "FullName", doc.signer_info.full_name)
    _sub(mh, "DueDate", _date(doc.due_date))
    places = _sub(mh, "ToPlaces")
    for place in doc.to_places:
        _sub(places, "Place", place)
    other = _sub(mh, "OtherInfo")
    info = doc.other_info
    _sub(other, "Priority", str(info.priority))
    _sub(other, "SphereOfPromulgation", info.sphere_of_promulgation)
    _sub(other, "TyperNotation", info.typer_notation)
    _sub(other, "PromulgationAmount", _num(info.promulgation_amount))
    _sub(other, "PageAmount", _num(info.page_amount))
    if info.direction is not None:
        _sub(other, "Direction", "true" if info.direction else "false")
    appendixes = _sub(other, "Appendixes")
    for appendix in info.appendixes:
        _sub(appendixes, "Appendix", appendix)
    for response in doc.response_for:
        _response_for(mh, response)
    _sub(mh, "SteeringType", _num(doc.steering_type))
    _sub(mh, "DocumentId", doc.document_id)


def _trace_list(traces: etree._Element, doc: m.DocumentPackage) -> None:
    for trace in doc.traces:
        el = _sub(traces, "TraceHeader")
        _sub(el, "OrganId", trace.organ_id)
        _sub(el, "Timestamp", _timestamp(trace.timestamp))
    business = doc.business
    el = _sub(traces, "Bussiness")
    if business.document_id:
        _sub(el, "DocumentId", business.document_id)
    _sub(el, "BussinessDocType", str(int(business.doc_type)))
    _sub(el, "BussinessDocReason", business.reason)
    if business.document_info is not None:
        info = _sub(el, "BussinessDocumentInfo")
        _sub(info, "DocumentInfo", business.document_info.document_info)
        _sub(info, "DocumentReceiver", business.document_info.document_receiver)
        receivers = _sub(info, "ReceiverList")
        for receiver in business.document_info.receivers:
            r = _sub(receivers, "Receiver")
            _sub(r, "OrganId", receiver.organ_id)
            _sub(r, "ReceiverType", _num(receiver.receiver_type))
    if business.replacements:
        replacements = _sub(el, "ReplacementInfoList")
        for replacement in business.replacements:
            r = _sub(replacements, "ReplacementInfo")
            _sub(r, "DocumentId", replacement.document_id)
            organs = _sub(r, "OrganIdList")
            for organ_id in replacement.organ_ids:
                _sub(organs, "OrganId", organ_id)
    _staff(el, business.staff)
    _sub(el, "Paper", str(business.paper))


def _manifest(manifest: etree._Element, attachments: tuple[m.Attachment, ...]) -> None:
    for att in attachments:
        ref = _sub(manifest, "Reference", **{f"{{{XLINK_NS}}}href": f"cid:{att.content_id}"})
        _sub(ref, "ContentId", f"cid:{att.content_id}")
        _sub(ref, "ContentType", att.content_type)
        _sub(ref, "Description", att.description)
        _sub(ref, "AttachmentName", att.name)


def _attachments(parent: etree._Element, attachments: tuple[m.Attachment, ...]) -> None:
    for att in attachments:
        el = _sub(parent, "Attachment")
        _sub(el, "ContentType", att.content_type)
        _sub(el, "ContentId", f"cid:{att.content_id}")
        _sub(el, "Description", att.description)
        _sub(el, "ContentTransferEncoded", att.encoded)
        _sub(el, "AttachmentName", att.name)


def _status_header(mh: etree._Element, status: m.StatusPackage) -> None:
    _response_for(mh, status.response_for)
    _organization(mh, "From", status.sender)
    _sub(mh, "StatusCode", status.status_code.value)
    _sub(mh, "Description", status.description)
    _sub(mh, "Timestamp", _timestamp(status.timestamp))
    _staff(mh, status.staff)
