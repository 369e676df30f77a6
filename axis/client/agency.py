"""``AgencyClient``: one agency's view of the axis, for document-management software.

Plain Python values in, typed answers out. The client builds the edXML (``packages``), signs it
with the agency's key, sends it over its system's token, and on the way back verifies what it
receives: packages against the trust anchors it was given, receipts against the axis certificate,
fetched once and pinned (or given up front, which is better: then the axis's own answers cannot
change what the client trusts). Signing and verifying run in a worker thread, so a 50 MB package
does not stall the application's event loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import aiohttp

from axis import pki, receipts
from axis.client import packages
from axis.client.answers import DeliveryState, DocumentSummary, InboxItem, Received, Sent, Timeline, VerifiedReceipt
from axis.client.api import AxisClient
from axis.client.packages import AttachmentSource, DocumentRef, Letter
from axis.edxml import build, codec, sign
from axis.edxml import model as m
from axis.edxml.trust import STRICT, SignaturePolicy, Signer, TrustAnchors
from axis.errors import AxisError
from axis.files.findings import DocumentCheck


class AgencyClient:
    """One agency's view of the axis, over its connected system's token.

    ``identity`` (key and certificate) is needed to send; reading the inbox and timelines needs
    only the token. ``agency_code`` defaults to the code the certificate names. Give ``trust`` (the
    CAs agency certificates chain to) to have every received package verified, and
    ``axis_certificate`` (PEM) to pin the receipt signer instead of fetching it from the axis.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        identity: pki.Identity | None = None,
        agency_code: str | None = None,
        agency_name: str = "",
        trust: TrustAnchors | None = None,
        policy: SignaturePolicy = STRICT,
        axis_certificate: bytes | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.api = AxisClient(base_url, token, session=session)
        self.identity = identity
        if agency_code is None and identity is not None:
            agency_code = Signer.from_certificate(identity.certificate).agency_code
        self.agency_code = agency_code or ""
        self.agency_name = agency_name
        self.trust = trust
        self.policy = policy
        self._axis_trust = TrustAnchors.from_pem(axis_certificate) if axis_certificate else None

    @classmethod
    def from_files(
        cls,
        base_url: str,
        token: str,
        *,
        key: Path,
        cert: Path,
        agency_code: str | None = None,
        agency_name: str = "",
        trust: Sequence[Path] = (),
        axis_certificate: Path | None = None,
    ) -> AgencyClient:
        """A client whose key, certificate (then its chain) and anchors are PEM files."""
        pinned = None
        if axis_certificate is not None:
            try:
                pinned = axis_certificate.read_bytes()
            except FileNotFoundError:
                raise AxisError("keys.missing", f"{axis_certificate} does not exist.") from None
        return cls(
            base_url,
            token,
            identity=pki.load(key, cert),
            agency_code=agency_code,
            agency_name=agency_name,
            trust=TrustAnchors.from_files(trust) if trust else None,
            axis_certificate=pinned,
        )

    async def __aenter__(self) -> AgencyClient:
        return self

    async def __aexit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        await self.api.close()

    # --- sending ------------------------------------------------------------------------------------

    @property
    def organization(self) -> m.Organization:
        """This agency as ``From`` of what it sends."""
        if not self.agency_code:
            raise AxisError(
                "keys.missing",
                "Sending needs the agency's code: give agency_code, or a certificate that names it.",
            )
        return m.Organization(self.agency_code, self.agency_name)

    def sign_package(self, package: m.Package) -> bytes:
        """edXML bytes of ``package`` with this agency's enveloped signature."""
        if self.identity is None:
            raise AxisError("keys.missing", "Sending needs the agency's signing key and certificate.")
        return sign(build(package), self.identity.key, self.identity.cert_chain)

    async def submit(self, package: m.Package) -> Sent:
        """Sign and send a package built by hand (the methods below build it for you)."""
        return await self.send_signed(await asyncio.to_thread(self.sign_package, package))

    async def send_signed(self, data: bytes, *, attempts: int = 3) -> Sent:
        """Send signed package bytes, trying again with the same bytes when the connection fails or
        the axis is briefly unavailable: the axis answers a repeat with its first answer, whereas
        signing again would make other bytes (a new trace time and signature), which it refuses as
        a conflicting duplicate. Keep ``Sent.package`` (or these bytes) to resend after a crash."""
        attempt = 1
        while True:
            try:
                return Sent.from_json(await self.api.submit(data), data)
            except (aiohttp.ClientConnectionError, TimeoutError):
                if attempt >= attempts:
                    raise
            except AxisError as exc:
                if exc.http_status != 503 or attempt >= attempts:
                    raise
            await asyncio.sleep(0.5 * 2**attempt)
            attempt += 1

    async def send_document(
        self,
        *,
        to: Sequence[str],
        subject: str,
        number: str,
        notation: str,
        date: dt.date | None = None,
        attachments: Sequence[AttachmentSource] = (),
        content: str = "",
        due_date: dt.date | None = None,
        priority: int = 0,
        signer_name: str = "",
        signer_position: str = "",
        place: str = "",
        document_type: int = 1,
        type_name: str = "Công văn",
        staff: str = "",
        department: str = "",
    ) -> Sent:
        """Send a new document (số ``number``, ký hiệu ``notation``) to the agencies ``to``.

        ``date`` (promulgation) defaults to today in Vietnam; with the sender's code and the
        number/notation it makes the DocumentId. ``staff``/``department``: the clerk sending it.
        """
        letter = Letter(
            subject=subject,
            code=m.Code(number, notation),
            date=date or packages.today(),
            to=to,
            attachments=attachments,
            content=content,
            due_date=due_date,
            priority=priority,
            signer_name=signer_name,
            signer_position=signer_position,
            place=place,
            document_type=document_type,
            type_name=type_name,
        )
        business = m.Business(staff=packages.staff_info(staff, department))
        return await self.submit(packages.document(self.organization, letter, business))

    def _status(
        self, document_id: str, code: m.StatusCode | str, description: str, staff: str, department: str
    ) -> m.StatusPackage:
        return packages.status(
            self.organization,
            DocumentRef.parse(document_id),
            code,
            description=description,
            staff=packages.staff_info(staff, department),
        )

    def status_package(
        self,
        document_id: str,
        code: m.StatusCode | str,
        *,
        description: str = "",
        staff: str = "",
        department: str = "",
    ) -> bytes:
        """A signed status package about a document, for ``Mailbox.publish`` (AMQP systems)."""
        return self.sign_package(self._status(document_id, code, description, staff, department))

    async def send_status(
        self,
        document_id: str,
        code: m.StatusCode | str,
        *,
        description: str = "",
        staff: str = "",
        department: str = "",
    ) -> Sent:
        """Answer a received document: 01 arrived … 06 completed, 02 rejected (say why in
        ``description``), 15/16 agree to or refuse a take-back, revocation or update."""
        return await self.submit(self._status(document_id, code, description, staff, department))

    async def take_back(self, document_id: str, *, reason: str, staff: str = "", department: str = "") -> Sent:
        """Ask the recipients of a document this agency sent to hand it back (status 13); each
        answers 15 (agreed) or 16 (refused)."""
        DocumentRef.parse(document_id).check_sender(self.agency_code)
        return await self.submit(self._status(document_id, m.StatusCode.TAKE_BACK_REQUEST, reason, staff, department))

    async def revoke(
        self,
        document_id: str,
        *,
        reason: str,
        to: Sequence[str] | None = None,
        subject: str | None = None,
        staff: str = "",
        department: str = "",
    ) -> Sent:
        """Revoke (thu hồi) a document this agency sent: the same DocumentId, BussinessDocType 1.

        It goes to ``to``, by default every agency the document was addressed to (read from the
        document's timeline, as is the subject when not given).
        """
        ref = DocumentRef.parse(document_id)
        ref.check_sender(self.agency_code)
        if to is None or subject is None:
            timeline = await self.status(document_id)
            to = timeline.addressed if to is None else to
            subject = timeline.subject if subject is None else subject
        letter = Letter(subject=subject, code=ref.code, date=ref.date, to=to, document_id=ref.document_id)
        business = m.Business(
            doc_type=m.BusinessDocType.REVOKE,
            reason=reason,
            document_id=document_id,
            staff=packages.staff_info(staff, department),
        )
        return await self.submit(packages.document(self.organization, letter, business))

    async def update(
        self,
        document_id: str,
        *,
        reason: str,
        subject: str,
        to: Sequence[str] | None = None,
        attachments: Sequence[AttachmentSource] = (),
        content: str = "",
        due_date: dt.date | None = None,
        priority: int = 0,
        signer_name: str = "",
        staff: str = "",
        department: str = "",
    ) -> Sent:
        """Update (cập nhật) a document this agency sent: the same DocumentId, BussinessDocType 2,
        with the new subject and files. A ``to`` other than the original recipients is announced in
        ``BussinessDocumentInfo/ReceiverList``."""
        ref = DocumentRef.parse(document_id)
        ref.check_sender(self.agency_code)
        original = (await self.status(document_id)).addressed
        to = original if to is None else to
        letter = Letter(
            subject=subject,
            code=ref.code,
            date=ref.date,
            to=to,
            document_id=ref.document_id,
            attachments=attachments,
            content=content,
            due_date=due_date,
            priority=priority,
            signer_name=signer_name,
        )
        business = m.Business(
            doc_type=m.BusinessDocType.UPDATE,
            reason=reason,
            document_id=document_id,
            staff=packages.staff_info(staff, department),
            document_info=packages.update_info(original, to),
        )
        return await self.submit(packages.document(self.organization, letter, business))

    async def replace(
        self,
        document_id: str,
        *,
        reason: str,
        number: str,
        notation: str,
        subject: str,
        to: Sequence[str],
        date: dt.date | None = None,
        attachments: Sequence[AttachmentSource] = (),
        content: str = "",
        due_date: dt.date | None = None,
        priority: int = 0,
        signer_name: str = "",
        staff: str = "",
        department: str = "",
    ) -> Sent:
        """Replace (thay thế) a document this agency sent with a new one (its own number/notation,
        so its own DocumentId), BussinessDocType 3, naming the replaced DocumentId and ``to``."""
        DocumentRef.parse(document_id).check_sender(self.agency_code)
        letter = Letter(
            subject=subject,
            code=m.Code(number, notation),
            date=date or packages.today(),
            to=to,
            attachments=attachments,
            content=content,
            due_date=due_date,
            priority=priority,
            signer_name=signer_name,
        )
        business = m.Business(
            doc_type=m.BusinessDocType.REPLACE,
            reason=reason,
            staff=packages.staff_info(staff, department),
            replacements=(m.Replacement(document_id, tuple(dict.fromkeys(to))),),
        )
        return await self.submit(packages.document(self.organization, letter, business))

    # --- receiving ----------------------------------------------------------------------------------

    async def inbox(self, *, only: str | None = None, limit: int = 100, wait: int = 0) -> list[InboxItem]:
        """What waits, oldest first: packages (``only="package"``) and receipts (``"receipt"``).
        ``wait`` seconds (up to 30): when nothing waits, answered as soon as something arrives."""
        return [InboxItem.from_json(item) for item in await self.api.inbox(limit, only=only, wait=wait)]

    async def open(self, data: bytes, *, package_id: str = "") -> Received:
        """Read package bytes (a ``Mailbox`` delivery, a stored file): verified when the client has
        trust anchors (an ``AxisError`` with the signature's code if they fail), parsed otherwise.
        The work runs in a thread: verifying a large package takes a while."""
        return await asyncio.to_thread(self._open, data, package_id)

    def _open(self, data: bytes, package_id: str) -> Received:
        if self.trust is None:
            parsed = codec.parse(data)
            return Received(package_id, parsed.package, parsed.quirks, None, False, data)
        checked = codec.verify(data, self.trust, policy=self.policy)
        return Received(package_id, checked.package, checked.quirks, checked.signer, True, data)

    async def receive(self, package_id: str) -> Received:
        """Fetch a package as its sender signed it, and open it. Acknowledge it once stored."""
        return await self.open(await self.api.fetch(package_id), package_id=package_id)

    async def ack(self, package_id: str) -> DeliveryState:
        """This system has the package: the sender sees it delivered and gets a signed receipt.
        Acknowledging again changes nothing and gives the same answer."""
        return DeliveryState.from_json(await self.api.ack(package_id))

    async def ack_many(self, package_ids: Sequence[str]) -> dict[str, DeliveryState | AxisError]:
        """Acknowledge many packages in one request (up to 500): by id, the delivery's state, or
        the error for an id the axis does not know for this system (the others still count)."""
        answer = await self.api.ack_many(packages=package_ids)
        states: dict[str, DeliveryState | AxisError] = {}
        for item in answer["packages"]:
            error = item.get("error")
            states[str(item["package_id"])] = (
                AxisError(str(error["code"]), str(error["message"])) if error else DeliveryState.from_json(item)
            )
        return states

    # --- receipts -----------------------------------------------------------------------------------

    async def axis_trust(self) -> TrustAnchors:
        """The axis certificate as the only anchor for receipts: fetched once, then pinned."""
        if self._axis_trust is None:
            self._axis_trust = TrustAnchors.from_pem(await self.api.axis_certificate())
        return self._axis_trust

    async def verify_receipt(self, data: bytes, *, receipt_id: str = "") -> VerifiedReceipt:
        """Check a receipt's signature against the axis certificate (a ``ReceiptError`` if not)."""
        trust = await self.axis_trust()
        receipt, signer = await asyncio.to_thread(receipts.verify, data, trust)
        return VerifiedReceipt(receipt_id, receipt, signer, data)

    async def receipt(self, receipt_id: str) -> VerifiedReceipt:
        """One receipt from the inbox, verified."""
        return await self.verify_receipt(await self.api.receipt(receipt_id), receipt_id=receipt_id)

    async def ack_receipt(self, receipt_id: str) -> None:
        """Take a receipt off the inbox (after storing it: it is the sender's evidence)."""
        await self.api.ack_receipt(receipt_id)

    async def receipts(self, package_id: str) -> list[VerifiedReceipt]:
        """Every receipt of a package this system sent, verified: acceptance, then deliveries."""
        verified = []
        for item in await self.api.package_receipts(package_id):
            checked = await self.receipt(str(item["id"]))
            if checked.package_id != package_id:
                raise receipts.ReceiptError(
                    "receipt.invalid",
                    f"Receipt {checked.id} is about package {checked.package_id}, not {package_id}.",
                )
            verified.append(checked)
        return verified

    # --- following documents ------------------------------------------------------------------------

    async def files(self, package_id: str) -> DocumentCheck | None:
        """Who signed each PDF of a document this system sent or received, and whether the axis found
        those signatures valid (checked once, at intake); None when its files were not checked."""
        found = await self.api.files(package_id)
        return DocumentCheck.from_json(found) if found.get("checked") else None

    async def status(self, document_id: str) -> Timeline:
        """Per recipient: its system, the delivery and every status it sent."""
        return Timeline.from_json(await self.api.status(document_id))

    async def documents(
        self,
        *,
        direction: str | None = None,
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
        """Documents this system sent or received, newest first: ``direction`` "sent" or
        "received", ``words`` from the subject (accents optional), promulgation dates between
        ``since`` and ``until``, ``counterpart`` the other agency's code, ``delivery`` "failed"
        (some recipient failed), "waiting" (some has not acknowledged) or "done" (all have)."""
        filters = {
            "direction": direction,
            "document_id": document_id,
            "number": number,
            "notation": notation,
            "q": words,
            "from": since.isoformat() if since else None,
            "to": until.isoformat() if until else None,
            "counterpart": counterpart,
            "delivery": delivery,
            "limit": str(limit),
            "offset": str(offset),
        }
        found = await self.api.documents(**{k: v for k, v in filters.items() if v is not None})
        return [DocumentSummary.from_json(d) for d in found]
