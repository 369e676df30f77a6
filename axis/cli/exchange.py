"""``axis send``, ``axis inbox``, ``axis status``: an agency's exchange from the shell.

What a clerk or an integrator trying the axis does before any software is connected, and what a
script can do without writing Python. Everything goes through ``AgencyClient``, so the command
line behaves exactly like the library. The connection comes from flags or the environment
(``AXIS_URL``, ``AXIS_TOKEN``, ``AXIS_AGENCY``, ``AXIS_KEY``, ``AXIS_CERT``,
``AXIS_TRUST_ANCHORS``), so that a shell session configures it once.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
from pathlib import Path
from typing import Any

import aiohttp

from axis import pki
from axis.client import AgencyClient, Received, Timeline, VerifiedReceipt
from axis.edxml import model as m
from axis.edxml.trust import AppliedPolicy, TrustAnchors
from axis.errors import AxisError
from axis.web.vietnamese import clock

DEFAULT_URL = "http://127.0.0.1:8080"


def register(sub: Any) -> None:
    send = sub.add_parser("send", help="sign and send a document to agencies")
    _connection(send, signing=True)
    send.add_argument("--to", action="append", required=True, metavar="CODE", help="recipient (repeatable)")
    send.add_argument("--subject", required=True, help="trích yếu")
    send.add_argument("--number", required=True, help="số, e.g. 125")
    send.add_argument("--notation", required=True, help="ký hiệu, e.g. UBND-VP")
    send.add_argument("--date", type=_date, help="promulgation date YYYY-MM-DD (default: today)")
    send.add_argument("--due", type=_date, help="due date YYYY-MM-DD")
    send.add_argument("--attach", type=Path, action="append", default=[], metavar="FILE", help="repeatable")
    send.add_argument("--content", default="", help="the document's text, if any")
    send.add_argument("--priority", type=int, default=0, help="0 normal, higher is more urgent")
    send.set_defaults(handler=_run(_send))

    inbox = sub.add_parser("inbox", help="list what waits for this system; save and acknowledge it")
    _connection(inbox, receiving=True)
    inbox.add_argument("--type", choices=("package", "receipt"), help="only packages or only receipts")
    inbox.add_argument("--save", type=Path, metavar="DIR", help="fetch, verify and save everything to DIR")
    inbox.add_argument("--ack", action="store_true", help="fetch, verify and acknowledge everything listed")
    inbox.add_argument("--limit", type=int, default=100)
    inbox.add_argument(
        "--wait",
        type=int,
        default=0,
        metavar="SECONDS",
        help="when nothing waits, wait up to SECONDS (at most 30) for something to arrive",
    )
    inbox.set_defaults(handler=_run(_inbox))

    status = sub.add_parser("status", help="a document's timeline: delivery and statuses per recipient")
    _connection(status)
    status.add_argument("document_id", help="e.g. '000.00.00.H98,2026/11/27,125/UBND-VP'")
    status.set_defaults(handler=_run(_status))


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def _connection(parser: argparse.ArgumentParser, *, signing: bool = False, receiving: bool = False) -> None:
    env = os.environ.get
    group = parser.add_argument_group("connection (flags, or the environment)")
    group.add_argument("--url", default=env("AXIS_URL", DEFAULT_URL), help="the axis (AXIS_URL)")
    group.add_argument("--token", default=env("AXIS_TOKEN"), help="the system's token (AXIS_TOKEN)")
    if signing:
        group.add_argument("--key", type=Path, default=env("AXIS_KEY"), help="signing key PEM (AXIS_KEY)")
        group.add_argument("--cert", type=Path, default=env("AXIS_CERT"), help="certificate PEM (AXIS_CERT)")
        group.add_argument(
            "--agency", default=env("AXIS_AGENCY"), help="agency code (AXIS_AGENCY; default: the certificate's)"
        )
        group.add_argument("--agency-name", default=env("AXIS_AGENCY_NAME", ""), help="(AXIS_AGENCY_NAME)")
    if receiving:
        anchors = [Path(p) for p in env("AXIS_TRUST_ANCHORS", "").split(os.pathsep) if p]
        group.add_argument(
            "--trust",
            type=Path,
            action="append",
            help="CA PEM agency signatures chain to (repeatable; AXIS_TRUST_ANCHORS); without it, "
            "received packages are read but not verified",
        )
        parser.set_defaults(default_trust=anchors)


def _client(args: argparse.Namespace) -> AgencyClient:
    if not args.token:
        raise AxisError("auth.token.missing", "Give the system's token: --token or AXIS_TOKEN.")
    identity = None
    if hasattr(args, "key"):  # a command that signs
        if not (args.key and args.cert):
            raise AxisError("keys.missing", "Sending needs the agency's --key and --cert (AXIS_KEY, AXIS_CERT).")
        identity = pki.load(Path(args.key), Path(args.cert))
    anchors = getattr(args, "trust", None) or getattr(args, "default_trust", [])
    return AgencyClient(
        args.url,
        args.token,
        identity=identity,
        agency_code=getattr(args, "agency", None),
        agency_name=getattr(args, "agency_name", ""),
        trust=TrustAnchors.from_files(anchors) if anchors else None,
    )


def _run(command: Any) -> Any:
    def handler(args: argparse.Namespace) -> int:
        async def main() -> int:
            async with _client(args) as client:
                result: int = await command(client, args)
                return result

        try:
            return asyncio.run(main())
        except aiohttp.ClientConnectionError as exc:
            # The usual cause is a wrong --url / AXIS_URL, or an axis that is not running.
            raise AxisError("config.invalid", f"The axis at {args.url} cannot be reached: {exc}.") from None

    return handler


async def _send(client: AgencyClient, args: argparse.Namespace) -> int:
    sent = await client.send_document(
        to=args.to,
        subject=args.subject,
        number=args.number,
        notation=args.notation,
        date=args.date,
        due_date=args.due,
        attachments=args.attach,
        content=args.content,
        priority=args.priority,
    )
    print(f"package     {sent.package_id}" + ("  (sent before: same answer)" if sent.repeated else ""))
    print(f"document    {sent.document_id}")
    for r in sent.recipients:
        via = f" via {' → '.join(r.redirects)}" if r.redirects else ""
        print(f"recipient   {r.requested} → {r.agency} {r.name}{via}, system {r.system}")
    return 0


async def _inbox(client: AgencyClient, args: argparse.Namespace) -> int:
    items = await client.inbox(only=args.type, limit=args.limit, wait=args.wait)
    if not items:
        print("nothing waits")
    if args.save is not None:
        args.save.mkdir(parents=True, exist_ok=True)
    for item in items:
        when = clock(item.at)
        print(f"{item.type:<8} {item.kind:<10} {item.id}  {item.document_id}  from {item.sender}  {when}")
        if args.save is None and not args.ack:
            continue
        if item.is_package:
            received = await client.receive(item.id)
            print(f"         {_received(received)}")
            if args.save is not None:
                for path in _save_package(received, args.save):
                    print(f"         saved {path}")
            if args.ack:
                await client.ack(item.id)
                print("         acknowledged")
        else:
            receipt = await client.receipt(item.id)
            print(f"         {_receipt(receipt)}")
            if args.save is not None:
                path = args.save / f"receipt-{item.id}.xml"
                path.write_bytes(receipt.data)
                print(f"         saved {path}")
            if args.ack:
                await client.ack_receipt(item.id)
                print("         acknowledged")
    return 0


def _received(received: Received) -> str:
    package = received.package
    what = (
        f"status {package.status_code.value} from {package.sender.organ_id}"
        if isinstance(package, m.StatusPackage)
        else f"{package.business.doc_type.name.lower()} document: {package.subject}"
    )
    if received.signer is not None:
        return f"{what}; signature verified, signed by {received.signer.common_name}"
    note = "unsigned (legacy policy)" if received.verified else "signature NOT verified (no --trust)"
    return f"{what}; {note}"


def _receipt(receipt: VerifiedReceipt) -> str:
    target = f" to {receipt.delivered_to}" if receipt.delivered_to else ""
    return (
        f"{receipt.kind.value} receipt{target} at {clock(receipt.at)}, "
        f"{receipt_policy(receipt)}, verified: signed by {receipt.signer.common_name}"
    )


def receipt_policy(receipt: VerifiedReceipt) -> str:
    """What the receipt says about the package's signature, in words (an older receipt says nothing)."""
    policy = receipt.signature_policy
    if policy is None:
        return "signature policy not stated (a receipt made before the axis stated it)"
    return f"accepted under {policy.value}" + (_LEGACY_NOTE[policy] if policy.legacy else "")


