"""``axis package``: inspect, verify, sign and make example packages.

These are the first tools a vendor reaches for when the axis refuses their package, so their
output names the exact rule and the stable error code, and ``inspect`` shows what the axis read.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from signxml.algorithms import DigestAlgorithm, SignatureMethod

from axis import pki
from axis.config import Settings
from axis.edxml import codec, signature
from axis.edxml import model as m
from axis.edxml.namespaces import ds
from axis.edxml.trust import SignaturePolicy, Signer, TrustAnchors
from axis.edxml.writer import build
from axis.errors import AxisError
from axis.files import intake as files_intake
from axis.files import report as files_report
from axis.files.findings import DocumentCheck


def register(sub: Any) -> None:
    package = sub.add_parser("package", help="inspect, verify and sign edXML packages")
    actions = package.add_subparsers(dest="package_command", required=True, metavar="ACTION")

    inspect = actions.add_parser("inspect", help="show a package's header, attachments and signer")
    inspect.add_argument("file", type=Path)
    inspect.add_argument("--json", action="store_true", help="print the model as JSON")
    inspect.add_argument(
        "--document-trust",
        type=Path,
        action="append",
        help="trust anchor PEM for the signatures inside the files (repeatable; default: AXIS_DOCUMENT_TRUST_ANCHORS)",
    )
    inspect.add_argument(
        "--no-files", action="store_true", help="do not check the signatures inside the files (PDF, also in zips)"
    )
    inspect.set_defaults(handler=_inspect)

    verify = actions.add_parser("verify", help="verify schema, signature and certificate chain")
    verify.add_argument("file", type=Path)
    verify.add_argument(
        "--trust", type=Path, action="append", help="trust anchor PEM (repeatable; default: the dev CA)"
    )
    verify.add_argument("--legacy-sha1", action="store_true", help="accept RSA-SHA1 as the national SDKs sign")
    verify.add_argument("--allow-unsigned", action="store_true", help="accept a package without signature")
    verify.add_argument("--at", type=dt.datetime.fromisoformat, help="verify as of this ISO time")
    verify.set_defaults(handler=_verify)

    sign = actions.add_parser("sign", help="sign a package with an agency key")
    sign.add_argument("file", type=Path)
    sign.add_argument("--key", type=Path, required=True)
    sign.add_argument("--cert", type=Path, required=True)
    sign.add_argument("--sha1", action="store_true", help="sign RSA-SHA1/SHA-1 like the national SDKs")
    sign.add_argument("-o", "--output", type=Path, help="output file (default: stdout)")
    sign.set_defaults(handler=_sign)

    example = actions.add_parser("example", help="write an unsigned example document package")
    example.add_argument("--from", dest="sender", required=True, help="sender agency code")
    example.add_argument("--to", dest="recipients", action="append", required=True, help="recipient code")
    example.add_argument("--subject", default="V/v thử nghiệm trục liên thông văn bản")
    example.add_argument("--number", default="1")
    example.add_argument("--notation", default="TN-VP")
    example.add_argument("--attach", type=Path, action="append", default=[], help="file to attach")
    example.add_argument("-o", "--output", type=Path, help="output file (default: stdout)")
    example.set_defaults(handler=_example)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise AxisError("cli.file_not_found", f"{path} does not exist.") from None


def _write(data: bytes, output: Path | None) -> None:
    if output is None:
        sys.stdout.buffer.write(data)
    else:
        output.write_bytes(data)


# --- inspect ------------------------------------------------------------------------------------------


def _inspect(args: argparse.Namespace) -> int:
    parsed = codec.parse(_read(args.file), attachment_content=files_intake.checkable)
    files, unchecked = (None, "") if args.no_files else _check_files(parsed.package, args.document_trust)
    if args.json:
        body = _jsonable(parsed)
        body["files"] = files.to_json() if files is not None else None
        print(json.dumps(body, ensure_ascii=False, indent=2, default=str))
        return 0
    for label, value in _lines(parsed.package):
        print(f"{label:<13}{value}")
    print(f"{'Signature':<13}{_signature_summary(parsed)}")
    for quirk in parsed.quirks:
        print(f"{'Quirk':<13}{quirk.code}: {quirk.message}" + (f" [{quirk.path}]" if quirk.path else ""))
    if unchecked:
        print(f"{'Files':<13}not checked: {unchecked}")
    for label, value in files_report.lines(files) if files is not None else ():
        print(f"{label:<13}{value}")
    return 0


def _check_files(package: m.Package, anchors: list[Path] | None) -> tuple[DocumentCheck | None, str]:
    """The signatures inside the package's files, checked here as intake checks them."""
    if not isinstance(package, m.DocumentPackage):
        return None, ""
    settings = Settings.from_env()
    if anchors:
        settings = dataclasses.replace(settings, document_trust_anchors=tuple(anchors))
    try:
        checker = files_intake.checker_from(settings)
    except AxisError as exc:
        return None, f"{exc.message} (give --document-trust)"

    async def direct(function: Any) -> Any:
        return function()

    try:
        return asyncio.run(files_intake.check(checker, package, direct, at=dt.datetime.now(dt.UTC))), ""
    finally:
        checker.close()


def _org(org: m.Organization) -> str:
    return f"{org.organ_id}  {org.organ_name or org.organization_in_charge}".rstrip()


