"""Stories of the file checks in their worker processes: zipped attachments, and files made to hurt.

A PDF or a zip from another agency is hostile input. Whatever it holds, its check ends with a
finding, within the time and the memory the checker gives it, and the axis's own process neither
waits longer nor grows: these stories measure both, against a checker given small limits.
"""

from __future__ import annotations

import os
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pdfs import (
    Cast,
    decree,
    deeply_nested_pdf,
    inflation_bomb,
    new_cast,
    slow_bomb,
    zip_bomb,
    zipped,
)

from axis.files import findings as f
from axis.files.unpack import ZipLimits
from axis.files.worker import Attachment, FileChecker, FileLimits

MB = 1024 * 1024
#: Small limits, so that a bomb meets them soon: 3 s, a 512 MiB address space (a worker that has
#: imported pyHanko and checked a file uses ~90 MiB of it).
LIMITS = FileLimits(max_bytes=8 * MB, seconds=3.0, memory_bytes=512 * MB, zip=ZipLimits(max_bytes=64 * MB))
#: What a check may take beyond its limit: the pool noticing, killing and reporting.
MARGIN = 3.0


@pytest.fixture(scope="module")
def cast() -> Cast:
    return new_cast()


@pytest.fixture(scope="module")
def decision(cast: Cast) -> bytes:
    return decree(cast)


@pytest.fixture(scope="module")
def checker(cast: Cast, decision: bytes) -> Iterator[FileChecker]:
    checker = FileChecker(cast.trust(), LIMITS, workers=1)
    try:
        yield checker
    finally:
        checker.close()


@pytest.fixture
async def warm(checker: FileChecker, decision: bytes) -> FileChecker:
    """The checker, its worker started and pyHanko imported in it: what a story measures is the check."""
    (found,) = await checker.check([Attachment("warm-up.pdf", decision)])
    assert found.problems == ()
    return checker


# --- zipped attachments -----------------------------------------------------------------------------


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED], ids=["deflated", "stored"])
async def test_a_signed_decision_inside_a_zip_is_checked_as_a_file_of_it(
    warm: FileChecker, decision: bytes, method: int
) -> None:
    """A zip storing a PDF uncompressed has ``%PDF-`` in its first bytes too: it is still read as a
    zip, and the PDF in it checked with its path."""
    attachment = Attachment(
        "ho-so.zip", zipped([("van-ban/quyet-dinh.pdf", decision), ("ghi-chu.txt", b"x")], method=method)
    )

    (found,) = await warm.check([attachment])

    assert (found.attachment, found.path, found.problems) == ("ho-so.zip", "van-ban/quyet-dinh.pdf", ())
    assert [s.problems for s in found.signatures] == [(), ()]
    assert found.label == "ho-so.zip/van-ban/quyet-dinh.pdf"


async def test_a_zip_that_inflates_a_thousandfold_is_a_zip_bomb_and_none_of_it_is_checked(warm: FileChecker) -> None:
    bomb = zip_bomb(1 << 30)  # 1 GiB of zeros in 1 MB
    started = time.monotonic()

    (found,) = await warm.check([Attachment("phu-luc.zip", bomb)])

    assert found.problems == (f.ZIP_BOMB,)
    assert found.signatures == ()
    assert time.monotonic() - started < 2.0  # stopped at the ratio, not after inflating


async def test_zips_nested_beyond_the_depth_limit_are_a_zip_bomb(warm: FileChecker, decision: bytes) -> None:
    nested = zipped([("c.zip", zipped([("b.zip", zipped([("quyet-dinh.pdf", decision)]))]))])

    (found,) = await warm.check([Attachment("a.zip", nested)])

    assert found.problems == (f.ZIP_BOMB,)


async def test_an_attachment_over_the_size_limit_is_not_checked(warm: FileChecker) -> None:
    (found,) = await warm.check([Attachment("scan.pdf", b"%PDF-1.7\n" + os.urandom(LIMITS.max_bytes))])

    assert found.problems == (f.FILE_TOO_LARGE,)
    assert found.size == LIMITS.max_bytes + 9


# --- bombs ------------------------------------------------------------------------------------------


