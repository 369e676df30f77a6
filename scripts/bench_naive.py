"""Benchmark: the naive single process that issue 4's throughput bar was set against.

The issue says a naive single process, without HTTP and schema checks, reaches about 0.4 of bare
verification. This is that process, so the figure can be measured on the machine at hand beside
``bench_exchange.py``: per package, signxml verification (as bare, on the event loop), one
INSERT of the bytes and header fields into PostgreSQL, and one persistent publish to a quorum
queue, awaiting RabbitMQ's confirm; ``--concurrency`` packages in flight so that the I/O overlaps.
Nothing else: no HTTP, no schema, no registry, no receipts, no events, and no recipient fetching or
acknowledging anything — which is what separates it from the exchange benchmark's end to end.

    .venv/bin/python scripts/bench_naive.py [--packages 1000] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aio_pika
from signxml import SignatureConfiguration, XMLVerifier

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import builders
from bench_exchange import bare_verification_rate, cpu_seconds

from axis import pki
from axis.broker.management import Management
from axis.config import Settings
from axis.edxml import build, sign
from axis.store import db


def signed_packages(count: int, keys: Path) -> list[bytes]:
    """``count`` signed 30 KB documents (as the exchange benchmark's), from one agency."""
    ca = pki.new_ca("Naive CA")
    pki.save(ca, keys, "ca")
    signer = pki.issue(ca, "000.00.00.H01", "UBND tỉnh mô phỏng 1")
    attachment = builders.attachment_of_size(20_000)
    return [
        sign(
            build(
                builders.document(
                    sender="000.00.00.H01",
                    recipients=("000.00.00.H02", "000.00.00.H03", "000.00.00.H04"),
                    number=str(n),
                    notation="NAIVE",
                    attachments=(attachment,),
                )
            ),
            signer.key,
            signer.cert_chain,
        )
        for n in range(1, count + 1)
    ]


async def run(packages: list[bytes], ca_file: Path, concurrency: int) -> tuple[float, dict[str, float]]:
    base = Settings.from_env()
    database = f"axis_naive_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    vhost = f"axis-naive-{uuid.uuid4().hex[:8]}"
    url = db.with_database(base.database_url, database)
    await db.ensure_database(url)
    async with Management(base.amqp_management_url) as management:
        await management.create_vhost(vhost)
        await management.set_permissions(vhost, "guest", ".*", ".*", ".*")
    pool = await db.create_pool(url, max_size=concurrency)
    connection = await aio_pika.connect(base.amqp_url.rstrip("/") + "/" + vhost)
    try:
        async with pool.acquire() as conn:
            await conn.execute(
                """CREATE TABLE packages (id uuid PRIMARY KEY, document_id text NOT NULL, sender text NOT NULL,
                                          digest text NOT NULL, received_at timestamptz NOT NULL DEFAULT now(),
                                          body bytea NOT NULL)"""
            )
        channel = await connection.channel(publisher_confirms=True)
        await channel.declare_queue("naive", durable=True, arguments={"x-queue-type": "quorum"})
        config = SignatureConfiguration(expect_references=1)
        queue = list(packages)
        verifier_ca = str(ca_file)

        async def one(data: bytes) -> None:
            XMLVerifier().verify(data, ca_pem_file=verifier_ca, expect_config=config)  # on the loop: naive
            package_id = uuid.uuid4()
            document_id = data.split(b"<edXML:DocumentId>", 1)[1].split(b"<", 1)[0].decode()
            async with pool.acquire() as conn:
                await conn.execute(
                    "INSERT INTO packages (id, document_id, sender, digest, body) VALUES ($1, $2, $3, $4, $5)",
                    package_id,
                    document_id,
                    document_id.split(",", 1)[0],
                    hashlib.sha256(data).hexdigest(),
                    data,
                )
            message = aio_pika.Message(data, message_id=str(package_id), delivery_mode=aio_pika.DeliveryMode.PERSISTENT)
            await channel.default_exchange.publish(message, routing_key="naive")  # waits for the confirm

        async def worker() -> None:
            while queue:
                await one(queue.pop())

        start, before = time.perf_counter(), cpu_seconds(set())
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
        after = cpu_seconds(set())
        return elapsed, {part: after[part] - before[part] for part in before}
    finally:
        await connection.close()
        await pool.close()
        async with Management(base.amqp_management_url) as management:
            await management.delete_vhost(vhost)
        admin = await db.connect(db.with_database(base.database_url, "postgres"))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        finally:
            await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--packages", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8, help="packages in flight")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        keys = Path(tmp)
        packages = signed_packages(args.packages, keys)
        elapsed, cpu = asyncio.run(run(packages, keys / "ca.pem", args.concurrency))
        bare = bare_verification_rate(packages, keys / "ca.pem")  # the same baseline as the exchange's
    rate = len(packages) / elapsed
    size = sum(len(p) for p in packages) / len(packages)
    per_package = {part: used * 1000 / len(packages) for part, used in cpu.items()}
    print(
        f"naive process   {rate:8.1f} packages/s   ({len(packages)} packages of {size / 1000:.0f} KB: verify, "
        f"INSERT, publish with confirm; {args.concurrency} in flight)"
    )
    print(
        f"CPU per package {per_package['machine']:.1f} ms on the machine ({cpu['machine'] / elapsed:.2f} of "
        f"{os.cpu_count()} cores busy): the process {per_package['load generator']:.1f} ms, "
        f"PostgreSQL {per_package['PostgreSQL']:.1f} ms, RabbitMQ {per_package['RabbitMQ']:.1f} ms"
    )
    print(f"bare signxml    {bare:8.1f} verifications/s on one core (same packages, same CA)")
    print(f"ratio           {rate / bare:8.2f}   naive process ÷ bare verification   (the issue: about 0.4)")


if __name__ == "__main__":
    main()
