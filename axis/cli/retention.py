"""``axis retention run``: archive old packages to compressed files (receipts and digests stay)."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from axis import retention
from axis.cli import runtime
from axis.cli.progress import Progress
from axis.config import Settings
from axis.store.db import Conn
from axis.vdxp import store as vdxp_store


def register(sub: Any) -> None:
    group = sub.add_parser("retention", help="archive old packages")
    actions = group.add_subparsers(dest="retention_command", required=True, metavar="ACTION")
    run = actions.add_parser("run", help="archive packages older than the retention age")
    settings = Settings.from_env()
    run.add_argument("--older-than-days", type=float, default=settings.retention_days)
    run.add_argument("--archive-dir", type=Path, default=settings.archive_dir)
    run.add_argument("--dry-run", action="store_true", help="count what would be archived")
    run.add_argument("--batch", type=int, default=200, help="packages archived per round (each its own transactions)")
    run.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    forgotten = 0

    async def action(conn: Conn) -> retention.RetentionReport:
        nonlocal forgotten
        total = retention.RetentionReport(0, 0, 0)
        if not args.dry_run:  # sightings of SDK signatures (axis.vdxp.replay) go with the packages
            before = dt.datetime.now(dt.UTC) - dt.timedelta(days=args.older_than_days)
            forgotten = await vdxp_store.forget_sightings(conn, before)
        older_than = dt.timedelta(days=args.older_than_days)
        if args.dry_run:
            return retention.RetentionReport(await retention.count_candidates(conn, older_than=older_than), 0, 0)
        # Batch after batch (each its own transactions, the oldest first), so that a year's worth
        # can be archived while the axis works, stopped at any point and run again.
        with Progress(await retention.count_candidates(conn, older_than=older_than), "archiving") as bar:
            while True:
                report = await retention.run(conn, args.archive_dir, older_than=older_than, batch=args.batch)
                total = retention.RetentionReport(
                    total.candidates + report.candidates,
                    total.archived + report.archived,
                    total.bytes_freed + report.bytes_freed,
                )
                bar.update(total.archived)
                if report.archived == 0:
                    return total

    report = runtime.run(action)
    if args.dry_run:
        print(f"{report.candidates} packages older than {args.older_than_days:g} days would be archived")
    else:
        print(f"archived {report.archived} packages ({report.bytes_freed:,} bytes) to {args.archive_dir}")
        print(f"forgot {forgotten} sightings of SDK signatures older than {args.older_than_days:g} days")
    return 0
