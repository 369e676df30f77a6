"""The provincial axis towards an upstream that answers exactly as the national axis answered the
official SDK (``sdk-wire/answers/``): it hands a package up, takes the listed document down, tells
``done``, refreshes its external agencies — and every request it sends is signed as the SDK signs
its own, with the secret the upstream gave."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import amqp
import builders
from aiohttp.test_utils import TestClient, TestServer
from captured_upstream import captured, national_axis_as_captured
from world import axis_settings, wait_until

from axis import pki
from axis.app import build_app
from axis.edxml import build, sign
from axis.federation import links
from axis.registry import agencies, systems
from axis.store import db
from axis.vdxp import signing
from axis.vdxp.secret import SecretBox

HERE = "000.00.00.H99"  # the province this axis serves (the captured package's recipient)
THERE = "000.00.00.H98"  # another province, on the national axis (the captured package's sender)
SECRET = "secret-the-national-axis-gave"


async def test_the_province_behaves_towards_the_national_axis_as_the_official_sdk_would(
    database_url: str, tmp_path: Path
) -> None:
    settings, ca, vhost = await axis_settings(
        database_url, tmp_path, upstream_forward_interval=0.2, upstream_poll_interval=0.3
    )
    here = pki.issue(ca, HERE, "UBND Tỉnh Thử Nghiệm Nam")
    async with national_axis_as_captured() as (endpoint, received):
        conn = await db.connect(database_url)
        try:
            async with conn.transaction():
                await agencies.add(conn, "t", HERE, "UBND Tỉnh Thử Nghiệm Nam")
                await systems.add(conn, "t", "nam-eoffice", "eOffice tỉnh Nam")
                await systems.bind(conn, "t", "nam-eoffice", HERE)
                await systems.add_certificate(conn, "t", "nam-eoffice", pki.cert_pem(here.certificate))
                _, token = await systems.issue_token(conn, "t", "nam-eoffice")
                await links.configure(conn, "t", "upstream", endpoint=endpoint, system_id="tinh-nam", serves=(HERE,))
                box, _ = SecretBox.load_or_create(settings.vdxp_key_path)
                await links.set_secret(conn, "t", "upstream", SECRET, box)
        finally:
            await conn.close()
        client = TestClient(TestServer(build_app(settings)))
        await client.start_server()
        try:
            auth = {"Authorization": f"Bearer {token}"}
            package = sign(build(builders.document(HERE, (THERE,))), here.key, here.cert_chain)
            response = await client.post("/api/v1/packages", data=package, headers=auth)
            assert response.status == 202, await response.text()

            async def settled() -> bool:
                conn = await db.connect(database_url)
                try:
                    sent = await conn.fetch("SELECT state, upstream_doc_id FROM upstream_sent")
                    taken = await conn.fetch(
                        "SELECT upstream_doc_id, state FROM upstream_received ORDER BY upstream_doc_id"
                    )
                    external = await conn.fetchval("SELECT count(*) FROM external_agencies")
                finally:
                    await conn.close()
                return (
                    [(r["state"], r["upstream_doc_id"]) for r in sent]
                    == [("handed", "a1c4e7f0-2b5d-4e8a-9c3f-112233445566")]
                    and [(r["upstream_doc_id"], r["state"]) for r in taken]
                    == [
                        ("5f3c2a9e-1b7d-4c1e-9a41-0d6f2b8e7c11", "done"),
                        ("8b0e4d62-3a5f-4f0c-b2d9-6c1a7e9f3d22", "done"),
                    ]
                    and external >= 1
                )

            await wait_until(settled, 20)
            inbox = await (await client.get("/api/v1/inbox", headers=auth)).json()
            packages = [item for item in inbox["items"] if item["type"] == "package"]
            # The same document listed twice upstream (as a document and among the statuses) is one package here.
            assert len(packages) == 1
            got = await client.get(f"/api/v1/packages/{packages[0]['package_id']}", headers=auth)
            answer = json.loads(captured("getEdoc", "").split(b"\r\n\r\n", 1)[1])
            assert await got.read() == base64.b64decode(answer["data"])  # the bytes the upstream gave
        finally:
            await client.close()
            await amqp.delete_vhost(vhost)

    operations = [raw.split(b" ", 2)[1].decode() for raw in received]
    assert {"/vdxp/sendEdoc", "/vdxp/getReceivedEdocList", "/vdxp/getEdoc", "/vdxp/updateStatus"} <= set(operations)
    for raw in received:
        headers = [
            tuple(part.strip() for part in line.split(b":", 1))
            for line in raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]
        ]
        assert signing.verify(signing.read(headers), [SECRET.encode()]).values["systemid"] == "tinh-nam"
    sent_raw = next(raw for raw in received if raw.startswith(b"POST /vdxp/sendEdoc"))
    assert sent_raw.endswith(package + b"\r\n")  # the package's bytes unchanged, then the SDK's CRLF
