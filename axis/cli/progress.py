"""A progress bar on stderr for long CLI operations; silent when stderr is not a terminal."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO


class Progress:
    def __init__(self, total: int, label: str, stream: TextIO | None = None, width: int = 30) -> None:
        self.total, self.label, self.width = total, label, width
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() and total > 0
        self._last = 0.0

    def update(self, done: int, total: int | None = None) -> None:
        """``total`` when it is known only once the work has begun (the head of an audit chain)."""
        if total is not None and total != self.total:
            self.total, self.enabled = total, self.stream.isatty() and total > 0
        now = time.monotonic()
        if not self.enabled or (now - self._last < 0.1 and done < self.total):
            return
        self._last = now
        filled = self.width * done // self.total
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {done:,}/{self.total:,}")
        self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        if self.enabled:
            self.stream.write("\n")
