"""An operator sees the upstream link's state (issue 17): when the axis above does not answer, what
is for it waits and is retried, the axis stays ready for its own traffic, and the metrics, the
admin API, the admin page and ``axis upstream show`` say so, with the oldest package waiting. An
upstream document this axis refused is kept with its bytes, listed, and given back to the operator.
A package stuck for the upstream is overdue like a local one; one handed up is delivered.

Here the world's axis is a province's: it serves its own agencies and links up to an address
where nothing answers (http://127.0.0.1:9/vdxp).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import html
import os
import re
import sys
import uuid
from asyncio.subprocess import PIPE
from pathlib import Path
from typing import Any

from world import World, wait_until

from axis.errors import AxisError
from axis.exchange import status
from axis.federation import links, records
from axis.federation.link import UPSTREAM
from axis.federation.records import LinkState
from axis.registry import history, systems
from axis.store import db
from axis.vdxp.secret import SecretBox
from axis.web.upstream import lasted, said

UNREACHABLE = "http://127.0.0.1:9/vdxp"  # the discard port: nothing answers there
SERVED = ("000.00.00.H98", "000.00.00.H99", "000.00.00.G98")  # the world's agencies stay here
ELSEWHERE = "000.00.00.H29"  # another province's people's committee: the axis above's


async def link_upstream(world: World, endpoint: str = UNREACHABLE) -> None:
    """What ``axis upstream set`` and ``axis upstream secret`` do; returns once the registry has it."""
    conn = await db.connect(world.settings.database_url)
    try:
        async with conn.transaction():
            await links.configure(conn, "test", UPSTREAM, endpoint=endpoint, system_id="tinh-thu-nghiem", serves=SERVED)
            box, _ = SecretBox.load_or_create(world.settings.vdxp_key_path)
            await links.set_secret(conn, "test", UPSTREAM, "do-truc-quoc-gia-cap", box)
        await world.axis.registry.wait_for(await history.version(conn))
    finally:
        await conn.close()


async def link_state(world: World) -> LinkState:
    async with world.axis.pool.acquire() as conn:
        state = await records.state(conn, UPSTREAM)
    assert state is not None
    return state


async def scrape(world: World) -> dict[str, float]:
    """The upstream link's samples on /metrics, by metric name."""
    response = await world.client.get("/metrics")
    assert response.status == 200
    found = re.findall(r'^(axis_upstream_\w+)\{link="upstream"\} (\S+)$', await response.text(), re.MULTILINE)
    return {name: float(value) for name, value in found}


async def admin_headers(world: World) -> dict[str, str]:
    conn = await db.connect(world.settings.database_url)
    try:
        async with conn.transaction():
            _, token = await systems.issue_admin_token(conn, "test", "operator")
        await world.axis.registry.wait_for(await history.version(conn))  # tokens are checked from the cache
    finally:
        await conn.close()
    return {"Authorization": f"Bearer {token}"}


def outside_code(page: str) -> str:
    """What a person reads of a page besides its technical details (``<code>``): no markup."""
    page = re.sub(r"<(script|style|code)\b.*?</\1>", " ", page, flags=re.S | re.I)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


