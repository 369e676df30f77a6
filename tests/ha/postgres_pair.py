"""A PostgreSQL primary with a synchronous streaming standby on this machine, kept by Patroni.

The machine's own cluster (15/main, port 5432) is left alone. The pair is what an operator runs in
production, made small: one etcd (the distributed configuration store Patroni keeps its leader
key in; ports 2479/2480) and two Patroni members, each running one PostgreSQL 15 of the machine's
installation as the ``postgres`` user, everything under ``/var/lib/postgresql/axis-ha/``:

- ``node1``: PostgreSQL on 5441, Patroni's REST API on 8441; ``node2``: 5442 and 8442.
- Patroni bootstraps the first member with ``initdb`` and makes the other with ``pg_basebackup``.
  ``synchronous_mode`` makes it name the streaming standby in ``synchronous_standby_names``, so a
  commit returns only once the standby has flushed it, and lets only that standby be promoted:
  nothing the axis was told is committed can be lost by a failover.
- When the primary's machine dies (``kill_primary`` SIGKILLs its Patroni and its postmaster),
  the leader key in etcd expires after ``TTL`` seconds and the standby's Patroni promotes it: the
  detection and the promotion are Patroni's, not a script's. ``await_failover`` only watches.
- Fencing is Patroni's too: a member that comes back finds the leader key held by the other, so
  it never starts as a primary; it rewinds its data with ``pg_rewind`` (``wal_log_hints`` on) and
  follows the new primary as its synchronous standby. ``up`` starts what is not running, which is
  how the killed node rejoins.
- Non-strict synchronous mode: when the standby dies, Patroni drops it from
  ``synchronous_standby_names`` and the primary goes on alone (availability first) rather than
  making every commit wait; ``synchronous_mode_strict`` is the other choice (docs/operations.md).

Which node is the primary is not fixed: every verb asks the servers (``pg_is_in_recovery()``).
The timings (``TTL`` 10 s, ``LOOP_WAIT`` 1 s) are shorter than Patroni's defaults (30 s, 10 s) so
a rehearsal's failover takes seconds; production keeps the defaults and a watchdog (off here: no
``/dev/watchdog`` in this machine's sandbox). The nodes listen on 127.0.0.1 only, with no Unix
socket: this machine's init reaps killed processes late, and a socket lock file naming a killed
postmaster's zombie would keep the node from starting again.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BIN = Path("/usr/lib/postgresql/15/bin")
PATRONI = Path("/usr/bin/patroni")
ETCD = Path("/usr/bin/etcd")
POSTGRES_USER = "postgres"
DEFAULT_BASE = Path("/var/lib/postgresql/axis-ha")
HOST = "127.0.0.1"
PORTS = (5441, 5442)
REST_PORTS = (8441, 8442)
ETCD_CLIENT, ETCD_PEER = 2479, 2480
SCOPE = "axis-ha"
TTL, LOOP_WAIT, RETRY_TIMEOUT = 10, 1, 3  # loop_wait + 2 * retry_timeout <= ttl, as Patroni requires
Say = Callable[[str], None]

#: PostgreSQL's settings on both members (Patroni writes postgresql.conf from them).
PARAMETERS = {
    "unix_socket_directories": "",  # TCP only: no lock file in /var/run/postgresql naming a killed postmaster
    "wal_level": "replica",
    "hot_standby": "on",
    "wal_log_hints": "on",  # pg_rewind, so that a former primary rejoins without a full copy
    "max_wal_senders": 5,
    "max_replication_slots": 5,
    "wal_keep_size": "256MB",
    "synchronous_commit": "on",
    "fsync": "on",
    "log_line_prefix": "%m [%p] ",
}

HBA = [
    "local all all trust",
    "local replication all trust",
    f"host all all {HOST}/32 trust",
    f"host replication all {HOST}/32 trust",
]


class PairError(RuntimeError):
    """The pair could not be brought to the state asked for; the message says why."""


@dataclass(frozen=True)
class Node:
    name: str  # node1: also its Patroni member name and its application_name on the primary
    port: int
    rest_port: int
    data: Path

    @property
    def config(self) -> Path:
        return self.data.parent / f"{self.name}.yml"

    @property
    def log(self) -> Path:
        """Patroni's log, and the PostgreSQL server's (Patroni passes its output through)."""
        return self.data.parent / f"{self.name}.log"

    @property
    def rest(self) -> str:
        return f"http://{HOST}:{self.rest_port}"

    def pid(self) -> int | None:
        """The postmaster's pid when it runs (a stale ``postmaster.pid`` after a kill says nothing)."""
        try:
            pid = int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None
        return pid if _alive(pid, b"postgres") else None

    def patroni_pid(self) -> int | None:
        found = _find(lambda argv: len(argv) >= 2 and argv[-2].endswith(b"patroni") and argv[-1] == bytes(self.config))
        return found[0] if found else None

    def settings(self, base: Path) -> dict[str, Any]:
        """This member's Patroni configuration (JSON is YAML)."""
        return {
            "scope": SCOPE,
            "name": self.name,
            "log": {"level": "INFO"},
            "restapi": {"listen": f"{HOST}:{self.rest_port}", "connect_address": f"{HOST}:{self.rest_port}"},
            "etcd3": {"hosts": f"{HOST}:{ETCD_CLIENT}"},
            "watchdog": {"mode": "off"},  # production: "required", with the softdog module loaded
            "bootstrap": {
                "dcs": {
                    "ttl": TTL,
                    "loop_wait": LOOP_WAIT,
                    "retry_timeout": RETRY_TIMEOUT,
                    "maximum_lag_on_failover": 0,
                    "synchronous_mode": True,
                    "synchronous_mode_strict": False,
                    "postgresql": {"use_pg_rewind": True, "use_slots": True, "parameters": PARAMETERS},
                },
                "initdb": [{"encoding": "UTF8"}, {"auth": "trust"}],
            },
            "postgresql": {
                "listen": f"{HOST}:{self.port}",
                "connect_address": f"{HOST}:{self.port}",
                "data_dir": str(self.data),
                "bin_dir": str(BIN),
                "pgpass": str(base / f"{self.name}.pgpass"),
                "pg_hba": HBA,
                "authentication": {
                    "superuser": {"username": POSTGRES_USER},
                    "replication": {"username": POSTGRES_USER},
                    "rewind": {"username": POSTGRES_USER},
                },
                "parameters": {"unix_socket_directories": ""},
            },
        }


