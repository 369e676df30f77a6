"""The one table of the SDK's ErrorCodes: which of the axis's stable codes each one covers. Pure.

``ErrorCode`` is ``"0"`` on success. On failure it is a number from the table below, chosen by
the axis's stable dotted code (exactly, or by its family), and ``ErrorDesc`` starts with that
dotted code, so a vendor's log says precisely what happened while the SDK only compares
numbers. ``docs/integration.md`` shows the table (a test keeps the two equal).
"""

from __future__ import annotations

from collections.abc import Sequence

#: (ErrorCode, the dotted codes it covers — exact codes, or families ending in ".", meaning, what to do).
#: An exact code wins over a family; among families, the longest.
ERROR_CODES: Sequence[tuple[str, tuple[str, ...], str, str]] = (
    ("101", ("vdxp.operation.unknown", "http."), "no such operation", "Check the endpoint: `…/vdxp/<operation>`."),
    ("102", ("vdxp.auth.missing",), "a required XroadVnpt header is missing", "Send systemid and timestamp, signed."),
    (
        "103",
        ("vdxp.signature.invalid",),
        "wrong signature: secret, system id or signed text",
        "Use the secret the administrator issued for this systemid.",
    ),
    (
        "104",
        ("vdxp.signature.altered",),
        "a header differs from its signed value, or is missing",
        "Send exactly the headers you signed.",
    ),
    (
        "105",
        ("vdxp.signature.malformed",),
        "sign-header is not the JSON of the names in sign-header-key",
        "List the same names in both.",
    ),
    ("106", ("vdxp.timestamp.invalid",), "the timestamp is unreadable", "Let the SDK set it (do not override it)."),
    (
        "107",
        ("vdxp.signature.stale",),
        "this signed header set was first used too long ago to change anything",
        "Create a new SDK service instance: it signs afresh.",
    ),
    (
        "108",
        ("registry.system.disabled", "auth.", "rate.limited"),
        "system disabled, its address or TLS client certificate not allowed, or over its rate",
        "Ask the administrator; on rate limits, wait.",
    ),
    (
        "109",
        ("vdxp.transport.insecure",),
        "the request came over plain HTTP from another machine",
        "Use the https:// endpoint.",
    ),
    ("201", ("vdxp.param.missing",), "a parameter is missing", "Send it (docId, status, hash-file …), signed."),
    (
        "202",
        ("vdxp.param.invalid", "http.bad_request"),
        "a parameter's value or the JSON body is invalid",
        "See ErrorDesc.",
    ),
    ("203", ("vdxp.param.unsigned",), "a parameter the operation uses is not signed", "Sign every parameter."),
    (
        "204",
        ("vdxp.param.ambiguous",),
        "docId and docid carry different values",
        "Ask the administrator to set AXIS_VDXP_DOCID_SPELLING.",
    ),
    (
        "205",
        ("vdxp.hash_file.mismatch",),
        "hash-file is not the SHA-256 of the file sent",
        "Hash exactly the bytes you send.",
    ),
    ("301", ("edxml.xml.too_large",), "the package is too large", "Reduce it, or ask about the limit."),
    ("302", ("edxml.",), "the package is not valid edXML", "See ErrorDesc: path, line, reason."),
    ("303", ("signature.",), "the package's XML Signature is refused", "Sign each package really, with SHA-256."),
    (
        "304",
        ("registry.sender.", "registry.certificate."),
        "this system may not send for the sender, or the certificate is not bound to it",
        "Ask the administrator for the binding or to register the certificate.",
    ),
    (
        "305",
        ("intake.recipient.",),
        "a recipient is unknown, unserved or retired",
        "Look the code up (getAgenciesList).",
    ),
    (
        "306",
        ("intake.duplicate", "business.replacement.same_id"),
        "DocumentId already sent with other content",
        "Resend the original bytes, or send an update/replace.",
    ),
    (
        "307",
        ("status.", "business."),
        "the status or business package does not fit the document's history",
        "See ErrorDesc.",
    ),
    (
        "308",
        ("intake.timestamp.",),
        "the package's own timestamp is too far ahead or too old",
        "Check the sending system's clock.",
    ),
    (
        "401",
        ("package.", "document.", "receipt.unknown"),
        "no such docId for this system",
        "Use a docId from the lists.",
    ),
    (
        "402",
        ("vdxp.update.conflict", "vdxp.update.unfetched"),
        "updateStatus contradicts the delivery (done after fail, fail after done, done before any getEdoc)",
        "Fetch the package first (getEdoc); otherwise nothing to do.",
    ),
    (
        "403",
        ("package.archived",),
        "the package was archived by retention",
        "Ask the administrator for the archived file.",
    ),
    (
        "501",
        ("registry.agency.unknown",),
        "no agency has this code",
        "Look the code up (getAgenciesList).",
    ),
    ("502", ("registry.agency.exists",), "the agency exists already", "Nothing to do."),
    (
        "503",
        ("agency_code.", "registry.agency."),
        "the agency code or its change is invalid",
        "See ErrorDesc.",
    ),
    (
        "504",
        ("vdxp.agency.",),
        "agencies are changed by the administrator of this axis, or not this system's to change",
        "Ask the administrator.",
    ),
    (
        "901",
        ("broker.unavailable", "intake.overloaded", "service.unavailable"),
        "the axis is busy or a dependency is down",
        "Retry later with the same bytes.",
    ),
    (
        "902",
        ("vdxp.key.missing", "config."),
        "the axis is not set up for the SDK (e.g. no key to open secrets)",
        "Tell the administrator.",
    ),
    ("999", (), "any other error, e.g. an internal one (logged with the request id)", "Report ErrorDesc."),
)


def error_code(code: str) -> str:
    """The SDK's ErrorCode for one of the axis's stable codes: an exact entry first, else the
    longest family (``signature.`` …) that contains it."""
    best, length = "999", -1
    for number, covered, _, _ in ERROR_CODES:
        for entry in covered:
            if entry == code:
                return number
            if entry.endswith(".") and code.startswith(entry) and len(entry) > length:
                best, length = number, len(entry)
    return best


def markdown_table() -> str:
    """The ErrorCode table as docs/integration.md shows it (a test keeps the two equal)."""
    lines = [
        "| ErrorCode | the axis's codes (ErrorDesc starts with one) | meaning | what to do |",
        "| --- | --- | --- | --- |",
    ]
    lines.append("| `0` | | success (`status` is `OK`) | |")
    for number, covered, meaning, action in ERROR_CODES:
        codes = ", ".join(f"`{c}…`" if c.endswith(".") else f"`{c}`" for c in covered if c) or "any other"
        lines.append(f"| `{number}` | {codes} | {meaning} | {action} |")
    return "\n".join(lines) + "\n"
