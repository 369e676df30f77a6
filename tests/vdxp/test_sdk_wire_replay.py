"""Every request the official SDK sent, replayed byte for byte against a real axis, is accepted and
answered in the shape the SDK reads.

The captures (``sdk-wire/``, copies of ``shared/domain/sdk-wire``) were made with system
``sdk-demo`` and secret ``sdk-demo-secret``, whose agencies H98 and H99 it served both; the axis
here is set up the same way. Their timestamps are fixed on 2026-12-06 and their signatures never
change, so they must pass on any later date. The capture server made up its docIds: the package
the axis accepts from file 01 is given the id the later captures ask for (``5f3c2a9e…``).
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import amqp
import pytest
import world as world_module
from aiohttp.test_utils import TestServer
from sdk_reader import SdkResult, read_reply, sdk_accepts

from axis.app import build_app
from axis.federation.sdk.transport import Reply, exchange, parse_reply
from axis.registry import agencies, systems
from axis.store import db
from axis.vdxp.secret import SecretBox

CAPTURES = Path(__file__).resolve().parent / "sdk-wire"
RECEIVED_ID = "5f3c2a9e-1b7d-4c1e-9a41-0d6f2b8e7c11"
AGENCIES = [
    ("000.00.00.H97", "Cơ quan thử nghiệm 97"),
    ("000.00.00.H98", "Cơ quan thử nghiệm 98"),
    ("000.00.00.H99", "Cơ quan thử nghiệm 99"),
]


def capture(name: str) -> bytes:
    (path,) = CAPTURES.glob(f"{name}-*.http")
    return path.read_bytes()


def operation_of(raw: bytes) -> str:
    return raw.split(b" ", 2)[1].decode().rsplit("/", 1)[1]


@dataclass
class Demo:
    server: TestServer
    database_url: str

    async def send(self, raw: bytes) -> Reply:
        port = self.server.port
        assert port is not None
        return await exchange(str(self.server.host), port, raw)

    async def fetchval(self, query: str, *args: Any) -> Any:
        conn = await db.connect(self.database_url)
        try:
            return await conn.fetchval(query, *args)
        finally:
            await conn.close()

    async def adopt_id(self, package_id: str, new_id: str) -> None:
        """Give an accepted package the id the capture server made up (a test's liberty: the
        foreign keys and the append-only event log are bypassed for this one rename)."""
        conn = await db.connect(self.database_url)
        try:
            async with conn.transaction():
                await conn.execute("SET LOCAL session_replication_role = replica")
                for table in ("package_recipients", "deliveries", "receipts", "events", "documents", "document_links"):
                    await conn.execute(
                        f"UPDATE {table} SET package_id = $2 WHERE package_id = $1",
                        uuid.UUID(package_id),
                        uuid.UUID(new_id),
                    )
                await conn.execute("UPDATE outbox SET message_id = $2 WHERE message_id = $1", package_id, new_id)
                await conn.execute(
                    "UPDATE packages SET id = $2 WHERE id = $1", uuid.UUID(package_id), uuid.UUID(new_id)
                )
        finally:
            await conn.close()


@pytest.fixture
async def demo(database_url: str, tmp_path: Path) -> AsyncIterator[Demo]:
    """An axis with the captures' system: ``sdk-demo`` serves H98 and H99 and holds the captures' secret.
    Its packages come from the SDK's EdXML102 library, so it has the migration policy for unsigned ones."""
    settings, _, vhost = await world_module.axis_settings(database_url, tmp_path)
    box, _ = SecretBox.load_or_create(settings.vdxp_key_path)
    conn = await db.connect(database_url)
    try:
        async with conn.transaction():
            for code, name in AGENCIES:
                await agencies.add(conn, "test", code, name)
            await systems.add(conn, "test", "sdk-demo", "SDK demo", allow_unsigned=True)
            for code in ("000.00.00.H98", "000.00.00.H99"):
                await systems.bind(conn, "test", "sdk-demo", code)
            await conn.execute(
                "INSERT INTO system_sdk_secrets (system_id, sealed, key_id) VALUES ('sdk-demo', $1, $2)",
                box.seal("sdk-demo", "sdk-demo-secret"),
                box.key_id,
            )
    finally:
        await conn.close()
    server = TestServer(build_app(settings))
    await server.start_server()
    try:
        yield Demo(server, database_url)
    finally:
        await server.close()
        await amqp.delete_vhost(vhost)


