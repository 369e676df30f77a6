"""``axis audit verify``: check the hash chains of the event log and the registry history."""

from __future__ import annotations

import argparse
from typing import Any

from axis import audit
from axis.cli import runtime
from axis.cli.progress import Progress
from axis.store.db import Conn


def register(sub: Any) -> None:
    group = sub.add_parser("audit", help="tamper-evident logs")
    actions = group.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = actions.add_parser("verify", help="recompute the hash chains; report the first broken link")
    verify.add_argument("--chain", choices=sorted(audit.CHAINS), action="append", help="default: all")
    verify.set_defaults(handler=_verify)


def _verify(args: argparse.Namespace) -> int:
    chains = args.chain or sorted(audit.CHAINS)

    async def action(conn: Conn) -> list[audit.ChainReport]:
        reports = []
        for chain in chains:
            with Progress(0, f"verifying {chain}") as bar:
                reports.append(await audit.verify(conn, chain, progress=bar.update))
        return reports

    broken = 0
    for report in runtime.run(action):
        if report.intact:
            note = (
                f"; {report.unchained} rows not chained (too recent, or older than the chain)"
                if report.unchained
                else ""
            )
            print(f"{report.chain}: intact, {report.rows} rows, head {report.head}{note}")
        else:
            broken += 1
            where = f"row {report.broken_at}" + (f" (id {report.broken_id})" if report.broken_id else "")
            print(f"{report.chain}: BROKEN at {where}: {report.reason}")
    return 1 if broken else 0
