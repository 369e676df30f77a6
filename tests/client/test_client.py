"""Agency software on the client library, against a real axis: send, receive, verify, acknowledge,
follow; the same over AMQP; the ``axis send`` / ``inbox`` / ``status`` commands; statuses and the
business flows (take back, revoke, update, replace)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import importlib.util
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType

import amqp
import pytest
from world import World, every_connection_held, make_world, wait_until

from axis import cli, pki
from axis.client import (
    AgencyClient,
    AppliedPolicy,
    AxisClient,
    BusinessDocType,
    Delivery,
    DeliveryState,
    DocumentPackage,
    File,
    Mailbox,
    StatusCode,
    StatusPackage,
)
from axis.client import api as api_module
from axis.edxml import build
from axis.edxml.model import VN_TZ
from axis.edxml.trust import TrustAnchors
from axis.errors import AxisError
from axis.exchange import redelivery
from axis.receipts import ReceiptError, ReceiptKind
from axis.registry import history, systems
from axis.store import db

NORTH, SOUTH, DEPT, MINISTRY = "000.00.00.H98", "000.00.00.H99", "000.00.11.H99", "000.00.00.G98"


def url(world: World) -> str:
    return str(world.client.make_url("")).rstrip("/")


def agency(world: World, name: str, *, axis_certificate: bytes | None = None) -> AgencyClient:
    party = world[name]
    return AgencyClient(
        url(world),
        party.token,
        identity=party.identity,
        agency_name=f"Cơ quan {party.code}",
        trust=world.trust,
        axis_certificate=axis_certificate,
    )


@pytest.fixture
async def north(world: World) -> AsyncIterator[AgencyClient]:
    async with agency(world, "north") as client:
        yield client


@pytest.fixture
async def south(world: World) -> AsyncIterator[AgencyClient]:
    async with agency(world, "south") as client:
        yield client


@pytest.fixture
async def dept(world: World) -> AsyncIterator[AgencyClient]:
    async with agency(world, "dept") as client:
        yield client


@pytest.fixture
async def ministry(world: World) -> AsyncIterator[AgencyClient]:
    async with agency(world, "bo") as client:
        yield client


def mailbox(world: World) -> Mailbox:
    party = world["bo"]
    assert party.grant is not None
    return Mailbox(
        amqp.url(world.vhost, party.grant.username, party.grant.password), party.system_id, party.grant.username
    )


async def next_delivery(box: Mailbox, kind: str, timeout: float = 10.0) -> Delivery:
    """The next message of ``kind`` on the queue (others are acknowledged and passed over)."""
    found: list[Delivery] = []

    async def take(delivery: Delivery) -> bool:
        if delivery.kind == kind:
            found.append(delivery)
        return not found

    async with asyncio.timeout(timeout):
        await box.handle(take)
    return found[0]


async def send_letter(north: AgencyClient, *to: str, number: str = "7") -> str:
    sent = await north.send_document(to=to, subject="V/v phối hợp thử nghiệm", number=number, notation="UBND-VP")
    return sent.document_id


# --- the exchange, end to end -------------------------------------------------------------------------


async def test_recipient_verifies_and_acknowledges_a_document_and_the_sender_holds_verified_receipts(
    world: World, north: AgencyClient, south: AgencyClient, tmp_path: Path
) -> None:
    scan = tmp_path / "cong-van-7.pdf"
    scan.write_bytes(b"%PDF-1.7 cong van so 7" * 200)
    today = dt.datetime.now(VN_TZ).date()
    sent = await north.send_document(
        to=[SOUTH],
        subject="V/v phối hợp thử nghiệm trục liên thông",
        number="7",
        notation="UBND-VP",
        attachments=[scan, File("phu-luc.txt", "Phụ lục I".encode())],
        due_date=today + dt.timedelta(days=7),
        signer_name="Nguyễn Văn Thử",
        staff="Trần Thị Văn Thư",
    )
    assert sent.document_id == f"{NORTH},{today:%Y/%m/%d},7/UBND-VP"
    assert [(r.requested, r.agency, r.system) for r in sent.recipients] == [(SOUTH, SOUTH, "nam")]
    assert not sent.repeated

    items = await south.inbox()
    assert [(i.type, i.kind, i.id, i.document_id, i.sender) for i in items] == [
        ("package", "document", sent.package_id, sent.document_id, NORTH)
    ]
    received = await south.receive(sent.package_id)
    assert received.verified
    assert received.signer is not None
    assert received.signer.agency_code == NORTH
    assert received.data == sent.package  # the bytes exactly as signed
    document = received.package
    assert isinstance(document, DocumentPackage)
    assert (document.document_id, document.subject, document.signer_info.full_name) == (
        sent.document_id,
        "V/v phối hợp thử nghiệm trục liên thông",
        "Nguyễn Văn Thử",
    )
    assert document.due_date == today + dt.timedelta(days=7)
    assert [(a.name, a.content_type, a.content()) for a in document.attachments] == [
        ("cong-van-7.pdf", "application/pdf", scan.read_bytes()),
        ("phu-luc.txt", "text/plain", "Phụ lục I".encode()),
    ]
    await south.ack(sent.package_id)
    assert await south.inbox(only="package") == []

    proofs = await north.receipts(sent.package_id)
    assert [(p.kind, p.delivered_to) for p in proofs] == [(ReceiptKind.ACCEPTANCE, None), (ReceiptKind.DELIVERY, "nam")]
    assert all(p.covers(sent.package) and p.package_id == sent.package_id for p in proofs)
    # The same receipts wait in the sender's inbox until it acknowledges them.
    waiting = await north.inbox(only="receipt")
    assert sorted(i.kind for i in waiting) == ["acceptance", "delivery"]
    for item in waiting:
        assert (await north.receipt(item.id)).package_id == sent.package_id
        await north.ack_receipt(item.id)
    assert await north.inbox() == []

    timeline = await north.status(sent.document_id)
    row = timeline.recipient(SOUTH)
    assert (timeline.sender, timeline.subject) == (NORTH, "V/v phối hợp thử nghiệm trục liên thông")
    assert (row.system, row.delivery.state) == ("nam", "delivered")
    assert row.delivery.delivered_at is not None
    assert timeline.raw["document_id"] == sent.document_id


async def test_resending_the_signed_bytes_gives_the_first_answer_and_other_content_conflicts(
    world: World, north: AgencyClient, south: AgencyClient
) -> None:
    first = await north.send_document(to=[SOUTH], subject="V/v gửi lại", number="8", notation="UBND-VP")
    again = await north.send_signed(first.package)  # e.g. after a crash before the answer was stored
    assert (again.repeated, again.package_id, again.document_id) == (True, first.package_id, first.document_id)
    # The same number and notation with another subject is another document under a taken DocumentId.
    with pytest.raises(AxisError) as refused:
        await north.send_document(to=[SOUTH], subject="V/v gửi lại (sửa)", number="8", notation="UBND-VP")
    assert refused.value.code == "intake.duplicate"
    assert len(await south.inbox()) == 1


async def test_a_recipient_trusting_another_ca_refuses_the_package(world: World, north: AgencyClient) -> None:
    document_id = await send_letter(north, SOUTH)
    party = world["south"]
    suspicious = AgencyClient(url(world), party.token, trust=TrustAnchors((pki.new_ca("Another CA").certificate,)))
    async with suspicious:
        [item] = await suspicious.inbox()
        assert item.document_id == document_id
        with pytest.raises(AxisError) as refused:
            await suspicious.receive(item.id)
    assert refused.value.code == "signature.certificate.untrusted"


async def test_receipts_signed_by_another_key_than_the_pinned_axis_certificate_are_refused(
    world: World, north: AgencyClient
) -> None:
    sent = await north.send_document(to=[SOUTH], subject="V/v biên nhận", number="9", notation="UBND-VP")
    impostor = pki.issue(pki.new_ca("Another CA"), None, "Không phải trục", key_type="ec")
    async with agency(world, "north", axis_certificate=pki.cert_pem(impostor.certificate)) as pinned:
        with pytest.raises(ReceiptError) as refused:
            await pinned.receipts(sent.package_id)
    assert refused.value.code == "receipt.certificate.untrusted"


async def test_ministry_consumes_over_amqp_answers_01_and_the_sender_sees_it(
    world: World, north: AgencyClient, ministry: AgencyClient
) -> None:
    sent = await north.send_document(to=[MINISTRY], subject="V/v gửi Bộ", number="11", notation="UBND-VP")
    async with mailbox(world) as box:
        delivery = await next_delivery(box, "document")
        assert (delivery.message_id, delivery.document_id, delivery.sender) == (
            sent.package_id,
            sent.document_id,
            NORTH,
        )
        received = await ministry.open(delivery.body, package_id=delivery.message_id)
        assert received.signer is not None
        assert received.signer.agency_code == NORTH
        await box.publish(
            ministry.status_package(received.document_id, StatusCode.ARRIVED, description="Đã đến", staff="Văn thư Bộ")
        )
        # The axis's acceptance receipt for the status comes back on the ministry's own queue.
        receipt = await next_delivery(box, "receipt")
        proof = await ministry.verify_receipt(receipt.body, receipt_id=receipt.message_id)
        assert (proof.kind, proof.receipt.package_kind, proof.receipt.document_id) == (
            ReceiptKind.ACCEPTANCE,
            "status",
            sent.document_id,
        )

    async def arrived() -> bool:
        row = (await north.status(sent.document_id)).recipient(MINISTRY)
        return row.delivery.state == "delivered" and [s.code for s in row.statuses] == ["01"]

    await wait_until(arrived)
    [status] = (await north.status(sent.document_id)).recipient(MINISTRY).statuses
    assert (status.status, status.description, status.staff) == (StatusCode.ARRIVED, "Đã đến", "Văn thư Bộ")
    # The delivery receipt for the ministry is verifiable like any other.
    proofs = await north.receipts(sent.package_id)
    assert [p.delivered_to for p in proofs if p.kind is ReceiptKind.DELIVERY] == [world["bo"].system_id]


async def test_recipient_reports_progress_and_the_sender_reads_each_status(
    world: World, north: AgencyClient, south: AgencyClient
) -> None:
    document_id = await send_letter(north, SOUTH)
    for code, text in (
        ("01", "Đã đến"),
        (StatusCode.ACCEPTED, "Đã vào sổ"),
        (StatusCode.ASSIGNED, "Giao phòng Tổng hợp"),
    ):
        answer = await south.send_status(document_id, code, description=text, staff="Văn thư Nam")
        assert (answer.kind, [r.requested for r in answer.recipients]) == ("status", [NORTH])

    timeline = await north.status(document_id)
    assert [(s.code, s.description) for s in timeline.recipient(SOUTH).statuses] == [
        ("01", "Đã đến"),
        ("03", "Đã vào sổ"),
        ("04", "Giao phòng Tổng hợp"),
    ]
    statuses = [i for i in await north.inbox(only="package") if i.kind == "status"]
    assert len(statuses) == 3
    first = await north.receive(statuses[0].id)
    assert isinstance(first.package, StatusPackage)
    assert (first.package.status_code, first.package.sender.organ_id, first.package.response_for.document_id) == (
        StatusCode.ARRIVED,
        SOUTH,
        document_id,
    )
    assert first.signer is not None
    assert first.signer.agency_code == SOUTH


async def test_documents_lists_what_a_system_sent_and_received(
    world: World, north: AgencyClient, south: AgencyClient
) -> None:
    document_id = await send_letter(north, SOUTH, number="21")
    await send_letter(north, MINISTRY, number="22")
    [sent] = await north.documents(direction="sent", counterpart=SOUTH)
    assert (sent.document_id, sent.number, sent.notation, sent.direction) == (document_id, "21", "UBND-VP", "sent")
    [received] = await south.documents(words="phoi hop")  # accents optional
    assert (received.document_id, received.direction, received.sender) == (document_id, "received", NORTH)
    # Where each stands: neither recipient has acknowledged yet.
    assert sent.deliveries == {"delivered": 0, "queued": 1, "failed": 0}
    assert [d.number for d in await north.documents(delivery="waiting")] == ["22", "21"]
    assert await north.documents(delivery="done") == []


async def test_sender_and_recipient_learn_that_a_package_went_in_without_an_xml_signature(
    world: World,
    north: AgencyClient,
    south: AgencyClient,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An old system allowed to send unsigned packages: its receipts, the timeline and the search
    say so, in the library and on the command line."""
    await world.relax_signature_policy("north", unsigned=True)
    document = world.document(to=(SOUTH,), number="61")
    sent = await north.send_signed(build(document))
    assert sent.signature_policy == "legacy:unsigned"
    await south.ack(sent.package_id)

    proofs = await north.receipts(sent.package_id)
    assert [(p.kind, p.signature_policy) for p in proofs] == [
        (ReceiptKind.ACCEPTANCE, AppliedPolicy.LEGACY_UNSIGNED),
        (ReceiptKind.DELIVERY, AppliedPolicy.LEGACY_UNSIGNED),
    ]
    for client in (north, south):
        timeline = await client.status(sent.document_id)
        assert timeline.legacy
        assert timeline.signature_policy == "legacy:unsigned"
        [legacy] = timeline.legacy_packages
        assert (legacy.package_id, legacy.kind, legacy.sender_system) == (sent.package_id, "document", "bac")
        assert timeline.recipient(SOUTH).delivery.signature_policy == "legacy:unsigned"
        [summary] = await client.documents(document_id=sent.document_id)
        assert summary.legacy

    # A signed status about it is strict, and shows as such.
    await south.send_status(sent.document_id, StatusCode.ARRIVED, description="Đã đến")
    [arrived] = (await north.status(sent.document_id)).recipient(SOUTH).statuses
    assert (arrived.signature_policy, arrived.legacy) == ("strict", False)

    monkeypatch.setenv("AXIS_URL", url(world))
    assert await axis("inbox", "--token", world["north"].token, "--type", "receipt") == 0
    assert await axis("inbox", "--token", world["north"].token, "--type", "receipt", "--ack") == 0
    out = capsys.readouterr().out
    assert out.count("accepted under legacy:unsigned (no XML Signature), verified") == 2
    assert await axis("status", "--token", world["north"].token, sent.document_id) == 0
    out = capsys.readouterr().out
    assert f"! document {sent.package_id} from system bac accepted under legacy:unsigned" in out