#: Per capture: what the SDK's caller reads, given the order of the captures (02, the recipient's
#: status 01, acknowledges the document, so it is no longer listed as waiting).
EXPECTED: dict[str, tuple[str, str]] = {
    "08": ("FAIL", "100"),  # downloadEdoc2 carries no credentials and no docId: an empty answer
    "11": ("FAIL", "402"),  # fail after the document was acknowledged (by 02)
    "18": ("FAIL", "504"),  # registerAgency's data is not signed: the administrator adds agencies
    "19": ("FAIL", "504"),  # agencies are retired by the administrator on this axis (the default)
}


async def test_every_captured_sdk_request_is_accepted_and_answered_as_the_sdk_reads(demo: Demo) -> None:
    package = capture("01").split(b"\r\n\r\n", 1)[1][:-2]  # the file, without the SDK's closing CRLF
    results: dict[str, SdkResult] = {}
    for path in sorted(CAPTURES.glob("[0-9][0-9]-*.http")):
        number, raw = path.name[:2], path.read_bytes()
        operation = operation_of(raw)
        reply = await demo.send(raw)
        expected = EXPECTED.get(number, ("SUCCESS", "0") if operation == "downloadEdoc" else ("OK", "0"))
        if expected[0] == "FAIL":
            result = read_reply(operation, reply)
            assert result is not None, path.name
            assert reply.header("Content-Type") in (None, "application/json"), path.name
        else:
            result = sdk_accepts(operation, reply)
        assert (result.status, result.error_code) == expected, (path.name, result)
        results[number] = result
        if number == "01":
            assert result.doc_id is not None
            await demo.adopt_id(result.doc_id, RECEIVED_ID)

    # The document went in once, whatever the four sendEdoc calls that carried it (01, 03, 28, and
    # 29 from an instance that had called getEdoc and updateStatus: one docId header for two signed).
    assert [results[n].doc_id for n in ("03", "28", "29")] == [RECEIVED_ID] * 3
    assert await demo.fetchval("SELECT count(*) FROM packages WHERE kind = 'document'") == 1
    assert results["02"].doc_id not in (None, "", RECEIVED_ID)
    # getEdoc (06, 24, 26 with its 8-bit header, 27) and downloadEdoc (07) gave the file as sent.
    for number in ("06", "24", "26", "27"):
        assert results[number].data == package, number
    assert results["07"].file == package
    assert results["05"].items is not None
    assert [i["docId"] for i in results["05"].items] == [results["02"].doc_id]
    assert results["04"].items == ()  # acknowledged by the status 01 of 02
    assert (results["13"].count, results["14"].count) == (0, 1)
    sent = results["12"].items
    assert sent is not None
    assert [(i["senderDocId"], i["toCode"]) for i in sent] == [(RECEIVED_ID, "000.00.00.H99")]
    for number in ("15", "16", "17"):
        assert results[number].items, number
    # One instance's identical requests (20–22: the third 70 s later) are all answered alike.
    assert results["20"] == results["21"] == results["22"]


async def test_a_captured_request_fails_in_the_sdks_shape_when_the_secret_is_not_the_captures(
    demo: Demo,
) -> None:
    await demo.fetchval("UPDATE system_sdk_secrets SET valid_until = now() - interval '1 second'")
    for name in ("01", "04", "06", "10"):
        raw = capture(name)
        operation = operation_of(raw)
        result = read_reply(operation, await demo.send(raw))
        assert result is not None
        assert (result.status, result.error_code) == ("FAIL", "103"), (name, result)
        if operation == "sendEdoc":
            assert result.doc_id == ""  # present, so the SDK keeps ErrorCode and ErrorDesc
    reply = await demo.send(capture("07"))
    assert (reply.body, read_reply("downloadEdoc", reply).status) == (b"", "FAIL")  # type: ignore[union-attr]
    assert await demo.fetchval("SELECT count(*) FROM packages") == 0


def test_the_captured_answers_are_what_the_sdk_reads_too() -> None:
    """The reader that judges the axis's answers accepts the capture server's answers."""
    for path in sorted((CAPTURES / "answers").glob("*.http")):
        operation = operation_of(capture(path.name[:2]))
        result = sdk_accepts(operation, parse_reply(path.read_bytes()))
        assert result.error_code == "0", path.name
        if operation == "getEdoc":
            assert result.data == base64.b64decode(
                parse_reply(path.read_bytes()).body.split(b'"data":"')[1].split(b'"')[0]
            )
