"""The error hierarchy and the catalogue of stable error codes.

Every refusal the axis can give has a stable dotted code. Vendors script against these codes (and
`axis package verify` prints them), so a code, once published, never changes meaning. The catalogue
below is the single table of them; `docs/errors.md` is generated from it and a test keeps the two equal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: code -> (HTTP status, one-line meaning). Grouped by the layer that raises them.
CATALOGUE: Mapping[str, tuple[int, str]] = {
    # Raw bytes and XML well-formedness (axis.edxml.xmlsafe)
    "edxml.xml.empty": (400, "The body is empty."),
    "edxml.xml.too_large": (413, "The package is larger than the configured size limit."),
    "edxml.xml.bad_utf8": (400, "The bytes are not valid UTF-8 (the only encoding edXML allows)."),
    "edxml.xml.encoding": (400, "The XML declaration names an encoding other than UTF-8."),
    "edxml.xml.malformed": (400, "The bytes are not well-formed XML."),
    "edxml.xml.dtd_forbidden": (400, "A DOCTYPE (DTD) is present; edXML packages must not carry one."),
    "edxml.xml.entity_forbidden": (400, "An entity reference or declaration is present."),
    "edxml.xml.too_deep": (400, "Elements are nested deeper than the configured limit."),
    "edxml.xml.too_many_elements": (400, "The package has more elements than the configured limit."),
    # Document shape (axis.edxml.reader, axis.edxml.schema)
    "edxml.root.wrong_namespace": (400, "The root element is not in the QCVN 102:2016 edXML namespace."),
    "edxml.root.wrong_element": (400, "The root element is not edXML."),
    "edxml.kind.unknown": (400, "The package is neither a document nor a status package."),
    "edxml.schema.invalid": (400, "The package does not conform to the edXML schema."),
    "edxml.agency_code.malformed": (400, "An agency identifier code (OrganId) is malformed."),
    "edxml.status_code.unknown": (400, "The StatusCode is not one of the QCVN 102 status codes."),
    "edxml.business_doc_type.unknown": (400, "BussinessDocType is not 0, 1, 2 or 3."),
    "edxml.date.invalid": (400, "A date is not a real calendar date in YYYY/MM/DD or DD/MM/YYYY form."),
    "edxml.timestamp.invalid": (400, "A timestamp is neither 'YYYY/MM/DD HH:MM:SS' nor ISO 8601."),
    "edxml.document_id.malformed": (400, "DocumentId is not '{sender code},{date},{number}/{notation}'."),
    "edxml.document_id.sender_mismatch": (400, "DocumentId does not start with the sender's OrganId."),
    "edxml.header.missing": (400, "A required MessageHeader component is missing."),
    "edxml.header.duplicate": (400, "A MessageHeader component that may appear once appears twice."),
    "edxml.attachment.bad_base64": (400, "An attachment's ContentTransferEncoded is not valid base64."),
    "edxml.attachment.unreferenced": (400, "An attachment is not listed in the manifest."),
    "edxml.attachment.missing": (400, "A manifest Reference has no attachment with its ContentId."),
    "edxml.attachment.duplicate_id": (400, "Two attachments share one ContentId."),
    "edxml.replacement.missing": (400, "A replace (BussinessDocType 3) names no document to replace."),
    # XML Signature (axis.edxml.signature)
    "signature.missing": (400, "The package carries no XML Signature (ds:Signature)."),
    "signature.multiple": (400, "The package carries more than one XML Signature."),
    "signature.location": (400, "The XML Signature is not where edXML puts it (edXMLHeader)."),
    "signature.malformed": (400, "The XML Signature element is incomplete or not schema-valid."),
    "signature.reference.not_whole_document": (400, "The signature does not cover the whole package."),
    "signature.algorithm.forbidden": (400, "The signature or digest algorithm is not allowed by the policy."),
    "signature.digest_mismatch": (400, "The signed content was changed after signing."),
    "signature.invalid": (400, "The signature value does not verify with the signer's key."),
    "signature.certificate.missing": (400, "The signature carries no X.509 certificate."),
    "signature.certificate.malformed": (400, "The signer's certificate cannot be read."),
    "signature.certificate.untrusted": (400, "The signer's certificate does not chain to a trust anchor."),
    "signature.certificate.expired": (400, "The signer's certificate is outside its validity period."),
    "signature.certificate.key_usage": (400, "The signer's certificate may not be used for signing."),
    # Receipts (axis.receipts)
    "receipt.malformed": (400, "The bytes are not an axis receipt (XML, elements, values, signature parts)."),
    "receipt.unsigned": (400, "The receipt carries no XML Signature."),
    "receipt.signature.misplaced": (400, "The receipt's XML Signature is not one child of its root element."),
    "receipt.signature.partial": (400, "The receipt's signature does not cover the whole receipt."),
    "receipt.algorithm.forbidden": (400, "The receipt's signature does not use RSA or ECDSA with SHA-2."),
    "receipt.invalid": (400, "The receipt was changed after signing, or its signature does not verify."),
    "receipt.certificate.untrusted": (400, "The receipt's certificate does not chain to a trust anchor."),
    "receipt.certificate.expired": (400, "The receipt's certificate is outside its validity period."),
    # The signatures inside document files (axis.files): findings kept with the package and shown, never
    # refusals, except file.signature.required under a system's `require` policy.
    "file.signature.required": (
        422,
        "The system's file policy is `require` and the main file has no valid signature of the sending agency.",
    ),
    "file.signature.broken": (422, "A file's signature does not match the bytes it covers, or does not verify."),
    "file.signature.partial": (422, "A file's signature covers only part of its revision of the file."),
    "file.signature.modified": (422, "The file was changed after it was signed, beyond what signing allows."),
    "file.signature.untrusted": (422, "A file signer's certificate does not chain to a document trust anchor."),
    "file.signature.expired": (422, "A file signer's certificate was not valid when it signed."),
    "file.signature.revoked": (422, "A file signer's certificate is revoked (CRL or OCSP)."),
    "file.signature.revocation_unknown": (
        422,
        "A warning: the certificate names where to ask about revocation, and no answer came.",
    ),
    "file.unsigned": (422, "A PDF file carries no signature."),
    "file.malformed": (422, "A file is not a PDF that can be read, or its signature cannot be read."),
    "file.too_large": (422, "A file is larger than AXIS_FILE_CHECK_MAX_BYTES: its signatures were not checked."),
    "file.limits": (422, "Checking a file took more time or memory than allowed: its signatures were not checked."),
    "file.zip.malformed": (422, "A zipped attachment cannot be read."),
    "file.zip.bomb": (422, "A zipped attachment expands beyond the limits (size, ratio, entries or depth)."),
    "file.agency_signature.missing": (422, "The main file carries no valid signature of the sending agency."),
    "file.agency.mismatch": (
        422,
        "The main file is validly signed by another agency than the sender (its certificate's code differs).",
    ),
    "file.signer.mismatch": (
        422,
        "A warning: the header's SignerInfo names no one who signed the main file as a person.",
    ),
    # Agency identifier codes (axis.registry.codes)
    "agency_code.malformed": (400, "The text is not a well-formed agency identifier code."),
    # The registry (axis.registry)
    "registry.agency.unknown": (404, "No agency has this code (in either code form)."),
    "registry.agency.exists": (409, "An agency with this code already exists."),
    "registry.agency.parent_missing": (422, "The parent the code implies is not in the registry."),
    "registry.agency.retired": (422, "The agency is retired."),
    "registry.agency.retired_without_successor": (422, "The agency is retired and names no successor."),
    "registry.agency.successor_cycle": (422, "The successor chain of a retired agency loops."),
    "registry.agency.successor_invalid": (422, "The successor is unknown, the agency itself, or retired."),
    "registry.agency.unserved": (422, "No connected system serves this agency or any of its ancestors."),
    "registry.agency.external": (
        409,
        "The agency is known here only from the upstream axis's lists: read-only, changed on the upstream.",
    ),
    "registry.system.unknown": (404, "No connected system has this id."),
    "registry.system.exists": (409, "A system with this id already exists."),
    "registry.system.invalid": (422, "The system's id or settings are invalid."),
    "registry.system.disabled": (403, "The system is disabled."),
    "registry.binding.exists": (409, "Another system is already bound to exactly this agency subtree."),
    "registry.binding.unknown": (404, "The system has no binding for this agency code."),
    "registry.sender.not_served": (403, "The calling system does not serve the sending agency."),
    "registry.certificate.invalid": (422, "The certificate cannot be read."),
    "registry.certificate.exists": (409, "This certificate is already registered."),
    "registry.certificate.unknown": (404, "No certificate with this fingerprint is registered."),
    "registry.certificate.not_bound": (403, "The signing certificate is not bound to the sending system."),
    "registry.certificate.revoked": (403, "The signing certificate was revoked."),
    "registry.certificate.agency_mismatch": (
        403,
        "The certificate names an agency that is neither the sender nor one of its ancestors.",
    ),
    "registry.token.unknown": (404, "No token with this id belongs to the system."),
    "registry.import.bad_rows": (422, "The import file has bad rows; nothing was imported."),
    "registry.import.format": (400, "The import file is not a CSV with a code and a name column."),
    "registry.import.encoding": (
        400,
        "The import file's bytes are in no encoding read (UTF-8, UTF-16 with its byte order mark, Windows-1258).",
    ),
    "registry.import.outside_scope": (
        409,
        "The import would change agencies outside the subtree most of the file covers; accept that explicitly.",
    ),
    # The exchange (axis.exchange)
    "intake.recipient.unknown": (422, "A recipient's agency code is not in the registry."),
    "intake.recipient.unserved": (422, "No connected system serves a recipient agency."),
    "intake.recipient.retired": (422, "A recipient agency is retired and leads to no active successor."),
    "intake.duplicate": (409, "This DocumentId was already submitted with other content."),
    "package.unknown": (404, "No such package for this system."),
    "document.unknown": (404, "No such document for this system."),
    "receipt.unknown": (404, "No such receipt for this system."),
    "delivery.not_failed": (409, "A delivery named for requeueing is not failed (queued, delivered, or none)."),
    "broker.unavailable": (503, "RabbitMQ is unavailable; try again later."),
    # Operations (issue 7): backpressure, limits, retention
    "intake.overloaded": (503, "Too many packages in flight in this axis process; retry after the given delay."),
    "rate.limited": (429, "The system exceeds its request rate; retry after the given delay."),
    "service.unavailable": (503, "A dependency (PostgreSQL) is unavailable or too slow; retry after the given delay."),
    "package.archived": (410, "The package was archived by retention; its receipts and digest remain."),
    # Status lifecycle (axis.exchange.lifecycle)
    "status.backwards": (422, "The status goes below a step the recipient has already reached."),
    "status.repeated": (422, "Status 01, 03 or 06 was already sent for this recipient; it may not repeat."),
    "status.not_registered": (422, "Status 04, 05 or 06 came before 03 (accepted, registered)."),
    "status.after_rejection": (422, "The recipient rejected the document (02); nothing may follow."),
    "status.rejection_too_late": (422, "Status 02 (rejected) came after 03 (accepted)."),
    "status.sender_only": (422, "Status 13 (take-back request) came from a recipient, not the sender."),
    "status.recipient_only": (422, "A status other than 13 came from the document's sender."),
    "status.no_pending_request": (422, "Status 15 or 16 came with no take-back or business request pending."),
    "status.request_pending": (422, "Status 13 came while an earlier request still awaits a 15 or 16."),
    # Documents and business flows (axis.exchange.flows)
    "status.document.unknown": (404, "No such document from that sender addressed to the answering agency."),
    "status.document.revoked": (422, "The document was revoked; only 15 or 16 may answer it now."),
    "business.target.unknown": (422, "The sender has no document with the DocumentId a revoke/update/replace names."),
    "business.target.revoked": (422, "The named document was revoked; it cannot be revoked, updated or replaced."),
    "business.target.superseded": (422, "The named document was replaced; act on its replacement instead."),
    "business.replacement.same_id": (409, "A replacement (3) reuses the DocumentId of an existing document."),
    "business.recipient.not_original": (422, "A revoke/update goes to an agency the document was never sent to."),
    # Authentication and authorization (axis.http)
    "auth.token.missing": (401, "No Bearer token was sent."),
    "auth.token.invalid": (401, "The token is unknown or revoked."),
    "auth.admin.required": (403, "This operation needs an administrator token."),
    "http.not_found": (404, "No such resource."),
    "http.method_not_allowed": (405, "The method is not allowed on this resource."),
    "http.bad_request": (400, "The request is malformed (parameters or JSON body)."),
    "internal": (500, "An internal error; the axis logged it with this request's id."),
    # Security (issue 7)
    "signature.certificate.revoked": (400, "The signer's certificate is on its CA's revocation list (CRL)."),
    "intake.timestamp.future": (422, "The package's timestamp lies further in the future than the clock skew allows."),
    "intake.timestamp.stale": (422, "The package's timestamp is older than the maximum package age."),
    "auth.client_certificate.required": (403, "The system must present its TLS client certificate."),
    "auth.address.refused": (403, "The request comes from an address the system's allow-list does not name."),
    "auth.client_certificate.mismatch": (403, "The TLS client certificate is not one registered for the system."),
    "keys.foreign_certificate": (
        400,
        "The certificate was not issued by the development CA, so its CRL cannot list it.",
    ),
    # RabbitMQ (axis.broker)
    "broker.management.unavailable": (
        503,
        "The RabbitMQ management API cannot be reached, refused the axis's credentials, or failed.",
    ),
    "broker.management.refused": (502, "The RabbitMQ management API refused a request as malformed."),
    "broker.vhost.unknown": (500, "The RabbitMQ virtual host does not exist."),
    "broker.reference.unreadable": (
        502,
        "A package sent over AMQP by reference cannot be fetched (no HTTP client given) or its bytes "
        "do not match the message's size and digest.",
    ),
    # Web pages (axis.web)
    "web.login.failed": (401, "The user name or the password is wrong."),
    "web.login.locked": (429, "Too many failed log-ins: the account is locked for a while."),
    "web.login.disabled": (403, "The web user is disabled."),
    "web.session.required": (401, "The page needs a logged-in user."),
    "web.forbidden": (403, "The logged-in user's role may not use this page."),
    "web.csrf": (403, "The form's CSRF token is missing or does not match the session (reload the page)."),
    "web.password.weak": (422, "The new password is too short, too long, or equal to the user name."),
    "web.user.unknown": (404, "No web user has this user name."),
    "web.user.exists": (409, "A web user with this user name already exists."),
    "web.user.invalid": (422, "The web user's name, role or system is invalid."),
    "web.import.stale": (409, "The registry changed since the dry run; review the new diff and confirm again."),
    # Command line and configuration
    "cli.file_not_found": (400, "The file named on the command line does not exist."),
    "config.invalid": (500, "A setting from the environment is invalid."),
    "keys.missing": (400, "A key or certificate file named by the command does not exist."),
    # National SDK compatibility (axis.vdxp)
    "vdxp.operation.unknown": (404, "No such operation of the national SDK's interface under /vdxp/."),
    "vdxp.auth.missing": (401, "A required XroadVnpt-* header (systemid, timestamp, sign-header…) is missing."),
    "vdxp.signature.malformed": (
        401,
        "XroadVnpt-sign-header is not a JSON object of the names listed in XroadVnpt-sign-header-key.",
    ),
    "vdxp.signature.invalid": (401, "XroadVnpt-hash-header is not the HMAC of the signed headers with the secret."),
    "vdxp.signature.altered": (401, "A header sent differs from its signed value, or a signed header is missing."),
    "vdxp.timestamp.invalid": (401, "The signed timestamp is unreadable."),
    "vdxp.signature.stale": (
        409,
        "This signed header set was first used longer ago than a change may be asked with it; sign afresh.",
    ),
    "vdxp.transport.insecure": (403, "An SDK request came over plain HTTP from another machine; use HTTPS."),
    "vdxp.param.missing": (400, "A parameter the operation needs is missing."),
    "vdxp.param.invalid": (400, "A parameter's value is not one the operation accepts."),
    "vdxp.param.unsigned": (400, "A parameter the operation uses is not among the signed headers."),
    "vdxp.param.ambiguous": (400, "The docId and docid headers carry different values and no spelling is preferred."),
    "vdxp.hash_file.mismatch": (400, "No body sent matches XroadVnpt-hash-file (the SHA-256 of the file)."),
    "vdxp.update.conflict": (409, "updateStatus contradicts the delivery's state (done after fail, fail after done)."),
    "vdxp.update.unfetched": (409, "updateStatus done for a package the system never fetched: fetch it first."),
    "vdxp.agency.not_served": (403, "The agency is outside the subtrees the system serves, or is a binding's root."),
    "vdxp.agency.changes_disabled": (403, "This axis does not let systems retire agencies (deleteAgency)."),
    "vdxp.agency.register_refused": (
        403,
        "registerAgency's data is not signed by the SDK: agencies are added by the administrator.",
    ),
    "vdxp.key.missing": (500, "The axis has no key to open SDK secrets (AXIS_VDXP_SECRET_KEY_FILE)."),
    # --- federation: this axis under another one (issue 17) ---
    "upstream.unknown": (404, "No upstream link is configured on this axis."),
    "upstream.endpoint.invalid": (422, "The upstream's endpoint is not an absolute http(s) URL."),
    "upstream.serves.invalid": (422, "The agency subtrees this axis serves are missing or not agency codes."),
    "upstream.secret.invalid": (422, "The secret the upstream gave is empty or not text."),
    "upstream.unreachable": (503, "The upstream axis did not answer (network, TLS or timeout)."),
    "upstream.refused": (
        502,
        "The upstream axis answered and refused (its ErrorCode and ErrorDesc are in the details).",
    ),
}


class AxisError(Exception):
    """A refusal with a stable code, a human message and machine-readable details.

    Raised by pure code and I/O code alike; mapped to a response (HTTP JSON body, CLI exit) in one
    place per interface. The HTTP status comes from the catalogue, so two raise sites with the same
    code cannot disagree about it.
    """

    def __init__(self, code: str, message: str, /, **details: Any) -> None:
        if code not in CATALOGUE:
            raise KeyError(f"error code {code!r} is not in axis.errors.CATALOGUE")
        super().__init__(message)
        self.code = code
        self.message = message
        self.details: dict[str, Any] = details

    @property
    def http_status(self) -> int:
        return CATALOGUE[self.code][0]

    def as_dict(self) -> dict[str, Any]:
        """The contract's error body: ``{"error": {"code", "message", "details"}}``."""
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class PackageError(AxisError):
    """The package bytes are unacceptable (XML, shape, schema, content rules)."""


class SignatureError(AxisError):
    """The package's XML Signature or its certificate is unacceptable."""


def markdown_table() -> str:
    """The catalogue as the Markdown page ``docs/errors.md``."""
    lines = [
        "# Error codes",
        "",
        "Every refusal carries one of these stable codes, in the HTTP error body",
        '(`{"error": {"code", "message", "details"}}`) and in the CLI\'s `error: CODE: message` line.',
        "Generated by `python -m axis.errors`; a test keeps it equal to `axis/errors.py`.",
        "",
        "| code | HTTP | meaning |",
        "| --- | --- | --- |",
    ]
    lines += [f"| `{code}` | {status} | {meaning} |" for code, (status, meaning) in CATALOGUE.items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")
