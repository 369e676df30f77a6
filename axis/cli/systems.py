"""``axis systems``: connected systems, what they serve, their tokens and signing certificates."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from pathlib import Path
from typing import Any

from axis.broker.management import AmqpGrant, Management
from axis.broker.publisher import Broker
from axis.cli import runtime
from axis.config import Settings
from axis.errors import AxisError
from axis.exchange import redelivery
from axis.registry import systems
from axis.registry.model import FilePolicy, System
from axis.store.db import Conn
from axis.vdxp import setup
from axis.vdxp.secret import SecretBox
from axis.web.vietnamese import clock


def register(sub: Any) -> None:
    group = sub.add_parser("systems", help="connected systems: add, token, cert, bind, policy, failed deliveries")
    actions = group.add_subparsers(dest="systems_command", required=True, metavar="ACTION")

    add = actions.add_parser("add", help="register a system")
    add.add_argument("id", help="system id, e.g. 00.53.W00 or bac-eoffice")
    add.add_argument("--name", required=True)
    add.add_argument("--contact", default="")
    add.add_argument("--delivery", choices=("http", "amqp", "both"), default="http")
    add.set_defaults(handler=_add)

    show = actions.add_parser("show", help="a system with its bindings, certificates and tokens")
    show.add_argument("id")
    show.set_defaults(handler=_show)

    actions.add_parser("list", help="all systems").set_defaults(handler=_list)

    token = actions.add_parser("token", help="issue an API token (shown once)")
    token.add_argument("id")
    token.add_argument("--label", default="")
    token.set_defaults(handler=_token)

    revoke = actions.add_parser("revoke-token", help="revoke an API token at once")
    revoke.add_argument("id")
    revoke.add_argument("token_id", type=int)
    revoke.set_defaults(handler=_revoke_token)

    cert = actions.add_parser("cert", help="bind a signing certificate (PEM file) to a system")
    cert.add_argument("id")
    cert.add_argument("pem", type=Path)
    cert.set_defaults(handler=_cert)

    revoke_cert = actions.add_parser("revoke-cert", help="revoke a signing certificate by fingerprint")
    revoke_cert.add_argument("fingerprint")
    revoke_cert.set_defaults(handler=_revoke_cert)

    bind = actions.add_parser("bind", help="let a system serve an agency subtree")
    bind.add_argument("id")
    bind.add_argument("agency_code")
    bind.set_defaults(handler=_bind)

    unbind = actions.add_parser("unbind", help="remove a binding")
    unbind.add_argument("id")
    unbind.add_argument("agency_code")
    unbind.set_defaults(handler=_unbind)

    grant = actions.add_parser(
        "grant-amqp", help="create the system's RabbitMQ user: read its own queue, publish to axis.intake"
    )
    grant.add_argument("id")
    grant.add_argument("--password", help="set this password instead of generating one")
    grant.set_defaults(handler=_grant_amqp)

    secret = actions.add_parser(
        "secret", help="issue the secret for the national SDK's interface /vdxp/ (shown once; replaces the last)"
    )
    secret.add_argument("id")
    secret.add_argument(
        "--keep-previous-hours",
        type=float,
        default=0.0,
        help="the secret it replaces keeps working this long (time to reconfigure the SDK)",
    )
    secret.set_defaults(handler=_secret)

    failed = actions.add_parser("failed", help="the system's failed deliveries, with why each failed")
    failed.add_argument("id")
    failed.add_argument("--limit", type=_positive, default=50)
    failed.set_defaults(handler=_failed)

    requeue = actions.add_parser(
        "requeue", help="send the system's failed deliveries again (all, or the packages named)"
    )
    requeue.add_argument("id")
    requeue.add_argument("package_ids", nargs="*", metavar="PACKAGE_ID")
    requeue.set_defaults(handler=_requeue)

    policy = actions.add_parser(
        "policy", help="signature policy (strict, or legacy relaxations), status, mutual TLS, allowed addresses"
    )
    policy.add_argument("id")
    policy.add_argument(
        "--legacy-sha1", action=argparse.BooleanOptionalAction, default=None, help="accept SHA-1 XML signatures"
    )
    policy.add_argument(
        "--allow-unsigned",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="accept packages without an XML Signature (as the SDK's EdXML102 library builds them): for a "
        "migration only; each such package is marked unsigned wherever it is shown",
    )
    policy.add_argument(
        "--file-policy",
        choices=tuple(FilePolicy),
        help="the signatures inside its documents' files (PDF): report what is found (default), or require a "
        "valid signature of the sending agency on the main file and refuse a document without one",
    )
    policy.add_argument("--status", choices=("active", "disabled"))
    policy.add_argument(
        "--require-client-cert",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="requests must come over mutual TLS with one of the system's registered certificates",
    )
    where = policy.add_mutually_exclusive_group()
    where.add_argument(
        "--addresses",
        metavar="CIDR,...",
        help="the system's requests must come from these addresses or networks (e.g. 203.0.113.7,10.1.2.0/24)",
    )
    where.add_argument("--any-address", action="store_true", help="remove the address allow-list")
    policy.set_defaults(handler=_policy)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _delivery(value: str) -> dict[str, bool]:
    return {"delivery_http": value in ("http", "both"), "delivery_amqp": value in ("amqp", "both")}


def _add(args: argparse.Namespace) -> int:
    async def action(conn: Conn) -> None:
        await systems.add(conn, runtime.actor(), args.id, args.name, contact=args.contact, **_delivery(args.delivery))

    runtime.run(runtime.transaction(action))
    print(f"system {args.id} added; next: axis systems bind {args.id} CODE, axis systems token {args.id}")
    return 0


def _show(args: argparse.Namespace) -> int:
    async def action(conn: Conn) -> None:
        system = await systems.require(conn, args.id)
        modes = [m for m, on in (("http", system.delivery_http), ("amqp", system.delivery_amqp)) if on]
        print(f"{system.id}  {system.name}  [{system.status.value}]")
        print(f"  contact:   {system.contact or '-'}")
        print(f"  delivery:  {', '.join(modes)}")
        print(f"  signature: {system.policy.name}")
        print(f"  mTLS:      {'client certificate required' if system.require_client_certificate else 'optional'}")
        print(f"  from:      {', '.join(system.allowed_addresses) or 'any address'}")
        for code in await systems.bindings(conn, args.id):
            print(f"  serves     {code} and below")
        for c in await systems.certificates(conn, args.id):
            state = "revoked" if c.revoked else f"valid until {clock(c.not_after)}"
            print(f"  cert       {c.fingerprint[:16]}…  {c.agency_code or '-'}  {state}  {c.subject}")
        for t in await systems.list_tokens(conn, args.id):
            state = f"revoked {clock(t.revoked_at)}" if t.revoked_at else "active"
            print(f"  token      #{t.id} {t.label or '-'} issued {clock(t.created_at)} {state}")

    runtime.run(action)
    return 0


def _list(_: argparse.Namespace) -> int:
    for system in runtime.run(systems.all_systems):
        print(f"{system.id:<24} {system.status.value:<9} {system.name}")
    return 0


def _token(args: argparse.Namespace) -> int:
    async def action(conn: Conn) -> tuple[int, str]:
        return await systems.issue_token(conn, runtime.actor(), args.id, args.label)

    token_id, token = runtime.run(runtime.transaction(action))
    print(token)
    print(f"(token #{token_id} for {args.id}; it is shown only now)", flush=True)
    return 0


def _revoke_token(args: argparse.Namespace) -> int:
    async def action(conn: Conn) -> None:
        await systems.revoke_token(conn, runtime.actor(), args.id, args.token_id)

    runtime.run(runtime.transaction(action))
    print(f"token #{args.token_id} of {args.id} revoked")
    return 0


def _cert(args: argparse.Namespace) -> int:
    try:
        pem = args.pem.read_bytes()
    except FileNotFoundError:
        raise AxisError("cli.file_not_found", f"{args.pem} does not exist.") from None

    async def action(conn: Conn) -> None:
        c = await systems.add_certificate(conn, runtime.actor(), args.id, pem)
        print(f"certificate {c.fingerprint} bound to {args.id}")
        print(f"  {c.subject}; agency code {c.agency_code or '-'}; valid until {clock(c.not_after)}")

    runtime.run(runtime.transaction(action))
    return 0


def _revoke_cert(args: argparse.Namespace) -> int:
    async def action(conn: Conn) -> None:
        await systems.revoke_certificate(conn, runtime.actor(), args.fingerprint)

    runtime.run(runtime.transaction(action))
    print(f"certificate {args.fingerprint} revoked")
    return 0


def _bind(args: argparse.Namespace) -> int:
    async def action(conn: Conn) -> str:
        return await systems.bind(conn, runtime.actor(), args.id, args.agency_code)

    code = runtime.run(runtime.transaction(action))
    print(f"{args.id} now serves {code} and every agency below it")
    return 0


def _unbind(args: argparse.Namespace) -> int:
    async def action(conn: Conn) -> None:
        await systems.unbind(conn, runtime.actor(), args.id, args.agency_code)

    runtime.run(runtime.transaction(action))
    print(f"{args.id} no longer serves {args.agency_code}")
    return 0


def _failed(args: argparse.Namespace) -> int:
    async def action(conn: Conn) -> None:
        await systems.require(conn, args.id)
        total = await redelivery.failed_count(conn, args.id)
        for f in await redelivery.failed(conn, args.id, limit=args.limit):
            when = clock(f.failed_at) or "-"
            archived = "  (archived: cannot be sent again)" if f.archived else ""
            print(f"{f.package_id}  {when}  {f.document_id}{archived}")
            print(f"    {f.reason or '-'}")
        shown = f" (the latest {args.limit} shown)" if total > args.limit else ""
        print(f"{total} failed deliveries to {args.id}{shown}")
        if total:
            print(f"once {args.id} can take them: axis systems requeue {args.id} [PACKAGE_ID ...]")

    runtime.run(action)
    return 0


def _requeue(args: argparse.Namespace) -> int:
    """Without names, the failed deliveries there are when it starts: a batch (one transaction) at
    a time, oldest first. It stops after as many as there were, so a system that fails them again
    at once (its consumer still rejecting) cannot keep it going round; what is left is said."""

    async def action(conn: Conn) -> redelivery.Requeued:
        return await redelivery.requeue(conn, runtime.actor(), args.id, args.package_ids or None)

    total, budget = 0, None
    while True:
        done = runtime.run(runtime.transaction(action))
        for f in done.deliveries:
            print(f"{f.package_id}  {f.document_id}  (had failed: {f.reason or '-'})")
        total += len(done.deliveries)
        budget = total + done.remaining if budget is None else budget
        if args.package_ids or not done.remaining or not done.deliveries or total >= budget:
            break
    print(f"{total} deliveries to {args.id} queued again; a running axis sends them within seconds")
    if done.remaining:
        print(f"{done.remaining} failed deliveries remain (they failed again meanwhile, or another requeue holds them)")
    return 0


def _policy(args: argparse.Namespace) -> int:
    settings: dict[str, Any] = {}
    if args.legacy_sha1 is not None:
        settings["allow_sha1"] = args.legacy_sha1
    if args.allow_unsigned is not None:
        settings["allow_unsigned"] = args.allow_unsigned
    if args.file_policy is not None:
        settings["file_policy"] = args.file_policy
    if args.status is not None:
        settings["status"] = args.status
    if args.require_client_cert is not None:
        settings["require_client_certificate"] = args.require_client_cert
    if args.addresses is not None or args.any_address:
        settings["allowed_addresses"] = "" if args.any_address else args.addresses

    async def action(conn: Conn) -> None:
        system = await systems.update(conn, runtime.actor(), args.id, **settings)
        mtls = ", client certificate required" if system.require_client_certificate else ""
        where = f", from {', '.join(system.allowed_addresses)}" if system.allowed_addresses else ""
        print(
            f"{system.id}: signature policy {system.policy.name}, file policy {system.file_policy}, "
            f"{system.status.value}{mtls}{where}"
        )

    runtime.run(runtime.transaction(action))
    return 0


def _secret(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    box, created = SecretBox.load_or_create(settings.vdxp_key_path)
    keep = dt.timedelta(hours=args.keep_previous_hours)

    async def action(conn: Conn) -> tuple[int, str, System]:
        secret_id, secret = await systems.issue_sdk_secret(
            conn, runtime.actor(), args.id, box.seal, box.key_id, previous_valid_for=keep
        )
        return secret_id, secret, await systems.require(conn, args.id)

    secret_id, secret, system = runtime.run(runtime.transaction(action), settings)
    if created:
        print(
            f"(created {settings.vdxp_key_path}, the key that seals SDK secrets: every axis process needs "
            "this file, or AXIS_VDXP_SECRET_KEY_FILE pointing at a copy)",
            file=sys.stderr,
        )
    print(secret)
    print(
        f"(SDK secret #{secret_id} for {args.id}; it is shown only now. Configure the SDK with systemid "
        f"{args.id}, this secret, and the axis's https://…/vdxp endpoint: nothing else changes.)",
        flush=True,
    )
    print("Before the vendor switches:", file=sys.stderr)
    for point in setup.points(system, settings):
        print(f"  [{'ok' if point.settled else '!!'}] {point.topic} ({point.state}): {point.text}", file=sys.stderr)
    return 0


def _grant_amqp(args: argparse.Namespace) -> int:
    settings = Settings.from_env()

    async def enable(conn: Conn) -> None:
        await systems.update(conn, runtime.actor(), args.id, delivery_amqp=True)

    runtime.run(runtime.transaction(enable), settings)
    grant = asyncio.run(_grant(settings, args.id, args.password))
    print(f"RabbitMQ user for {args.id} (the password is shown only now):")
    print(f"  username: {grant.username}")
    print(f"  password: {grant.password}")
    print(f"  vhost:    {grant.vhost}")
    print(f"  consume:  {grant.queue}")
    print(f"  publish:  {grant.intake_exchange} (set the message property user_id={grant.username})")
    return 0


async def _grant(settings: Settings, system_id: str, password: str | None) -> AmqpGrant:
    broker = Broker(settings.amqp_url)
    await broker.start()
    try:
        await broker.ensure_system(system_id)  # the queue must exist before the system consumes it
    finally:
        await broker.close()
    async with Management(settings.amqp_management_url) as management:
        return await management.grant_system(settings.amqp_vhost, system_id, password=password)
