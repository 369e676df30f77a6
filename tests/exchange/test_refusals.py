"""Every way intake can refuse a package answers with its stable code and stores nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import builders
import pytest
import world as world_module
from signxml.algorithms import DigestAlgorithm, SignatureMethod
from world import World

from axis import pki
from axis.edxml import build, sign
from axis.registry import agencies, systems
from axis.store import db

Case = Callable[[World], Awaitable[tuple[bytes, dict[str, str]]]]


async def as_north(world: World, data: bytes) -> tuple[bytes, dict[str, str]]:
    return data, world["north"].headers


async def no_token(world: World) -> tuple[bytes, dict[str, str]]:
    return world.signed(world.document()), {}


async def unknown_token(world: World) -> tuple[bytes, dict[str, str]]:
    return world.signed(world.document()), {"Authorization": "Bearer axs_not-a-token"}


async def not_xml(world: World) -> tuple[bytes, dict[str, str]]:
    return await as_north(world, b"%PDF-1.7 this is not edXML")


async def not_schema_valid(world: World) -> tuple[bytes, dict[str, str]]:
    data = world.signed(world.document()).replace(b"<edXML:Subject>", b"<edXML:Paper>0</edXML:Paper><edXML:Subject>")
    return await as_north(world, data)


async def unsigned(world: World) -> tuple[bytes, dict[str, str]]:
    return await as_north(world, build(world.document()))


async def tampered(world: World) -> tuple[bytes, dict[str, str]]:
    return await as_north(world, world.signed(world.document()).replace(b">125<", b">126<", 1))


async def sha1_signature(world: World) -> tuple[bytes, dict[str, str]]:
    north = world["north"].identity
    data = sign(
        build(world.document()),
        north.key,
        north.cert_chain,
        signature_method=SignatureMethod.RSA_SHA1,
        digest=DigestAlgorithm.SHA1,
    )
    return await as_north(world, data)


async def untrusted_certificate(world: World) -> tuple[bytes, dict[str, str]]:
    stranger = pki.issue(pki.new_ca("Unknown CA"), "000.00.00.H98", "Kẻ Mạo Danh")
    return await as_north(world, sign(build(world.document()), stranger.key, stranger.cert_chain))


async def certificate_not_bound_to_the_caller(world: World) -> tuple[bytes, dict[str, str]]:
    other = pki.issue(world.ca, "000.00.00.H98", "UBND Tỉnh Thử Nghiệm Bắc (chứng thư chưa đăng ký)")
    return await as_north(world, sign(build(world.document()), other.key, other.cert_chain))


async def _registry(world: World, change: Callable[..., Awaitable[object]]) -> None:
    conn = await db.connect(world.settings.database_url)
    try:
        async with conn.transaction():
            await change(conn)
        version = await conn.fetchval("SELECT version FROM registry_version")
    finally:
        await conn.close()
    await world.axis.registry.wait_for(version)


async def certificate_of_another_agency(world: World) -> tuple[bytes, dict[str, str]]:
    """North's system holds a certificate naming the southern province; it cannot sign for H98."""
    mislabelled = pki.issue(world.ca, "000.00.00.H99", "Chứng thư của Nam")
    pem = pki.cert_pem(mislabelled.certificate)
    await _registry(world, lambda conn: systems.add_certificate(conn, "test", "bac", pem))
    return await as_north(world, sign(build(world.document()), mislabelled.key, mislabelled.cert_chain))


async def sender_not_served_by_the_caller(world: World) -> tuple[bytes, dict[str, str]]:
    south = world["south"]
    document = builders.document(sender=south.code, recipients=("000.00.00.H98",))
    return sign(build(document), south.identity.key, south.identity.cert_chain), world["north"].headers


async def unknown_recipient(world: World) -> tuple[bytes, dict[str, str]]:
    return await as_north(world, world.signed(world.document(to=("000.00.00.H99", "000.00.00.H01"))))