_LEGACY_NOTE = {
    AppliedPolicy.LEGACY_SHA1: " (SHA-1 XML Signature)",
    AppliedPolicy.LEGACY_UNSIGNED: " (no XML Signature)",
}


def _save_package(received: Received, directory: Path) -> list[Path]:
    """The package as signed (the evidence), and its attachments beside it for people to open."""
    saved = [directory / f"{received.package_id}.edxml"]
    saved[0].write_bytes(received.data)
    if isinstance(received.package, m.DocumentPackage) and received.package.attachments:
        folder = directory / received.package_id
        folder.mkdir(exist_ok=True)
        for attachment in received.package.attachments:
            # The name comes from the sender: never let it leave the folder.
            path = folder / (Path(attachment.name).name or f"attachment-{attachment.content_id}")
            path.write_bytes(attachment.content())
            saved.append(path)
    return saved


async def _status(client: AgencyClient, args: argparse.Namespace) -> int:
    print_timeline(await client.status(args.document_id))
    return 0


def print_timeline(timeline: Timeline) -> None:
    """The timeline in readable form: per recipient, its system, delivery and statuses."""
    received = f" at {clock(timeline.received_at)}" if timeline.received_at else ""
    state = f"; {timeline.state}" if timeline.state and timeline.state != "active" else ""
    replaced = f" by {timeline.superseded_by}" if timeline.superseded_by else ""
    print(f"{timeline.document_id}  {timeline.subject}")
    print(f"sent by {timeline.sender} (system {timeline.sender_system}){received}{state}{replaced}")
    for legacy in timeline.legacy_packages:
        what = f"status {legacy.status_code}" if legacy.kind == "status" else legacy.kind
        if legacy.kind == "document" and legacy.business_type:
            what = _business_name(legacy.business_type)
        print(
            f"  ! {what} {legacy.package_id} from system {legacy.sender_system} accepted under "
            f"{legacy.signature_policy}: check the signature on the attached files"
        )
    for r in timeline.recipients:
        delivery = r.delivery
        when = delivery.delivered_at or delivery.queued_at
        at = f" at {clock(when)}" if when else ""
        redirects = f" (via {' → '.join(r.redirects)})" if r.redirects else ""
        business = f", {_business_name(r.business_type)}" if r.business_type else ""
        print(f"  {r.requested}{redirects} {r.name} — system {r.system}{business}: {delivery.state}{at}")
        for s in r.statuses:
            time = clock(s.time) or "?"
            staff = f", {s.staff}" if s.staff else ""
            weak = f"  [{s.signature_policy}]" if s.legacy else ""
            print(f"      {s.code} {s.description} at {time}{staff}{weak}")


def _business_name(business_type: int) -> str:
    try:
        return m.BusinessDocType(business_type).name.lower()
    except ValueError:
        return f"business type {business_type}"
