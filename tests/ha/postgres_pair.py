"""A PostgreSQL primary with a synchronous streaming standby on this machine, beside the main cluster.

The machine's own cluster (15/main, port 5432) is left alone. The pair is two clusters of the same
installation run as the ``postgres`` user, each with a data directory under
``/var/lib/postgresql/axis-ha/``: ``node1`` on port 5441 and ``node2`` on port 5442. Which of them
is the primary is not fixed: after a promotion the roles swap, so every verb asks the servers
(``pg_is_in_recovery()``) rather than trusting a name.

- ``up`` makes ``node1`` with ``initdb`` when there is nothing yet, seeds the other node from the
  primary with ``pg_basebackup`` and waits until ``pg_stat_replication`` shows it as the
  synchronous standby (``synchronous_standby_names = 'axis_standby'``, ``synchronous_commit =
  on``): from then on a commit returns only once the standby has flushed it. A pair already
  running is reused.
- ``kill_primary`` sends SIGKILL to the primary's postmaster (the first line of ``postmaster.pid``).
- ``promote`` is what the operator's tool does when the primary is gone: fence the old primary,
  then ``pg_ctl promote`` the standby.
- ``rebuild`` re-seeds the node that is not the primary as its synchronous standby: the pair again.

Fencing: the old primary is first made certainly dead (SIGKILL if its postmaster still runs), then
a ``standby.signal`` and a ``FENCED`` note are written into its data directory. Whoever starts it
again (a reboot, a careless operator) gets a server in recovery, read-only: clients that ask for
``target_session_attrs=read-write`` pass it by, so there can never be two primaries. ``up`` and
``rebuild`` never start a fenced node; they re-seed it from the new primary (a fresh
``pg_basebackup``: the data here is small; ``pg_rewind`` is the faster way for large data and
needs ``wal_log_hints``, which is on).

A primary killed and not (yet) replaced is simply started again by ``up`` (crash recovery; its
standby reconnects): nothing was promoted, so nothing can diverge.

Settings both nodes share are appended to ``postgresql.conf`` (``pg_basebackup`` copies it); what
differs per node (port, ``cluster_name``, ``synchronous_standby_names``) is in ``node.conf``, which
it includes last and which is rewritten after every copy. The nodes listen on 127.0.0.1 only, with
no Unix socket: this machine's init reaps killed processes late, and a socket lock file naming a
killed postmaster's zombie would keep the node from starting again.

Durability: each node's ``node.conf`` sets ``synchronous_standby_names`` for its role, and a
standby's says ``''``. So a promoted standby accepts commits at once, alone (availability first,
as Patroni's non-strict synchronous mode), until ``rebuild`` gives it a synchronous standby again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

BIN = Path("/usr/lib/postgresql/15/bin")
POSTGRES_USER = "postgres"
DEFAULT_BASE = Path("/var/lib/postgresql/axis-ha")
HOST = "127.0.0.1"
PORTS = (5441, 5442)
STANDBY_NAME = "axis_standby"
FENCED = "FENCED"
Say = Callable[[str], None]

#: Both nodes' postgresql.conf (copied to the standby by pg_basebackup); node.conf comes last.
SETTINGS = f"""
# --- axis-ha (tests/ha/postgres_pair.py) ---
listen_addresses = '{HOST}'
unix_socket_directories = ''  # TCP only: no lock file in /var/run/postgresql naming a killed postmaster
wal_level = replica
max_wal_senders = 5
max_replication_slots = 5
wal_keep_size = '256MB'
hot_standby = on
synchronous_commit = on
wal_log_hints = on
fsync = on
log_line_prefix = '%m [%p] '
include_if_exists = 'node.conf'
"""

HBA = f"""# axis-ha: trust on the loopback only, for clients and for replication
local all all trust
local replication all trust
host all all {HOST}/32 trust
host replication all {HOST}/32 trust
"""


class PairError(RuntimeError):
    """The pair could not be brought to the state asked for; the message says why."""


@dataclass(frozen=True)
class Node:
    name: str  # node1
    port: int
    data: Path

    @property
    def cluster_name(self) -> str:
        """Shown in the process titles (``postgres: axis-ha-node1: …``), so its processes can be found."""
        return f"axis-ha-{self.name}"

    @property
    def log(self) -> Path:
        return self.data.parent / f"{self.name}.log"

    @property
    def fenced(self) -> bool:
        return (self.data / FENCED).exists()

    def pid(self) -> int | None:
        """The postmaster's pid when it runs (a stale ``postmaster.pid`` after a kill says nothing)."""
        try:
            pid = int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None
        return pid if _alive(pid) else None

    def node_conf(self, *, synchronous: bool) -> str:
        names = STANDBY_NAME if synchronous else ""
        return f"port = {self.port}\ncluster_name = '{self.cluster_name}'\nsynchronous_standby_names = '{names}'\n"