async def test_a_recipient_acknowledges_what_it_stored_in_one_call(north: AgencyClient, south: AgencyClient) -> None:
    sent = [
        await north.send_document(to=[SOUTH], subject="V/v lô", number=f"3{i}", notation="UBND-VP") for i in range(3)
    ]
    waiting = [item.id for item in await south.inbox(only="package")]
    assert waiting == [s.package_id for s in sent]
    states = await south.ack_many([*waiting, "00000000-0000-4000-8000-000000000000"])
    assert [states[i].state for i in waiting if isinstance(states[i], DeliveryState)] == ["delivered"] * 3
    unknown = states["00000000-0000-4000-8000-000000000000"]
    assert isinstance(unknown, AxisError)
    assert unknown.code == "package.unknown"
    assert await south.inbox(only="package") == []
    assert [[p.kind for p in await north.receipts(s.package_id)] for s in sent] == [
        [ReceiptKind.ACCEPTANCE, ReceiptKind.DELIVERY]
    ] * 3


async def test_unknown_recipient_is_refused_with_the_axis_code(north: AgencyClient) -> None:
    with pytest.raises(AxisError) as refused:
        await send_letter(north, "000.00.00.H11")
    assert refused.value.code == "intake.recipient.unknown"


async def test_a_package_over_the_amqp_inline_limit_reaches_an_amqp_system_by_reference(
    database_url: str, tmp_path: Path
) -> None:
    """A large package is not pushed through RabbitMQ whole: the message names it (path, size,
    SHA-256) and the mailbox fetches it over HTTP with the system's token, checked against both."""
    async for world in make_world(database_url, tmp_path, amqp_inline_max_bytes=4096):
        scan = tmp_path / "ban-do.pdf"
        scan.write_bytes(b"%PDF-1.7 ban do quy hoach " * 2000)  # ~50 KB, well over the limit
        async with agency(world, "north") as north, agency(world, "bo") as ministry:
            sent = await north.send_document(
                to=[MINISTRY], subject="V/v bản đồ quy hoạch", number="9", notation="UBND-QH", attachments=[scan]
            )

            message = await world.peek("bo")
            headers = message.headers or {}
            assert (message.message_id, message.body) == (sent.package_id, b"")
            assert headers["body_url"] == f"/api/v1/packages/{sent.package_id}"
            assert headers["body_size"] == len(sent.package)
            assert headers["body_sha256"] == hashlib.sha256(sent.package).hexdigest()

            party = world["bo"]
            assert party.grant is not None
            amqp_url = amqp.url(world.vhost, party.grant.username, party.grant.password)
            async with Mailbox(amqp_url, party.system_id, party.grant.username) as without_http:
                with pytest.raises(AxisError) as unreadable:
                    await next_delivery(without_http, "document")
                assert unreadable.value.code == "broker.reference.unreadable"

            async with (
                AxisClient(url(world), party.token) as api,
                Mailbox(amqp_url, party.system_id, party.grant.username, api=api) as box,
            ):
                delivery = await next_delivery(box, "document")
            assert delivery.body == sent.package
            received = await ministry.open(delivery.body, package_id=delivery.message_id)
            assert received.document_id == sent.document_id
            assert received.verified


