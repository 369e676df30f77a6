"""The agencies of other provinces, as the national axis lists them, are kept here read-only: a
clerk finds them by name, documents for them go up to the national axis, and nobody here can
change them. The lists are read as the national axis answered the official SDK
(``sdk-wire/answers/15``–``17``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sdk_world import make_sdk
from world import Api, World

from axis.errors import AxisError
from axis.federation import directory, links
from axis.federation.directory import ExternalAgency
from axis.federation.link import UPSTREAM, UpstreamLink
from axis.federation.sdk.gson import GsonNumber, parse_gson
from axis.federation.sdk.transport import parse_reply
from axis.registry import agencies, history, systems
from axis.registry import snapshot as snapshot_store
from axis.registry.resolve import Resolver
from axis.store import db
from axis.web.messages import message

#: The national axis's answers to the SDK, byte for byte (the same files as /work/shared/domain/sdk-wire).
ANSWERS = Path(__file__).parents[1] / "vdxp" / "sdk-wire" / "answers"
TAY_NINH = "000.00.00.H53"  # the province this axis serves
H98, H99 = "000.00.00.H98", "000.00.00.H99"  # other provinces' agencies, in the captured answers
ACTOR = f"upstream:{UPSTREAM}"


def captured(name: str) -> object:
    """The ``data`` of a captured answer, read as the upstream client reads it (gson, leniently)."""
    answer = parse_gson(parse_reply((ANSWERS / name).read_bytes()).body.decode("utf-8"))
    assert isinstance(answer, dict)
    return answer["data"]


def as_captured() -> dict[str, object]:
    return {
        "getAgenciesList": captured("15-getAgenciesList.http"),
        directory.answer_key("getAgenciesListQD20", {"level": "1"}): captured("16-getAgenciesListQD20.http"),
        "getSynchronizeUnit": captured("17-getSynchronizeUnit.http"),
    }


def link(*serves: str) -> UpstreamLink:
    return UpstreamLink(
        id=UPSTREAM,
        endpoint="https://truc.example.gov.vn/vdxp",
        system_id=TAY_NINH,
        serves=serves,
        secret_set_at=None,
        updated_at=dt.datetime.now(dt.UTC),
    )


def unit(ident: str, pid: str, code: str, name: str, **more: object) -> dict[str, object]:
    return {"id": ident, "pid": pid, "code": code, "name": name, "mail": "", **more}


def lists(units: list[dict[str, object]], *, qd20: list[dict[str, object]] | None = None) -> dict[str, object]:
    """Answers as a national axis gives them: the same units in both full lists."""
    return {"getAgenciesList": units, "getAgenciesListQD20": qd20 or [], "getSynchronizeUnit": units}


# --- reading the lists ---------------------------------------------------------------------------------


def test_the_captured_lists_become_the_other_provinces_agencies_with_parent_and_mail() -> None:
    reading = directory.read(link(TAY_NINH), as_captured())
    assert reading.agencies == {
        H98: ExternalAgency(H98, "Co quan thu nghiem 98", None, None, "vt@h98.example.vn"),
        # pid 1 is the id of H98 in the same list; the QD20 list repeats the QCVN 102 code: no QD20 code
        H99: ExternalAgency(H99, "Co quan thu nghiem 99", H98, None, "vt@h99.example.vn"),
    }
    assert reading.complete


def test_numbers_and_booleans_are_read_as_gson_reads_them_and_bad_units_are_left_out() -> None:
    sync = [
        {"id": GsonNumber("7"), "pid": GsonNumber("0"), "code": "000.00.00.H29", "name": "UBND Thành phố Hồ Chí Minh",
         "mail": "vt@tphcm.gov.vn", "version": GsonNumber("3"), "deleted": False, "isAgency": True},
        {"id": GsonNumber("8"), "pid": GsonNumber("7"), "code": "000.00.11.H29", "name": "Sở Tài chính (cũ)",
         "version": "1", "deleted": "false"},
        {"id": 9, "pid": GsonNumber("7"), "code": "000.00.11.H29", "name": "Sở Tài chính", "version": GsonNumber("2")},
        {"id": "10", "pid": "7", "code": "000.00.12.H29", "name": "Sở đã giải thể", "deleted": "TRUE"},
        {"id": "11", "pid": "0", "code": "UBND-HCM", "name": "Mã sai"},
        {"id": "12", "pid": "0", "code": "000.00.12.H53", "name": "Sở của tỉnh này"},
        {"id": "13", "pid": "0", "code": None, "name": "Không có mã"},
    ]  # fmt: skip
    qd20 = [{"id": 1, "code": "H29", "code102": "000.00.00.H29", "name": "UBND TP HCM", "mail": ""}]
    reading = directory.read(
        link(TAY_NINH), {"getSynchronizeUnit": sync, "getAgenciesListQD20 level=1": qd20, "getAgenciesList": []}
    )
    assert reading.agencies == {
        "000.00.00.H29": ExternalAgency("000.00.00.H29", "UBND Thành phố Hồ Chí Minh", None, "H29", "vt@tphcm.gov.vn"),
        # listed twice: the higher version wins; its pid names H29's id
        "000.00.11.H29": ExternalAgency("000.00.11.H29", "Sở Tài chính", "000.00.00.H29"),
    }
    assert (reading.deleted, reading.malformed, reading.served) == (1, 2, 1)
    assert not reading.complete  # getAgenciesList answered an empty list: nothing may be removed on its word


# --- refreshing what is kept -----------------------------------------------------------------------------


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection[asyncpg.Record]]:
    """A connection to a database where the upstream link is set: this axis serves Tây Ninh."""
    connection = await db.connect(database_url)
    async with connection.transaction():
        await links.configure(
            connection,
            "test",
            UPSTREAM,
            endpoint="https://truc.example.gov.vn/vdxp",
            system_id=TAY_NINH,
            serves=(TAY_NINH,),
        )
    try:
        yield connection
    finally:
        await connection.close()


async def kept(conn: asyncpg.Connection[asyncpg.Record]) -> dict[str, ExternalAgency]:
    return await directory.stored(conn, UPSTREAM)


async def history_of(conn: asyncpg.Connection[asyncpg.Record]) -> list[tuple[str, str, str, Any, Any]]:
    rows = await conn.fetch(
        "SELECT actor, action, subject_id, before, after FROM registry_history WHERE subject_kind = 'external' ORDER BY id"
    )
    return [(r["actor"], r["action"], r["subject_id"], r["before"], r["after"]) for r in rows]


async def synced_at(conn: asyncpg.Connection[asyncpg.Record]) -> dt.datetime | None:
    value: dt.datetime | None = await conn.fetchval(
        "SELECT agencies_synced_at FROM upstream_links WHERE id = $1", UPSTREAM
    )
    return value


async def test_a_refresh_adds_changes_and_removes_agencies_with_their_history(
    conn: asyncpg.Connection[asyncpg.Record],
) -> None:
    version = await history.version(conn)
    first = await directory.refresh(conn, UPSTREAM, as_captured())
    assert (first.added, first.changed, first.removed) == (2, 0, 0)
    assert set(await kept(conn)) == {H98, H99}
    assert await history.version(conn) == version + 1  # one bump for the whole refresh: every process reloads
    assert [(actor, action, code) for actor, action, code, _, _ in await history_of(conn)] == [
        (ACTOR, "external.add", H98),
        (ACTOR, "external.add", H99),
    ]
    first_synced = await synced_at(conn)
    assert first_synced is not None

    renamed = unit("1", "0", H98, "UBND Tỉnh Thử Nghiệm 98")
    added = unit("3", "1", "000.00.11.H98", "Sở Tài chính 98")
    second = await directory.refresh(conn, UPSTREAM, lists([renamed, added]))
    assert (second.added, second.changed, second.removed, second.unchanged) == (1, 1, 1, 0)
    assert await kept(conn) == {
        H98: ExternalAgency(H98, "UBND Tỉnh Thử Nghiệm 98", None, None, ""),
        "000.00.11.H98": ExternalAgency("000.00.11.H98", "Sở Tài chính 98", H98),
    }
    changes = (await history_of(conn))[2:]
    assert [(action, code) for _, action, code, _, _ in changes] == [
        ("external.add", "000.00.11.H98"),
        ("external.change", H98),
        ("external.remove", H99),
    ]
    _, _, _, before, after = changes[1]
    assert (before["name"], after["name"]) == ("Co quan thu nghiem 98", "UBND Tỉnh Thử Nghiệm 98")
    assert (changes[2][3]["name"], changes[2][4]) == ("Co quan thu nghiem 99", None)

    version = await history.version(conn)
    again = await directory.refresh(conn, UPSTREAM, lists([renamed, added]))
    assert (again.added, again.changed, again.removed, again.unchanged) == (0, 0, 0, 2)
    assert await history.version(conn) == version  # nothing changed: no reload anywhere
    assert len(await history_of(conn)) == 5
    synced = await synced_at(conn)
    assert synced is not None
    assert synced > first_synced


async def test_a_decision_20_code_stays_while_its_level_does_not_answer_and_goes_when_it_answers_without_it(
    conn: asyncpg.Connection[asyncpg.Record],
) -> None:
    units = [unit("1", "0", "000.00.00.H29", "UBND Thành phố Hồ Chí Minh")]
    qd20 = [{"id": "1", "code": "H29", "code102": "000.00.00.H29", "name": "UBND Thành phố Hồ Chí Minh", "mail": ""}]
    await directory.refresh(conn, UPSTREAM, lists(units, qd20=qd20))
    assert (await kept(conn))["000.00.00.H29"].code_qd20 == "H29"
    unreadable = await directory.refresh(conn, UPSTREAM, {**lists(units), "getAgenciesListQD20": None})
    assert unreadable.changed == 0
    assert (await kept(conn))["000.00.00.H29"].code_qd20 == "H29"
    answered = await directory.refresh(conn, UPSTREAM, lists(units, qd20=[]))
    assert answered.changed == 1
    assert (await kept(conn))["000.00.00.H29"].code_qd20 is None


@pytest.mark.parametrize("answer", [[], None, "not a list"], ids=["empty list", "null", "garbage"])
async def test_an_upstream_that_answers_no_agencies_removes_none(
    conn: asyncpg.Connection[asyncpg.Record], answer: object
) -> None:
    await directory.refresh(conn, UPSTREAM, as_captured())
    synced, version = await synced_at(conn), await history.version(conn)

    outage = await directory.refresh(
        conn, UPSTREAM, {"getAgenciesList": answer, "getAgenciesListQD20": answer, "getSynchronizeUnit": answer}
    )
    assert (outage.removed, outage.kept) == (0, 2)
    assert set(await kept(conn)) == {H98, H99}
    assert await history.version(conn) == version
    assert len(await history_of(conn)) == 2
    assert await synced_at(conn) == synced  # the last complete refresh is still the first one

    # One full list empty, the other naming one agency: additions and changes, no removal.
    one = {**lists([unit("1", "0", H98, "Co quan thu nghiem 98")]), "getSynchronizeUnit": answer}
    partial = await directory.refresh(conn, UPSTREAM, one)
    assert (partial.removed, partial.kept) == (0, 1)
    assert set(await kept(conn)) == {H98, H99}


async def test_the_subtrees_this_axis_serves_stay_out_and_an_external_code_is_routed_upstream_by_name(
    conn: asyncpg.Connection[asyncpg.Record],
) -> None:
    async with conn.transaction():
        await links.configure(
            conn,
            "test",
            UPSTREAM,
            endpoint="https://truc.example.gov.vn/vdxp",
            system_id=TAY_NINH,
            serves=(TAY_NINH, H98),
        )
    refreshed = await directory.refresh(conn, UPSTREAM, as_captured())
    assert refreshed.skipped["served"] == 1
    assert set(await kept(conn)) == {H99}  # H98 is this axis's own now

    resolver = Resolver(await snapshot_store.load(conn))  # as every process reloads it after the bump
    routed = resolver.resolve(H99)
    assert routed.system.id == UPSTREAM
    assert routed.agency.name == "Co quan thu nghiem 99"
    assert routed.agency.parent_code == H98


async def test_nobody_here_can_change_an_agency_the_upstream_keeps(conn: asyncpg.Connection[asyncpg.Record]) -> None:
    await directory.refresh(conn, UPSTREAM, as_captured())
    await agencies.add(conn, "test", TAY_NINH, "UBND Tỉnh Tây Ninh")
    await agencies.add(conn, "test", "000.00.11.H53", "Sở Tài chính Tây Ninh")
    await systems.add(conn, "test", "tay-ninh", "eOffice Tây Ninh")
    edits: dict[str, Callable[[], Awaitable[object]]] = {
        "rename": lambda: agencies.rename(conn, "test", H99, "Tên khác"),
        "retire": lambda: agencies.retire(conn, "test", H99),
        "set_qd20": lambda: agencies.set_code_qd20(conn, "test", H99, "H99"),
        "move": lambda: agencies.move(conn, "test", H99, "000.00.01.H99"),
        "successor": lambda: agencies.retire(conn, "test", "000.00.11.H53", H99),
        "bind": lambda: systems.bind(conn, "test", "tay-ninh", H99),
    }
    for what, edit in edits.items():
        with pytest.raises(AxisError) as refused:
            async with conn.transaction():
                await edit()
        assert refused.value.code == "registry.agency.external", what
        assert refused.value.http_status == 409
    assert "cơ quan ngoài tỉnh" in message(refused.value)
    assert "«000.00.00.H99»" in message(refused.value)
    assert (await kept(conn))[H99].name == "Co quan thu nghiem 99"
    with pytest.raises(AxisError) as unknown:  # a code nobody knows is still unknown
        await agencies.rename(conn, "test", "000.00.00.H01", "x")
    assert unknown.value.code == "registry.agency.unknown"


async def test_a_large_national_list_is_kept_in_bulk(conn: asyncpg.Connection[asyncpg.Record]) -> None:
    """More than one chunk of rows, and of history rows, each way."""
    units = [unit(str(n), "0", f"{n % 1000:03d}.{n // 1000 + 1:02d}.01.G10", f"Đơn vị {n}") for n in range(1, 25_001)]
    first = await directory.refresh(conn, UPSTREAM, lists(units))
    assert first.added == 25_000
    fewer = [{**u, "name": f"{u['name']} (mới)"} for u in units[:12_000]]
    second = await directory.refresh(conn, UPSTREAM, lists(fewer))
    assert (second.changed, second.removed) == (12_000, 13_000)
    assert len(await kept(conn)) == 12_000
    assert await conn.fetchval("SELECT count(*) FROM registry_history WHERE subject_kind = 'external'") == 50_000


# --- finding them ----------------------------------------------------------------------------------------


async def refreshed(database_url: str, answers: Mapping[str, object], *serves: str) -> None:
    conn = await db.connect(database_url)
    try:
        async with conn.transaction():
            await links.configure(
                conn, "test", UPSTREAM, endpoint="https://truc.example.gov.vn/vdxp", system_id=TAY_NINH, serves=serves
            )
        await directory.refresh(conn, UPSTREAM, answers)
    finally:
        await conn.close()


async def test_a_system_finds_an_agency_of_another_province_marked_external(api: Api, database_url: str) -> None:
    await api.call(
        "POST", "/api/v1/admin/agencies", status=201, json={"code": TAY_NINH, "name": "UBND Tỉnh Thử Nghiệm"}
    )
    await refreshed(database_url, as_captured(), TAY_NINH)

    found = await api.call("GET", "/api/v1/agencies?q=thu nghiem 99", status=200, headers={})
    assert [(a["code"], a["name"], a["external"]) for a in found["agencies"]] == [(H99, "Co quan thu nghiem 99", True)]
    both = await api.call("GET", "/api/v1/agencies?q=thu nghiem", status=200, headers={})
    assert [(a["code"], a["external"]) for a in both["agencies"]] == [(TAY_NINH, False), (H98, True), (H99, True)]
    second_page = await api.call("GET", "/api/v1/agencies?q=thu nghiem&limit=2&offset=2", status=200, headers={})
    assert [a["code"] for a in second_page["agencies"]] == [H99]
    listed = await api.call("GET", "/api/v1/agencies?limit=2&offset=1", status=200, headers={})
    assert [(a["code"], a["external"]) for a in listed["agencies"]] == [(H98, True), (H99, True)]
    by_code = await api.call("GET", "/api/v1/agencies?q=H99", status=200, headers={})
    assert [a["code"] for a in by_code["agencies"]] == [H99]

    shown = await api.call("GET", f"/api/v1/agencies/{H98}", status=200, headers={})
    assert (shown["name"], shown["external"], [c["code"] for c in shown["children"]]) == (
        "Co quan thu nghiem 98",
        True,
        [H99],
    )
    refused = await api.call("PATCH", f"/api/v1/admin/agencies/{H99}", status=409, json={"name": "Tên khác"})
    assert refused["error"]["code"] == "registry.agency.external"


async def test_an_administrator_sees_another_provinces_agency_marked_and_without_a_page_to_change_it(
    world: World, people: Any, visit: Any
) -> None:
    answers = lists([unit("1", "0", "000.00.00.H29", "UBND Thành phố Thử Nghiệm Hồ")])
    await refreshed(world.settings.database_url, answers, "000.00.00.H98", "000.00.00.H99", "000.00.00.G98")
    admin = visit()
    await admin.log_in("quantri")
    page = await admin.get("/ui/admin/agencies?q=thu+nghiem&retired=1")
    assert "UBND Tỉnh Thử Nghiệm Bắc" in page  # the local agencies first
    assert "UBND Thành phố Thử Nghiệm Hồ" in page
    assert "Cơ quan ngoài tỉnh (qua trục cấp trên)" in page
    assert 'href="/ui/admin/agencies/000.00.00.H29"' not in page
    assert "000.00.00.H29" in await admin.get("/ui/admin/agencies?q=H29")


async def test_an_sdk_vendor_on_the_province_finds_other_provinces_agencies_in_the_sdks_lists(
    world: World,
) -> None:
    """The official SDK's getAgenciesList, getAgenciesListQD20 and getSynchronizeUnit on a
    province's /vdxp list the agencies learned from the axis above too, served by the upstream."""
    sdk = await make_sdk(world)
    elsewhere = "000.00.00.H29"
    await refreshed(world.settings.database_url, lists([unit("1", "0", elsewhere, "UBND Tỉnh Khác")]), H98)
    conn = await db.connect(world.settings.database_url)
    try:
        version = await history.version(conn)
    finally:
        await conn.close()
    await world.axis.registry.wait_for(version)

    listed = await sdk.ok(sdk.service("north"), "getAgenciesList", {})
    assert listed.items is not None
    assert {"code": elsewhere, "name": "UBND Tỉnh Khác"}.items() <= dict(
        next(item for item in listed.items if item["code"] == elsewhere)
    ).items()
    assert {item["code"] for item in listed.items} >= {H98, H99, elsewhere}
    units = await sdk.ok(sdk.service("north"), "getSynchronizeUnit", {})
    assert units.items is not None
    unit_there = next(item for item in units.items if item["code"] == elsewhere)
    assert unit_there["centerCode"] == UPSTREAM
