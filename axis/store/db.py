"""Connection pools and the database itself.

asyncpg decodes ``jsonb`` to text by default; the pool registers JSON codecs so that history rows
round-trip as Python values, and every connection runs in UTC so that timestamps never depend on
the server's zone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from axis.config import redact_url
from axis.errors import AxisError

#: A connection of its own or one borrowed from a pool: every query function accepts both.
if TYPE_CHECKING:
    Conn: TypeAlias = asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]
else:
    Conn = asyncpg.Connection | PoolConnectionProxy


async def _init_connection(conn: asyncpg.Connection[asyncpg.Record]) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(
            name, encoder=lambda v: json.dumps(v, ensure_ascii=False), decoder=json.loads, schema="pg_catalog"
        )


#: What a database that is down, restarting, unreachable or out of connections raises: the one
#: decision of "unavailable" that every interface maps alike (HTTP 503 with Retry-After, AMQP
#: requeue, the CLI's message). A SQL error (a bug, a constraint) is not among them: it is a 500
#: over HTTP and is not retried over AMQP. asyncpg's InternalClientError is: a pooled connection that
#: got the server's shutdown notice while idle fails its next query with it ("another operation is
#: in progress") before asyncpg has seen the socket close. So is a transaction PostgreSQL rolled
#: back to break a deadlock (class 40): the same request a moment later succeeds. Statements that
#: lock several deliveries lock them in one order (``axis.exchange.deliveries``) so that this stays
#: rare, but a 500 for it would tell a client its request was wrong when it only needs repeating.
UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,  # ConnectionError among them
    TimeoutError,  # no connection lent within the acquire timeout
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,  # admin or crash shutdown, cannot connect now
    asyncpg.TooManyConnectionsError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.exceptions.TransactionRollbackError,  # a deadlock or serialization failure: try again
)


async def _rolled_back_only(conn: asyncpg.Connection[asyncpg.Record]) -> None:
    """The pool's reset when a connection comes back: nothing beyond asyncpg's own rollback.

    asyncpg's default reset sends ``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL``,
    one more round trip per borrowed connection (a third of all statements under load). Pool
    users here keep no session state (advisory locks are transaction-scoped, LISTEN has its own
    connection, cursors live inside transactions, ``SET`` is ``SET CONSTRAINTS`` or ``SET LOCAL``), and asyncpg
    still rolls back a transaction left open before this is called.
    """


#: Every connection's settings. ``jit`` off: PostgreSQL compiles a query to machine code when its
#: estimated cost passes ``jit_above_cost`` (100,000), which a search over a big system's history
#: does once the tables hold a year. The axis's queries run in milliseconds and compiling takes ~10
#: (bench_scale's kept database: a page of received documents 10.8 ms, 9.3 of them compiling).
#: JIT pays for analytical queries that run for seconds; the axis runs none.
SERVER_SETTINGS = {"timezone": "UTC", "jit": "off"}


async def connect(url: str, **options: Any) -> asyncpg.Connection[asyncpg.Record]:
    """One connection (for LISTEN, migrations and CLI one-offs)."""
    conn: asyncpg.Connection[asyncpg.Record] = await asyncpg.connect(url, server_settings=SERVER_SETTINGS, **options)
    await _init_connection(conn)
    return conn


async def create_pool(url: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool[asyncpg.Record]:
    pool = await asyncpg.create_pool(
        url,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=_rolled_back_only,
        server_settings=SERVER_SETTINGS,
    )
    assert pool is not None
    return pool


async def ping(conn: Conn, *, timeout: float) -> None:
    """The round trip the readiness probe makes: PostgreSQL answers, within ``timeout``."""
    await conn.fetchval("SELECT 1", timeout=timeout)


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/") or "postgres"


def with_database(url: str, name: str) -> str:
    """The same server URL pointing at another database."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


async def ensure_database(url: str) -> bool:
    """Create the database named in ``url`` when it does not exist; True when it was created.

    Lets ``axis db migrate`` (and the demo) start from an empty server.
    """
    name = database_name(url)
    try:
        admin = await asyncpg.connect(with_database(url, "postgres"))
    except (OSError, asyncpg.PostgresError, asyncpg.InternalClientError) as exc:  # (no host takes writes)
        raise AxisError("config.invalid", f"Cannot reach PostgreSQL at {redact_url(url)}: {exc}") from None
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists:
            return False
        await admin.execute(f'CREATE DATABASE "{name}"')
        await _replayed_by_standbys(admin)
        return True
    finally:
        await admin.close()


async def _replayed_by_standbys(admin: asyncpg.Connection[asyncpg.Record], timeout: float = 10.0) -> None:
    """Wait (a while) until the streaming standbys have replayed what the primary has written.

    With a multi-host URL (``…@127.0.0.1:5441,127.0.0.1:5442/axis?target_session_attrs=read-write``)
    asyncpg passes over a host it cannot reach or that is read-only, but gives up at the first host
    that refuses the login, and a standby refuses a database it has not replayed yet ("does not
    exist"): a synchronous commit is on the standby's disk, not yet in its catalogue. Without
    standbys this is two queries; a standby this role may not look into, or one lagging more than
    ``timeout``, is not waited for.
    """
    lsn = await admin.fetchval("SELECT pg_current_wal_lsn()::text")
    behind = "SELECT count(*) FROM pg_stat_replication WHERE replay_lsn < $1::text::pg_lsn"
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            while await admin.fetchval(behind, lsn):
                await asyncio.sleep(0.02)


def contains(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, with LIKE's own wildcards escaped."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
