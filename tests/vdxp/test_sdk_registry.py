"""The SDK's registry operations: agency lists in both code forms, a system's own units, and
registering or retiring agencies within what the system serves."""

from __future__ import annotations

import json

from sdk_client import ok
from sdk_world import Sdk
from test_sdk_refusals import refused

from axis.registry import agencies
from axis.store import db


async def call_with_json(sdk: Sdk, name: str, operation: str, body: dict[str, str]) -> dict[str, object]:
    client = sdk[name]
    prepared = client.prepare(operation)
    prepared.headers["Content-Type"] = "application/json"
    response = await sdk.world.client.post(
        f"/vdxp/{operation}", data=json.dumps(body).encode(), headers=prepared.headers
    )
    answer: dict[str, object] = await response.json()
    return answer


async def test_agency_lists_in_both_code_forms(sdk: Sdk) -> None:
    conn = await db.connect(sdk.world.settings.database_url)
    try:
        async with conn.transaction():
            await agencies.set_code_qd20(conn, "test", "000.00.00.H99", "H99")
    finally:
        await conn.close()
    await sdk.world.axis.registry.reload()
    listed = ok(await sdk["north"].call("getAgenciesList"))
    assert [a["code"] for a in listed] == ["000.00.00.G98", "000.00.00.H98", "000.00.00.H99", "000.00.11.H99"]
    south = next(a for a in listed if a["code"] == "000.00.00.H99")
    assert (south["codeQD20"], south["parentCode"], south["status"]) == ("H99", None, "active")
    qd20 = {a["code102"]: a["code"] for a in ok(await sdk["north"].call("getAgenciesListQD20"))}
    assert qd20["000.00.00.H99"] == "H99"
    assert qd20["000.00.00.H98"] is None  # no Decision 20/2020 code known


async def test_a_system_synchronizes_the_units_it_serves(sdk: Sdk) -> None:
    units = ok(await sdk["south"].call("getSynchronizeUnit"))
    assert [u["code"] for u in units] == ["000.00.00.H99"]  # 000.00.11.H99 has a binding of its own
    assert [u["code"] for u in ok(await sdk["dept"].call("getSynchronizeUnit"))] == ["000.00.11.H99"]


async def test_a_system_registers_and_retires_agencies_under_its_own_subtree(sdk: Sdk) -> None:
    new = {"code": "000.00.12.H99", "name": "Sở Thử Nghiệm Mới", "codeQD20": "H99.12"}
    added = ok(await call_with_json(sdk, "south", "registerAgency", new))
    assert (added["code"], added["codeQD20"], added["parentCode"]) == ("000.00.12.H99", "H99.12", "000.00.00.H99")
    assert sdk.world.axis.registry.resolver.resolve("000.00.12.H99").system.id == "nam"
    assert "000.00.12.H99" in [u["code"] for u in ok(await sdk["south"].call("getSynchronizeUnit"))]
    refused(await call_with_json(sdk, "south", "registerAgency", new), "502", "registry.agency.exists")

    # Outside its subtrees, or the root of a binding: the administrator's business.
    elsewhere = {"code": "000.00.12.H98", "name": "Sở của tỉnh khác"}
    refused(await call_with_json(sdk, "south", "registerAgency", elsewhere), "504", "vdxp.agency.not_served")
    refused(
        await call_with_json(sdk, "south", "deleteAgency", {"code": "000.00.11.H99"}), "504", "vdxp.agency.not_served"
    )
    refused(
        await call_with_json(sdk, "south", "deleteAgency", {"code": "000.00.00.H99"}), "504", "vdxp.agency.not_served"
    )

    # deleteAgency retires (old documents still name the code); the code may come as a header.
    retired = ok(await sdk["south"].call("deleteAgency", code="000.00.12.H99"))
    assert (retired["status"], retired["successor"]) == ("retired", None)
    assert "000.00.12.H99" not in [a["code"] for a in ok(await sdk["south"].call("getAgenciesList"))]
    async with sdk.world.axis.pool.acquire() as conn:
        actors = await conn.fetch("SELECT actor, action FROM registry_history WHERE subject_id = '000.00.12.H99'")
    assert [(r["actor"], r["action"]) for r in actors] == [("vdxp:nam", "agency.create"), ("vdxp:nam", "agency.retire")]
