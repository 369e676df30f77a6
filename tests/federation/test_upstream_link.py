"""A province's administrator connects this axis to the national one: where the upstream's SDK
interface is, the system id and secret the upstream gave, the agency subtrees this axis serves
itself. From the CLI and the admin API alike, with history, the secret kept sealed and never shown."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
from asyncio.subprocess import PIPE
from pathlib import Path

import pytest
from captured_upstream import national_axis_as_captured
from sdk_world import make_sdk
from world import Api, World

from axis.errors import AxisError
from axis.federation import links, upstream
from axis.federation.link import UPSTREAM, UpstreamLink, checked_endpoint, checked_serves
from axis.store import db
from axis.vdxp import signing
from axis.vdxp.secret import SecretBox

SOUTH = "000.00.00.H99"
TAY_NINH = "000.00.00.H53"  # the province's code: everything under it stays here
SECRET = "s3cr3t-given-by-the-national-axis"


def test_an_agency_within_a_served_subtree_is_served_here_any_other_goes_upstream() -> None:
    link = UpstreamLink(
        id=UPSTREAM,
        endpoint="https://truc.example.gov.vn/vdxp",
        system_id="000.00.00.H53",
        serves=checked_serves((TAY_NINH, "000.00.12.H53", "000.00.00.G22")),
        secret_set_at=None,
        updated_at=dt.datetime.now(dt.UTC),
    )
    assert link.serves == ("000.00.00.G22", TAY_NINH)  # a subtree within another is not kept twice
    assert link.served_here(TAY_NINH)
    assert link.served_here("000.01.12.H53")  # a commune office of the province
    assert link.served_here("000.00.00.G22")
    assert not link.served_here("000.00.00.H29")  # another province: the national axis's
    assert not link.served_here("000.00.00.G01")  # a ministry not served here


@pytest.mark.parametrize(
    ("endpoint", "ok"),
    [
        ("https://truc.example.gov.vn/vdxp/", "https://truc.example.gov.vn/vdxp"),
        ("http://10.0.0.5:8080/vdxp", "http://10.0.0.5:8080/vdxp"),
        ("truc.example.gov.vn/vdxp", None),
        ("ftp://truc.example.gov.vn/vdxp", None),
        ("https://truc.example.gov.vn/vdxp?x=1", None),
        ("", None),
    ],
)
def test_the_endpoint_is_an_absolute_http_url(endpoint: str, ok: str | None) -> None:
    if ok is not None:
        assert checked_endpoint(endpoint) == ok
        return
    with pytest.raises(AxisError) as refused:
        checked_endpoint(endpoint)
    assert refused.value.code == "upstream.endpoint.invalid"


@pytest.mark.parametrize("serves", [(), ("53",), ("000.00.00.h53",)])
def test_the_served_subtrees_are_agency_codes(serves: tuple[str, ...]) -> None:
    with pytest.raises(AxisError) as refused:
        checked_serves(serves)
    assert refused.value.code == "upstream.serves.invalid"


def axis_cli(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "axis", "upstream", *args], env=env, input=stdin, capture_output=True, text=True
    )


async def test_the_operator_sets_the_link_and_its_secret_from_the_cli(database_url: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "AXIS_DATABASE_URL": database_url,
        "AXIS_KEYS_DIR": str(tmp_path / "keys"),
    }
    missing = axis_cli(env, "show")
    assert missing.returncode == 1
    assert "upstream.unknown" in missing.stderr

    done = axis_cli(
        env, "set", "--endpoint", "https://truc.example.gov.vn/vdxp", "--system", "000.00.00.H53", "--serves", TAY_NINH
    )
    assert done.returncode == 0, done.stderr
    assert f"serves     {TAY_NINH} and below" in done.stdout
    assert "secret     not set" in done.stdout

    given = axis_cli(env, "secret", stdin=SECRET + "\n")  # piped, as from a secret store; never an argument
    assert given.returncode == 0, given.stderr
    assert SECRET not in given.stdout + given.stderr
    shown = axis_cli(env, "show")
    assert "secret     set " in shown.stdout
    assert SECRET not in shown.stdout

    conn = await db.connect(database_url)
    try:
        sealed = await conn.fetchval("SELECT secret_sealed FROM upstream_links WHERE id = $1", UPSTREAM)
        assert SECRET.encode() not in sealed  # a copy of the database reveals nothing
        box = SecretBox.load(tmp_path / "keys" / "vdxp-secrets.key")
        assert await links.secret(conn, UPSTREAM, box) == SECRET.encode()
        entries = await conn.fetch(
            "SELECT actor, action, after FROM registry_history WHERE subject_kind = 'upstream' ORDER BY id"
        )
    finally:
        await conn.close()
    assert [e["action"] for e in entries] == ["upstream.configure", "upstream.secret"]
    assert all(e["actor"].startswith("cli:") for e in entries)
    assert all(SECRET not in str(e["after"]) for e in entries)
    assert entries[0]["after"]["serves"] == [TAY_NINH]


async def test_the_administrator_sets_the_link_over_the_admin_api(api: Api) -> None:
    client, headers = api.client, api.admin
    assert (await client.get("/api/v1/admin/upstream")).status == 401
    nothing = await client.get("/api/v1/admin/upstream", headers=headers)
    assert nothing.status == 404
    assert (await nothing.json())["error"]["code"] == "upstream.unknown"

    wrong = await client.put(
        "/api/v1/admin/upstream",
        headers=headers,
        json={"endpoint": "truc.example.gov.vn", "system_id": "000.00.00.H53", "serves": [TAY_NINH]},
    )
    assert wrong.status == 422
    assert (await wrong.json())["error"]["code"] == "upstream.endpoint.invalid"

    bad_id = await client.put(
        "/api/v1/admin/upstream",
        headers=headers,
        json={"endpoint": "https://truc.example.gov.vn/vdxp", "system_id": "truc tay ninh!", "serves": [TAY_NINH]},
    )
    assert bad_id.status == 422
    assert (await bad_id.json())["error"]["code"] == "registry.system.invalid"

    body = {"endpoint": "https://truc.example.gov.vn/vdxp", "system_id": "000.00.00.H53", "serves": [TAY_NINH]}
    put = await client.put("/api/v1/admin/upstream", headers=headers, json=body)
    assert put.status == 200, await put.text()
    link = await put.json()
    assert (link["endpoint"], link["serves"], link["secret_set"]) == (body["endpoint"], [TAY_NINH], False)

    secret = await client.put("/api/v1/admin/upstream/secret", headers=headers, json={"secret": SECRET})
    assert secret.status == 200
    shown = await (await client.get("/api/v1/admin/upstream", headers=headers)).json()
    assert shown["secret_set"] is True
    assert SECRET not in str(shown)
    empty = await client.put("/api/v1/admin/upstream/secret", headers=headers, json={"secret": " "})
    assert (await empty.json())["error"]["code"] == "upstream.secret.invalid"


async def checking(env: dict[str, str]) -> tuple[int, str, str]:
    """``axis upstream check`` while the axis under test keeps serving (a blocking run would stall it)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "axis", "upstream", "check", env=env, stdout=PIPE, stderr=PIPE
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_the_operator_checks_the_link_with_one_call_as_the_sdk_makes_it(world: World, tmp_path: Path) -> None:
    """``axis upstream check`` calls the upstream exactly as the official SDK would (here the axis
    under test plays the upstream: its /vdxp, a system of it, that system's SDK secret): the answer
    says whether the address and the credentials are right, and how many documents wait there."""
    sdk = await make_sdk(world)
    await world.axis.federation.stop()  # this axis is its own upstream here: its worker would take the document
    env = {
        **os.environ,
        "AXIS_DATABASE_URL": world.settings.database_url,
        "AXIS_KEYS_DIR": str(world.settings.keys_dir),
    }
    south = world["south"].system_id
    done = axis_cli(env, "set", "--endpoint", sdk.endpoint, "--system", south, "--serves", TAY_NINH)
    assert done.returncode == 0, done.stderr
    assert axis_cli(env, "secret", stdin=sdk.secrets["south"] + "\n").returncode == 0

    await world.post(world.signed(world.document(to=(SOUTH,))))
    status, out, err = await checking(env)
    assert status == 0, err
    assert f"accepted this axis as {south}; 1 document(s) wait there" in out

    assert axis_cli(env, "secret", stdin="not-the-secret\n").returncode == 0
    status, _, err = await checking(env)
    assert status == 1
    assert "upstream.refused" in err
    assert "upstream_code:" in err  # the upstream's own ErrorCode, as the SDK would read it

    moved = axis_cli(env, "set", "--endpoint", "http://127.0.0.1:9/vdxp", "--system", south, "--serves", TAY_NINH)
    assert moved.returncode == 0, moved.stderr
    status, _, err = await checking(env)
    assert status == 1
    assert "upstream.unreachable" in err


