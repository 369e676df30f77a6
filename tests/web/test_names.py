"""Names before codes: a person reads which agency, by its name (with its province when the name
alone is short), wherever the pages used to show only a code — redirects, successors, bindings."""

from __future__ import annotations

from typing import Any

from world import World

from axis.registry import agencies, history
from axis.registry.model import Agency, AgencyStatus
from axis.store import db
from axis.web.wording import agency_label

TAY_NINH = {
    "000.00.00.H53": Agency("000.00.00.H53", "UBND Tỉnh Tây Ninh"),
    "000.00.11.H53": Agency("000.00.11.H53", "Sở Tài chính", "000.00.00.H53"),
    "000.00.32.H53": Agency("000.00.32.H53", "UBND huyện Châu Thành tỉnh Tây Ninh", "000.00.00.H53"),
    "000.21.32.H53": Agency("000.21.32.H53", "UBND Xã An Bình", "000.00.32.H53", AgencyStatus.ACTIVE),
}


def test_a_short_name_carries_its_province_and_a_full_one_does_not() -> None:
    assert agency_label("000.00.11.H53", TAY_NINH) == "Sở Tài chính — UBND Tỉnh Tây Ninh"
    assert agency_label("000.21.32.H53", TAY_NINH) == "UBND Xã An Bình — UBND Tỉnh Tây Ninh"
    assert agency_label("000.00.32.H53", TAY_NINH) == "UBND huyện Châu Thành tỉnh Tây Ninh"
    assert agency_label("000.00.00.H53", TAY_NINH) == "UBND Tỉnh Tây Ninh"
    assert agency_label("000.00.99.H53", TAY_NINH) == "000.00.99.H53"  # not in the registry: the code


async def test_a_redirected_document_names_the_agencies_it_went_through(world: World, people: Any, visit: Any) -> None:
    conn = await db.connect(world.settings.database_url)
    try:
        async with conn.transaction():
            await agencies.add(conn, "test", "000.00.12.H99", "Phòng Cũ")
            await agencies.retire(conn, "test", "000.00.12.H99", "000.00.00.H99")
        await world.axis.registrar.caught_up(await history.version(conn))
    finally:
        await conn.close()
    sent = await world.post(world.signed(world.document("north", to=("000.00.12.H99",))))
    clerk = visit()
    await clerk.log_in("vanthu.nam")
    page = await clerk.get(f"/ui/documents/{sent['package_id']}")
    assert "gửi tới Phòng Cũ — UBND Tỉnh Thử Nghiệm Nam" in page
    assert "→ UBND Tỉnh Thử Nghiệm Nam" in page

    admin = visit()
    await admin.log_in("quantri")
    rows = await admin.get("/ui/admin/agencies?q=phong+cu&retired=1")
    assert "→ UBND Tỉnh Thử Nghiệm Nam" in rows  # the successor by its name
    system = await admin.get("/ui/admin/systems/nam")
    assert ">UBND Tỉnh Thử Nghiệm Nam</a>" in system  # the binding by its name