def _lines(package: m.Package) -> list[tuple[str, str]]:
    if isinstance(package, m.StatusPackage):
        return [
            ("Package", f"status {package.status_code.value} ({package.status_code.name.lower()})"),
            ("Answers", package.response_for.document_id),
            ("From", _org(package.sender)),
            ("Time", package.timestamp.isoformat()),
            ("Description", package.description),
            ("Staff", _staff(package.staff)),
        ]
    business = package.business
    lines = [
        ("Package", f"document ({business.doc_type.name.lower()})"),
        ("DocumentId", package.document_id),
        ("From", _org(package.sender)),
        *(("To", _org(r)) for r in package.recipients),
        ("Code", f"{package.code}, {package.promulgation.date:%Y-%m-%d}, {package.promulgation.place}"),
        ("Type", f"{package.document_type.type} {package.document_type.type_name}".strip()),
        ("Subject", package.subject),
        ("Due", f"{package.due_date:%Y-%m-%d}" if package.due_date else "-"),
        ("Priority", str(package.other_info.priority)),
        ("Signed by", package.signer_info.full_name or "-"),
    ]
    if business.reason:
        lines.append(("Reason", business.reason))
    lines += [("Replaces", f"{r.document_id} for {', '.join(r.organ_ids)}") for r in business.replacements]
    lines += [("Trace", f"{t.organ_id} at {t.timestamp.isoformat()}") for t in package.traces]
    lines += [
        ("Attachment", f"cid:{a.content_id}  {a.name}  {a.content_type}  {a.size:,} bytes") for a in package.attachments
    ]
    return lines


def _staff(staff: m.StaffInfo | None) -> str:
    if staff is None:
        return "-"
    return ", ".join(x for x in (staff.staff, staff.department, staff.email, staff.mobile) if x) or "-"


def _signature_summary(parsed: codec.Parsed) -> str:
    try:
        element = signature.locate(parsed.root)
    except AxisError as exc:
        return f"{exc.code}: {exc.message}"
    if element is None:
        return "none: the package is unsigned"
    method = element.find(f"{ds('SignedInfo')}/{ds('SignatureMethod')}")
    algorithm = (method.get("Algorithm") or "?").rsplit("#", 1)[-1] if method is not None else "?"
    try:
        certs = signature.certificates(element)
    except AxisError as exc:
        return f"{algorithm}; {exc.code}"
    signer = Signer.from_certificate(certs[0])
    return (
        f"{algorithm}; certificate {signer.subject} (agency code {signer.agency_code or 'none'}), "
        "NOT verified here: run `axis package verify`"
    )


def _jsonable(parsed: codec.Parsed) -> dict[str, Any]:
    body = dataclasses.asdict(parsed.package)
    for attachment in body.get("attachments", []):
        attachment["encoded"] = f"<{attachment['decoded_size']} bytes>"
    return {
        "kind": parsed.kind.value,
        "package": body,
        "quirks": [dataclasses.asdict(q) for q in parsed.quirks],
    }


# --- verify and sign ------------------------------------------------------------------------------------


def _verify(args: argparse.Namespace) -> int:
    anchors = args.trust or list(Settings.from_env().trust_anchors)
    trust = TrustAnchors.from_files(anchors)
    policy = SignaturePolicy(allow_sha1=args.legacy_sha1, allow_unsigned=args.allow_unsigned)
    at = args.at.replace(tzinfo=args.at.tzinfo or m.VN_TZ) if args.at else None
    verified = codec.verify(_read(args.file), trust, policy=policy, at=at)
    print(f"valid        {verified.kind.value} {verified.package.document_id}")
    print(f"policy       {verified.policy}")
    if verified.signer is not None:
        signer = verified.signer
        print(f"signer       {signer.subject}")
        print(f"agency code  {signer.agency_code or '(none in certificate)'}")
        print(f"issuer       {signer.issuer}")
        print(f"certificate  sha256 {signer.fingerprint_sha256}, valid until {signer.not_after:%Y-%m-%d}")
        print(f"algorithms   {verified.signature_method} / {verified.digest_method}")
    for quirk in verified.quirks:
        print(f"quirk        {quirk.code}: {quirk.message}")
    return 0


def _sign(args: argparse.Namespace) -> int:
    identity = pki.load(args.key, args.cert)
    method = SignatureMethod.RSA_SHA1 if args.sha1 else None
    digest = DigestAlgorithm.SHA1 if args.sha1 else DigestAlgorithm.SHA256
    signed = signature.sign(_read(args.file), identity.key, identity.cert_chain, signature_method=method, digest=digest)
    _write(signed, args.output)
    return 0


def _example(args: argparse.Namespace) -> int:
    today = dt.datetime.now(m.VN_TZ).date()
    code = m.Code(args.number, args.notation)
    attachments = tuple(
        m.Attachment.from_bytes(str(i), path.name, "application/octet-stream", _read(path))
        for i, path in enumerate(args.attach, start=1)
    )
    document = m.DocumentPackage(
        sender=m.Organization(args.sender),
        recipients=tuple(m.Organization(code_) for code_ in args.recipients),
        code=code,
        promulgation=m.PromulgationInfo("Hà Nội", today),
        document_type=m.DocumentType(1, 0, "Công văn"),
        subject=args.subject,
        document_id=m.document_id_for(args.sender, today, code),
        traces=(m.TraceHeader(args.sender, dt.datetime.now(m.VN_TZ).replace(microsecond=0)),),
        attachments=attachments,
    )
    _write(build(document), args.output)
    return 0