@dataclass(frozen=True)
class NodeStatus:
    node: Node
    pid: int | None
    role: str  # primary, standby, down, starting
    fenced: bool

    def line(self) -> str:
        fence = " FENCED" if self.fenced else ""
        return f"{self.node.name:6} port {self.node.port}  {self.role:8} pid {self.pid or '-'}{fence}"


@dataclass(frozen=True)
class Pair:
    base: Path = DEFAULT_BASE

    @property
    def nodes(self) -> tuple[Node, Node]:
        first, second = (Node(f"node{i}", port, self.base / f"node{i}") for i, port in enumerate(PORTS, 1))
        return first, second

    def url(self, database: str = "postgres") -> str:
        """The address the axis is given: both nodes, and only the one that takes writes will do."""
        hosts = ",".join(f"{HOST}:{node.port}" for node in self.nodes)
        return f"postgresql://{POSTGRES_USER}@{hosts}/{database}?target_session_attrs=read-write"

    def other(self, node: Node) -> Node:
        return next(n for n in self.nodes if n != node)


# --- processes --------------------------------------------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    zombie = any(line.startswith("State:") and "Z" in line.split()[1] for line in status.splitlines())
    return not zombie and b"postgres" in cmdline


def _processes_of(node: Node, *, postmaster_only: bool = False) -> list[int]:
    """The node's processes: its postmaster (by its command line, whatever ``postmaster.pid`` says)
    and, unless ``postmaster_only``, the postmaster's children, orphans included (by their title)."""
    title = f"postgres: {node.cluster_name}:".encode()
    postmaster = b"\0-D\0" + str(node.data).encode()
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError):
                cmdline = (proc / "cmdline").read_bytes().rstrip(b"\0")
                ours = cmdline.endswith(postmaster) or (not postmaster_only and cmdline.startswith(title))
                if ours and _alive(int(proc.name)):
                    found.append(int(proc.name))
    return found


def _as_postgres(*command: str, timeout: float = 120) -> str:
    prefix: list[str] = []
    if os.geteuid() == 0:
        prefix = ["runuser", "-u", POSTGRES_USER, "--"]
    elif os.environ.get("USER") != POSTGRES_USER:
        raise PairError(f"run as root or as {POSTGRES_USER}: the clusters belong to {POSTGRES_USER}")
    done = subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=timeout, cwd="/")
    if done.returncode != 0:
        raise PairError(f"{Path(command[0]).name} failed ({done.returncode}): {(done.stderr or done.stdout).strip()}")
    return done.stdout


def query(node: Node, sql: str, *, timeout: float = 10) -> str:
    """One query's text result, as the superuser over TCP (trust)."""
    done = subprocess.run(
        [str(BIN / "psql"), "-X", "-A", "-t", "-h", HOST, "-p", str(node.port), "-U", POSTGRES_USER, "-d", "postgres",
         "-v", "ON_ERROR_STOP=1", "-c", sql],
        capture_output=True, text=True, timeout=timeout, env={**os.environ, "PGCONNECT_TIMEOUT": "3"},
    )  # fmt: skip
    if done.returncode != 0:
        raise PairError(f"{node.name}: {done.stderr.strip()}")
    return done.stdout.strip()


