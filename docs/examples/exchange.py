"""A complete exchange through the axis, written as document-management software would write it.

The northern province sends a signed letter with an attachment to the southern province and to a
ministry. The province polls its inbox over HTTP, verifies what it got, stores it, acknowledges it
and answers 01 (arrived); the ministry consumes its RabbitMQ queue and answers 01 over AMQP. The
sender verifies the axis's receipts and reads the timeline.

``tests/client/test_client.py`` runs ``exchange()`` against a real axis. To run it against yours::

    AXIS_URL=http://127.0.0.1:8080 AXIS_KEYS=var/keys \\
    AXIS_TOKEN_NORTH=axs_… AXIS_TOKEN_SOUTH=axs_… AXIS_TOKEN_BO=axs_… \\
    AXIS_AMQP_URL=amqp://axis-sys-bo-qlvb:…@127.0.0.1:5672/ AXIS_MINISTRY_SYSTEM=bo-qlvb \\
    python docs/examples/exchange.py

where ``AXIS_KEYS`` holds ``north.key.pem``/``north.pem``, ``south…``, ``bo…`` and ``ca.pem``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from axis.client import AgencyClient, Delivery, DocumentPackage, File, Mailbox, Received, StatusCode, Timeline

NORTH, SOUTH, MINISTRY = "000.00.00.H98", "000.00.00.H99", "000.00.00.G98"


@dataclass(frozen=True)
class Config:
    url: str  # the axis
    keys: Path  # <name>.key.pem and <name>.pem for north, south and bo; ca.pem
    tokens: dict[str, str]  # each system's token, by the same names
    amqp_url: str  # RabbitMQ as the ministry's system user (axis systems grant-amqp)
    ministry_system: str
    ministry_user: str


def agency(config: Config, name: str) -> AgencyClient:
    return AgencyClient.from_files(
        config.url,
        config.tokens[name],
        key=config.keys / f"{name}.key.pem",
        cert=config.keys / f"{name}.pem",
        trust=[config.keys / "ca.pem"],  # received packages are verified against it
    )


def store(received: Received) -> None:
    """Your document store: keep ``received.data``, the bytes as signed, as the evidence."""
    document = received.package
    assert isinstance(document, DocumentPackage)
    assert received.signer is not None  # verified: we gave trust anchors
    print(f"{document.document_id} from {received.signer.common_name}: {document.subject}")
    for attachment in document.attachments:
        print(f"  {attachment.name} ({attachment.size} bytes)")


async def exchange(config: Config) -> Timeline:
    async with agency(config, "north") as north, agency(config, "south") as south, agency(config, "bo") as ministry:
        # 1. The province sends a letter with a PDF (a Path works as well as File).
        sent = await north.send_document(
            to=[SOUTH, MINISTRY],
            subject="V/v phối hợp thử nghiệm trục liên thông văn bản điện tử",
            number="125",
            notation="UBND-VP",
            attachments=[File("cong-van-125.pdf", b"%PDF-1.7 ...")],
            due_date=dt.date.today() + dt.timedelta(days=7),
            signer_name="Nguyễn Văn Thử",
            staff="Văn thư Văn phòng",
        )
        print(f"sent {sent.document_id} as package {sent.package_id}")

        # 2. The southern province polls its inbox over HTTP: receive (fetch + verify), store,
        #    acknowledge, and tell the sender the same day that it arrived (Decree 30/2020).
        for item in await south.inbox(only="package"):
            received = await south.receive(item.id)
            store(received)
            await south.ack(item.id)
            await south.send_status(received.document_id, StatusCode.ARRIVED, description="Đã đến")

        # 3. The ministry consumes its RabbitMQ queue, and answers 01 over AMQP too.
        async with Mailbox(config.amqp_url, config.ministry_system, config.ministry_user, api=ministry.api) as mailbox:

            async def on_message(delivery: Delivery) -> bool:
                if delivery.kind != "document":
                    return True  # receipts and refusals: see docs/client.md
                received = await ministry.open(delivery.body, package_id=delivery.message_id)
                store(received)
                arrived = ministry.status_package(received.document_id, StatusCode.ARRIVED, description="Đã đến")
                await mailbox.publish(arrived)
                return False  # a real consumer keeps going; the example stops here

            async with asyncio.timeout(30):
                await mailbox.handle(on_message)

        # 4. The sender verifies the axis's receipts: accepted, then delivered to each system.
        async with asyncio.timeout(30):
            while len(proofs := await north.receipts(sent.package_id)) < 3:
                await asyncio.sleep(0.2)
        for proof in proofs:
            assert proof.covers(sent.package)  # they attest exactly the bytes we signed
            print(f"{proof.kind.value} receipt {proof.delivered_to or ''} at {proof.at:%H:%M:%S}")

        # 5. The timeline: per recipient, the delivery and its statuses.
        timeline = await north.status(sent.document_id)
        for row in timeline.recipients:
            codes = ", ".join(f"{s.code} {s.description}" for s in row.statuses)
            print(f"{row.requested} {row.name}: {row.delivery.state}; {codes}")
        return timeline


if __name__ == "__main__":
    env = os.environ
    asyncio.run(
        exchange(
            Config(
                url=env.get("AXIS_URL", "http://127.0.0.1:8080"),
                keys=Path(env.get("AXIS_KEYS", "var/keys")),
                tokens={name: env[f"AXIS_TOKEN_{name.upper()}"] for name in ("north", "south", "bo")},
                amqp_url=env["AXIS_AMQP_URL"],
                ministry_system=env["AXIS_MINISTRY_SYSTEM"],
                ministry_user=env.get("AXIS_MINISTRY_USER", f"axis-sys-{env['AXIS_MINISTRY_SYSTEM']}"),
            )
        )
    )
