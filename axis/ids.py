"""Ids of packages and receipts that sort by the millisecond they were made (UUID version 7, RFC 9562).

A random (version 4) id puts every new package on a random leaf page of each index keyed by it:
the packages', recipients', deliveries' and receipts' primary keys and the per-system indexes
that end in a package id. Once a year of mail no longer fits in shared buffers, each intake
reads such pages back and writes them out again, whole after a checkpoint (scripts/bench_scale.py:
intake slowed to 0.73x of the empty database at ten million packages). A time-ordered id lands
where the last one did, on pages already in memory. It still carries 74 random bits, and it
tells no one more than the package's own ``received_at``, which its sender and recipients see.
"""

from __future__ import annotations

import os
import time
import uuid

_VERSION = 0x7 << 76
_VARIANT = 0b10 << 62
_KEEP = ~((0xF << 76) | (0b11 << 62))


def time_ordered() -> uuid.UUID:
    """48 bits of Unix time in milliseconds, then the version, 74 random bits and the variant.

    (Python 3.14's ``uuid.uuid7`` makes the same layout; the axis supports 3.11.)"""
    millis = time.time_ns() // 1_000_000
    value = (millis & ((1 << 48) - 1)) << 80 | int.from_bytes(os.urandom(10), "big")
    return uuid.UUID(int=value & _KEEP | _VERSION | _VARIANT)
