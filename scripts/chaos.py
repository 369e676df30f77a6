"""The fault suite at full size, with a report: real axis processes under a steady load of signed
documents while RabbitMQ stops and restarts, PostgreSQL restarts, an axis process is killed with
SIGKILL mid-intake and a consumer crashes before acknowledging.

It stops and restarts this machine's RabbitMQ and PostgreSQL: run it when nothing else uses them.

    .venv/bin/python scripts/chaos.py [--systems 6] [--documents 300] [--rate 10] [--gap 8]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "faults")]

import chaos  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--systems", type=int, default=6)
    parser.add_argument("--documents", type=int, default=300)
    parser.add_argument("--rate", type=float, default=10.0, help="documents per second, all senders together")
    parser.add_argument("--gap", type=float, default=8.0, help="seconds between faults (and RabbitMQ's outage)")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--faults", default=",".join(chaos.FAULTS), help=f"any of {','.join(chaos.FAULTS)}")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report = asyncio.run(
            chaos.run(
                systems=args.systems,
                documents=args.documents,
                rate=args.rate,
                gap=args.gap,
                processes=args.processes,
                faults=tuple(f for f in args.faults.split(",") if f),
                keys=Path(tmp) / "keys",
                settle=300.0,
                progress=lambda line: print(line, flush=True),
            )
        )
    print("\n".join(report.lines()))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
