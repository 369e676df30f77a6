"""``axis agencies``: the agency code registry from the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from axis.cli import runtime
from axis.cli.progress import Progress
from axis.errors import AxisError
from axis.registry import agencies, diff, history, importer, imports
from axis.registry import snapshot as snapshot_store
from axis.registry.finder import Finder
from axis.registry.model import Agency
from axis.store.db import Conn
from axis.web.vietnamese import clock


def register(sub: Any) -> None:
    group = sub.add_parser(
        "agencies", help="agency codes: import, add, show, list, rename, retire, merge, move, reactivate"
    )
    actions = group.add_subparsers(dest="agencies_command", required=True, metavar="ACTION")

    load = actions.add_parser("import", help="import a CSV (code,name[,parent,code_qd20,status,successor])")
    load.add_argument("file", type=Path)
    load.add_argument("--dry-run", action="store_true", help="print what would change, change nothing")
    load.add_argument("--partial", action="store_true", help="import the good rows even when some are bad")
    load.add_argument(
        "--allow-outside",
        action="store_true",
        help="accept changes to agencies outside the subtree most of the file covers (the dry run lists them)",
    )
    load.set_defaults(handler=_import)

    add = actions.add_parser("add", help="add one agency (its parent must exist)")
    add.add_argument("code")
    add.add_argument("--name", required=True)
    add.add_argument("--qd20", help="the Decision 20/2020 form of the code")
    add.set_defaults(handler=_add)

    show = actions.add_parser("show", help="one agency (either code form), its children and history")
    show.add_argument("code")
    show.set_defaults(handler=_show)

    listing = actions.add_parser("list", help="list or search agencies")
    listing.add_argument("--under", help="only this subtree")
    listing.add_argument("-q", "--query", default="", help="code prefix or name words (accents optional)")
    listing.add_argument("--limit", type=int, default=100)
    listing.set_defaults(handler=_list)

    rename = actions.add_parser("rename", help="give an agency a new name")
    rename.add_argument("code")
    rename.add_argument("name")
    rename.set_defaults(handler=_rename)

    retire = actions.add_parser("retire", help="retire an agency, optionally naming its successor")
    retire.add_argument("code")
    retire.add_argument("--successor")
    retire.set_defaults(handler=_retire)

    merge = actions.add_parser("merge", help="retire an agency into an existing successor")
    merge.add_argument("code")
    merge.add_argument("--into", required=True)
    merge.set_defaults(handler=_merge)

    move = actions.add_parser("move", help="re-code an agency under another parent (old code redirects)")
    move.add_argument("code")
    move.add_argument("new_code")
    move.set_defaults(handler=_move)

    reactivate = actions.add_parser("reactivate", help="bring a retired agency back (active, no successor)")
    reactivate.add_argument("code")
    reactivate.set_defaults(handler=_reactivate)


def _line(agency: Agency) -> str:
    state = "" if not agency.retired else f"  [retired → {agency.successor_code or 'no successor'}]"
    qd20 = f" ({agency.code_qd20})" if agency.code_qd20 else ""
    return f"{agency.code}{qd20}  {agency.name}{state}"


def _import(args: argparse.Namespace) -> int:
    try:
        data = args.file.read_bytes()
    except FileNotFoundError:
        raise AxisError("cli.file_not_found", f"{args.file} does not exist.") from None
    rows = importer.read_csv(data, source=str(args.file))
    if rows.encoding != "UTF-8" or rows.delimiter != ",":
        separator = {",": "commas", ";": "semicolons", "\t": "tabs"}[rows.delimiter]
        print(f"read as {rows.encoding}, fields separated by {separator}")

    async def action(conn: Conn) -> int:
        existing = await imports.existing(conn)
        plan = importer.plan(rows, existing)
        # A dry run shows everything; an import lists every change but the additions in full.
        print(diff.format_diff(plan, existing, additions=None if args.dry_run else 20))
        if args.dry_run:
            return 0
        if plan.bad and not args.partial:
            raise AxisError(
                "registry.import.bad_rows",
                f"{len(plan.bad)} bad rows (listed above); nothing was imported. "
                "Fix them, or import the good rows with --partial.",
                bad_rows=len(plan.bad),
            )
        if plan.outside and not args.allow_outside:
            raise importer.outside_refusal(plan, "--allow-outside")
        with Progress(len(plan.changes), "importing") as progress:
            async with conn.transaction():
                applied = await imports.apply(conn, runtime.actor(), plan, progress=progress.update)
        print(f"imported: {applied} changes; {plan.unchanged} rows already up to date")
        return 0

    return runtime.run(action)


def _add(args: argparse.Namespace) -> int:
    async def action(conn: Conn) -> Agency:
        return await agencies.add(conn, runtime.actor(), args.code, args.name, code_qd20=args.qd20)

    print(f"added {_line(runtime.run(runtime.transaction(action)))}")
    return 0


def _show(args: argparse.Namespace) -> int:
    async def action(conn: Conn) -> None:
        agency = await agencies.require(conn, args.code)
        print(_line(agency))
        print(f"  parent: {agency.parent_code or '-'}")
        for child in await agencies.children(conn, agency.code):
            print(f"  child   {_line(child)}")
        for entry in await history.entries(conn, subject_kind="agency", subject_id=agency.code, limit=20):
            print(f"  {clock(entry.at)} {entry.actor:<20} {entry.action}")

    runtime.run(action)
    return 0


def _list(args: argparse.Namespace) -> int:
    async def action(conn: Conn) -> list[Agency]:
        if not args.query:
            return await agencies.search(conn, under=args.under, limit=args.limit)
        found = Finder(await snapshot_store.load(conn)).search(args.query, under=args.under)  # as the pages rank
        return found[: args.limit]

    found = runtime.run(action)
    for agency in found:
        print(_line(agency))
    if len(found) == args.limit:
        print(f"… (first {args.limit}; use --limit)", file=sys.stderr)
    return 0


def _change(description: str, operation: Any) -> int:
    async def action(conn: Conn) -> Agency:
        result: Agency = await operation(conn, runtime.actor())
        return result

    print(f"{description}: {_line(runtime.run(runtime.transaction(action)))}")
    return 0


def _rename(args: argparse.Namespace) -> int:
    return _change("renamed", lambda conn, who: agencies.rename(conn, who, args.code, args.name))


def _retire(args: argparse.Namespace) -> int:
    return _change("retired", lambda conn, who: agencies.retire(conn, who, args.code, args.successor))


def _merge(args: argparse.Namespace) -> int:
    return _change("merged", lambda conn, who: agencies.merge(conn, who, args.code, args.into))


def _move(args: argparse.Namespace) -> int:
    return _change("moved", lambda conn, who: agencies.move(conn, who, args.code, args.new_code))


def _reactivate(args: argparse.Namespace) -> int:
    return _change("reactivated", lambda conn, who: agencies.reactivate(conn, who, args.code))
