"""The ``axis`` command: one sub-command module per concept, assembled here.

Every command maps an ``AxisError`` to its stable code on stderr and exit status 1, so scripts can
branch on the code; usage errors exit with 2 (argparse's convention).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from axis import __version__
from axis.cli import admin, agencies, audit, db, demo, exchange, keys, package, retention, systems, upstream, users
from axis.errors import AxisError
from axis.store.db import UNAVAILABLE as DATABASE_UNAVAILABLE

_COMMANDS = (db, agencies, systems, upstream, admin, users, audit, retention, keys, package, exchange, demo)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="axis", description="Inter-agency electronic document exchange axis (QCVN 102:2016 edXML)."
    )
    parser.add_argument("--version", action="version", version=f"axis {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in _COMMANDS:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result: int = args.handler(args)
    except AxisError as exc:
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        for key, value in exc.details.items():
            print(f"  {key}: {value}", file=sys.stderr)
        return 1
    except DATABASE_UNAVAILABLE as exc:  # PostgreSQL went away while the command ran
        print(
            f"error: service.unavailable: PostgreSQL could not be reached ({exc.__class__.__name__}: {exc}). "
            "A change that had not committed was not made; run the command again when it is back.",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        return 130
    return result


if __name__ == "__main__":
    sys.exit(main())
