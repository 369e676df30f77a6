"""``axis upstream``: this axis's link to the axis above it (a province's platform under the
national axis, through the national SDK's interface), and its state: ``show`` says whether the
upstream answers and what waits for it; ``failed`` lists the upstream documents this axis refused,
and ``failed --save`` gives back one's bytes as the upstream sent them (nothing refused is lost)."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sys
from pathlib import Path
from typing import Any

from axis.cli import runtime
from axis.config import Settings
from axis.federation import links, records, upstream
from axis.federation.link import UPSTREAM, UpstreamLink
from axis.federation.records import LinkState
from axis.store.db import Conn
from axis.vdxp.secret import SecretBox
from axis.web.vietnamese import clock


def register(sub: Any) -> None:
    group = sub.add_parser("upstream", help="the link to the axis above this one: where it is, what stays here")
    actions = group.add_subparsers(dest="upstream_command", required=True, metavar="ACTION")

    set_ = actions.add_parser("set", help="create or change the link (its secret: `axis upstream secret`)")
    set_.add_argument("--endpoint", required=True, help="the upstream's SDK interface, e.g. https://…/vdxp")
    set_.add_argument("--system", required=True, help="the system id the upstream gave this axis")
    set_.add_argument(
        "--serves",
        required=True,
        action="append",
        metavar="CODE",
        help="an agency subtree this axis serves itself (repeat for several); any other code is the upstream's",
    )
    set_.set_defaults(handler=_set)

    secret = actions.add_parser(
        "secret", help="keep the secret the upstream gave this axis (read from standard input, never an argument)"
    )
    secret.set_defaults(handler=_secret)

    actions.add_parser(
        "show", help="the link, without its secret, and its state: answering? what waits for the upstream?"
    ).set_defaults(handler=_show)

    failed = actions.add_parser(
        "failed", help="the upstream documents this axis refused (kept with their bytes; the upstream was told)"
    )
    failed.add_argument(
        "--save", nargs=2, metavar=("DOCID", "FILE"), help="write the kept bytes of the upstream's DocId to FILE"
    )
    failed.set_defaults(handler=_failed)

    actions.add_parser(
        "check", help="call the upstream as the SDK does (countReceiveEdoc): are the address and credentials right?"
    ).set_defaults(handler=_check)


def _print(link: UpstreamLink) -> None:
    print(f"{link.id}: {link.endpoint} as system {link.system_id}")
    for root in link.serves:
        print(f"  serves     {root} and below (any other agency is the upstream's)")
    print(f"  secret     {'set ' + clock(link.secret_set_at) if link.secret_set_at else 'not set'}")


def _set(args: argparse.Namespace) -> int:
    async def action(conn: Conn) -> UpstreamLink:
        return await links.configure(
            conn, runtime.actor(), UPSTREAM, endpoint=args.endpoint, system_id=args.system, serves=tuple(args.serves)
        )

    _print(runtime.run(runtime.transaction(action)))
    return 0


def _secret(_: argparse.Namespace) -> int:
    settings = Settings.from_env()
    asking = sys.stdin.isatty()  # typed unseen, or piped in from a file or a secret store
    text = getpass.getpass("The secret the upstream gave this axis: ") if asking else sys.stdin.readline()
    box, created = SecretBox.load_or_create(settings.vdxp_key_path)

    async def action(conn: Conn) -> UpstreamLink:
        return await links.set_secret(conn, runtime.actor(), UPSTREAM, text, box)

    link = runtime.run(runtime.transaction(action), settings)
    if created:
        print(
            f"(created {settings.vdxp_key_path}, the key that seals secrets: every axis process needs this file, "
            "or AXIS_VDXP_SECRET_KEY_FILE pointing at a copy)",
            file=sys.stderr,
        )
    _print(link)
    return 0


def _ago(then: dt.datetime | None, now: dt.datetime) -> str:
    return f"{clock(then)} ({(now - then).total_seconds():.0f} s ago)" if then else "never"


def _print_state(state: LinkState, now: dt.datetime) -> None:
    answering = "answering" if state.up else "not answering" if state.last_error_at else "not called yet"
    print(f"  upstream   {answering}; last ok {_ago(state.last_ok_at, now)}")
    if state.last_error:
        print(f"  last error {clock(state.last_error_at)}: {state.last_error}")
    oldest = f", the oldest since {_ago(state.oldest_waiting_at, now)}" if state.oldest_waiting_at else ""
    print(f"  waiting    {state.waiting} package(s) for the upstream{oldest}")
    if state.refused:
        print(f"  refused    {state.refused} of them refused by the upstream at the last attempt (retried)")
    print(f"  failed     {state.failed_inbound} upstream document(s) refused here, kept (`axis upstream failed`)")
    synced = _ago(state.agencies_synced_at, now)
    print(f"  agencies   {state.external_agencies} known from the upstream's lists, refreshed {synced}")


def _show(_: argparse.Namespace) -> int:
    async def action(conn: Conn) -> tuple[UpstreamLink, LinkState | None, dt.datetime]:
        link = await links.require(conn, UPSTREAM)
        return link, await records.state(conn, UPSTREAM), await conn.fetchval("SELECT now()")

    link, state, now = runtime.run(action)
    _print(link)
    if state is not None:
        _print_state(state, now)
    return 0


def _failed(args: argparse.Namespace) -> int:
    """List what was refused here, or write one's bytes out for the operator to look at or resend."""
    if args.save:
        doc_id, path = args.save

        async def saving(conn: Conn) -> bytes | None:
            await links.require(conn, UPSTREAM)
            return await records.kept_body(conn, UPSTREAM, doc_id)

        body = runtime.run(saving)
        if body is None:
            print(
                f"error: no upstream document {doc_id!r} was refused here (`axis upstream failed` lists them)",
                file=sys.stderr,
            )
            return 1
        try:  # never over a file already there: it may be the operator's only copy of something
            with Path(path).open("xb") as out:
                out.write(body)
        except FileExistsError:
            print(f"error: {path} exists; name a new file", file=sys.stderr)
            return 1
        print(f"{doc_id}: {len(body)} byte(s) written to {path}" + ("" if body else " (the upstream gave none)"))
        return 0

    async def listing(conn: Conn) -> list[records.Kept]:
        await links.require(conn, UPSTREAM)
        return await records.kept(conn, UPSTREAM)

    refused = runtime.run(listing)
    if not refused:
        print("no upstream document was refused here")
    for item in refused:
        print(f"{item.upstream_doc_id}  {clock(item.received_at)}  {item.message_type}  {item.size} B  {item.reason}")
    return 0


def _check(_: argparse.Namespace) -> int:
    """What an operator runs after ``set`` and ``secret``: one signed call, its answer said plainly."""
    settings = Settings.from_env()
    box = SecretBox.load(settings.vdxp_key_path)

    async def action(conn: Conn) -> tuple[UpstreamLink, int]:
        link = await links.require(conn, UPSTREAM)
        secret = await links.secret(conn, UPSTREAM, box)
        answer = await upstream.call(link, secret, "countReceiveEdoc", {"servicetype": "eDoc", "messagetype": "edoc"})
        return link, answer.count()

    link, waiting = runtime.run(action, settings)
    print(f"ok: {link.endpoint} accepted this axis as {link.system_id}; {waiting} document(s) wait there for it")
    return 0
