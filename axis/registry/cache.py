"""The registry in each axis process's memory, replaced whole when PostgreSQL says it changed.

Every registry change bumps ``registry_version`` and sends ``NOTIFY axis_registry`` in its
transaction. Each process LISTENs on a connection of its own and reloads the snapshot when told;
bursts of notifications coalesce into one reload. Notifications are lost while the listening
connection is down, so the cache listens again as soon as it drops (on the promoted standby after a
failover), reloads anyway, and a slow poll of the version catches anything else. Readers never
wait: they get the current ``Resolver`` until the next one is ready.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import asyncpg
import structlog

from axis.registry import history
from axis.registry import snapshot as snapshot_store
from axis.registry.finder import Finder
from axis.registry.model import Snapshot
from axis.registry.resolve import Resolver
from axis.store import db

log = structlog.get_logger("axis.registry.cache")


class RegistryCache:
    def __init__(
        self, pool: asyncpg.Pool, database_url: str, *, poll_seconds: float = 30.0, acquire_timeout: float = 5.0
    ) -> None:
        self._pool = pool
        self._acquire_timeout = acquire_timeout
        self._url = database_url
        self._poll_seconds = poll_seconds
        self._resolver = Resolver(Snapshot())
        self._finder: Finder | None = None
        self._listener: asyncpg.Connection | None = None
        self._listener_lost = asyncio.Event()
        self._reload_task: asyncio.Task[None] | None = None
        self._watch_task: asyncio.Task[None] | None = None
        self._dirty = False
        self._changed = asyncio.Condition()
        self._closing = False
        self._channels: dict[str, Callable[[object, int, str, object], None]] = {}

    @property
    def resolver(self) -> Resolver:
        return self._resolver

    @property
    def snapshot(self) -> Snapshot:
        return self._resolver.snapshot

    @property
    def finder(self) -> Finder:
        """Name and code search over the current snapshot, folded once per registry version."""
        snapshot = self.snapshot
        if self._finder is None or self._finder.version != snapshot.version:
            self._finder = Finder(snapshot)
        return self._finder

    async def start(self) -> None:
        await self.reload()
        await self._listen()
        self._watch_task = asyncio.create_task(self._watch(), name="registry-cache-watch")

    async def close(self) -> None:
        self._closing = True
        for task in (self._watch_task, self._reload_task):
            if task is not None:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
                except Exception as exc:  # noqa: BLE001 - closing: whatever the cut-short task raised is moot
                    # A reload cancelled while asyncpg starts its transaction can end with the
                    # server's error (ActiveSQLTransactionError) instead of CancelledError.
                    log.warning("registry.close_interrupted", task=task.get_name(), error=repr(exc))
        if self._listener is not None and not self._listener.is_closed():
            await self._listener.close()

    async def reload(self) -> Snapshot:
        async with self._pool.acquire(timeout=self._acquire_timeout) as conn:
            snapshot = await snapshot_store.load(conn)
        if snapshot.version >= self.snapshot.version:
            self._resolver = Resolver(snapshot)
            log.info("registry.loaded", version=snapshot.version, agencies=len(snapshot.agencies))
        async with self._changed:
            self._changed.notify_all()
        return self.snapshot

    async def wait_for(self, version: int, timeout: float = 10.0) -> Snapshot:
        """Wait until the cache holds ``version`` or later (read-your-writes for the writer)."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: self.snapshot.version >= version)
        return self.snapshot

    async def also_listen(self, channel: str, callback: Callable[[object, int, str, object], None]) -> None:
        """LISTEN on ``channel`` too, on the same connection (again after it is re-established):
        one listening connection per process, whoever needs to hear from PostgreSQL."""
        self._channels[channel] = callback
        if self._listener_alive():
            assert self._listener is not None
            await self._listener.add_listener(channel, callback)

    async def _listen(self) -> None:
        self._listener_lost.clear()
        self._listener = await db.connect(self._url)
        self._listener.add_termination_listener(self._on_listener_lost)
        await self._listener.add_listener(history.CHANNEL, self._on_notify)
        for channel, callback in self._channels.items():
            await self._listener.add_listener(channel, callback)

    def _on_listener_lost(self, _conn: object) -> None:
        self._listener_lost.set()

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        if isinstance(payload, str) and payload.isdigit() and int(payload) <= self.snapshot.version:
            return
        self._schedule_reload()

    def _schedule_reload(self) -> None:
        if self._reload_task is not None and not self._reload_task.done():
            self._dirty = True  # the running reload may have read before this change: go again
            return
        self._reload_task = asyncio.create_task(self._reload_until_clean(), name="registry-cache-reload")

    async def _reload_until_clean(self) -> None:
        while True:
            self._dirty = False
            try:
                await self.reload()
            except db.UNAVAILABLE as exc:
                log.warning("registry.reload_failed", error=str(exc))
                await asyncio.sleep(1.0)
                self._dirty = True
            if not self._dirty:
                return

    async def _watch(self) -> None:
        """Reconnect the listener when it drops, and poll the version as a safety net."""
        while not self._closing:
            await self._pause()
            try:
                if not self._listener_alive():
                    await self._listen()
                    log.info("registry.listener_reconnected")
                    self._schedule_reload()
                    continue
                async with self._pool.acquire(timeout=self._acquire_timeout) as conn:
                    version = await history.version(conn)
                if version > self.snapshot.version:
                    self._schedule_reload()
            except db.UNAVAILABLE as exc:
                log.warning("registry.watch_failed", error=str(exc))

    async def _pause(self) -> None:
        """The poll interval, cut short when the listening connection drops: its server may be gone
        for good (a standby was promoted), and notifications are lost until we listen again."""
        if not self._listener_alive():
            await asyncio.sleep(1.0)
            return
        with contextlib.suppress(TimeoutError):  # (not wait_for: it can swallow a cancel on 3.11)
            async with asyncio.timeout(self._poll_seconds):
                await self._listener_lost.wait()

    def _listener_alive(self) -> bool:
        return self._listener is not None and not self._listener.is_closed()