# --- the command line ---------------------------------------------------------------------------------


async def axis(*argv: str) -> int:
    """``axis …`` as a shell would run it (its own event loop, in a thread beside the test's axis)."""
    return await asyncio.to_thread(cli.main, list(argv))


async def test_axis_send_inbox_and_status_from_the_shell(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key, cert = pki.save(world["north"].identity, tmp_path / "keys", "north")
    ca = tmp_path / "keys" / "ca.pem"
    ca.write_bytes(pki.cert_pem(world.ca.certificate))
    scan = tmp_path / "to-trinh.pdf"
    scan.write_bytes(b"%PDF-1.7 to trinh")
    monkeypatch.setenv("AXIS_URL", url(world))
    monkeypatch.setenv("AXIS_KEY", str(key))
    monkeypatch.setenv("AXIS_CERT", str(cert))
    monkeypatch.setenv("AXIS_TRUST_ANCHORS", str(ca))

    north, south = world["north"].token, world["south"].token
    send = ("send", "--token", north, "--to", SOUTH, "--to", DEPT, "--subject", "V/v tờ trình")
    assert (
        await axis(*send, "--number", "31", "--notation", "TTr-UBND", "--attach", str(scan), "--due", "2026-12-31") == 0
    )
    out = capsys.readouterr().out
    document_id = next(line.split()[1] for line in out.splitlines() if line.startswith("document"))
    assert document_id.endswith(",31/TTr-UBND")
    assert document_id.startswith(NORTH)
    assert f"recipient   {SOUTH} → {SOUTH}" in out
    assert f"recipient   {DEPT} → {DEPT}" in out

    inbox = tmp_path / "inbox"
    assert await axis("inbox", "--token", south, "--save", str(inbox), "--ack") == 0
    out = capsys.readouterr().out
    assert "signature verified" in out
    assert "acknowledged" in out
    [saved] = inbox.glob("*.edxml")
    assert (inbox / saved.stem / "to-trinh.pdf").read_bytes() == scan.read_bytes()
    assert await axis("inbox", "--token", south, "--wait", "1") == 0  # waited a second: nothing came
    assert "nothing waits" in capsys.readouterr().out

    assert await axis("inbox", "--token", north, "--type", "receipt", "--ack") == 0
    out = capsys.readouterr().out
    assert "acceptance receipt" in out
    assert "delivery receipt to nam" in out
    assert "verified" in out

    assert await axis("status", "--token", north, document_id) == 0
    out = capsys.readouterr().out
    assert f"{SOUTH} UBND Tỉnh Thử Nghiệm Nam — system nam: delivered at" in out
    assert f"{DEPT} Sở Tài chính Tỉnh Thử Nghiệm Nam — system nam-stc: queued at" in out


async def test_axis_commands_print_the_axis_error_code(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key, cert = pki.save(world["north"].identity, tmp_path, "north")
    monkeypatch.setenv("AXIS_URL", url(world))
    monkeypatch.setenv("AXIS_TOKEN", world["north"].token)
    for name in ("AXIS_KEY", "AXIS_CERT", "AXIS_TRUST_ANCHORS"):
        monkeypatch.delenv(name, raising=False)
    base = ("send", "--subject", "V/v", "--number", "1", "--notation", "X")
    assert await axis(*base, "--key", str(key), "--cert", str(cert), "--to", "000.00.00.H11") == 1
    assert "error: intake.recipient.unknown:" in capsys.readouterr().err
    assert await axis(*base, "--to", SOUTH) == 1
    assert "error: keys.missing:" in capsys.readouterr().err
    assert await axis("status", "000.00.00.H98,2026/01/01,404/X") == 1
    assert "error: document.unknown:" in capsys.readouterr().err
    assert await axis("inbox", "--token", "axs_not-a-token") == 1
    assert "error: auth.token.invalid:" in capsys.readouterr().err
    assert await axis("inbox", "--url", "http://127.0.0.1:1") == 1  # nothing listens there
    assert "error: config.invalid: The axis at http://127.0.0.1:1 cannot be reached" in capsys.readouterr().err


# --- the documented example ---------------------------------------------------------------------------


def load_example() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "docs" / "examples" / "exchange.py"
    spec = importlib.util.spec_from_file_location("axis_docs_example", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


async def test_the_example_in_docs_runs_against_a_real_axis(world: World, tmp_path: Path) -> None:
    example = load_example()
    keys = tmp_path / "keys"
    for name in ("north", "south", "bo"):
        pki.save(world[name].identity, keys, name)
    (keys / "ca.pem").write_bytes(pki.cert_pem(world.ca.certificate))
    grant = world["bo"].grant
    assert grant is not None
    config = example.Config(
        url=url(world),
        keys=keys,
        tokens={name: world[name].token for name in ("north", "south", "bo")},
        amqp_url=amqp.url(world.vhost, grant.username, grant.password),
        ministry_system=world["bo"].system_id,
        ministry_user=grant.username,
    )
    timeline = await example.exchange(config)
    assert {r.requested: r.delivery.state for r in timeline.recipients} == {SOUTH: "delivered", MINISTRY: "delivered"}
    assert [s.code for s in timeline.recipient(MINISTRY).statuses] == ["01"]


# --- statuses and business flows (the rules are the server's) ----------------------------------------


async def test_take_back_from_another_agencys_document_is_refused_before_sending(south: AgencyClient) -> None:
    with pytest.raises(AxisError) as refused:
        await south.take_back(f"{NORTH},2026/11/20,125/UBND-VP", reason="Nhầm")
    assert refused.value.code == "edxml.document_id.sender_mismatch"


async def test_sender_takes_a_document_back_and_each_recipient_answers(
    world: World, north: AgencyClient, south: AgencyClient, dept: AgencyClient
) -> None:
    document_id = await send_letter(north, SOUTH, DEPT)
    request = await north.take_back(document_id, reason="Gửi nhầm văn bản")
    # 13 comes from the sender and goes to the document's recipients, not back to the sender.
    assert sorted(r.requested for r in request.recipients) == [SOUTH, DEPT]
    [item] = [i for i in await south.inbox() if i.kind == "status"]
    asked = await south.receive(item.id)
    assert isinstance(asked.package, StatusPackage)
    assert (asked.package.status_code, asked.package.description) == (StatusCode.TAKE_BACK_REQUEST, "Gửi nhầm văn bản")
    await south.send_status(document_id, StatusCode.AGREED, description="Đồng ý trả lại")
    await dept.send_status(document_id, StatusCode.REFUSED, description="Đã xử lý xong")
    timeline = await north.status(document_id)
    assert [s.code for s in timeline.recipient(SOUTH).statuses] == ["13", "15"]
    assert [s.code for s in timeline.recipient(DEPT).statuses] == ["13", "16"]


async def test_a_status_that_goes_backwards_is_refused(north: AgencyClient, south: AgencyClient) -> None:
    document_id = await send_letter(north, SOUTH)
    await south.send_status(document_id, StatusCode.ARRIVED, description="Đã đến")
    await south.send_status(document_id, StatusCode.ACCEPTED, description="Đã vào sổ")
    with pytest.raises(AxisError) as refused:
        # Other bytes than the first 01 (the same bytes again would be an idempotent repeat).
        await south.send_status(document_id, StatusCode.ARRIVED, description="Đến lần nữa")
    assert refused.value.code == "status.backwards"


async def test_an_agency_cannot_answer_a_document_it_never_received(north: AgencyClient, dept: AgencyClient) -> None:
    document_id = await send_letter(north, SOUTH)
    with pytest.raises(AxisError) as refused:
        await dept.send_status(document_id, StatusCode.ARRIVED)
    assert refused.value.code == "status.document.unknown"


async def test_sender_revokes_a_document_and_its_recipients_receive_the_revocation(
    world: World, north: AgencyClient, south: AgencyClient, dept: AgencyClient
) -> None:
    original = await north.send_document(to=[SOUTH, DEPT], subject="V/v cần thu hồi", number="41", notation="UBND-VP")
    for recipient in (south, dept):
        await recipient.ack(original.package_id)

    revocation = await north.revoke(original.document_id, reason="Văn bản ban hành sai thẩm quyền")
    assert revocation.document_id == original.document_id  # the same DocumentId, BussinessDocType 1
    assert sorted(r.requested for r in revocation.recipients) == [SOUTH, DEPT]
    [item] = await south.inbox()
    received = await south.receive(item.id)
    assert isinstance(received.package, DocumentPackage)
    business = received.package.business
    assert (business.doc_type, business.reason, received.package.subject) == (
        BusinessDocType.REVOKE,
        "Văn bản ban hành sai thẩm quyền",
        "V/v cần thu hồi",
    )
    assert received.document_id == original.document_id
    await south.ack(item.id)
    await south.send_status(original.document_id, StatusCode.AGREED, description="Đã hủy văn bản")
    assert "15" in [s.code for s in (await north.status(original.document_id)).recipient(SOUTH).statuses]


async def test_a_revoked_document_shows_revoked_and_cannot_be_updated_or_answered(
    world: World, north: AgencyClient, south: AgencyClient
) -> None:
    document_id = await send_letter(north, SOUTH, number="42")
    await north.revoke(document_id, reason="Thu hồi")
    assert (await north.status(document_id)).state == "revoked"
    with pytest.raises(AxisError) as refused:
        await north.update(document_id, reason="Sửa", subject="V/v đã sửa")
    assert refused.value.code == "business.target.revoked"
    with pytest.raises(AxisError) as refused:
        await south.send_status(document_id, StatusCode.ACCEPTED)
    assert refused.value.code == "status.document.revoked"


async def test_sender_updates_a_document_and_names_a_new_receiver(
    world: World, north: AgencyClient, south: AgencyClient, dept: AgencyClient, tmp_path: Path
) -> None:
    document_id = await send_letter(north, SOUTH, number="43")
    corrected = tmp_path / "cong-van-43-sua.pdf"
    corrected.write_bytes(b"%PDF-1.7 ban sua")
    update = await north.update(
        document_id,
        reason="Sửa trích yếu, thêm nơi nhận",
        subject="V/v phối hợp (sửa)",
        to=[SOUTH, DEPT],
        attachments=[corrected],
    )
    assert update.document_id == document_id
    assert sorted(r.requested for r in update.recipients) == [SOUTH, DEPT]
    [item] = await dept.inbox()
    received = await dept.receive(item.id)
    assert isinstance(received.package, DocumentPackage)
    business = received.package.business
    assert (business.doc_type, business.document_id, received.package.subject) == (
        BusinessDocType.UPDATE,
        document_id,
        "V/v phối hợp (sửa)",
    )
    assert business.document_info is not None
    assert [r.organ_id for r in business.document_info.receivers] == [SOUTH, DEPT]
    assert [a.name for a in received.package.attachments] == ["cong-van-43-sua.pdf"]


async def test_sender_replaces_a_document_with_a_new_one(
    world: World, north: AgencyClient, south: AgencyClient
) -> None:
    replaced = await send_letter(north, SOUTH, number="44")
    replacement = await north.replace(
        replaced,
        reason="Thay thế do sai số liệu",
        number="45",
        notation="UBND-VP",
        subject="V/v phối hợp (thay thế)",
        to=[SOUTH],
    )
    assert replacement.document_id != replaced
    assert replacement.document_id.endswith(",45/UBND-VP")
    [_, item] = await south.inbox()
    received = await south.receive(item.id)
    assert isinstance(received.package, DocumentPackage)
    business = received.package.business
    assert business.doc_type is BusinessDocType.REPLACE
    assert [(r.document_id, r.organ_ids) for r in business.replacements] == [(replaced, (SOUTH,))]


async def test_a_replaced_document_shows_superseded_and_only_the_sender_may_replace(
    world: World, north: AgencyClient, south: AgencyClient
) -> None:
    replaced = await send_letter(north, SOUTH, number="46")
    replacement = await north.replace(
        replaced, reason="Thay", number="47", notation="UBND-VP", subject="V/v", to=[SOUTH]
    )
    timeline = await north.status(replaced)
    assert (timeline.state, timeline.superseded_by) == ("superseded", replacement.document_id)
    with pytest.raises(AxisError) as refused:
        await north.replace(
            f"{NORTH},2026/01/01,999/X", reason="?", number="48", notation="UBND-VP", subject="V/v", to=[SOUTH]
        )
    assert refused.value.code == "business.target.unknown"


async def test_a_sender_sees_a_failed_delivery_sent_again_in_its_timeline(
    world: World, north: AgencyClient, south: AgencyClient
) -> None:
    document_id = await send_letter(north, SOUTH, number="41")
    conn = await db.connect(world.settings.database_url)
    try:
        await systems.update(conn, "test", "nam", status="disabled")
        [failed] = await north.documents(delivery="failed")
        assert (failed.document_id, failed.deliveries["failed"]) == (document_id, 1)
        assert (await north.status(document_id)).recipient(SOUTH).delivery.state == "failed"
        await systems.update(conn, "test", "nam", status="active")
        async with conn.transaction():
            await redelivery.requeue(conn, "admin:ops", "nam")
        await world.axis.registrar.caught_up(await history.version(conn))
    finally:
        await conn.close()
    [waiting] = await south.inbox(only="package")
    await south.ack(waiting.id)
    delivery = (await north.status(document_id)).recipient(SOUTH).delivery
    assert delivery.state == "delivered"
    [(at, reason)] = delivery.requeued
    assert at is not None
    assert reason == "the recipient system was disabled"


@pytest.fixture
async def starved(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async for built in make_world(database_url, tmp_path, db_pool_size=2, db_acquire_timeout=0.3):
        yield built


async def test_reads_and_acknowledgements_wait_out_a_moment_the_axis_cannot_answer(
    starved: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every request may meet "503 service.unavailable, try again" while the axis's database
    cannot lend a connection. Agency software on the library does not have to handle it for what
    is safe to repeat: reads and acknowledgements wait for ``Retry-After`` (shortened here) and go
    through once the database answers. Sending is left to ``send_signed``, which repeats the same
    bytes."""
    world = starved
    monkeypatch.setattr(api_module, "MAX_WAIT", 0.2)
    package_id = (await world.post(world.signed(world.document(to=(SOUTH,)))))["package_id"]
    south = world["south"]
    async with (
        AxisClient(url(world), south.token, attempts=1) as impatient,
        AxisClient(url(world), south.token) as patient,
    ):
        async with every_connection_held(world):
            with pytest.raises(AxisError) as refused:
                await impatient.inbox()
            assert refused.value.code == "service.unavailable"
            assert refused.value.details["retry_after"] == 5
            listing = asyncio.create_task(patient.inbox())
            await asyncio.sleep(0.6)  # answered 503 at least once, and waiting to try again
            assert not listing.done()
        assert [item["id"] for item in await listing] == [package_id]

        async with every_connection_held(world):
            acking = asyncio.create_task(patient.ack(package_id))
            await asyncio.sleep(0.6)
            assert not acking.done()
        assert (await acking)["state"] == "delivered"

        async with every_connection_held(world):  # a submission is not repeated by this layer
            with pytest.raises(AxisError) as not_repeated:
                await patient.submit(world.signed(world.document("south", to=(NORTH,)), by="south"))
        assert not_repeated.value.code == "service.unavailable"