async def test_the_axis_speaks_to_an_upstream_that_answers_as_the_national_axis_did() -> None:
    """The answers the national axis gave the official SDK (``sdk-wire/answers/``) are read as the
    SDK reads them, and each request the axis sends is signed as the SDK signs it: the upstream's
    own check (here the axis's /vdxp verification) accepts the signature with the shared secret."""
    async with national_axis_as_captured() as (endpoint, received):
        link = UpstreamLink(
            id=UPSTREAM,
            endpoint=endpoint,
            system_id="000.00.00.H53",
            serves=(TAY_NINH,),
            secret_set_at=None,
            updated_at=dt.datetime.now(dt.UTC),
        )
        secret = SECRET.encode()
        sent = await upstream.call(
            link, secret, "sendEdoc", {"from": TAY_NINH, "servicetype": "eDoc", "messagetype": "edoc"}, b"<edXML/>"
        )
        assert sent.body["DocId"] == "a1c4e7f0-2b5d-4e8a-9c3f-112233445566"
        listed = await upstream.call(
            link, secret, "getReceivedEdocList", {"servicetype": "eDoc", "messagetype": "edoc"}
        )
        assert [item["docId"] for item in listed.body["data"]] == ["5f3c2a9e-1b7d-4c1e-9a41-0d6f2b8e7c11"]
        counted = await upstream.call(link, secret, "countReceiveEdoc", {"servicetype": "eDoc", "messagetype": "edoc"})
        assert counted.count() == 1
        done = await upstream.call(
            link, secret, "updateStatus", {"docId": listed.body["data"][0]["docId"], "status": "done"}
        )
        assert done.status == "OK"

    assert [raw.split(b" ", 2)[1] for raw in received] == [
        b"/vdxp/sendEdoc",
        b"/vdxp/getReceivedEdocList",
        b"/vdxp/countReceiveEdoc",
        b"/vdxp/updateStatus",
    ]
    for raw in received:
        headers = [
            tuple(part.strip() for part in line.split(b":", 1))
            for line in raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]
        ]
        envelope = signing.read(headers)
        assert signing.verify(envelope, [SECRET.encode()]).values["systemid"] == "000.00.00.H53"
    assert received[0].endswith(b"<edXML/>\r\n")  # the package's bytes, then the SDK's CRLF


async def test_an_upstream_that_does_not_speak_http_is_a_clear_refusal_not_a_traceback() -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(garbage, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    link = UpstreamLink(
        id=UPSTREAM,
        endpoint=f"http://127.0.0.1:{port}/vdxp",
        system_id="000.00.00.H53",
        serves=(TAY_NINH,),
        secret_set_at=None,
        updated_at=dt.datetime.now(dt.UTC),
    )
    try:
        with pytest.raises(AxisError) as refused:
            await upstream.call(link, SECRET.encode(), "countReceiveEdoc", {"servicetype": "eDoc"})
    finally:
        server.close()
        await server.wait_closed()
    assert refused.value.code == "upstream.refused"
    assert refused.value.details["upstream_description"] == "not an HTTP answer"