@dataclass(frozen=True)
class NodeStatus:
    node: Node
    pid: int | None
    role: str  # primary, standby, down, starting
    patroni: int | None
    synchronous: bool

    def line(self) -> str:
        sync = " (synchronous)" if self.synchronous else ""
        return (
            f"{self.node.name:6} port {self.node.port}  {self.role:8} pid {self.pid or '-':<7} "
            f"patroni {self.patroni or 'down'}{sync}"
        )


@dataclass(frozen=True)
class Pair:
    base: Path = DEFAULT_BASE

    @property
    def nodes(self) -> tuple[Node, Node]:
        first, second = (
            Node(f"node{i}", port, rest, self.base / f"node{i}")
            for i, (port, rest) in enumerate(zip(PORTS, REST_PORTS, strict=True), 1)
        )
        return first, second

    @property
    def etcd_data(self) -> Path:
        return self.base / "etcd"

    def url(self, database: str = "postgres") -> str:
        """The address the axis is given: both nodes, and only the one that takes writes will do."""
        hosts = ",".join(f"{HOST}:{node.port}" for node in self.nodes)
        return f"postgresql://{POSTGRES_USER}@{hosts}/{database}?target_session_attrs=read-write"

    def other(self, node: Node) -> Node:
        return next(n for n in self.nodes if n != node)


# --- processes --------------------------------------------------------------------------------------


