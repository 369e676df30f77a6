"""Three axes on this machine — two provinces federated to a national axis — with a report.

The national axis serves only its /vdxp to the two provincial axes; each province runs its own axis
for its agencies (tests/federation/three_axes.py). The run, in one go:

1. the life of one document: from an agency of province A to an agency of province B and one of
   province A, byte-identical at both; statuses 01, 03, 05 from B in the sender's timeline; then
   its revocation, and B's agreement (15) back in the sender's timeline;
2. latency province -> province at ordinary load (``--latency-documents`` at ``--latency-rate``/s):
   p50, p99 and max from the sender's submission to the recipient's eOffice seeing it in its inbox
   (the eOffices look at an empty inbox every 0.25 s; the provinces poll the national axis every
   ``--poll`` seconds);
3. a load with faults (``--documents`` from A at ``--rate``/s, half as many from B to A at half the
   rate; every document from another province answered with status 01): kill -9 of province A's axis, of the
   national axis and of province B's, each started again after ``--down`` seconds, and province A's
   link to the national axis cut for ``--cut`` seconds; then lost, duplicates in effect, altered,
   statuses missing (each must be 0).

    .venv/bin/python scripts/federation.py [--documents 200] [--rate 3] [--latency-documents 40]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "federation")]

import federation_run as run  # noqa: E402
import three_axes  # noqa: E402

from axis.client import StatusCode  # noqa: E402
from axis.log import configure as configure_logging  # noqa: E402


def say(text: str) -> None:
    print(text, flush=True)


async def wait_for(predicate, what: str, limit: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + limit
    while not await predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {limit:g} s: {what}")
        await asyncio.sleep(0.3)


async def life(agencies: run.Agencies) -> list[str]:
    """One document's whole life across the federation; returns what was checked, as lines."""
    lines = []
    (doc,) = await run.send_documents(agencies.sender, agencies.ledger, 1, 1.0, "LIFE")
    await wait_for(lambda: _true(agencies.ledger.settled(doc)), "the document at both recipients")
    same = not agencies.ledger.altered
    lines.append(
        f"document {doc}: at {three_axes.B} (province B) and {three_axes.A_DEPT} (province A), "
        f"byte-identical: {'yes' if same else 'NO'}"
    )
    for code in (StatusCode.ACCEPTED, StatusCode.PROCESSING):  # 01 was sent by B's eOffice on arrival
        await run.insist(
            lambda code=code: agencies.b.send_status(doc, code, description="Thử nghiệm", staff="Văn thư B")
        )

    async def statuses() -> set[str]:
        timeline = await agencies.sender.status(doc)
        return {s.code for r in timeline.recipients if r.agency == three_axes.B for s in r.statuses}

    await wait_for(lambda: _has(statuses, {"01", "03", "05"}), "statuses 01, 03, 05 in A's timeline")
    lines.append("statuses from province B in the sender's timeline: " + ", ".join(sorted(await statuses())))
    await run.insist(lambda: agencies.sender.revoke(doc, reason="Ban hành nhầm (thử nghiệm)"))

    async def revoked_at_b() -> bool:
        return (await agencies.b.status(doc)).state == "revoked"

    await wait_for(revoked_at_b, "the revocation at province B")
    await run.insist(lambda: agencies.b.send_status(doc, StatusCode.AGREED, description="Đồng ý thu hồi"))
    await wait_for(lambda: _has(statuses, {"15"}), "B's agreement (15) in A's timeline")
    state = (await agencies.sender.status(doc)).state
    lines.append(f"revoked: province B's axis says revoked, B agreed (15), the sender's timeline says {state}")
    return lines


async def _true(value: bool) -> bool:
    return value


async def _has(statuses, wanted: set[str]) -> bool:  # type: ignore[no-untyped-def]
    try:
        return wanted <= await statuses()
    except Exception:
        return False


async def faults(federation: three_axes.Federation, gap: float, down: float, cut: float, log) -> None:  # type: ignore[no-untyped-def]
    for axis in (federation.a, federation.national, federation.b):
        await asyncio.sleep(gap)
        log(f"  fault: kill -9 {axis.name}'s axis; started again {down:g} s later")
        axis.kill()
        await asyncio.sleep(down)
        axis.start()
        await axis.wait_ready()
    await asyncio.sleep(gap)
    log(f"  fault: province A's link to the national axis cut for {cut:g} s")
    federation.link_a.sever()
    await asyncio.sleep(cut)
    federation.link_a.mend()


