"""``axis upstream``: this axis's link to the axis above it (a province's platform under the
national axis, through the national SDK's interface)."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from axis.cli import runtime
from axis.config import Settings
from axis.federation import links, upstream
from axis.federation.link import UPSTREAM, UpstreamLink
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

    actions.add_parser("show", help="the link, without its secret").set_defaults(handler=_show)

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


def _show(_: argparse.Namespace) -> int:
    _print(runtime.run(lambda conn: links.require(conn, UPSTREAM)))
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
