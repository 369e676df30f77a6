"""A three-node RabbitMQ cluster on this machine, beside the node it already runs.

Debian's ``rabbitmq-server`` runs one node, ``rabbit@localhost`` (AMQP 5672); it is left alone.
The nodes here, ``axis-ha-1..3@localhost``, run the same installation as the ``rabbitmq`` user
(so they share its Erlang cookie with ``rabbitmqctl``) with their own ports and a directory each
under ``/var/lib/rabbitmq/axis-ha/<node>/``: configuration, enabled plugins (management), data
(mnesia), logs and pid file. ``up`` starts them, waits until each answers and joins 2 and 3 to 1;
the other verbs stop, kill -9 and restart single nodes, which is what the fault suite needs.

Layout (``Node``, ``Cluster``, the file texts, the environment) is pure; the rest runs
``rabbitmqctl`` and reads epmd. Every failure is a ``ClusterError`` saying why, with the tail of
the node's logs when a node would not start.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

RABBITMQ_USER = "rabbitmq"
#: The rabbitmq user's home: its Erlang cookie (.erlang.cookie) is the one rabbitmqctl uses too.
RABBITMQ_HOME = Path("/var/lib/rabbitmq")
#: The real scripts; /usr/sbin's wrappers would `su` through a shell and drop our environment.
SCRIPTS = Path("/usr/lib/rabbitmq/bin")
DEFAULT_BASE = RABBITMQ_HOME / "axis-ha"
#: Clear of the machine's own node (5672, 15672, 25672) and of rabbitmqctl's 35672-35682.
AMQP_PORT, MANAGEMENT_PORT, DIST_PORT = 5681, 15681, 25681
HOST = "127.0.0.1"
EPMD_PORT = 4369
Say = Callable[[str], None]


class ClusterError(RuntimeError):
    """The cluster could not be brought to the state asked for; the message says why."""


@dataclass(frozen=True)
class Node:
    """One extra node: its name, its three ports and its directory."""

    name: str  # axis-ha-1@localhost
    amqp_port: int
    management_port: int
    dist_port: int
    home: Path  # <base>/axis-ha-1

    @property
    def short(self) -> str:
        return self.name.split("@")[0]

    @property
    def config_file(self) -> Path:
        return self.home / "rabbitmq.conf"

    @property
    def env_file(self) -> Path:
        return self.home / "rabbitmq-env.conf"

    @property
    def plugins_file(self) -> Path:
        return self.home / "enabled_plugins"

    @property
    def pid_file(self) -> Path:
        return self.home / "node.pid"

    @property
    def mnesia_base(self) -> Path:
        return self.home / "mnesia"

    @property
    def log_base(self) -> Path:
        return self.home / "log"

    @property
    def startup_log(self) -> Path:
        """What the node prints before its own log is open (e.g. a configuration it cannot read)."""
        return self.log_base / "startup.log"

    def amqp_url(self, vhost: str = "/") -> str:
        return f"amqp://guest:guest@{HOST}:{self.amqp_port}/{quote(vhost, safe='')}"

    @property
    def management_url(self) -> str:
        return f"http://guest:guest@{HOST}:{self.management_port}"


@dataclass(frozen=True)
class Cluster:
    """The extra nodes; the first is the one the others join."""

    nodes: tuple[Node, ...]
    base: Path

    @classmethod
    def default(
        cls,
        *,
        size: int = 3,
        base: Path | None = None,
        amqp_port: int | None = None,
        management_port: int | None = None,
        dist_port: int | None = None,
        environ: Mapping[str, str] = os.environ,
    ) -> Cluster:
        """Node i gets the ports first+i-1; AXIS_HA_BASE and AXIS_HA_{AMQP,MANAGEMENT,DIST}_PORT override."""
        base = base or Path(environ.get("AXIS_HA_BASE", str(DEFAULT_BASE)))
        amqp = amqp_port or int(environ.get("AXIS_HA_AMQP_PORT", AMQP_PORT))
        management = management_port or int(environ.get("AXIS_HA_MANAGEMENT_PORT", MANAGEMENT_PORT))
        dist = dist_port or int(environ.get("AXIS_HA_DIST_PORT", DIST_PORT))
        nodes = tuple(
            Node(f"axis-ha-{i + 1}@localhost", amqp + i, management + i, dist + i, base / f"axis-ha-{i + 1}")
            for i in range(size)
        )
        return cls(nodes, base)

    def node(self, name: str) -> Node:
        """A node by its full name, short name (``axis-ha-2``) or number (``2``)."""
        for number, node in enumerate(self.nodes, 1):
            if name in (node.name, node.short, str(number)):
                return node
        raise ClusterError(f"no node {name!r}; the nodes are {', '.join(n.short for n in self.nodes)}")

    def amqp_urls(self, vhost: str = "/") -> str:
        """Every node's AMQP URL, comma-separated, as AXIS_AMQP_URL takes them."""
        return ",".join(node.amqp_url(vhost) for node in self.nodes)

    @property
    def management_urls(self) -> str:
        return ",".join(node.management_url for node in self.nodes)


