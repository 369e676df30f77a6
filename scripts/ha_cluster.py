"""The three-node RabbitMQ cluster of issue 18 on this machine (axis-ha-1..3@localhost, beside the
machine's own rabbit@localhost, which is left alone). Run it as root or as the rabbitmq user.

    .venv/bin/python scripts/ha_cluster.py up              start the nodes, cluster them
    .venv/bin/python scripts/ha_cluster.py status          which nodes run, whom each sees; exit 1 unless complete
    .venv/bin/python scripts/ha_cluster.py kill axis-ha-2  kill -9 the node's beam.smp
    .venv/bin/python scripts/ha_cluster.py start 2         start it again (it rejoins from its data)
    .venv/bin/python scripts/ha_cluster.py stop 2          stop it cleanly
    .venv/bin/python scripts/ha_cluster.py down [--wipe]   stop them all; --wipe deletes their data

Nodes are named in full, short (axis-ha-2) or by number. Ports: AMQP 5681-5683, management
15681-15683, distribution 25681-25683; AXIS_HA_{AMQP,MANAGEMENT,DIST}_PORT move the first of each,
AXIS_HA_BASE the nodes' directory (/var/lib/rabbitmq/axis-ha).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "ha"))

import rabbitmq_cluster as rc


def show(cluster: rc.Cluster, vhost: str) -> bool:
    """Print each node's state and the URLs the axis takes; whether the cluster is complete."""
    status = rc.status(cluster)
    for node in cluster.nodes:
        if not status.up[node.name]:
            state = "down"
        elif node.name in status.running:
            sees = ", ".join(name.split("@")[0] for name in status.running[node.name])
            state = f"running (pid {rc.beam_pid(node)}), sees {sees} running"
        else:
            state = "VM up, RabbitMQ not answering (booting, paused or stopping)"
        print(f"{node.name}  AMQP {node.amqp_port}  management {node.management_port}  {state}")
    print(f"members: {', '.join(status.members) or 'unknown (no node answers)'}")
    print(f"AXIS_AMQP_URL={cluster.amqp_urls(vhost)}")
    print(f"management: {cluster.management_urls}")
    complete = status.complete(cluster)
    print("cluster complete" if complete else "cluster NOT complete")
    return complete


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vhost", default="/", help="the vhost in the printed AMQP URLs")
    parser.add_argument("--timeout", type=float, default=120, help="seconds a node may take to start or stop")
    verbs = parser.add_subparsers(dest="verb", required=True)
    verbs.add_parser("up")
    verbs.add_parser("status")
    verbs.add_parser("down").add_argument("--wipe", action="store_true", help="delete the nodes' data and logs")
    for verb in ("kill", "start", "stop"):
        verbs.add_parser(verb).add_argument("node")
    args = parser.parse_args()
    cluster = rc.Cluster.default()
    began = time.monotonic()
    try:
        if args.verb == "up":
            rc.up(cluster, timeout=args.timeout)
            print(f"up in {time.monotonic() - began:.1f} s")
            return 0 if show(cluster, args.vhost) else 1
        if args.verb == "status":
            return 0 if show(cluster, args.vhost) else 1
        if args.verb == "down":
            rc.down(cluster, wipe=args.wipe)
            return 0
        node = cluster.node(args.node)
        if args.verb == "kill":
            print(f"{node.name}: killed pid {rc.kill(node)} with SIGKILL")
        elif args.verb == "start":
            started = rc.start(node, timeout=args.timeout)
            took = time.monotonic() - began
            print(f"{node.name}: {'started' if started else 'was already running'} ({took:.1f} s)")
        else:
            print(f"{node.name}: {'stopped' if rc.stop(node, timeout=args.timeout) else 'was not running'}")
        return 0
    except rc.ClusterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
