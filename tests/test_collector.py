"""A started axis process keeps what it holds for life out of the garbage collector's full walks.

Run in a process of its own: freezing is for the whole process, and this test process starts and
stops many axes whose cycles must stay collectable.
"""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import asyncio, gc, time
from axis import collector

held = [[n, f"Cơ quan {n}"] for n in range(200_000)]  # tracked, as a registry snapshot's objects
start = time.perf_counter(); gc.collect(); before = time.perf_counter() - start
asyncio.run(collector.freeze_startup_objects(None))
start = time.perf_counter(); gc.collect(); after = time.perf_counter() - start
garbage = []; garbage.append(garbage); del garbage  # a cycle made after startup is still collected
print(gc.get_freeze_count() > 200_000, gc.collect() >= 1, after < before)
"""


def test_after_startup_a_full_collection_no_longer_walks_what_the_process_holds_for_life() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.split() == ["True", "True", "True"], done.stderr
