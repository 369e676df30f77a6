"""How the axis process hands memory back to the operating system.

A package may be 100 MB; verifying, storing and delivering it makes a few buffers of that size,
freed moments later. glibc serves allocations above a threshold with their own mappings, returned
to the system when freed, but it raises that threshold after the first such free (up to 32 MB per
allocation, on 64-bit), so the next large package's buffers come from the heap and stay in the
process after it is done: every phase of every large package then adds to the resident size
instead of reusing it. Fixing the threshold keeps large buffers in their own mappings, so the
process's peak is the largest phase, not the sum of phases, and it shrinks back between packages.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

import structlog

log = structlog.get_logger(__name__)

M_MMAP_THRESHOLD = -3  # glibc's <malloc.h>
LARGE_BUFFER = 1 << 20  # at and above 1 MiB: a mapping of its own, unmapped when freed


def return_large_buffers() -> bool:
    """Fix glibc's mmap threshold (a no-op elsewhere); True when it took effect."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    done = bool(libc.mallopt(M_MMAP_THRESHOLD, LARGE_BUFFER))
    if not done:
        log.warning("memory.mallopt_refused", threshold=LARGE_BUFFER)
    return done
