"""A PostgreSQL primary with a synchronous standby on this machine, kept by Patroni with a local etcd
(PostgreSQL on 5441 and 5442, Patroni's REST API on 8441 and 8442, etcd on 2479), for the axis's
high-availability tests and rehearsals; the machine's own cluster (5432) is left alone.

    .venv/bin/python scripts/ha_postgres.py up              # make, start or rejoin; prints the URL
    .venv/bin/python scripts/ha_postgres.py status          # who is primary, who is the synchronous standby
    .venv/bin/python scripts/ha_postgres.py kill-primary    # the primary's machine dies: SIGKILL Patroni and postmaster
    .venv/bin/python scripts/ha_postgres.py await-failover  # watch Patroni promote the standby (TTL 10 s)
    .venv/bin/python scripts/ha_postgres.py up              # the killed node rejoins (pg_rewind) as the standby
    .venv/bin/python scripts/ha_postgres.py switchover      # a planned switchover through Patroni
    .venv/bin/python scripts/ha_postgres.py down [--wipe]

Run it as root (the pair runs as ``postgres``); Debian's ``patroni`` and ``etcd-server`` packages
(``./dev test`` installs them when missing). The axis is given the pair's multi-host address,
``AXIS_DATABASE_URL=postgresql://postgres@127.0.0.1:5441,127.0.0.1:5442/axis?target_session_attrs=read-write``.
How the pair is made: ``tests/ha/postgres_pair.py``; ``patronictl -c /var/lib/postgresql/axis-ha/node1.yml
list`` shows Patroni's own view.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "ha")]

import postgres_pair as pg_pair  # noqa: E402


def say(line: str) -> None:
    print(f"==> {line}", file=sys.stderr, flush=True)


def show(pair: pg_pair.Pair) -> None:
    for each in pg_pair.status(pair):
        print(each.line())
    print(f"url    {pair.url('axis')}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", type=Path, default=pg_pair.DEFAULT_BASE, help="where the data directories live")
    verbs = parser.add_subparsers(dest="verb", required=True)
    verbs.add_parser("up", help="make, start or rejoin the pair")
    verbs.add_parser("status", help="each node's role")
    verbs.add_parser("kill-primary", help="SIGKILL the primary's Patroni and postmaster")
    verbs.add_parser("await-failover", help="wait until Patroni has promoted the standby")
    verbs.add_parser("switchover", help="a planned switchover to the standby")
    down = verbs.add_parser("down", help="stop both nodes and etcd")
    down.add_argument("--wipe", action="store_true", help="and remove their data directories")
    args = parser.parse_args()
    pair = pg_pair.Pair(args.base)
    started = time.monotonic()
    try:
        if args.verb == "up":
            pg_pair.up(pair, say)
        elif args.verb == "kill-primary":
            pg_pair.kill_primary(pair, say)
        elif args.verb == "await-failover":
            pg_pair.await_failover(pair, say)
        elif args.verb == "switchover":
            pg_pair.switchover(pair, say)
        elif args.verb == "down":
            pg_pair.down(pair, wipe=args.wipe, say=say)
            return 0
    except pg_pair.PairError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.verb != "status":
        say(f"{args.verb} took {time.monotonic() - started:.1f} s")
    show(pair)
    return 0


if __name__ == "__main__":
    sys.exit(main())
