"""``axis admin``: administrator tokens and the registry's history log."""

from __future__ import annotations

import argparse
import json
from typing import Any

from axis.cli import runtime
from axis.errors import AxisError
from axis.registry import history, systems
from axis.store.db import Conn


def register(sub: Any) -> None:
    group = sub.add_parser("admin", help="administrator tokens and the history log")
    actions = group.add_subparsers(dest="admin_command", required=True, metavar="ACTION")

    token = actions.add_parser("token", help="issue an administrator token for /api/v1/admin (shown once)")
    token.add_argument("name", help="who or what holds it; recorded as the actor of its changes")
    token.set_defaults(handler=_token)

    revoke = actions.add_parser("revoke-token", help="revoke an administrator token")
    revoke.add_argument("token_id", type=int)
    revoke.set_defaults(handler=_revoke)

    log = actions.add_parser("history", help="the registry's change history, newest first")
    log.add_argument("--kind", choices=history.SUBJECT_KINDS)
    log.add_argument("--id", help="agency code or system id")
    log.add_argument("--action", help="action prefix, e.g. agency.retire or system.token")
    log.add_argument("--actor")
    log.add_argument("--limit", type=int, default=50)
    log.add_argument("--json", action="store_true", help="with before/after values")
    log.set_defaults(handler=_history)


def _token(args: argparse.Namespace) -> int:
    async def action(conn: Conn) -> tuple[int, str]:
        return await systems.issue_admin_token(conn, runtime.actor(), args.name)

    token_id, token = runtime.run(runtime.transaction(action))
    print(token)
    print(f"(admin token #{token_id} for {args.name}; it is shown only now)")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    async def action(conn: Conn) -> None:
        revoked = await conn.fetchval(
            "UPDATE admin_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING name",
            args.token_id,
        )
        if revoked is None:
            raise AxisError("registry.token.unknown", f"No active admin token #{args.token_id}.")
        await history.record(conn, runtime.actor(), "admin.token.revoke", "admin", revoked, {"token_id": args.token_id})

    runtime.run(runtime.transaction(action))
    print(f"admin token #{args.token_id} revoked")
    return 0


def _history(args: argparse.Namespace) -> int:
    async def action(conn: Conn) -> list[history.HistoryEntry]:
        return await history.entries(
            conn,
            subject_kind=args.kind,
            subject_id=args.id,
            action=args.action,
            actor=args.actor,
            limit=args.limit,
        )

    for entry in runtime.run(action):
        subject = f"{entry.subject_kind} {entry.subject_id}"
        print(f"{entry.at:%Y-%m-%d %H:%M:%S} {entry.actor:<24} {entry.action:<26} {subject}")
        if args.json:
            print(f"    before: {json.dumps(entry.before, ensure_ascii=False)}")
            print(f"    after:  {json.dumps(entry.after, ensure_ascii=False)}")
    return 0
