"""Receipts signed in batches: the ones asked for while a signing runs share the next signature.

Signing was the axis's largest cost per package (an XML Signature for the acceptance and one per
delivery, ~0.7 ms each, more than verifying the package). ``axis.receipts.sign_batch`` makes one
signature serve many receipts; this gathers them without a timer, as a database gathers commits:
a request that finds nothing being signed is signed at once, alone (no wait at low load), and
every request that arrives meanwhile joins the next batch, signed as soon as the current one is
done. Under load the batches grow by themselves and the cost per receipt falls; a receipt is never
later than one signing behind the one before it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from axis.receipts import Receipt, receipt_uri

#: Receipts per signature at most. Every receipt of a batch carries the whole manifest (~230
#: bytes an entry): at 64, receipts of 15 KB cost RabbitMQ and PostgreSQL more than the signatures
#: saved (bench_exchange); at 16 a receipt is ~5.5 KB and a signature costs 0.05 ms a receipt.
MAX_BATCH = 16

SignBatch = Callable[[Sequence[Receipt]], list[bytes]]
OffLoop = Callable[[SignBatch, list[Receipt]], Awaitable[list[bytes]]]
_Waiting = tuple[Receipt, "asyncio.Future[bytes]"]


class ReceiptSigner:
    def __init__(self, sign_batch: SignBatch, off_loop: OffLoop) -> None:
        """``sign_batch`` signs receipts together (blocking); ``off_loop`` runs it off the event loop."""
        self._sign_batch = sign_batch
        self._off_loop = off_loop
        self._waiting: list[_Waiting] = []
        self._running: asyncio.Task[None] | None = None

    async def sign(self, batch: Sequence[Receipt]) -> list[bytes]:
        """The receipts signed, in order (together with whatever else is waiting)."""
        loop = asyncio.get_running_loop()
        futures = []
        for receipt in batch:
            future: asyncio.Future[bytes] = loop.create_future()
            self._waiting.append((receipt, future))
            futures.append(future)
        if self._running is None:
            self._running = asyncio.create_task(self._drain())
        return list(await asyncio.gather(*futures))

    async def _drain(self) -> None:
        try:
            while self._waiting:
                taken, self._waiting = _next_batch(self._waiting)
                try:
                    bodies = await self._off_loop(self._sign_batch, [receipt for receipt, _ in taken])
                except Exception as exc:  # noqa: BLE001 (handed to each caller: a key error is a setting error)
                    for _, future in taken:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                except BaseException:  # the process stops: nobody waits for a signature forever
                    for _, future in (*taken, *self._waiting):
                        future.cancel()
                    self._waiting = []
                    raise
                for (_, future), body in zip(taken, bodies, strict=True):
                    if not future.done():  # the request that asked may have gone (cancelled)
                        future.set_result(body)
        finally:
            self._running = None


def _next_batch(waiting: list[_Waiting]) -> tuple[list[_Waiting], list[_Waiting]]:
    """Up to ``MAX_BATCH`` receipts with distinct names, in order; the rest wait for the next.

    Two requests acknowledging the same package at once each ask for its delivery receipt (the
    store keeps the first); in one manifest the two would share a name, which no reader could
    tell apart, so the second goes in the next batch."""
    taken: list[_Waiting] = []
    rest: list[_Waiting] = []
    names: set[str] = set()
    for entry in waiting:
        name = receipt_uri(entry[0])
        if len(taken) < MAX_BATCH and name not in names:
            names.add(name)
            taken.append(entry)
        else:
            rest.append(entry)
    return taken, rest
