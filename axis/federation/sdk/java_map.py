"""Java 8+'s ``java.util.HashMap`` iteration order, for String keys.

Why: the national Java SDK (SDKVXP-2.0.1) keeps its request parameters in one HashMap and signs
them in the order that map iterates (README §3 in ``../shared/domain/sdk-wire/``). A byte-exact
client must therefore reproduce that order, which follows from ``String.hashCode()``, the spread
hash, the table size and how a resize redistributes buckets, not from insertion order. No JDK code
is copied; only the ordering rules are rebuilt here, as far as String→String maps need them.
"""

from __future__ import annotations

from dataclasses import dataclass


def java_string_hash(text: str) -> int:
    """``String.hashCode()`` over UTF-16 code units, as an unsigned 32-bit number."""
    units = text.encode("utf-16-be", "surrogatepass")
    value = 0
    for i in range(0, len(units), 2):
        value = (31 * value + (units[i] << 8 | units[i + 1])) & 0xFFFFFFFF
    return value


@dataclass
class _Node:
    spread: int
    key: str
    value: str


class JavaHashMap:
    """A String→String map that iterates like Java 8+'s ``java.util.HashMap``.

    The SDK signs its parameters in this order, so a byte-exact client must reproduce it: buckets by
    the spread hash ``h ^ (h >>> 16)``, insertion order within a bucket, a table of 16 that doubles
    when the size exceeds 3/4 of it (a resize keeps each bucket's relative order), and a bucket that
    would grow past 8 entries in a table under 64 resizes the table instead of becoming a tree.
    """

    def __init__(self) -> None:
        self._table: list[list[_Node]] = []
        self._size = 0

    def put(self, key: str, value: str) -> None:
        if not self._table:
            self._resize()
        spread = java_string_hash(key)
        spread ^= spread >> 16
        bucket = self._table[spread & (len(self._table) - 1)]
        for node in bucket:
            if node.spread == spread and node.key == key:
                node.value = value  # an existing key keeps its place
                return
        crowded = len(bucket) >= 8
        bucket.append(_Node(spread, key, value))
        if crowded:
            if len(self._table) >= 64:
                raise NotImplementedError("a tree bin (more than 8 colliding keys): not modelled")
            self._resize()
        self._size += 1
        if self._size > len(self._table) * 3 // 4:
            self._resize()

    def get(self, key: str) -> str | None:
        return next((value for name, value in self.items() if name == key), None)

    def items(self) -> list[tuple[str, str]]:
        return [(node.key, node.value) for bucket in self._table for node in bucket]

    def keys(self) -> list[str]:
        return [node.key for bucket in self._table for node in bucket]

    def __len__(self) -> int:
        return self._size

    def _resize(self) -> None:
        capacity = len(self._table) * 2 or 16
        table: list[list[_Node]] = [[] for _ in range(capacity)]
        for bucket in self._table:  # each new bucket draws from one old bucket, in order
            for node in bucket:
                table[node.spread & (capacity - 1)].append(node)
        self._table = table