async def axis_upstream(world: World, *args: str) -> tuple[int, str, str]:
    """``axis upstream …`` while the axis under test keeps serving."""
    env = {
        **os.environ,
        "AXIS_DATABASE_URL": world.settings.database_url,
        "AXIS_KEYS_DIR": str(world.settings.keys_dir),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "axis", "upstream", *args, env=env, stdout=PIPE, stderr=PIPE
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def test_the_link_is_up_when_its_last_answer_is_more_recent_than_its_last_failure() -> None:
    now = dt.datetime.now(dt.UTC)
    never = LinkState(
        last_ok_at=None,
        last_error=None,
        last_error_at=None,
        agencies_synced_at=None,
        waiting=0,
        oldest_waiting_at=None,
        refused=0,
        failed_inbound=0,
        external_agencies=0,
    )
    assert not never.up
    assert LinkState(**{**_fields(never), "last_ok_at": now}).up
    failing = LinkState(**{**_fields(never), "last_ok_at": now, "last_error_at": now + dt.timedelta(seconds=1)})
    assert not failing.up
    assert LinkState(**{**_fields(failing), "last_ok_at": now + dt.timedelta(seconds=2)}).up


def _fields(state: LinkState) -> dict[str, Any]:
    return {name: getattr(state, name) for name in LinkState.__slots__}


def test_a_stored_failure_reads_in_vietnamese_and_a_wait_as_a_person_says_it() -> None:
    assert said("upstream.unreachable: The upstream at http://x/vdxp did not answer sendEdoc: OSError().").startswith(
        "Không liên lạc được với trục cấp trên"
    )
    assert said("upstream.refused: The upstream refused sendEdoc: -1 sai chữ ký").startswith("Trục cấp trên từ chối")
    assert "getEdoc" in said("getEdoc answered OK without the package's bytes")
    assert said("something nobody wrote down") == "Lỗi chưa được phân loại (xem chi tiết kỹ thuật bên cạnh)."
    assert [lasted(s) for s in (12, 600, 3 * 3600 + 300, 2 * 86400 + 4 * 3600)] == [
        "12 giây",
        "10 phút",
        "3 giờ 5 phút",
        "2 ngày 4 giờ",
    ]


async def upstream_page(visit: Any) -> tuple[str, str]:
    """The admin page of the link as the administrator sees it: the HTML, and its text outside code."""
    admin = visit()
    await admin.log_in("quantri")
    page = await admin.get("/ui/admin/upstream")
    return page, outside_code(page)


async def test_an_unreachable_upstream_keeps_its_package_waiting_says_so_everywhere_and_the_axis_stays_ready(
    world: World, people: Any, visit: Any
) -> None:
    gauges = {name: value for name, value in (await scrape(world)).items() if not name.endswith("_total")}
    assert gauges == {}  # no link: no upstream gauges that would look like a healthy one (counters stay 0)
    await link_upstream(world)

    sent = await world.post(world.signed(world.document("north", to=(ELSEWHERE, "000.00.00.H99"))))
    assert {r["system"] for r in sent["recipients"]} == {UPSTREAM, "nam"}

    async def failed_once() -> bool:
        return (await link_state(world)).last_error is not None

    await wait_until(failed_once, 15)
    state = await link_state(world)
    assert state.last_error is not None
    assert state.last_error.startswith("upstream.unreachable: ")
    assert (state.waiting, state.last_ok_at, state.refused) == (1, None, 0)

    # The local recipient has it all the same, and the axis is ready for local traffic.
    inbox = await world.get("/api/v1/inbox", "south")
    assert [item["package_id"] for item in inbox["items"] if item["type"] == "package"] == [sent["package_id"]]
    ready = await world.client.get("/readyz")
    assert ready.status == 200
    readiness = await ready.json()
    assert readiness["ready"] is True
    assert set(readiness["checks"]) == {"postgresql", "rabbitmq", "registry"}  # the upstream is not one

    gauges = await scrape(world)
    assert gauges["axis_upstream_waiting"] == 1
    assert gauges["axis_upstream_oldest_waiting_seconds"] > 0
    assert gauges["axis_upstream_up"] == 0
    assert gauges["axis_upstream_last_ok_age_seconds"] == -1
    assert (gauges["axis_upstream_refused"], gauges["axis_upstream_inbound_failed"]) == (0, 0)
    assert (gauges["axis_upstream_forwarded_total"], gauges["axis_upstream_ingested_total"]) == (0, 0)

    shown = await world.client.get("/api/v1/admin/upstream", headers=await admin_headers(world))
    assert shown.status == 200
    api_state = (await shown.json())["state"]
    assert api_state["up"] is False
    assert (api_state["waiting"], api_state["refused"], api_state["failed_inbound"]) == (1, 0, 0)
    assert api_state["last_ok_at"] is None
    assert api_state["last_error"].startswith("upstream.unreachable: ")
    assert api_state["oldest_waiting_seconds"] > 0
    assert dt.datetime.fromisoformat(api_state["oldest_waiting_at"]) == state.oldest_waiting_at

    page, read = await upstream_page(visit)
    assert "Tình trạng liên kết" in read
    assert "Không trả lời hoặc từ chối" in read
    assert "Lần gọi thành công gần nhất Chưa có" in read
    assert re.search(r"Lỗi gần nhất \d\d/\d\d/\d{4} \d\d:\d\d — Không liên lạc được với trục cấp trên", read)
    assert re.search(
        r"Gói tin chờ chuyển lên 1; gói chờ lâu nhất từ \d\d/\d\d/\d{4} \d\d:\d\d \(đã chờ \d+ giây\)", read
    )
    assert "did not answer" not in read  # the stored English is a technical detail, beside the Vietnamese
    assert UNREACHABLE in page

    code, out, err = await axis_upstream(world, "show")
    assert code == 0, err
    assert "upstream   not answering; last ok never" in out
    assert "last error " in out
    assert "upstream.unreachable" in out
    assert re.search(r"waiting    1 package\(s\) for the upstream, the oldest since .+ \(\d+ s ago\)", out)


async def test_an_upstream_document_refused_here_is_kept_listed_and_given_back_byte_for_byte(
    world: World, people: Any, visit: Any, tmp_path: Path
) -> None:
    await link_upstream(world)
    refused = b'<?xml version="1.0" encoding="UTF-8"?><edXML>kept as the upstream sent it</edXML>'
    async with world.axis.pool.acquire() as conn:  # as the federation worker keeps what local intake refused
        await records.record_received(
            conn,
            UPSTREAM,
            "QG-2026-000017",
            "edoc",
            "failed",
            reason="signature.invalid: The signature value does not verify with the signer's key.",
            body=refused,
        )
        await records.record_received(
            conn, UPSTREAM, "QG-2026-000018", "edoc", "failed", reason="getEdoc answered OK without the package's bytes"
        )

    assert (await scrape(world))["axis_upstream_inbound_failed"] == 2

    page, read = await upstream_page(visit)
    assert "Văn bản nhận về bị trục này từ chối 2 gói tin, được lưu nguyên nội dung" in read
    assert "QG-2026-000017" in page
    assert "QG-2026-000018" in page
    assert "Chữ ký số không hợp lệ: giá trị chữ ký không khớp với khóa của người ký." in read
    assert "Trục cấp trên trả lời getEdoc thành công nhưng không kèm nội dung gói tin" in read
    assert "does not verify" not in read

    code, out, err = await axis_upstream(world, "failed")
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 2
    assert any(line.startswith("QG-2026-000017 ") and f"{len(refused)} B  signature.invalid" in line for line in lines)

    saved = tmp_path / "QG-2026-000017.xml"
    code, out, err = await axis_upstream(world, "failed", "--save", "QG-2026-000017", str(saved))
    assert code == 0, err
    assert saved.read_bytes() == refused
    code, _, err = await axis_upstream(world, "failed", "--save", "QG-2026-000017", str(saved))
    assert code == 1
    assert "exists" in err
    code, _, err = await axis_upstream(world, "failed", "--save", "QG-2026-999999", str(tmp_path / "none.xml"))
    assert code == 1
    assert "QG-2026-999999" in err
    assert not (tmp_path / "none.xml").exists()

    code, out, _ = await axis_upstream(world, "show")
    assert "failed     2 upstream document(s) refused here, kept" in out


async def test_a_package_stuck_for_the_upstream_is_overdue_like_a_local_one_and_once_handed_is_delivered(
    world: World,
) -> None:
    await link_upstream(world)
    document = world.document("north", to=(ELSEWHERE, "000.00.00.H99"))
    sent = await world.post(world.signed(document))
    package_id = uuid.UUID(sent["package_id"])
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=25)
    unacknowledged = f"package {package_id} not acknowledged within 24 h"

    async def recipient(code: str) -> status.RecipientTimeline:
        async with world.axis.pool.acquire() as conn:
            view = await status.timeline(
                conn, document.document_id, "bac", ack_deadline=dt.timedelta(hours=24), now=later
            )
        return next(r for r in view.recipients if r.agency == code)

    stuck, local = await recipient(ELSEWHERE), await recipient("000.00.00.H99")
    assert (stuck.system, stuck.deliveries[0].state) == (UPSTREAM, "queued")
    assert unacknowledged in stuck.overdue
    assert unacknowledged in local.overdue  # the same note for the same wait

    # The federation worker hands it up and acknowledges it here (the upstream is played by this test).
    upstream_system = world.axis.registry.snapshot.systems[UPSTREAM]
    async with world.axis.pool.acquire() as conn:
        await records.start_sending(conn, UPSTREAM, package_id)
        await records.handed(conn, package_id, "QG-2026-000042")
    with contextlib.suppress(AxisError):  # the worker may have acknowledged it first
        await world.axis.exchange.acknowledge(upstream_system, str(package_id))

    handed = await recipient(ELSEWHERE)
    assert handed.deliveries[0].state == "delivered"
    assert handed.deliveries[0].upstream is not None
    assert handed.deliveries[0].upstream.doc_id == "QG-2026-000042"
    assert unacknowledged not in handed.overdue
    assert (await link_state(world)).waiting == 0
    # Handed, and then nothing from the recipient in the other province: overdue all the same.
    silent = f"package {package_id} handed to the national axis, no answer from the recipient within 24 h"
    assert silent in handed.overdue
