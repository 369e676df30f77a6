"""The life of a document after delivery: statuses in order, updates, revocation, replacement,
the take-back dialogue, deadlines and failures — as the status API tells it."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import builders
import pytest
import world as world_module
from world import World, status_of, wait_until

from axis.edxml import model as m
from axis.registry import systems
from axis.store import db

SOUTH, MINISTRY = "000.00.00.H99", "000.00.00.G98"


async def answer(
    world: World, document: m.DocumentPackage, code: str, by: str, *, expect: int = 202, note: str = ""
) -> dict[str, Any]:
    """A signed status from ``by``. ``note`` changes its bytes: the same bytes again would be an
    idempotent resubmission (200), not a new status."""
    status = status_of(document, m.StatusCode(code), by, world[by].code)
    if note:
        status = dataclasses.replace(status, description=f"{status.description} ({note})")
    return await world.post(world.signed(status, by=by), by=by, expect=expect)


async def timeline(world: World, document_id: str, by: str = "north") -> dict[str, Any]:
    result: dict[str, Any] = await world.get(f"/api/v1/documents/{urllib.parse.quote(document_id, safe='')}/status", by)
    return result


def codes(view: dict[str, Any], agency: str) -> list[str]:
    (entry,) = [r for r in view["recipients"] if r["agency"] == agency]
    return [s["code"] for s in entry["statuses"]]


def business(document: m.DocumentPackage, kind: m.BusinessDocType, reason: str, **changes: Any) -> m.DocumentPackage:
    same = {"number": document.code.number, "notation": document.code.notation, "date": document.promulgation.date}
    return builders.document(
        sender=document.sender.organ_id,
        recipients=tuple(r.organ_id for r in document.recipients),
        business=m.Business(doc_type=kind, reason=reason),
        **(same | changes),
    )


async def test_full_life_of_a_document_to_two_recipients(world: World) -> None:
    document = world.document(to=(SOUTH, MINISTRY))
    await world.post(world.signed(document))

    for code in ("01", "03", "04", "05", "06"):
        await answer(world, document, code, "south")
    for code in ("01", "02"):
        await answer(world, document, code, "bo")

    # Illegal steps, each with its own code.
    refusals = {
        ("south", "03"): "status.backwards",
        ("south", "06"): "status.repeated",
        ("south", "02"): "status.rejection_too_late",
        ("bo", "03"): "status.after_rejection",
        ("dept", "01"): "status.document.unknown",  # never addressed to the department
    }
    for (by, code), expected in refusals.items():
        status = 404 if expected == "status.document.unknown" else 422
        refused = await answer(world, document, code, by, expect=status, note="lần nữa")
        assert refused["error"]["code"] == expected, (by, code, refused)

    # The sender updates the document, then revokes it.
    update = business(document, m.BusinessDocType.UPDATE, "Bổ sung phụ lục", subject="V/v thử nghiệm (cập nhật)")
    await world.post(world.signed(update))
    revoke = business(document, m.BusinessDocType.REVOKE, "Ban hành nhầm")
    await world.post(world.signed(revoke))
    refused = await answer(world, document, "05", "south", expect=422, note="sau thu hồi")
    assert refused["error"]["code"] == "status.document.revoked"
    await answer(world, document, "15", "south")  # the recipient agrees to the revocation

    view = await timeline(world, document.document_id)
    assert view["state"] == "revoked"
    assert [p["business_type"] for p in view["packages"]] == [0, 2, 1]
    assert codes(view, SOUTH) == ["01", "03", "04", "05", "06", "15"]
    assert codes(view, MINISTRY) == ["01", "02"]
    south = next(r for r in view["recipients"] if r["agency"] == SOUTH)
    assert [r["type"] for r in south["requests"]] == [2, 1]
    times = [s["received_at"] for s in south["statuses"]]
    assert times == sorted(times)
    # The statuses reached the sender's inbox too.
    inbox = await world.get("/api/v1/inbox?type=package", "north")
    assert sum(i["kind"] == "status" for i in inbox["items"]) == 8


async def test_business_packages_must_name_the_senders_own_active_document(world: World) -> None:
    document = world.document(to=(SOUTH,))
    ghost = business(world.document(to=(SOUTH,), number="999"), m.BusinessDocType.REVOKE, "Không có")
    refused = await world.post(world.signed(ghost), expect=422)
    assert refused["error"]["code"] == "business.target.unknown"
    await world.post(world.signed(document))
    stranger = builders.document(
        sender=document.sender.organ_id, recipients=(MINISTRY,), business=m.Business(m.BusinessDocType.UPDATE, "x")
    )
    refused = await world.post(world.signed(stranger), expect=422)
    assert refused["error"]["code"] == "business.recipient.not_original"
    await world.post(world.signed(business(document, m.BusinessDocType.REVOKE, "Thu hồi")))
    again = await world.post(world.signed(business(document, m.BusinessDocType.UPDATE, "Sửa")), expect=422)
    assert again["error"]["code"] == "business.target.revoked"


async def test_a_replacement_supersedes_the_earlier_document_and_both_stay_retrievable(world: World) -> None:
    old = world.document(to=(SOUTH,), number="40")
    first = await world.post(world.signed(old))
    new = builders.document(
        sender=old.sender.organ_id,
        recipients=(SOUTH,),
        number="41",
        business=m.Business(
            doc_type=m.BusinessDocType.REPLACE,
            reason="Thay thế văn bản số 40",
            replacements=(m.Replacement(old.document_id, (SOUTH,)),),
        ),
    )
    second = await world.post(world.signed(new))
    old_view, new_view = await timeline(world, old.document_id), await timeline(world, new.document_id)
    assert old_view["state"] == "superseded"
    assert old_view["superseded_by"] == new.document_id
    assert new_view["replaces"] == [old.document_id]
    for accepted in (first, second):
        assert (await world.get(f"/api/v1/packages/{accepted['package_id']}", "south")).startswith(b"<?xml")
    refused = await world.post(world.signed(business(old, m.BusinessDocType.UPDATE, "Sửa bản cũ")), expect=422)
    assert refused["error"]["code"] == "business.target.superseded"


async def test_take_back_dialogue(world: World) -> None:
    document = world.document(to=(SOUTH, MINISTRY))
    await world.post(world.signed(document))
    await answer(world, document, "01", "south")
    premature = await answer(world, document, "15", "south", expect=422)
    assert premature["error"]["code"] == "status.no_pending_request"
    request = status_of(document, m.StatusCode.TAKE_BACK_REQUEST, "north", world["north"].code)
    sent = await world.post(world.signed(request))
    assert {r["agency"] for r in sent["recipients"]} == {SOUTH, MINISTRY}
    second = status_of(document, m.StatusCode.TAKE_BACK_REQUEST, "north", world["north"].code)
    pending = await world.post(world.signed(dataclasses.replace(second, description="Nhắc lại")), expect=422)
    assert pending["error"]["code"] == "status.request_pending"
    await answer(world, document, "16", "south")
    await answer(world, document, "15", "bo")
    view = await timeline(world, document.document_id)
    assert codes(view, SOUTH) == ["01", "13", "16"]
    assert codes(view, MINISTRY) == ["13", "15"]
    # The request reached the recipients' inboxes (the document itself was acknowledged by the 01).
    south_inbox = await world.get("/api/v1/inbox?type=package", "south")
    assert [i["kind"] for i in south_inbox["items"]] == ["status"]


@pytest.fixture
async def impatient_world(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async for built in world_module.make_world(database_url, tmp_path, ack_deadline_hours=0.0):
        yield built


async def test_overdue_and_failed_deliveries_are_marked_with_reasons(impatient_world: World) -> None:
    world = impatient_world
    late = world.document(to=(SOUTH, MINISTRY), date=dt.date(2026, 1, 5))  # due ten days later: long past
    await world.post(world.signed(late))
    view = await timeline(world, late.document_id)
    south = next(r for r in view["recipients"] if r["agency"] == SOUTH)
    assert any("not acknowledged" in reason for reason in south["overdue"])
    assert any("due date 2026-01-15 passed" in reason for reason in south["overdue"])

    # The ministry's consumer rejects the message: dead-lettered, the delivery fails with the reason.
    connection = await world.amqp_connection("bo")
    async with connection:
        channel = await connection.channel()
        queue = await channel.get_queue(f"axis.system.{world['bo'].system_id}", ensure=False)
        async with asyncio.timeout(10), queue.iterator() as messages:
            async for message in messages:
                await message.reject(requeue=False)
                break

    async def ministry_failed() -> bool:
        view = await timeline(world, late.document_id)
        entry = next(r for r in view["recipients"] if r["agency"] == MINISTRY)
        return bool(entry["delivery"]["state"] == "failed")

    await wait_until(ministry_failed)
    view = await timeline(world, late.document_id)
    ministry = next(r for r in view["recipients"] if r["agency"] == MINISTRY)
    assert "rejected" in ministry["delivery"]["failed_reason"]

    # The southern system is disabled: what waits for it fails, with the reason.
    conn = await db.connect(world.settings.database_url)
    try:
        await systems.update(conn, "test", "nam", status="disabled")
    finally:
        await conn.close()
    view = await timeline(world, late.document_id)
    south = next(r for r in view["recipients"] if r["agency"] == SOUTH)
    assert south["delivery"] == south["delivery"] | {
        "state": "failed",
        "failed_reason": "the recipient system was disabled",
    }
