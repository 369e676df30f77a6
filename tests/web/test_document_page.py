"""What a clerk reads on a document's page: failures with when and why, statuses said once,
attachments by the name people use for them, and a live timeline that stops with the session."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from typing import Any

import aiohttp
from world import World, status_of, wait_until

from axis.broker import dead_letters
from axis.edxml import model as m
from axis.http.vdxp import mail
from axis.registry import systems
from axis.store import db
from axis.web import reasons, vietnamese

MINISTRY, SOUTH = "000.00.00.G98", "000.00.00.H99"
WORD = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def recipient_of(page: str, agency: str) -> str:
    """The timeline entry of one recipient agency, as text."""
    for entry in re.findall(r'<li class="recipient">.*?</ol>\s*</li>', page, flags=re.S):
        if agency in entry:
            return text_of(entry)
    raise AssertionError(f"no timeline entry for {agency}")


async def reject_next(world: World) -> str:
    """The ministry's consumer rejects the next message on its queue (it goes to the dead letters)."""
    async with await world.amqp_connection("bo") as connection:
        channel = await connection.channel()
        queue = await channel.get_queue(f"axis.system.{world['bo'].system_id}", ensure=False)
        async with asyncio.timeout(10), queue.iterator() as messages:
            async for message in messages:
                await message.reject(requeue=False)
                return str(message.message_id)
    raise AssertionError("the queue ended")


async def test_the_sender_sees_when_and_why_a_delivery_failed(world: World, people: Any, visit: Any) -> None:
    document = world.document(to=(SOUTH, MINISTRY), subject="Về việc báo cáo tình hình thử nghiệm")
    package_id = (await world.post(world.signed(document)))["package_id"]
    assert await reject_next(world) == package_id  # the ministry's software refuses it
    conn = await db.connect(world.settings.database_url)
    try:

        async def failed() -> bool:
            state = await conn.fetchval(
                "SELECT state FROM deliveries WHERE package_id = $1 AND system_id = $2",
                package_id,
                world["bo"].system_id,
            )
            return bool(state == "failed")

        await wait_until(failed)
        failed_at = await conn.fetchval("SELECT at FROM events WHERE package_id = $1 AND kind = 'failed'", package_id)
    finally:
        await conn.close()

    clerk = visit()
    await clerk.log_in("vanthu.bac")
    page = await clerk.get(f"/ui/documents/{package_id}")
    ministry = recipient_of(page, MINISTRY)
    assert "Chuyển thất bại" in ministry
    assert f"Chuyển thất bại lúc {vietnamese.clock(failed_at)}" in ministry
    assert "Lý do: Phần mềm của hệ thống nhận đã từ chối gói tin" in ministry
    assert "rejected" not in page  # the stored reason is English; the clerk reads Vietnamese
    assert f'<time datetime="{vietnamese.iso_vn(failed_at)}">' in page
    assert "thất bại" not in recipient_of(page, SOUTH).lower()  # the other recipient is only waiting
    # The list says it too, and finds it by that.
    assert f"/ui/documents/{package_id}" in await clerk.get("/ui/documents?delivery=failed")


def test_every_failure_reason_the_axis_stores_reads_in_vietnamese() -> None:
    stored = [
        *dead_letters._REASONS.values(),  # what dead-lettered messages say
        systems.DISABLED_REASON,  # a system disabled (axis.registry.systems.update)
        mail._FAIL_REASON,  # the SDK's updateStatus fail
    ]
    for reason in stored:
        said = reasons.reason(reason)
        assert said != reason, reason
        assert not said.isascii(), reason  # Vietnamese
    assert reasons.reason(mail._FAIL_REASON) == "Hệ thống nhận báo không xử lý được gói tin"
    assert reasons.reason("dead-lettered (maxlen)").startswith("Trục không chuyển được gói tin")
    assert reasons.reason("một lý do chưa biết") == "một lý do chưa biết"  # shown as it is
    assert reasons.reason(None) == ""


async def test_the_timeline_does_not_repeat_a_status_name_as_its_description(
    world: World, people: Any, visit: Any
) -> None:
    document = world.document(to=(SOUTH,))
    package_id = (await world.post(world.signed(document)))["package_id"]
    arrived = dataclasses.replace(status_of(document, m.StatusCode.ARRIVED, "south", SOUTH), description="Đã đến")
    await world.post(world.signed(arrived, by="south"), by="south")
    accepted = dataclasses.replace(
        status_of(document, m.StatusCode.ACCEPTED, "south", SOUTH), description="Đã vào sổ văn bản đến số 412"
    )
    await world.post(world.signed(accepted, by="south"), by="south")

    clerk = visit()
    await clerk.log_in("vanthu.bac")
    timeline = recipient_of(await clerk.get(f"/ui/documents/{package_id}"), SOUTH)
    assert "01 Đã đến" in timeline
    assert timeline.count("Đã đến") == 1  # not "01 Đã đến — Đã đến"
    assert "03 Đã tiếp nhận" in timeline
    assert "— Đã vào sổ văn bản đến số 412" in timeline  # a description that says more is kept
    for description in ("đã đến.", "01 - Đã đến", "1. ĐÃ ĐẾN", " Da den "):
        assert vietnamese.status_note(description, "01") == "", description
    assert vietnamese.status_note("Đã đến", "03") == "Đã đến"  # another status's name says something