async def unserved_recipient(world: World) -> tuple[bytes, dict[str, str]]:
    await _registry(world, lambda conn: agencies.add(conn, "test", "000.00.00.G97", "Bộ Chưa Kết Nối"))
    return await as_north(world, world.signed(world.document(to=("000.00.00.G97",))))


async def retired_recipient_without_successor(world: World) -> tuple[bytes, dict[str, str]]:
    await _registry(world, lambda conn: agencies.retire(conn, "test", "000.00.11.H99"))
    return await as_north(world, world.signed(world.document(to=("000.00.11.H99",))))


CASES: list[tuple[Case, int, str]] = [
    (no_token, 401, "auth.token.missing"),
    (unknown_token, 401, "auth.token.invalid"),
    (not_xml, 400, "edxml.xml.malformed"),
    (not_schema_valid, 400, "edxml.schema.invalid"),
    (unsigned, 400, "signature.missing"),
    (tampered, 400, "signature.digest_mismatch"),
    (sha1_signature, 400, "signature.algorithm.forbidden"),
    (untrusted_certificate, 400, "signature.certificate.untrusted"),
    (certificate_not_bound_to_the_caller, 403, "registry.certificate.not_bound"),
    (certificate_of_another_agency, 403, "registry.certificate.agency_mismatch"),
    (sender_not_served_by_the_caller, 403, "registry.sender.not_served"),
    (unknown_recipient, 422, "intake.recipient.unknown"),
    (unserved_recipient, 422, "intake.recipient.unserved"),
    (retired_recipient_without_successor, 422, "intake.recipient.retired"),
]


@pytest.mark.parametrize(("make", "status", "code"), CASES, ids=[c[0].__name__ for c in CASES])
async def test_refused_package_gets_its_code_and_nothing_is_stored(
    world: World, make: Case, status: int, code: str
) -> None:
    data, headers = await make(world)
    response = await world.client.post("/api/v1/packages", data=data, headers=headers)
    body = await response.json()
    assert (response.status, body["error"]["code"]) == (status, code), body
    assert body["error"]["message"]
    for table in ("packages", "deliveries", "package_recipients", "events", "outbox", "receipts"):
        assert await world.count(table) == 0, table


async def test_resubmitting_the_same_bytes_is_idempotent(world: World) -> None:
    data = world.signed(world.document())
    first = await world.post(data)
    again = await world.post(data, expect=200)
    assert again["package_id"] == first["package_id"]
    assert again["repeated"] is True
    assert again == {**first, "repeated": True}  # the same answer, signature policy and quirks included
    assert await world.count("packages") == 1
    assert await world.count("deliveries") == 1


async def test_same_document_id_with_other_content_is_a_conflict(world: World) -> None:
    await world.post(world.signed(world.document(subject="Bản gốc")))
    conflict = await world.post(world.signed(world.document(subject="Bản khác")), expect=409)
    assert conflict["error"]["code"] == "intake.duplicate"
    assert await world.count("packages") == 1


@pytest.fixture
async def small_world(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async for built in world_module.make_world(database_url, tmp_path, max_package_bytes=64 * 1024):
        yield built


async def test_oversize_package_is_refused_before_it_is_read(small_world: World) -> None:
    big = small_world.signed(small_world.document(attachments=(builders.attachment_of_size(200 * 1024),)))
    declared = await small_world.client.post("/api/v1/packages", data=big, headers=small_world["north"].headers)
    assert declared.status == 413
    assert (await declared.json())["error"]["code"] == "edxml.xml.too_large"

    async def stream() -> AsyncIterator[bytes]:  # chunked: no Content-Length to refuse it by
        for start in range(0, len(big), 16 * 1024):
            yield big[start : start + 16 * 1024]

    chunked = await small_world.client.post("/api/v1/packages", data=stream(), headers=small_world["north"].headers)
    assert chunked.status == 413
    assert await small_world.count("packages") == 0