def config_text(node: Node) -> str:
    """The node's rabbitmq.conf. Both listeners on loopback only, as the machine's own node."""
    return (
        f"listeners.tcp.1 = {HOST}:{node.amqp_port}\n"
        f"management.tcp.ip = {HOST}\n"
        f"management.tcp.port = {node.management_port}\n"
        # A node that sees fewer than half the cluster pauses (closes its listeners) rather than
        # carrying on alone: clients move to the majority, and after a partition heals the
        # minority rejoins by itself instead of leaving the metadata split until someone
        # restarts it (the default, `ignore`). Quorum queues need a majority anyway.
        "cluster_partition_handling = pause_minority\n"
        # The node's own log file is enough; the console (our startup.log) keeps what comes before it.
        "log.console = false\n"
        # guest may connect from 127.0.0.1 only: RabbitMQ's default, said aloud.
        "loopback_users.guest = true\n"
    )


def plugins_text() -> str:
    return "[rabbitmq_management].\n"


def environment(node: Node) -> dict[str, str]:
    """The whole environment of the node's scripts (nothing inherited from the caller)."""
    return {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": str(RABBITMQ_HOME),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        # Instead of /etc/rabbitmq/rabbitmq-env.conf, whose NODENAME is the machine's node. The
        # environment's RABBITMQ_NODENAME wins over a file's NODENAME anyway (tried on 3.10.8), but
        # nothing of that node's settings should reach these; the node's own file says the same.
        "RABBITMQ_CONF_ENV_FILE": str(node.env_file),
        "RABBITMQ_NODENAME": node.name,
        "RABBITMQ_NODE_IP_ADDRESS": HOST,
        "RABBITMQ_NODE_PORT": str(node.amqp_port),
        "RABBITMQ_DIST_PORT": str(node.dist_port),
        "RABBITMQ_MNESIA_BASE": str(node.mnesia_base),
        "RABBITMQ_LOG_BASE": str(node.log_base),
        "RABBITMQ_PID_FILE": str(node.pid_file),
        "RABBITMQ_CONFIG_FILE": str(node.config_file),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(node.plugins_file),
        # As /etc/rabbitmq/rabbitmq-env.conf does for the machine's node: Erlang distribution on loopback.
        "ERL_EPMD_ADDRESS": HOST,
        "ERL_FLAGS": "-kernel inet_dist_use_interface {127,0,0,1}",
    }


def env_file_text(node: Node) -> str:
    """The node's rabbitmq-env.conf: the same settings, so that the scripts see one story."""
    lines = [f"# {node.name}: written by tests/ha/rabbitmq_cluster.py"]
    for key, value in environment(node).items():
        if key.startswith("RABBITMQ_") and key != "RABBITMQ_CONF_ENV_FILE":
            lines.append(f"{key.removeprefix('RABBITMQ_')}={value}")
    lines += [f"ERL_EPMD_ADDRESS={HOST}", 'export ERL_FLAGS="-kernel inet_dist_use_interface {127,0,0,1}"']
    return "\n".join(lines) + "\n"


# --- I/O ---------------------------------------------------------------------------------------