@dataclass
class Measured:
    """The largest resident set seen of this process and of any process it started, while it ran."""

    own_before: int = 0
    own_peak: int = 0
    child_peak: int = 0
    elapsed: float = 0.0
    limit: int = 0  # the worker's address space
    _stop: threading.Event = field(default_factory=threading.Event)

    def sample(self) -> None:
        while True:  # once at least, and once more after the stop
            self.own_peak = max(self.own_peak, _rss(os.getpid()))
            self.child_peak = max([self.child_peak, *(_rss(pid) for pid in _descendants(os.getpid()))])
            if self._stop.is_set():
                return
            self._stop.wait(0.02)


@pytest.fixture
def measured() -> Iterator[Measured]:
    found = Measured(own_before=_rss(os.getpid()))
    sampler = threading.Thread(target=found.sample, daemon=True)
    sampler.start()
    started = time.monotonic()
    yield found
    found._stop.set()
    sampler.join()
    print(  # shown with -s: what the bomb cost
        f"\n  {found.elapsed:.2f} s; this process {found.own_before // MB} -> {found.own_peak // MB} MiB; "
        f"a worker at most {found.child_peak // MB} MiB (limit {found.limit // MB} MiB); "
        f"{time.monotonic() - started:.2f} s with the sampling"
    )


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:  # gone meanwhile
        pass
    return 0


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


async def bombed(checker: FileChecker, name: str, data: bytes, measured: Measured) -> f.FileCheck:
    measured.limit = checker.limits.memory_bytes
    started = time.monotonic()
    (found,) = await checker.check([Attachment(name, data)])
    measured.elapsed = time.monotonic() - started
    return found


def assert_bounded(measured: Measured, limits: FileLimits = LIMITS) -> None:
    assert measured.elapsed < limits.seconds + MARGIN
    assert measured.child_peak <= limits.memory_bytes
    assert measured.own_peak - measured.own_before < 64 * MB


async def test_a_pdf_whose_cross_reference_stream_inflates_to_4_gib_ends_as_a_finding_at_once(
    warm: FileChecker, measured: Measured
) -> None:
    """pyHanko's decoding limits for untrusted input stop it at what the stream should hold."""
    found = await bombed(warm, "bomb.pdf", inflation_bomb(4 << 30), measured)

    assert found.problems == (f.FILE_MALFORMED,)
    assert "limit" in found.detail
    assert_bounded(measured)
    assert measured.elapsed < 1.0


async def test_a_pdf_nested_two_hundred_thousand_deep_ends_as_a_finding_at_once(
    warm: FileChecker, measured: Measured
) -> None:
    found = await bombed(warm, "nested.pdf", deeply_nested_pdf(200_000), measured)

    assert found.problems == (f.FILE_LIMITS,)
    assert "nested" in found.detail
    assert_bounded(measured)
    assert measured.elapsed < 1.0


async def test_a_pdf_slower_to_read_than_the_time_limit_is_stopped_there(
    checker: FileChecker, warm: FileChecker, decision: bytes, measured: Measured
) -> None:
    """24 KB whose cross-reference stream pyHanko would undo row by row in pure Python for ~9 s:
    the worker is killed at the time limit (or meets its memory ceiling first), the file gets
    ``file.limits``, and the next file is checked by the worker that replaces it."""
    found = await bombed(warm, "slow.pdf", slow_bomb(2_000_000), measured)

    assert found.problems == (f.FILE_LIMITS,)
    assert found.detail in (f"over {LIMITS.seconds:g} s", "memory limit")
    assert_bounded(measured)
    (after,) = await checker.check([Attachment("quyet-dinh.pdf", decision)])
    assert [s.problems for s in after.signatures] == [(), ()]


async def test_a_pdf_needing_more_memory_than_its_worker_has_gets_file_limits(
    cast: Cast, decision: bytes, measured: Measured
) -> None:
    """230 KB whose cross-reference table inflates to 240 MB, given time but only 320 MiB:
    inflating it fails inside the worker (``RLIMIT_AS``), which reports it and lives on."""
    tight = FileLimits(seconds=60.0, memory_bytes=320 * MB)
    checker = FileChecker(cast.trust(), tight, workers=1)
    try:
        (warm_up,) = await checker.check([Attachment("warm-up.pdf", decision)])
        assert warm_up.problems == ()

        found = await bombed(checker, "greedy.pdf", slow_bomb(20_000_000), measured)

        (after,) = await checker.check([Attachment("quyet-dinh.pdf", decision)])
    finally:
        checker.close()
    assert found.problems == (f.FILE_LIMITS,)
    assert found.detail == "memory limit"
    assert measured.elapsed < 10.0
    assert_bounded(measured, tight)
    assert [s.problems for s in after.signatures] == [(), ()]
