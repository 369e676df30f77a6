"""The file checks, run in worker processes with a ceiling on memory and a limit on time.

A PDF or a zip from another agency is hostile input handled by pure-Python parsers: a deeply nested
object tree, a stream that inflates to gigabytes or a zip bomb must cost one check, never the axis.
Each attachment is checked in a worker process (pebble's pool: a task over its time limit has its
process killed and replaced, which `concurrent.futures` cannot do) whose address space is capped
(``RLIMIT_AS``): an allocation beyond it fails inside the worker, and a worker that dies anyway is
replaced. Either way the file gets the finding ``file.limits`` with what happened, and intake goes on.

A worker process lives on between checks, and keeps what it learnt about revocation (OCSP answers,
CRLs it fetched: `axis.files.pdf`) for ``DocumentTrust.cache_seconds``, so the documents of one
agency arriving in a row ask its responder once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
import resource
from collections.abc import Sequence
from dataclasses import dataclass, field

import structlog
from pebble import ProcessExpired, ProcessPool

from axis.files import findings as f
from axis.files import pdf, unpack

log = structlog.get_logger("axis.files")


@dataclass(frozen=True, slots=True)
class FileLimits:
    """``AXIS_FILE_CHECK_*``: what one attachment's check may take."""

    max_bytes: int = 50 * 1024 * 1024  # larger attachments are not checked (file.too_large)
    seconds: float = 20.0
    memory_bytes: int = 1024 * 1024 * 1024  # the worker process's address space
    zip: unpack.ZipLimits = field(default_factory=unpack.ZipLimits)


@dataclass(frozen=True, slots=True)
class Attachment:
    name: str
    data: bytes


def _cap_memory(limit: int) -> None:
    """Runs in each new worker process, before its first task."""
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def check_attachment(
    name: str, data: bytes, trust: pdf.DocumentTrust, zip_limits: unpack.ZipLimits
) -> list[f.FileCheck]:
    """One attachment's PDFs (itself, or those in it if zipped), each checked. Runs in a worker."""
    try:
        found, problems = unpack.candidates(name, data, zip_limits)
        return [*problems, *(pdf.check(c.data, trust, attachment=c.attachment, path=c.path) for c in found)]
    except MemoryError:
        return [_limits(name, len(data), "memory limit")]
    except RecursionError:
        return [_limits(name, len(data), "nesting limit")]


def too_large(name: str, size: int) -> f.FileCheck:
    """An attachment over ``FileLimits.max_bytes``: not checked."""
    return f.FileCheck(attachment=name, size=size, problems=(f.FILE_TOO_LARGE,))


def _limits(name: str, size: int, detail: str) -> f.FileCheck:
    return f.FileCheck(attachment=name, size=size, problems=(f.FILE_LIMITS,), detail=detail)


class FileChecker:
    """The checks of a process's intakes, shared by them: ``check`` is awaited, the work is elsewhere."""

    def __init__(self, trust: pdf.DocumentTrust, limits: FileLimits = FileLimits(), *, workers: int = 1) -> None:
        self.trust = trust
        self.limits = limits
        # Workers come from the forkserver, a clean process started once (forking this process, which
        # runs an event loop and threads, would copy their locks in whatever state they were). It
        # imports this module, pyHanko with it, before its first fork: a worker replaced after a
        # bomb starts in milliseconds rather than the second an import of pyHanko takes.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        self._pool = ProcessPool(
            max_workers=workers, initializer=_cap_memory, initargs=(limits.memory_bytes,), context=context
        )

    async def check(self, attachments: Sequence[Attachment]) -> list[f.FileCheck]:
        """Every PDF in ``attachments``, in their order; a file over a limit gets ``file.limits``."""
        results = await asyncio.gather(*(self.check_one(a) for a in attachments))
        return [check for each in results for check in each]

    async def check_one(self, attachment: Attachment) -> list[f.FileCheck]:
        """One attachment's PDFs (itself, or those in its zip), each checked."""
        size = len(attachment.data)
        if size > self.limits.max_bytes:
            return [too_large(attachment.name, size)]
        future = self._pool.schedule(
            check_attachment,
            args=(attachment.name, attachment.data, self.trust, self.limits.zip),
            timeout=self.limits.seconds,
        )
        try:
            return await asyncio.wrap_future(future)
        except concurrent.futures.TimeoutError:
            detail = f"over {self.limits.seconds:g} s"
        except ProcessExpired as exc:
            detail = f"the checking process died (exit code {exc.exitcode})"
        except asyncio.CancelledError:
            future.cancel()  # type: ignore[no-untyped-call]
            raise
        except Exception as exc:  # a bug in a checker (or a parser) costs this file its check, not the intake
            log.exception("file.check.failed", attachment=attachment.name, size=size)
            detail = f"the check failed ({type(exc).__name__})"
        log.warning("file.check.limits", attachment=attachment.name, size=size, detail=detail)
        return [_limits(attachment.name, size, detail)]

    def close(self) -> None:
        self._pool.stop()  # type: ignore[no-untyped-call]
        self._pool.join(timeout=10)