def _as_rabbitmq(argv: list[str], env: Mapping[str, str]) -> tuple[list[str], dict[str, Any]]:
    """argv and Popen options that run it as the rabbitmq user with exactly ``env``.

    Only root and rabbitmq can: the nodes' files, processes and cookie are rabbitmq's (as for
    the machine's own node, whose wrappers refuse anyone else too).
    """
    account = pwd.getpwnam(RABBITMQ_USER)
    if os.geteuid() == account.pw_uid:
        return argv, {"env": dict(env)}
    if os.geteuid() == 0:
        options = {"env": dict(env), "user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
        return argv, options
    raise ClusterError(f"run this as root or as {RABBITMQ_USER}: the nodes run as {RABBITMQ_USER}")


def rabbitmqctl(node: Node, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``rabbitmqctl -n NODE args`` as the rabbitmq user; the caller reads returncode and output."""
    argv, options = _as_rabbitmq([str(SCRIPTS / "rabbitmqctl"), "-q", "-n", node.name, *args], environment(node))
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=RABBITMQ_HOME, **options)
    except subprocess.TimeoutExpired as exc:
        raise ClusterError(f"rabbitmqctl -n {node.name} {' '.join(args)} took over {timeout:.0f} s") from exc


def _ctl_ok(node: Node, *args: str, timeout: float = 60) -> str:
    done = rabbitmqctl(node, *args, timeout=timeout)
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip()
        raise ClusterError(f"rabbitmqctl -n {node.name} {' '.join(args)} failed ({done.returncode}): {said}")
    return done.stdout


def registered_names() -> dict[str, int]:
    """The Erlang nodes epmd knows on this machine (short name → distribution port): who is up."""
    try:
        with socket.create_connection((HOST, EPMD_PORT), timeout=2) as sock:
            sock.sendall(b"\x00\x01n")  # NAMES_REQ
            answer = b""
            while chunk := sock.recv(4096):
                answer += chunk
    except OSError:
        return {}  # no epmd: no node runs
    names = {}
    for line in answer[4:].decode(errors="replace").splitlines():
        parts = line.split()  # "name axis-ha-1 at port 25681"
        if len(parts) == 5 and parts[0] == "name":
            names[parts[1]] = int(parts[4])
    return names


def is_up(node: Node) -> bool:
    """Whether the node's Erlang VM runs (its RabbitMQ may still be booting or paused)."""
    return node.short in registered_names()


def beam_pid(node: Node) -> int | None:
    """The node's beam.smp process: from its pid file, checked against /proc; else asked via eval."""
    try:
        pid = int(node.pid_file.read_text().strip())
        if Path(f"/proc/{pid}/comm").read_text().strip() == "beam.smp":
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            if f"RABBITMQ_NODENAME={node.name}".encode() in environ:
                return pid
    except (OSError, ValueError):
        pass  # stale or missing pid file, or a process we may not read
    if not is_up(node):
        return None
    done = rabbitmqctl(node, "eval", "list_to_integer(os:getpid()).", timeout=30)
    return int(done.stdout.strip()) if done.returncode == 0 and done.stdout.strip().isdigit() else None


def _port_taken(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((HOST, port)) == 0


def prepare(node: Node) -> None:
    """Write the node's files and give its directory to the rabbitmq user."""
    account = pwd.getpwnam(RABBITMQ_USER)
    for directory in (node.home, node.mnesia_base, node.log_base):
        directory.mkdir(parents=True, exist_ok=True)
    node.config_file.write_text(config_text(node))
    node.env_file.write_text(env_file_text(node))
    node.plugins_file.write_text(plugins_text())
    node.startup_log.touch()
    if os.geteuid() == 0:
        for path in (node.home.parent, node.home, *node.home.rglob("*")):
            os.chown(path, account.pw_uid, account.pw_gid)


def launch(node: Node) -> subprocess.Popen[bytes]:
    """Start the node in the background (its own session, so it outlives the caller)."""
    if not (SCRIPTS / "rabbitmq-server").exists():
        raise ClusterError(f"{SCRIPTS}/rabbitmq-server is missing: apt-get install rabbitmq-server")
    taken = [p for p in (node.amqp_port, node.management_port, node.dist_port) if _port_taken(p)]
    if taken:
        raise ClusterError(f"{node.name} cannot start: port(s) {taken} on {HOST} are taken by another process")
    prepare(node)
    argv, options = _as_rabbitmq([str(SCRIPTS / "rabbitmq-server")], environment(node))
    with node.startup_log.open("ab") as log:
        return subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=node.home, start_new_session=True, **options
        )


def log_tail(node: Node, lines: int = 25) -> str:
    """The last lines of the node's startup output and its own log, for an error message."""
    parts = []
    for path in (node.startup_log, node.log_base / f"{node.name}.log"):
        if path.exists():
            text = path.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {path}\n" + "\n".join(text))
    return "\n".join(parts) or f"(no log under {node.log_base})"


def await_startup(node: Node, timeout: float, launcher: subprocess.Popen[bytes] | None = None) -> None:
    """Wait until RabbitMQ on the node has booted, or say why not with its log's tail."""
    deadline = time.monotonic() + timeout
    said = ""
    while (left := deadline - time.monotonic()) > 0:
        if launcher is not None and launcher.poll() is not None:
            raise ClusterError(f"{node.name} exited while starting:\n{log_tail(node)}")
        if is_up(node):
            # Blocks while the node waits for its cluster peers' tables; fails at once if the VM is gone.
            done = rabbitmqctl(node, "await_startup", "--timeout", str(max(1, int(left))), timeout=left + 15)
            if done.returncode == 0:
                return
            said = (done.stderr or done.stdout).strip()
        time.sleep(0.5)
    raise ClusterError(f"{node.name} did not start within {timeout:.0f} s ({said or 'no answer'}):\n{log_tail(node)}")


def start(node: Node, *, timeout: float = 120) -> bool:
    """Start one node (it rejoins its cluster from its data dir); False when it already ran."""
    if is_up(node):
        await_startup(node, timeout)
        return False
    await_startup(node, timeout, launch(node))
    return True


def cluster_status(node: Node) -> dict[str, Any]:
    """``rabbitmqctl cluster_status`` as JSON: running_nodes, disk_nodes, partitions, alarms …"""
    status: dict[str, Any] = json.loads(_ctl_ok(node, "cluster_status", "--formatter", "json", timeout=30))
    return status


def _members(node: Node) -> set[str]:
    return set(cluster_status(node).get("disk_nodes", []))


def join(node: Node, seed: Node) -> bool:
    """Make ``node`` a member of ``seed``'s cluster (this resets the node); False when it was one."""
    if seed.name in _members(node):
        return False
    _ctl_ok(node, "stop_app")
    _ctl_ok(node, "join_cluster", seed.name, timeout=120)
    _ctl_ok(node, "start_app", timeout=120)
    return True


def up(cluster: Cluster, *, timeout: float = 120, say: Say = print) -> None:
    """Start every node that is not running, then join the others to the first."""
    # All launched before any is awaited: a node restarted from its data waits for its peers.
    launched = {node.name: launch(node) for node in cluster.nodes if not is_up(node)}
    for node in cluster.nodes:
        began = time.monotonic()
        await_startup(node, timeout, launched.get(node.name))
        verb = "started" if node.name in launched else "already running"
        ports = f"AMQP {node.amqp_port}, management {node.management_port}"
        say(f"{node.name}: {verb} ({ports}, {time.monotonic() - began:.1f} s)")
    seed, *others = cluster.nodes
    for node in others:
        began = time.monotonic()
        if join(node, seed):
            say(f"{node.name}: joined {seed.name} ({time.monotonic() - began:.1f} s)")
    running = sorted(cluster_status(seed).get("running_nodes", []))
    say(f"cluster: {', '.join(running)}")


def kill(node: Node, *, timeout: float = 15) -> int:
    """kill -9 the node's beam.smp and wait until it is gone; returns the pid killed."""
    pid = beam_pid(node)
    if pid is None:
        raise ClusterError(f"{node.name} is not running: nothing to kill")
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while Path(f"/proc/{pid}").exists() or is_up(node):
        if time.monotonic() > deadline:
            raise ClusterError(f"{node.name} (pid {pid}) still there {timeout:.0f} s after SIGKILL")
        time.sleep(0.1)
    return pid


def stop(node: Node, *, timeout: float = 120) -> bool:
    """Stop the node cleanly (waiting for its process to end); False when it was not running."""
    if not is_up(node):
        return False
    args = ("stop", str(node.pid_file)) if node.pid_file.exists() else ("stop",)
    _ctl_ok(node, *args, timeout=timeout)
    return True


def down(cluster: Cluster, *, wipe: bool = False, say: Say = print) -> None:
    """Stop every node, all at once (kill -9 one that will not stop); ``wipe`` deletes their data.

    Data about to be deleted needs no clean shutdown: with ``wipe`` the nodes are killed, which
    takes a moment instead of the ~7 s a node spends stopping.
    """

    def halt(node: Node) -> str:
        if not is_up(node):
            return "not running"
        if wipe:
            return f"killed (pid {kill(node)})"
        try:
            stop(node)
        except ClusterError as exc:
            return f"{exc}; killed (pid {kill(node)})"
        return "stopped"

    with ThreadPoolExecutor(len(cluster.nodes)) as pool:
        for node, outcome in zip(cluster.nodes, pool.map(halt, cluster.nodes), strict=True):
            say(f"{node.name}: {outcome}")
    if wipe and cluster.base.exists():
        shutil.rmtree(cluster.base)
        say(f"wiped {cluster.base}")


@dataclass(frozen=True)
class Status:
    up: dict[str, bool]  # node name → its VM runs
    running: dict[str, tuple[str, ...]]  # node name → the running members it sees (RabbitMQ booted)
    members: tuple[str, ...]  # the cluster's members as the first answering node knows them

    def complete(self, cluster: Cluster) -> bool:
        """Every node runs and every one sees all the others running in one cluster."""
        names = tuple(sorted(n.name for n in cluster.nodes))
        return all(self.up.values()) and all(self.running.get(n) == names for n in names)


def status(cluster: Cluster) -> Status:
    names = registered_names()
    up_ = {node.name: node.short in names for node in cluster.nodes}
    running: dict[str, tuple[str, ...]] = {}
    members: tuple[str, ...] = ()
    for node in cluster.nodes:
        if not up_[node.name]:
            continue
        try:
            answer = cluster_status(node)
        except ClusterError:
            continue  # booting, paused or dying: its VM runs but RabbitMQ does not answer
        running[node.name] = tuple(sorted(answer.get("running_nodes", [])))
        members = members or tuple(sorted(answer.get("disk_nodes", [])))
    return Status(up_, running, members)
