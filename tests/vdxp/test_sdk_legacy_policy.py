"""Packages built by the SDK's own EdXML102 library carry a placeholder Signature in the edXML
namespace, which signs nothing. New systems are strict: such a package is refused, with what to do.
Under the migration policy it is accepted, and it says so wherever it is listed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sdk_world import LIST_EDOC, Sdk, edoc_header

from axis.registry import history, systems
from axis.store import db

#: The package of capture 01: built by EdXML102-0.0.3 (H98 to H99), its dummy signature included.
EDXML102 = (Path(__file__).resolve().parent / "sdk-wire" / "01-sendEdoc-edoc.http").read_bytes()
PACKAGE = EDXML102.split(b"\r\n\r\n", 1)[1][:-2]


async def allow_unsigned(sdk: Sdk, system_id: str) -> None:
    conn = await db.connect(sdk.world.settings.database_url)
    try:
        async with conn.transaction():
            await systems.update(conn, "admin", system_id, allow_unsigned=True)
        await sdk.world.axis.registrar.caught_up(await history.version(conn))
    finally:
        await conn.close()


async def test_an_edxml102_package_is_refused_under_the_strict_policy_with_what_to_do(sdk: Sdk) -> None:
    result = await sdk.refused(
        sdk.service("north"), "sendEdoc", edoc_header("000.00.00.H98"), "303", "signature.missing", PACKAGE
    )
    assert "EdXML102" in (result.error_desc or "")
    assert "axis systems policy bac --allow-unsigned" in (result.error_desc or "")
    assert await sdk.world.count("packages") == 0


async def test_under_the_migration_policy_it_is_accepted_and_listed_as_unsigned(
    sdk: Sdk, people: Any, visit: Any
) -> None:
    await allow_unsigned(sdk, "bac")
    sent = await sdk.ok(sdk.service("north"), "sendEdoc", edoc_header("000.00.00.H98"), PACKAGE)
    listed = await sdk.ok(sdk.service("south"), "getReceivedEdocList", LIST_EDOC)
    assert listed.items is not None
    (item,) = listed.items
    assert item["docId"] == sent.doc_id
    assert "không có chữ ký số XML" in item["status_desc"]
    reply = await sdk.call(sdk.service("south"), "getReceivedEdocList", LIST_EDOC)
    assert b'"signaturePolicy":"legacy:unsigned"' in reply.body
    own = await sdk.ok(sdk.service("north"), "getSentEdocList", LIST_EDOC)
    assert own.items is not None
    assert "không có chữ ký số XML" in own.items[0]["sendStatusDesc"]
    async with sdk.world.axis.pool.acquire() as conn:
        policy = await conn.fetchval("SELECT signature_policy FROM packages WHERE id = $1::uuid", sent.doc_id)
    assert policy == "legacy:unsigned"

    # The recipient's clerk opens it: the page says that no XML signature stood behind it.
    clerk = visit()
    await clerk.log_in("vanthu.nam")
    words = " ".join(re.sub(r"<[^>]+>", " ", await clerk.get(f"/ui/documents/{sent.doc_id}")).split())
    assert "Văn bản không có chữ ký số XML" in words
    assert "Hãy kiểm tra chữ ký số trên tệp văn bản đính kèm." in words
