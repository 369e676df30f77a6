"""Receipts asked for while a signing runs share the next signature; one asked for alone waits
for nobody. What the batch signer promises the exchange, with a signing that takes its time."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence

import pytest
from test_receipts import delivery

from axis.exchange.signing import ReceiptSigner
from axis.receipts import Receipt


class SlowSigning:
    """Signs by naming the batch, after a pause during which others may ask."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.fail = False

    def __call__(self, batch: Sequence[Receipt]) -> list[bytes]:
        if self.fail:
            raise RuntimeError("the key is gone")
        names = [r.package_id[-2:] for r in batch]
        self.batches.append(names)
        return [f"{name} in batch {len(self.batches)}".encode() for name in names]


async def later(function: SlowSigning, batch: list[Receipt]) -> list[bytes]:
    await asyncio.sleep(0.05)
    return function(batch)


def receipt(n: int) -> Receipt:
    return dataclasses.replace(delivery(), package_id=f"6f1c1d2e-8a4b-4c3d-9e5f-0a1b2c3d4e{n:02}")


async def test_receipts_asked_for_during_a_signing_share_the_next_one() -> None:
    signing = SlowSigning()
    signer = ReceiptSigner(signing, later)
    first = asyncio.create_task(signer.sign([receipt(1)]))
    await asyncio.sleep(0.01)  # the first is being signed, alone
    rest = await asyncio.gather(signer.sign([receipt(2), receipt(3)]), signer.sign([receipt(4)]))
    assert await first == [b"01 in batch 1"]
    assert rest == [[b"02 in batch 2", b"03 in batch 2"], [b"04 in batch 2"]]
    assert signing.batches == [["01"], ["02", "03", "04"]]


async def test_a_signing_that_fails_fails_its_callers_and_the_next_still_signs() -> None:
    signing = SlowSigning()
    signer = ReceiptSigner(signing, later)
    signing.fail = True
    with pytest.raises(RuntimeError, match="the key is gone"):
        await signer.sign([receipt(1)])
    signing.fail = False
    assert await signer.sign([receipt(2)]) == [b"02 in batch 1"]


async def test_a_caller_that_gives_up_does_not_stop_the_others() -> None:
    signing = SlowSigning()
    signer = ReceiptSigner(signing, later)
    impatient = asyncio.create_task(signer.sign([receipt(1)]))
    patient = asyncio.create_task(signer.sign([receipt(2)]))
    await asyncio.sleep(0.01)
    impatient.cancel()
    assert await patient == [b"02 in batch 1"]
    with pytest.raises(asyncio.CancelledError):
        await impatient


async def test_two_requests_for_the_same_receipt_at_once_go_in_different_batches() -> None:
    """Two acknowledgements of one package racing each other ask for the same delivery receipt;
    one manifest cannot name it twice, so the second is signed in the next batch, not refused."""
    signing = SlowSigning()
    signer = ReceiptSigner(signing, later)
    first = asyncio.create_task(signer.sign([receipt(1)]))
    await asyncio.sleep(0.01)
    again = await asyncio.gather(signer.sign([receipt(2)]), signer.sign([receipt(2), receipt(3)]))
    assert await first == [b"01 in batch 1"]
    assert again == [[b"02 in batch 2"], [b"02 in batch 3", b"03 in batch 2"]]
    assert signing.batches == [["01"], ["02", "03"], ["02"]]
