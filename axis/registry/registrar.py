"""The one way a running axis changes the registry: ``Registrar.change(actor, operation)``.

Every administrator interface (the admin API, the web pages, ``/vdxp`` deleteAgency) changes the
registry through this, so three promises are kept in one place rather than in each handler:

- the operation runs in one transaction with its history row and version bump (the registry's
  functions write those through ``history.record``), so a change never lands without its history;
- the actor that history names is the one the interface authenticated (``admin:<token>``,
  ``web:<username>``, ``vdxp:<system>``);
- the caller reads its own writes: the answer goes out only once this process's registry cache
  holds the change (an administrator who issues a token can use it on the next request). A cache
  that falls behind for longer than ``wait`` is logged, not failed: the change has committed, and
  the cache catches up from NOTIFY.

The CLI has no cache to wait for and changes the registry through the same functions in its own
transaction (``axis.cli.runtime.transaction``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import TypeVar

import structlog

from axis.registry import history
from axis.registry.cache import RegistryCache
from axis.store.db import Conn

log = structlog.get_logger("axis.registry")
T = TypeVar("T")

#: A registry change: what it does, given a connection inside its transaction and the actor.
Operation = Callable[[Conn, str], Awaitable[T]]


class Registrar:
    def __init__(
        self,
        connection: Callable[[], AbstractAsyncContextManager[Conn]],
        cache: RegistryCache,
        *,
        wait: float = 5.0,
    ) -> None:
        self._connection = connection  # the database gateway: lends within AXIS_DB_ACQUIRE_TIMEOUT
        self._cache = cache
        self._wait = wait

    async def change(self, actor: str, operation: Operation[T]) -> T:
        """Run ``operation(conn, actor)`` in a transaction; return once this process's cache has it."""
        async with self._connection() as conn:
            async with conn.transaction():
                result = await operation(conn, actor)
            version = await history.version(conn)
        await self.caught_up(version)
        return result

    async def caught_up(self, version: int) -> None:
        """Wait (at most ``wait`` seconds) until this process's cache holds ``version``."""
        try:
            await self._cache.wait_for(version, timeout=self._wait)
        except TimeoutError:
            log.warning("registry.cache_behind", version=version)
