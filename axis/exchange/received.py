"""A package's bytes as they arrive: in memory when small, spooled to a temporary file when large.

A 100 MB package held in memory while its tree is built and its signature checked is most of what
receiving it costs; in a file (the page cache's, not the process's) it costs nothing while the
tree is checked, and it is read back a chunk at a time to be stored. The digest and size are
counted as the bytes come, so neither needs the bytes again.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from typing import BinaryIO

SPILL = 1 << 20  # beyond this many bytes, the rest goes to a temporary file
CHUNK = 1 << 20


class Received:
    """Bytes as received, with their size and SHA-256; ``close`` deletes a spooled file."""

    def __init__(self, spill: int = SPILL) -> None:
        self._spill = spill
        self._parts: list[bytes] = []
        self._file: BinaryIO | None = None
        self._hash = hashlib.sha256()
        self.size = 0

    @classmethod
    def of(cls, data: bytes) -> Received:
        """Bytes already in memory (AMQP, the SDK interface, tools): kept as they are."""
        received = cls(spill=len(data) + 1)
        received.append(data)
        return received

    def append(self, chunk: bytes) -> None:
        self._hash.update(chunk)
        self.size += len(chunk)
        if self._file is not None:
            self._file.write(chunk)
            return
        self._parts.append(chunk)
        if self.size > self._spill:
            self._file = tempfile.TemporaryFile(prefix="axis-package-")  # noqa: SIM115 (closed by close())
            for part in self._parts:
                self._file.write(part)
            self._parts = []

    @property
    def digest(self) -> str:
        return self._hash.hexdigest()

    @property
    def spooled(self) -> bool:
        return self._file is not None

    def data(self) -> bytes:
        """The bytes whole (read back from the file when spooled)."""
        if self._file is None:
            if len(self._parts) > 1:
                self._parts = [b"".join(self._parts)]
            return self._parts[0] if self._parts else b""
        self._file.seek(0)
        return self._file.read()

    def file(self) -> BinaryIO:
        """The spooled file, at its start."""
        assert self._file is not None, "not spooled: use data()"
        self._file.seek(0)
        return self._file

    def readable(self) -> bytes | BinaryIO:
        """What a parser reads: the bytes when small, the spooled file (at its start) when large."""
        return self.file() if self._file is not None else self.data()

    def chunks(self, size: int = CHUNK) -> Iterator[bytes | memoryview]:
        """The bytes in pieces of ``size``, without joining them."""
        if self._file is None:
            view = memoryview(self.data())
            for offset in range(0, len(view), size):
                yield view[offset : offset + size]
            return
        self._file.seek(0)
        while chunk := self._file.read(size):
            yield chunk

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._parts = []

    def __enter__(self) -> Received:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