def _write(path: Path, text: str, *, append: bool = False) -> None:
    with path.open("a" if append else "w") as out:
        out.write(text)
    shutil.chown(path, POSTGRES_USER, POSTGRES_USER)


def _until(what: str, check: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise PairError(f"timed out after {timeout:.0f} s waiting until {what}")
        time.sleep(0.1)


def _tail(node: Node, lines: int = 15) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(node.log.read_text(errors="replace").splitlines()[-lines:])
    return "(no log)"


# --- one node ---------------------------------------------------------------------------------------


def role(node: Node) -> str:
    if node.pid() is None:
        return "down"
    try:
        return "standby" if query(node, "SELECT pg_is_in_recovery()", timeout=5) == "t" else "primary"
    except (PairError, subprocess.TimeoutExpired):
        return "starting"


def _start(node: Node) -> None:
    if node.fenced:
        raise PairError(f"{node.name} is fenced (a former primary): rebuild it, never start it as it is")
    if node.pid() is not None:
        return
    try:
        _as_postgres(str(BIN / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(node.data), "-l", str(node.log))
    except PairError as exc:
        raise PairError(f"{exc}\n{_tail(node)}") from None
    _until(f"{node.name} answers", lambda: role(node) in ("primary", "standby"), 30)


def _stop(node: Node, mode: str = "fast") -> None:
    if node.pid() is not None:
        with contextlib.suppress(PairError, subprocess.TimeoutExpired):
            _as_postgres(str(BIN / "pg_ctl"), "stop", "-w", "-t", "30", "-m", mode, "-D", str(node.data), timeout=40)
    _kill(node)


def _kill(node: Node) -> int | None:
    """SIGKILL the postmaster, then wait for its orphans, which leave when they notice it gone."""
    pid = node.pid()
    for each in {pid, *_processes_of(node, postmaster_only=True)} - {None}:
        with contextlib.suppress(ProcessLookupError):
            os.kill(each, signal.SIGKILL)
    _until(f"{node.name}'s postmaster and its orphans are gone", lambda: not _processes_of(node), 10)
    # This machine's init reaps late: PostgreSQL would take the killed postmaster's zombie for a
    # live one and refuse to start on its lock file. Nothing of the node runs now: the file is stale.
    (node.data / "postmaster.pid").unlink(missing_ok=True)
    return pid


def _init_primary(node: Node) -> None:
    node.data.parent.mkdir(parents=True, exist_ok=True)
    shutil.chown(node.data.parent, POSTGRES_USER, POSTGRES_USER)
    _as_postgres(str(BIN / "initdb"), "-D", str(node.data), "-A", "trust", "-U", POSTGRES_USER, "-E", "UTF8")
    _write(node.data / "postgresql.conf", SETTINGS, append=True)
    _write(node.data / "pg_hba.conf", HBA)
    _write(node.data / "node.conf", node.node_conf(synchronous=False))


def _seed_standby(node: Node, primary: Node) -> None:
    """A fresh copy of the primary that follows it under the name the primary waits for."""
    _stop(node, "immediate")
    if node.data.exists():
        shutil.rmtree(node.data)
    conninfo = f"host={HOST} port={primary.port} user={POSTGRES_USER} application_name={STANDBY_NAME}"
    _as_postgres(str(BIN / "pg_basebackup"), "-d", conninfo, "-D", str(node.data), "-R", "-X", "stream", "-c", "fast")
    _write(node.data / "node.conf", node.node_conf(synchronous=False))  # -R wrote primary_conninfo
    _start(node)


def _synchronous(primary: Node) -> bool:
    sql = f"SELECT sync_state FROM pg_stat_replication WHERE application_name = '{STANDBY_NAME}'"
    with contextlib.suppress(PairError, subprocess.TimeoutExpired):
        return query(primary, sql) == "sync"
    return False


# --- the pair ---------------------------------------------------------------------------------------


def status(pair: Pair) -> list[NodeStatus]:
    return [NodeStatus(node, node.pid(), role(node), node.fenced) for node in pair.nodes]


def primary_of(pair: Pair) -> Node | None:
    primaries = [s.node for s in status(pair) if s.role == "primary"]
    if len(primaries) > 1:
        raise PairError("two primaries: the pair is split; `down --wipe` and `up` again")
    return primaries[0] if primaries else None


def up(pair: Pair = Pair(), say: Say = lambda _: None) -> Node:
    """The pair running with a synchronous standby: made, started or repaired as needed; the primary."""
    first = pair.nodes[0]
    if not (first.data / "PG_VERSION").exists() and not (pair.nodes[1].data / "PG_VERSION").exists():
        say(f"initdb {first.name} (port {first.port})")
        _init_primary(first)
    for node in pair.nodes:
        if (node.data / "PG_VERSION").exists() and not node.fenced and node.pid() is None:
            say(f"starting {node.name}")
            _start(node)
    primary = primary_of(pair)
    if primary is None:
        raise PairError("no primary: `promote` the standby, or `down --wipe` and `up` again")
    standby = pair.other(primary)
    if role(standby) == "standby" and not standby.fenced:
        with contextlib.suppress(PairError):
            _until("the standby is synchronous", lambda: _synchronous(primary), 15)
    if not _synchronous(primary):
        rebuild(pair, say)
    return primary


def rebuild(pair: Pair = Pair(), say: Say = lambda _: None) -> Node:
    """Re-seed the node that is not the primary as its synchronous standby; the primary."""
    primary = primary_of(pair)
    if primary is None:
        raise PairError("no primary to rebuild a standby from")
    standby = pair.other(primary)
    say(f"pg_basebackup {standby.name} from {primary.name} (port {primary.port})")
    started = time.monotonic()
    _seed_standby(standby, primary)
    _write(primary.data / "node.conf", primary.node_conf(synchronous=True))
    query(primary, "SELECT pg_reload_conf()")
    _until(f"{standby.name} is the synchronous standby of {primary.name}", lambda: _synchronous(primary), 60)
    say(f"{standby.name} streams synchronously from {primary.name} ({time.monotonic() - started:.1f} s)")
    return primary


def down(pair: Pair = Pair(), *, wipe: bool = False, say: Say = lambda _: None) -> None:
    for node in pair.nodes:
        if node.pid() is not None:
            say(f"stopping {node.name}")
        _stop(node)
    if wipe and pair.base.exists():
        say(f"removing {pair.base}")
        shutil.rmtree(pair.base)


def kill_primary(pair: Pair = Pair(), say: Say = lambda _: None) -> Node:
    """SIGKILL the primary's postmaster (its pid: the first line of postmaster.pid); the node killed."""
    primary = primary_of(pair)
    if primary is None:
        raise PairError("no primary is running")
    pid = _kill(primary)
    say(f"killed {primary.name}'s postmaster (pid {pid}) with SIGKILL")
    return primary


def fence(node: Node, *, promoted: Node, say: Say = lambda _: None) -> None:
    """Make sure ``node`` is dead, and can only ever come back read-only (in recovery)."""
    if node.pid() is not None:
        say(f"{node.name} still runs: SIGKILL (shoot the other node before promoting)")
    _kill(node)
    if (node.data / "PG_VERSION").exists():
        _write(node.data / "standby.signal", "")
        when = f"{dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%SZ}"
        _write(node.data / FENCED, f"Fenced {when}: {promoted.name} was promoted. Rebuild this node.\n")
    say(f"fenced {node.name}: standby.signal and {FENCED} in {node.data}")


def promote(pair: Pair = Pair(), say: Say = lambda _: None) -> Node:
    """Fail over: fence the old primary, promote the standby; the new primary."""
    standbys = [s.node for s in status(pair) if s.role == "standby" and not s.fenced]
    if not standbys:
        raise PairError("no running standby to promote")
    standby = standbys[0]
    fence(pair.other(standby), promoted=standby, say=say)
    started = time.monotonic()
    _as_postgres(str(BIN / "pg_ctl"), "promote", "-w", "-t", "60", "-D", str(standby.data))
    _until(f"{standby.name} takes writes", lambda: role(standby) == "primary", 60)
    say(f"promoted {standby.name} (port {standby.port}) in {time.monotonic() - started:.1f} s")
    return standby