def _argv(pid: int) -> list[bytes] | None:
    """A live process's command line (None when it is gone or a zombie, which init reaps late here)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    zombie = any(line.startswith("State:") and "Z" in line.split()[1] for line in status.splitlines())
    return None if zombie or not cmdline else cmdline.rstrip(b"\0").split(b"\0")


def _alive(pid: int, marker: bytes) -> bool:
    argv = _argv(pid)
    return argv is not None and any(marker in arg for arg in argv)


def _find(match: Callable[[list[bytes]], bool]) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and (argv := _argv(int(proc.name))) is not None and match(argv):
            found.append(int(proc.name))
    return found


def _processes_of(node: Node, *, postmaster_only: bool = False) -> list[int]:
    """The node's postmaster (by its ``-D``) and, unless ``postmaster_only``, its children, orphans
    included: both members' children carry the title ``postgres: axis-ha: …`` (Patroni names the
    cluster after its scope), so they are told apart by their working directory, the data directory."""
    postmasters = _find(lambda argv: argv[0].endswith(b"postgres") and bytes(node.data) in argv)
    if postmaster_only:
        return postmasters
    children = _find(lambda argv: argv[0].startswith(f"postgres: {SCOPE}:".encode()))
    return postmasters + [pid for pid in children if _works_in(pid, node.data)]


def _works_in(pid: int, directory: Path) -> bool:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cwd").resolve() == directory.resolve()
    return False


def _spawn(command: list[str], log: Path, base: Path) -> None:
    """Start a daemon as ``postgres`` in a session of its own, its output appended to ``log``."""
    as_root = os.geteuid() == 0
    if not as_root and os.environ.get("USER") != POSTGRES_USER:
        raise PairError(f"run as root or as {POSTGRES_USER}: the pair belongs to {POSTGRES_USER}")
    with log.open("a") as out:
        if as_root:
            shutil.chown(log, POSTGRES_USER, POSTGRES_USER)
        subprocess.run(
            ["setsid", "--fork", *command],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, cwd=base, check=True,
            user=POSTGRES_USER if as_root else None, group=POSTGRES_USER if as_root else None,
            env={"PATH": "/usr/bin:/bin", "HOME": str(base), "LANG": "C.UTF-8"},
        )  # fmt: skip


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


def _http(url: str, body: dict[str, Any] | None = None, timeout: float = 5) -> tuple[int, str]:
    request = urllib.request.Request(
        url,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="GET" if body is None else "POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _until(what: str, check: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise PairError(f"timed out after {timeout:.0f} s waiting until {what}")
        time.sleep(0.1)


def _tail(path: Path, lines: int = 15) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return "(no log)"


# --- etcd -------------------------------------------------------------------------------------------


def _etcd_pid(pair: Pair) -> int | None:
    found = _find(lambda argv: argv[0].endswith(b"etcd") and bytes(pair.etcd_data) in argv)
    return found[0] if found else None


def _etcd_healthy() -> bool:
    with contextlib.suppress(OSError, ValueError):
        status, body = _http(f"http://{HOST}:{ETCD_CLIENT}/health", timeout=2)
        return status == 200 and json.loads(body).get("health") == "true"
    return False


def _start_etcd(pair: Pair, say: Say) -> None:
    if _etcd_pid(pair) is None:
        say(f"starting etcd (client port {ETCD_CLIENT})")
        peer, client = f"http://{HOST}:{ETCD_PEER}", f"http://{HOST}:{ETCD_CLIENT}"
        _spawn(
            [str(ETCD), "--name", SCOPE, "--data-dir", str(pair.etcd_data),
             "--listen-client-urls", client, "--advertise-client-urls", client,
             "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
             "--initial-cluster", f"{SCOPE}={peer}"],
            pair.base / "etcd.log", pair.base,
        )  # fmt: skip
    try:
        _until("etcd is healthy", _etcd_healthy, 30)
    except PairError as error:
        raise PairError(f"{error}\n{_tail(pair.base / 'etcd.log')}") from None


# --- one node ---------------------------------------------------------------------------------------


def role(node: Node) -> str:
    if node.pid() is None:
        return "down"
    try:
        return "standby" if query(node, "SELECT pg_is_in_recovery()", timeout=5) == "t" else "primary"
    except (PairError, subprocess.TimeoutExpired):
        return "starting"


def _start_patroni(pair: Pair, node: Node, say: Say) -> None:
    if node.patroni_pid() is not None:
        return
    if node.pid() is None:
        # This machine's init reaps late: Patroni and PostgreSQL would take a killed postmaster's
        # zombie for a live one. Nothing of the node runs now: the lock file is stale.
        (node.data / "postmaster.pid").unlink(missing_ok=True)
    node.config.write_text(json.dumps(node.settings(pair.base), indent=2) + "\n")
    if os.geteuid() == 0:
        shutil.chown(node.config, POSTGRES_USER, POSTGRES_USER)
    say(f"starting Patroni for {node.name} (PostgreSQL {node.port}, REST {node.rest_port})")
    _spawn([str(PATRONI), str(node.config)], node.log, pair.base)


def _kill(node: Node) -> int | None:
    """SIGKILL the postmaster, then wait for its orphans, which leave when they notice it gone."""
    pid = node.pid()
    for each in {pid, *_processes_of(node, postmaster_only=True)} - {None}:
        with contextlib.suppress(ProcessLookupError):
            os.kill(each, signal.SIGKILL)
    _until(f"{node.name}'s postmaster and its orphans are gone", lambda: not _processes_of(node), 15)
    (node.data / "postmaster.pid").unlink(missing_ok=True)  # stale: see _start_patroni
    return pid


# --- the pair ---------------------------------------------------------------------------------------


def members(pair: Pair) -> dict[str, dict[str, Any]]:
    """Patroni's view of the cluster (``GET /cluster`` from any member that answers), by name."""
    for node in pair.nodes:
        with contextlib.suppress(OSError, ValueError):
            status, body = _http(node.rest + "/cluster", timeout=2)
            if status == 200:
                return {m["name"]: m for m in json.loads(body).get("members", [])}
    return {}


