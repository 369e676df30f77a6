"""``axis demo``: agencies exchanging signed documents through a real axis, step by step.

Starts from an empty database (``axis_demo``) and an empty RabbitMQ virtual host (``axis-demo``)
on the local servers, runs the axis in this process, and plays three fictitious agencies' systems:
the northern province sends a signed letter with an attachment to the southern province (which
pulls over HTTP) and to a ministry (which consumes over AMQP and answers with a signed status 01);
receipts come back to the sender and are verified offline; the status timeline is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import socket
from importlib import resources
from pathlib import Path
from typing import Any

import asyncpg
from aiohttp import web

from axis import pki, receipts
from axis.app import build_app
from axis.broker.management import Management
from axis.client import AgencyClient, Delivery, File, Mailbox, StatusCode
from axis.config import Settings
from axis.edxml import model as m
from axis.edxml.trust import TrustAnchors
from axis.errors import AxisError
from axis.files import signing
from axis.http.context import AXIS
from axis.log import configure as configure_logging
from axis.registry import history, importer, imports, systems
from axis.registry.cache import RegistryCache
from axis.store import db
from axis.web.vietnamese import clock

NORTH, SOUTH, MINISTRY = "000.00.00.H98", "000.00.00.H99", "000.00.00.G98"
SIGNER = "Nguyễn Văn An"  # who signs the decision, as its header and its PDF both say
#: The invented agencies the demo plays, shipped inside the package (axis/registry/agency_codes/).
SEEDS = resources.files("axis.registry") / "agency_codes" / "fictitious.csv"


def register(sub: Any) -> None:
    demo = sub.add_parser("demo", help="agencies exchanging signed documents through a real axis")
    demo.add_argument("--database", default="axis_demo", help="database to (re)create (default axis_demo)")
    demo.add_argument("--vhost", default="axis-demo", help="RabbitMQ virtual host to (re)create")
    demo.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    configure_logging("warning")  # the demo narrates; the axis's own log would drown it
    return asyncio.run(_demo(args.database, args.vhost))


def step(text: str) -> None:
    print(f"\n== {text}", flush=True)


def say(text: str) -> None:
    print(f"   {text}", flush=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def _fresh_services(base: Settings, database: str, vhost: str, keys: Path) -> Settings:
    url = db.with_database(base.database_url, database)
    try:
        admin = await asyncpg.connect(db.with_database(base.database_url, "postgres"))
    except (OSError, asyncpg.PostgresError) as exc:
        raise AxisError(
            "config.invalid",
            f"PostgreSQL is not reachable at {db.with_database(base.database_url, '')} ({exc}). "
            "Start it (pg_ctlcluster … main start) or install it (apt-get install postgresql); "
            "./dev demo starts it when it is installed.",
        ) from None
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    async with Management(base.amqp_management_url) as management:
        await management.delete_vhost(vhost)
        await management.create_vhost(vhost)
        user = base.amqp_url.split("://", 1)[1].split(":", 1)[0]
        await management.set_permissions(vhost, user, ".*", ".*", ".*")
    amqp_url = base.amqp_url.rstrip("/") + "/" + vhost
    return dataclasses.replace(
        base,
        database_url=url,
        amqp_url=amqp_url,
        http_port=_free_port(),
        keys_dir=keys,
        trust_anchors=(keys / "ca.pem",),
        document_trust_anchors=(keys / "ca.pem",),
    )


async def _demo(database: str, vhost: str) -> int:
    base = Settings.from_env()
    keys = Path("var/demo/keys")
    step("Fresh services: an empty database and an empty RabbitMQ virtual host")
    settings = await _fresh_services(base, database, vhost, keys)
    say(f"PostgreSQL database {database!r}, RabbitMQ vhost {vhost!r}")

    step("A development CA; the axis's own receipt key; certificates for three fictitious agencies")
    ca = pki.new_ca("axis demo CA")
    pki.save(ca, keys, "ca")
    pki.save(pki.issue(ca, None, "Trục liên thông (demo)", key_type="ec"), keys, "axis")
    agencies = {
        NORTH: pki.issue(ca, NORTH, "UBND Tỉnh Thử Nghiệm Bắc"),
        SOUTH: pki.issue(ca, SOUTH, "UBND Tỉnh Thử Nghiệm Nam"),
        MINISTRY: pki.issue(ca, MINISTRY, "Bộ Thử Nghiệm", key_type="ec"),
    }
    for code, identity in agencies.items():
        say(f"{code}: {identity.certificate.subject.rfc4514_string()}")
    # The decision itself is signed as Decree 30/2020 wants: by its signer, then by the agency.
    chairman = pki.issue(ca, None, SIGNER, title="Chủ tịch", organisation="UBND Tỉnh Thử Nghiệm Bắc")
    say(f"{SIGNER}: {chairman.certificate.subject.rfc4514_string()} (signs the decision's PDF)")
    decision = signing.blank_pdf(text="QUYET DINH so 125/QD-UBND")
    decision = signing.sign(signing.sign(decision, chairman, field="CaNhan"), agencies[NORTH], field="CoQuan")

    app = build_app(settings)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", settings.http_port).start()
    base_url = f"http://127.0.0.1:{settings.http_port}"
    try:
        return await _exchange(settings, base_url, agencies, app[AXIS].registry, decision)
    finally:
        step("Stopping the axis (in-flight work finishes first)")
        await runner.cleanup()


async def _register(settings: Settings, agencies: dict[str, pki.Identity]) -> tuple[dict[str, str], int]:
    conn = await db.connect(settings.database_url)
    tokens: dict[str, str] = {}
    try:
        rows = importer.read_csv(SEEDS.read_bytes(), source=str(SEEDS))
        async with conn.transaction():
            plan = importer.plan(rows, await imports.existing(conn))
            await imports.apply(conn, "demo", plan)
        say(f"imported {len(plan.changes)} fictitious agencies from axis/registry/agency_codes/fictitious.csv")
        for system_id, code, amqp in (
            ("bac-eoffice", NORTH, False),
            ("nam-eoffice", SOUTH, False),
            ("bo-qlvb", MINISTRY, True),
        ):
            async with conn.transaction():
                await systems.add(
                    conn,
                    "demo",
                    system_id,
                    f"Phần mềm QLVB {code}",
                    delivery_http=not amqp,
                    delivery_amqp=amqp,
                )
                await systems.bind(conn, "demo", system_id, code)
                await systems.add_certificate(conn, "demo", system_id, pki.cert_pem(agencies[code].certificate))
                _, tokens[system_id] = await systems.issue_token(conn, "demo", system_id)
            mode = "AMQP" if amqp else "HTTP pull"
            say(f"system {system_id:<12} serves {code} and below, receives over {mode}")
        version = await history.version(conn)
    finally:
        await conn.close()
    return tokens, version


async def _exchange(
    settings: Settings, base_url: str, agencies: dict[str, pki.Identity], registry: RegistryCache, decision: bytes
) -> int:
    step("The registry: agencies, connected systems, bindings, certificates, tokens")
    tokens, version = await _register(settings, agencies)
    async with Management(settings.amqp_management_url) as management:
        grant = await management.grant_system(settings.amqp_vhost, "bo-qlvb")
    say(f"RabbitMQ user {grant.username}: reads only {grant.queue}, publishes only to {grant.intake_exchange}")
    await registry.wait_for(version)  # the axis learns of the changes by NOTIFY

    # Each system is one vendor's integration: its agency's key, its token, the CAs it trusts.
    trust = TrustAnchors.from_files([settings.keys_dir / "ca.pem"])

    def agency(system_id: str, code: str, name: str) -> AgencyClient:
        return AgencyClient(base_url, tokens[system_id], identity=agencies[code], agency_name=name, trust=trust)

    north = agency("bac-eoffice", NORTH, "UBND Tỉnh Thử Nghiệm Bắc")
    south = agency("nam-eoffice", SOUTH, "UBND Tỉnh Thử Nghiệm Nam")
    ministry = agency("bo-qlvb", MINISTRY, "Bộ Thử Nghiệm")
    async with north, south, ministry:
        step(f"{NORTH} sends a decision, its PDF signed by its chairman and its agency, to {SOUTH} and {MINISTRY}")
        today = dt.datetime.now(m.VN_TZ).date()
        sent = await north.send_document(
            to=[SOUTH, MINISTRY],
            subject="V/v phối hợp thử nghiệm trục liên thông văn bản điện tử",
            number="125",
            notation="UBND-VP",
            date=today,
            place="Thành phố Bắc",
            due_date=today + dt.timedelta(days=7),
            signer_name=SIGNER,
            signer_position="Chủ tịch",
            attachments=[File("quyet-dinh-125.pdf", decision, "application/pdf")],
        )
        say(f"accepted: package {sent.package_id}")
        for r in sent.recipients:
            say(f"  {r.requested} → system {r.system}")

        step(f"{SOUTH} pulls its inbox over HTTP, checks the signature itself, and acknowledges")
        for item in await south.inbox():
            received = await south.receive(item.id)  # fetched and verified against the trust anchors
            assert received.signer is not None
            say(f"got {received.document_id}: signed by {received.signer.common_name}")
            files = await south.files(item.package_id)  # what the axis found in the PDF's signatures
            assert files is not None, "the axis checked no file"
            assert item.file_signatures == files.verdict.value == "valid", files
            for signature in files.files[0].signatures:
                who = signature.signer
                assert who is not None
                code = f", {who.agency_code}" if who.agency_code else ""
                say(f"  {files.files[0].label}: signed by {who.name} ({who.role}{code}), valid")
            delivery = await south.ack(item.id)
            say(f"acknowledged: delivery {delivery.state}")

        step(f"{MINISTRY} consumes its RabbitMQ queue and answers with a signed status 01 (arrived)")
        amqp_url = settings.amqp_url.replace("guest:guest", f"{grant.username}:{grant.password}", 1)
        async with Mailbox(amqp_url, "bo-qlvb", grant.username, api=ministry.api) as mailbox:

            async def arrived(delivery: Delivery) -> bool:
                say(f"message {delivery.message_id}: {delivery.kind} {delivery.document_id}")
                letter = await ministry.open(delivery.body, package_id=delivery.message_id)
                answer = ministry.status_package(
                    letter.document_id,
                    StatusCode.ARRIVED,
                    description="Đã đến",
                    staff="Trần Văn Thử",
                    department="Văn thư Bộ",
                )
                await mailbox.publish(answer)
                return False  # the demo stops after one; a real consumer keeps going

            async with asyncio.timeout(15):
                await mailbox.handle(arrived)
            say("status 01 published to axis.intake as user " + grant.username)

        step(f"Receipts come back to {NORTH}; each is verified offline with the axis certificate")
        deliveries = 0
        async with asyncio.timeout(15):
            while deliveries < 2:
                for item in await north.inbox(only="receipt"):
                    proof = await north.receipt(item.id)  # verified against the pinned axis certificate
                    if proof.kind is receipts.ReceiptKind.DELIVERY:
                        deliveries += 1
                    target = f" to {proof.delivered_to}" if proof.delivered_to else ""
                    when = clock(proof.at)
                    policy = proof.signature_policy.value if proof.signature_policy else "unstated"
                    say(
                        f"{proof.kind.value} receipt{target} at {when}, signature policy {policy}, "
                        f"signed by {proof.signer.common_name}"
                    )
                    await north.ack_receipt(item.id)
                await asyncio.sleep(0.2)

        step(f"The status timeline of {sent.document_id}")
        timeline = await north.status(sent.document_id)
        for row in timeline.recipients:
            delivered = clock(row.delivery.delivered_at) or "-"
            say(f"{row.requested} ({row.name}) via {row.system}: {row.delivery.state} at {delivered}")
            for status in row.statuses:
                at = clock(status.time) or "-"
                say(f"    status {status.code} {status.description} at {at} by {status.staff}")
    step("Done: the document reached both recipients once, and the sender holds signed proof of it")
    return 0
