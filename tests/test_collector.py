"""A started axis process keeps what it holds for life out of the garbage collector's full walks.

Run in a process of its own: freezing is for the whole process, and this test process starts and
stops many axes whose cycles must stay collectable.
"""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import asyncio, gc
from axis import collector

held = [[n, f"Cơ quan {n}"] for n in range(200_000)]  # tracked, as a registry snapshot's objects
seen_before = any(o is held for o in gc.get_objects())
asyncio.run(collector.freeze_startup_objects(None))
seen_after = any(o is held for o in gc.get_objects())  # what a full collection walks
garbage = []; garbage.append(garbage); del garbage  # a cycle made after startup is still collected
print(seen_before, seen_after, gc.get_freeze_count() > 200_000, gc.collect() >= 1)
"""


def test_after_startup_a_full_collection_no_longer_walks_what_the_process_holds_for_life() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.split() == ["True", "False", "True", "True"], done.stderr