def _whole(pair: Pair) -> bool:
    """A running leader and a running synchronous standby, which the primary itself confirms."""
    roles = {m.get("role"): m for m in members(pair).values() if m.get("state") in ("running", "streaming")}
    if "leader" not in roles or "sync_standby" not in roles:
        return False
    primary = next(n for n in pair.nodes if n.name == roles["leader"]["name"])
    sql = "SELECT application_name, sync_state FROM pg_stat_replication WHERE sync_state = 'sync'"
    with contextlib.suppress(PairError, subprocess.TimeoutExpired):
        return query(primary, sql) == f"{roles['sync_standby']['name']}|sync"
    return False


def status(pair: Pair) -> list[NodeStatus]:
    sync = {name for name, m in members(pair).items() if m.get("role") == "sync_standby"}
    return [NodeStatus(n, n.pid(), role(n), n.patroni_pid(), n.name in sync) for n in pair.nodes]


def primary_of(pair: Pair) -> Node | None:
    primaries = [s.node for s in status(pair) if s.role == "primary"]
    if len(primaries) > 1:
        raise PairError("two primaries: the pair is split; `down --wipe` and `up` again")
    return primaries[0] if primaries else None


def up(pair: Pair = Pair(), say: Say = lambda _: None) -> Node:
    """The pair running with a synchronous standby: made, started or rejoined as needed; the primary.

    A member whose Patroni is down (killed, stopped) is started: it rejoins as the standby."""
    if not PATRONI.exists() or not ETCD.exists():
        raise PairError("Patroni and etcd are not installed: apt-get install patroni etcd-server")
    pair.base.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(pair.base, POSTGRES_USER, POSTGRES_USER)
        pair.base.chmod(0o700)
    _start_etcd(pair, say)
    began = time.monotonic()
    first = pair.nodes[0]
    if not any((node.data / "PG_VERSION").exists() for node in pair.nodes):
        _start_patroni(pair, first, say)  # the first bootstraps (initdb) and leads
        _until_or_log(pair, f"{first.name} is the primary", lambda: role(first) == "primary", 90)
    for node in pair.nodes:
        _start_patroni(pair, node, say)
    _until_or_log(pair, "there is a primary and its synchronous standby", lambda: _whole(pair), 120)
    primary = primary_of(pair)
    if primary is None:
        raise PairError("Patroni reports a leader but no node takes writes")
    say(f"{primary.name} is the primary, {pair.other(primary).name} its synchronous standby "
        f"({time.monotonic() - began:.1f} s)")  # fmt: skip
    return primary


