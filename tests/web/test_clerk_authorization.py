"""A clerk sees what their own system sent or received, and nothing else, however the URL is made."""

from __future__ import annotations

import uuid
from typing import Any

from world import World


async def test_a_clerk_cannot_open_another_systems_document(world: World, people: Any, visit: Any) -> None:
    # The northern province writes to the ministry only: the southern province has nothing to do with it.
    document = world.document(to=("000.00.00.G98",), subject="Báo cáo mật về ngân sách")
    package_id = (await world.post(world.signed(document)))["package_id"]

    north, south = visit(), visit()
    await north.log_in("vanthu.bac")
    await south.log_in("vanthu.nam")
    assert "Báo cáo mật" in await north.get(f"/ui/documents/{package_id}")

    assert "Báo cáo mật" not in await south.get("/ui/documents?q=bao+cao+mat")
    unknown = await south.get(f"/ui/documents/{uuid.uuid4()}", expect=404)
    for path in (
        f"/ui/documents/{package_id}",
        f"/ui/documents/{package_id}/attachments/1",
        f"/ui/documents/{package_id}/live",
    ):
        page = await south.get(path, expect=404)
        assert "Báo cáo mật" not in page
        # The same answer as for an id that does not exist: nothing tells that it does.
        assert page.replace(path, "").count("document.unknown") == unknown.count("document.unknown")
    await south.get("/ui/documents/not-a-uuid", expect=404)


async def test_a_recipient_clerk_sees_only_the_agencies_its_system_serves(
    world: World, people: Any, visit: Any
) -> None:
    document = world.document(to=("000.00.00.H99", "000.00.00.G98"), subject="Gửi hai nơi")
    package_id = (await world.post(world.signed(document)))["package_id"]
    south = visit()
    await south.log_in("vanthu.nam")
    page = await south.get(f"/ui/documents/{package_id}")
    timeline = page[page.index('id="timeline"') :]
    assert "000.00.00.H99" in timeline
    assert "000.00.00.G98" not in timeline


async def test_roles_keep_to_their_pages(world: World, people: Any, visit: Any) -> None:
    clerk, admin = visit(), visit()
    await clerk.log_in("vanthu.bac")
    await admin.log_in("quantri")
    for path in ("/ui/admin/agencies", "/ui/admin/systems/bac", "/ui/admin/history", "/ui/admin/users"):
        assert "web.forbidden" in await clerk.get(path, expect=403)
    await clerk.post("/ui/admin/agencies/000.00.00.H98/retire", {"successor": ""}, expect=403)
    assert "web.forbidden" in await admin.get("/ui/documents", expect=403)
    # Anonymous visitors are sent to log in (pages) or refused (forms).
    anonymous = visit()
    await anonymous.get("/ui/login")
    await anonymous.post("/ui/admin/agencies/000.00.00.H98/retire", {"successor": ""}, expect=401)
