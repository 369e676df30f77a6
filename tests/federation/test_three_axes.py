"""The reduced form of ``scripts/federation.py``, in CI: three axes as real processes (two
provinces and a national axis serving only its /vdxp), the whole life of one document across
them, then a short load through a SIGKILL of province A's axis, one of the national axis and a
cut of A's link. The full run (200 documents, every axis killed, latency at ordinary load) is the
script's."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import federation_run as run
import pytest
import three_axes

from axis.client import StatusCode


@pytest.fixture
async def federation(tmp_path: Path) -> AsyncIterator[three_axes.Federation]:
    built = await three_axes.create(tmp_path, prefix="axis_fed_test", poll_interval=0.5)
    try:
        await three_axes.start(built)
        yield built
    finally:
        await three_axes.destroy(built)


async def eventually(check, limit: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + limit
    while True:
        try:
            if await check():
                return
        except Exception:
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {limit:g} s")
        await asyncio.sleep(0.3)


async def test_a_document_lives_across_three_axes_and_survives_their_deaths(
    federation: three_axes.Federation,
) -> None:
    agencies = run.agencies(federation)
    try:
        # One document from province A to an agency of province B and one of province A.
        (doc,) = await run.send_documents(agencies.sender, agencies.ledger, 1, 1.0, "LIFE")

        async def at_both() -> bool:
            return agencies.ledger.settled(doc)

        await eventually(at_both)
        assert agencies.ledger.altered == []  # byte-identical at both

        for code in (StatusCode.ACCEPTED, StatusCode.PROCESSING):  # B's eOffice sent 01 on arrival
            await run.insist(lambda code=code: agencies.b.send_status(doc, code, description="Thử nghiệm"))

        async def statuses() -> set[str]:
            timeline = await agencies.sender.status(doc)
            return {s.code for r in timeline.recipients if r.agency == three_axes.B for s in r.statuses}

        async def all_three() -> bool:
            return {"01", "03", "05"} <= await statuses()

        await eventually(all_three)

        await agencies.sender.revoke(doc, reason="Ban hành nhầm")

        async def revoked_at_b() -> bool:
            return (await agencies.b.status(doc)).state == "revoked"

        await eventually(revoked_at_b)
        await agencies.b.send_status(doc, StatusCode.AGREED, description="Đồng ý thu hồi")

        async def agreed() -> bool:
            return "15" in await statuses() and (await agencies.sender.status(doc)).state == "revoked"

        await eventually(agreed)

        # A short load through faults.
        async def faults() -> None:
            await asyncio.sleep(2)
            federation.a.kill()
            await asyncio.sleep(1)
            federation.a.start()
            await federation.a.wait_ready()
            federation.national.kill()
            await asyncio.sleep(1)
            federation.national.start()
            await federation.national.wait_ready()
            federation.link_a.sever()
            await asyncio.sleep(3)
            federation.link_a.mend()

        started = time.monotonic()
        from_a, from_b, _ = await asyncio.gather(
            run.send_documents(agencies.sender, agencies.ledger, 24, 2.0, "LOAD"),
            run.send_documents(agencies.b, agencies.ledger, 12, 1.0, "LOAD", to=("a-ubnd",), sender_office="b-ubnd"),
            faults(),
        )
        missing = await run.settle(agencies.clients, agencies.ledger, [*from_a, *from_b], limit=180)
        verdict = run.verdict(agencies.ledger, [*from_a, *from_b], missing, time.monotonic() - started)
        assert (verdict.documents, verdict.deliveries, verdict.statuses) == (36, 60, 36)
        assert (verdict.lost, verdict.duplicates, verdict.altered, verdict.statuses_missing) == (0, 0, 0, 0)
    finally:
        await agencies.close()