async def test_attachments_are_named_by_kind_with_the_mime_type_beside(world: World, people: Any, visit: Any) -> None:
    letter = m.Attachment.from_bytes("thu", "cong-van.docx", WORD, b"PK\x03\x04 word")
    archive = m.Attachment.from_bytes("nen", "phu-luc.zip", "application/octet-stream", b"PK\x03\x04 zip")
    document = world.document(to=(SOUTH,), attachments=(letter, archive))
    package_id = (await world.post(world.signed(document)))["package_id"]
    clerk = visit()
    await clerk.log_in("vanthu.bac")
    page = await clerk.get(f"/ui/documents/{package_id}")
    files = text_of(page[page.index('id="attachments"') : page.index('id="timeline-title"')])
    assert "cong-van.docx Word · 9 B" in files
    assert f"Kiểu tệp: {WORD}" in files
    assert "phu-luc.zip Nén (zip) · 8 B" in files  # by its name when the type says nothing
    assert vietnamese.file_kind("application/pdf") == "PDF"
    assert vietnamese.file_kind("application/vnd.ms-excel", "bang.xls") == "Excel"
    assert vietnamese.file_kind("application/x-unknown", "so-lieu.dat") == "Tệp .DAT"


async def test_the_favicon_answers_and_every_page_links_it(world: World, people: Any, visit: Any) -> None:
    async with world.client.session.get(world.client.make_url("/favicon.ico")) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "image/x-icon"
        assert (await response.read()).startswith(b"\x00\x00\x01\x00")  # an ICO file
    visitor = visit()
    assert '<link rel="icon" href="/favicon.ico"' in await visitor.get("/ui/login")
    assert (await visitor.response("/ui/static/favicon.svg")).status == 200


async def read_events(response: aiohttp.ClientResponse) -> list[tuple[str, str]]:
    """The stream's events (name, data) until the server closes it."""
    events, name, data = [], "", []
    async with asyncio.timeout(15):
        async for raw in response.content:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                name = line[len("event: ") :]
            elif line.startswith("data: "):
                data.append(line[len("data: ") :])
            elif not line and name:
                events.append((name, "\n".join(data)))
                name, data = "", []
    return events


async def test_the_live_timeline_ends_when_the_session_ends_and_does_not_keep_it_alive(
    world: World, people: Any, visit: Any
) -> None:
    document = world.document(to=(SOUTH,))
    package_id = (await world.post(world.signed(document)))["package_id"]
    clerk = visit()
    await clerk.log_in("vanthu.bac")
    await clerk.get(f"/ui/documents/{package_id}")
    conn = await db.connect(world.settings.database_url)
    try:
        seen = "SELECT last_seen_at FROM web_sessions WHERE ended_at IS NULL"
        before = await conn.fetchval(seen)
        live = world.client.make_url(f"/ui/documents/{package_id}/live")
        async with clerk.session.get(live) as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == "text/event-stream"
            await response.content.readline()  # "retry: …": the stream is open
            # The server ends the session (twelve hours are over); the stream says so and closes.
            await conn.execute("UPDATE web_sessions SET expires_at = now() - interval '1 second'")
            events = await read_events(response)
        assert events[-1] == ("ended", "Phiên làm việc đã hết hạn, hãy đăng nhập lại.")
        assert await conn.fetchval(seen) == before  # its polls were no sign that someone was there
        # The browser comes back: told the same at once, not sent to a log-in page it cannot show.
        async with clerk.session.get(live, allow_redirects=False) as response:
            assert response.status == 200
            assert await read_events(response) == [("ended", "Phiên làm việc đã hết hạn, hãy đăng nhập lại.")]

        # Logged out in another tab: the open page's stream ends, saying why.
        await clerk.log_in("vanthu.bac")
        async with clerk.session.get(live) as response:
            await response.content.readline()
            await conn.execute("UPDATE web_sessions SET ended_at = now() WHERE ended_at IS NULL")
            events = await read_events(response)
        assert events[-1][0] == "ended"
        assert "đã kết thúc" in events[-1][1]
    finally:
        await conn.close()
    page = await clerk.get(f"/ui/documents/{package_id}")  # sent to log in, with the way back
    assert "Phiên làm việc đã kết thúc" in page
    assert f'name="next" value="/ui/documents/{package_id}"' in page