async def main_async(args: argparse.Namespace, root: Path) -> int:
    say("Setting up three axes (databases, vhosts, keys, registries, links)…")
    federation = await three_axes.create(root, poll_interval=args.poll)
    try:
        await three_axes.start(federation)
        say(
            f"  national {federation.national.base_url}, province A {federation.a.base_url}, "
            f"province B {federation.b.base_url} (A reaches the national axis through a cuttable link)"
        )
        agencies = run.agencies(federation)
        try:
            say("\n1. The life of one document")
            for line in await life(agencies):
                say("  " + line)

            n, rate = args.latency_documents, args.latency_rate
            say(f"\n2. Latency at ordinary load: {n} documents from A at {rate:g}/s, {n // 2} from B at {rate / 2:g}/s")
            from_a, from_b = await asyncio.gather(
                run.send_documents(agencies.sender, agencies.ledger, n, rate, "LAT"),
                run.send_documents(
                    agencies.b, agencies.ledger, n // 2, rate / 2, "LAT", to=("a-ubnd",), sender_office="b-ubnd"
                ),
            )
            await run.settle(agencies.clients, agencies.ledger, [*from_a, *from_b], limit=120)
            for office, documents, where in (
                ("b-ubnd", from_a, "A -> province B (via the national axis)"),
                ("a-ubnd", from_b, "B -> province A (via the national axis)"),
                ("a-so", from_a, "A -> its own department (local)"),
            ):
                p50, p99, worst = run.latencies(agencies.ledger, office, documents)
                say(f"  {where}: p50 {p50:.2f} s, p99 {p99:.2f} s, max {worst:.2f} s")

            n, rate = args.documents, args.rate
            say(
                f"\n3. Load with faults: {n} documents from A (to B and to A's department) at {rate:g}/s, "
                f"{n // 2} from B (to A) at {rate / 2:g}/s"
            )
            started = time.monotonic()
            from_a, from_b, _ = await asyncio.gather(
                run.send_documents(agencies.sender, agencies.ledger, n, rate, "LOAD"),
                run.send_documents(
                    agencies.b, agencies.ledger, n // 2, rate / 2, "LOAD", to=("a-ubnd",), sender_office="b-ubnd"
                ),
                faults(federation, args.gap, args.down, args.cut, say),
            )
            loaded = [*from_a, *from_b]
            missing = await run.settle(agencies.clients, agencies.ledger, loaded, limit=args.settle)
            result = run.verdict(agencies.ledger, loaded, missing, time.monotonic() - started)
            say(
                f"  accepted {result.documents} documents, {result.deliveries} deliveries to recipients: "
                f"lost {result.lost}, duplicates in effect {result.duplicates}, altered {result.altered}; "
                f"statuses 01 across provinces {result.statuses}, missing {result.statuses_missing} "
                f"(copies on the wire absorbed: {result.copies_on_the_wire}; {result.seconds:.0f} s to settle)"
            )
            say("\nOK" if result.ok else "\nFAILED")
            return 0 if result.ok else 1
        finally:
            await agencies.close()
    finally:
        await three_axes.destroy(federation)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=200)
    parser.add_argument("--rate", type=float, default=3.0, help="documents per second during the fault run")
    parser.add_argument("--latency-documents", type=int, default=40)
    parser.add_argument("--latency-rate", type=float, default=1.0)
    parser.add_argument("--poll", type=float, default=1.0, help="AXIS_UPSTREAM_POLL_INTERVAL of the provinces")
    parser.add_argument("--gap", type=float, default=8.0, help="seconds between faults")
    parser.add_argument("--down", type=float, default=3.0, help="seconds a killed axis stays down")
    parser.add_argument("--cut", type=float, default=15.0, help="seconds the link stays cut")
    parser.add_argument("--settle", type=float, default=300.0)
    parser.add_argument("--workdir", type=Path, help="keep keys and each axis's log here (default: a temporary one)")
    args = parser.parse_args()
    configure_logging("warning")
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        return asyncio.run(main_async(args, args.workdir))
    with tempfile.TemporaryDirectory() as tmp:
        return asyncio.run(main_async(args, Path(tmp)))


if __name__ == "__main__":
    sys.exit(main())