def _until_or_log(pair: Pair, what: str, check: Callable[[], bool], timeout: float) -> None:
    try:
        _until(what, check, timeout)
    except PairError as error:
        logs = "\n".join(f"--- {n.log}\n{_tail(n.log)}" for n in pair.nodes)
        raise PairError(f"{error}\n{logs}") from None


def down(pair: Pair = Pair(), *, wipe: bool = False, say: Say = lambda _: None) -> None:
    """Stop both members (Patroni stops its PostgreSQL on SIGTERM) and etcd; ``wipe`` removes the data."""
    for node in pair.nodes:
        if (pid := node.patroni_pid()) is not None:
            say(f"stopping {node.name}")
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
    with contextlib.suppress(PairError):
        _until("the Patroni members stopped", lambda: all(n.patroni_pid() is None for n in pair.nodes), 30)
    for node in pair.nodes:  # whatever is still running now is killed
        if (pid := node.patroni_pid()) is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if node.pid() is not None or _processes_of(node):
            with contextlib.suppress(PairError, subprocess.SubprocessError):
                subprocess.run(
                    [str(BIN / "pg_ctl"), "stop", "-w", "-t", "20", "-m", "fast", "-D", str(node.data)],
                    capture_output=True, timeout=30, user=POSTGRES_USER if os.geteuid() == 0 else None,
                )  # fmt: skip
            _kill(node)
    if (pid := _etcd_pid(pair)) is not None:
        say("stopping etcd")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        with contextlib.suppress(PairError):
            _until("etcd stopped", lambda: _etcd_pid(pair) is None, 15)
        if (pid := _etcd_pid(pair)) is not None:
            os.kill(pid, signal.SIGKILL)
    if wipe and pair.base.exists():
        say(f"removing {pair.base}")
        shutil.rmtree(pair.base)


def kill(node: Node, say: Say = lambda _: None) -> None:
    """The node's machine dies: SIGKILL its Patroni, then its postmaster (Patroni would restart it)."""
    patroni = node.patroni_pid()
    if patroni is not None:
        os.kill(patroni, signal.SIGKILL)
    pid = _kill(node)
    say(f"killed {node.name}: Patroni (pid {patroni}) and its postmaster (pid {pid}) with SIGKILL")


def kill_primary(pair: Pair = Pair(), say: Say = lambda _: None) -> Node:
    """The primary's machine dies; the node killed."""
    primary = primary_of(pair)
    if primary is None:
        raise PairError("no primary is running")
    kill(primary, say)
    return primary


def await_failover(pair: Pair, say: Say = lambda _: None) -> Node:
    """Wait for Patroni to promote the standby after the primary died; the new primary. Patroni
    acts once the dead leader's key expires in etcd (``TTL``) and its next loop comes."""
    started = time.monotonic()
    _until_or_log(pair, "Patroni promotes the standby", lambda: primary_of(pair) is not None, TTL * 3 + 30)
    new = primary_of(pair)
    assert new is not None
    say(f"Patroni promoted {new.name} (port {new.port}) {time.monotonic() - started:.1f} s later")
    return new


def switchover(pair: Pair = Pair(), say: Say = lambda _: None) -> Node:
    """A planned switchover through Patroni's REST API (no data lost, no TTL to wait); the new primary."""
    up(pair, say)
    old = primary_of(pair)
    if old is None:
        raise PairError("no primary to switch over from")
    new = pair.other(old)
    status, body = _http(old.rest + "/switchover", {"leader": old.name, "candidate": new.name}, timeout=60)
    if status != 200:
        raise PairError(f"Patroni refused the switchover ({status}): {body.strip()}")
    _until_or_log(pair, f"{new.name} leads with {old.name} as its synchronous standby", lambda: _whole(pair), 90)
    say(f"switched over: {new.name} is the primary")
    return new
