"""The SDK's registry operations: agency lists with the SDK's own fields in both code forms, the
units to synchronize with their serving systems and changes, and what the axis does with
registerAgency and deleteAgency."""

from __future__ import annotations

from sdk_world import Sdk

from axis.registry import agencies, history
from axis.store import db


async def change_registry(sdk: Sdk) -> None:
    """H99 gets its Decision 20/2020 code; a district of H99 is merged into the province."""
    conn = await db.connect(sdk.world.settings.database_url)
    try:
        async with conn.transaction():
            await agencies.set_code_qd20(conn, "test", "000.00.00.H99", "H99")
            await agencies.add(conn, "test", "000.00.40.H99", "UBND Huyện Thử Nghiệm Tây")
            await agencies.retire(conn, "test", "000.00.40.H99", "000.00.00.H99")
        await sdk.world.axis.registrar.caught_up(await history.version(conn))
    finally:
        await conn.close()


async def test_agency_lists_carry_the_sdks_fields_in_both_code_forms(sdk: Sdk) -> None:
    await change_registry(sdk)
    north = sdk.service("north")
    listed = (await sdk.ok(north, "getAgenciesList", {})).items
    assert listed is not None
    assert [a["code"] for a in listed] == ["000.00.00.G98", "000.00.00.H98", "000.00.00.H99", "000.00.11.H99"]
    south = next(a for a in listed if a["code"] == "000.00.00.H99")
    assert (south["id"], south["pid"], south["oldCode"]) == ("000.00.00.H99", "0", "000.00.40.H99")
    department = next(a for a in listed if a["code"] == "000.00.11.H99")
    assert department["pid"] == "000.00.00.H99"
    qd20 = (await sdk.ok(north, "getAgenciesListQD20", {"level": "1"})).items
    assert qd20 is not None
    assert {a["code102"]: a["code"] for a in qd20} == {
        "000.00.00.G98": "000.00.00.G98",  # no Decision 20/2020 code known: the QCVN 102 one addresses it
        "000.00.00.H98": "000.00.00.H98",
        "000.00.00.H99": "H99",
    }
    every_level = (await sdk.ok(sdk.service("north"), "getAgenciesListQD20", {})).items
    assert every_level is not None
    assert len(every_level) == 4


async def test_units_to_synchronize_include_retired_ones_with_their_system_and_changes(sdk: Sdk) -> None:
    await change_registry(sdk)
    units = (await sdk.ok(sdk.service("south"), "getSynchronizeUnit", {})).items
    assert units is not None
    by_code = {u["code"]: u for u in units}
    assert (by_code["000.00.40.H99"]["deleted"], by_code["000.00.00.H99"]["deleted"]) == (True, False)
    assert (by_code["000.00.11.H99"]["centerCode"], by_code["000.00.00.H99"]["centerCode"]) == ("nam-stc", "nam")
    assert by_code["000.00.00.H99"]["version"] == 2  # created, then its QĐ 20 code
    assert by_code["000.00.00.H99"]["modifyDate"]


async def test_delete_agency_is_the_administrators_unless_the_axis_lets_systems_retire_their_own(
    sdk: Sdk,
) -> None:
    await sdk.refused(
        sdk.service("south"), "deleteAgency", {"AgencyCode": "000.00.11.H99"}, "504", "vdxp.agency.changes_disabled"
    )
    assert not sdk.world.axis.registry.snapshot.agencies["000.00.11.H99"].retired


async def test_a_system_retires_an_agency_below_its_own_when_allowed(sdk_agency_changes: Sdk) -> None:
    sdk = sdk_agency_changes
    conn = await db.connect(sdk.world.settings.database_url)
    try:
        async with conn.transaction():
            await agencies.add(conn, "test", "000.00.12.H99", "Sở Thử Nghiệm Mới")
        await sdk.world.axis.registrar.caught_up(await history.version(conn))
    finally:
        await conn.close()
    south = sdk.service("south")
    # Outside its subtrees, or the root of a binding: the administrator's business.
    for code in ("000.00.00.H98", "000.00.11.H99", "000.00.00.H99"):
        await sdk.refused(south, "deleteAgency", {"AgencyCode": code}, "504", "vdxp.agency.not_served")
    await sdk.ok(sdk.service("south"), "deleteAgency", {"AgencyCode": "000.00.12.H99"})
    assert sdk.world.axis.registry.snapshot.agencies["000.00.12.H99"].retired
    async with sdk.world.axis.pool.acquire() as conn:
        actors = await conn.fetch("SELECT actor, action FROM registry_history WHERE subject_id = '000.00.12.H99'")
    assert [(r["actor"], r["action"]) for r in actors] == [("test", "agency.create"), ("vdxp:nam", "agency.retire")]
