"""Every page a clerk or an administrator opens reads in Vietnamese, with times in Vietnam's time:
each GET page of /ui/ is rendered over a world with exchanged documents, a redirect, a failed
delivery, a legacy-policy package and a history, and its visible text is searched for English
sentences and for UTC times. (Every error code's own text is checked in test_messages.py.)"""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

import pytest
from world import World, status_of

from axis.edxml import build
from axis.edxml import model as m
from axis.registry import agencies, history, systems
from axis.store import db

#: Words that only an English sentence has (on word boundaries, any case).
ENGLISH = re.compile(
    r"\b(the|is|are|was|were|not|has|have|must|cannot|could|should|would|which|with|from|this|that|"
    r"there|been|only|already|unknown|invalid|failed|error|refused|missing)\b",
    re.IGNORECASE,
)
#: A time as a machine writes it: ISO 8601, a UTC offset or the word UTC.
MACHINE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}|\+00:00|\bUTC\b(?!\+7)|\d{2}:\d{2}:\d{2}Z")
#: What a page may show as it is: codes, file names, addresses, the product's own words.
ALLOWED = ("eOffice", "QCVN", "CSV", "Excel", "Unicode text", "UTF-8", "Windows-1258", "RabbitMQ", "AMQP", "HTTP")


def visible_text(page: str) -> str:
    """What a person reads: no scripts, styles, tags, attribute values or code elements."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    page = re.sub(r"<(code|pre|kbd|samp)\b.*?</\1>", " ", page, flags=re.S | re.I)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def english_in(text: str) -> list[str]:
    for word in ALLOWED:
        text = text.replace(word, " ")
    found = []
    for match in ENGLISH.finditer(text):
        start = max(0, match.start() - 40)
        found.append(text[start : match.end() + 40])
    return found


@pytest.fixture
async def lived_in(world: World) -> dict[str, str]:
    """A world that has been used: documents both ways, a status, a redirect, a failed delivery,
    a package without an XML signature, registry changes in the history."""
    conn = await db.connect(world.settings.database_url)
    try:
        async with conn.transaction():
            await agencies.add(conn, "test", "000.00.12.H99", "Phòng Cũ")
            await agencies.retire(conn, "test", "000.00.12.H99", "000.00.00.H99")
            await systems.update(conn, "test", "bac", allow_unsigned=True)
        await world.axis.registrar.caught_up(await history.version(conn))
    finally:
        await conn.close()
    document = world.document("north", to=("000.00.12.H99", "000.00.11.H99"), subject="Về việc thử nghiệm")
    sent = await world.post(world.signed(document))
    await world.get(f"/api/v1/packages/{sent['package_id']}", "south")
    arrived = status_of(document, m.StatusCode.ARRIVED, "south", "000.00.00.H99")
    await world.post(world.signed(arrived, by="south"), "south")
    unsigned = await world.post(build(world.document("north", number="901")))
    async with world.axis.pool.acquire() as conn:
        await conn.execute(
            """UPDATE deliveries SET state = 'failed', failed_reason = 'the recipient system''s consumer rejected the message'
                WHERE package_id = $1 AND system_id = 'nam-stc'""",
            uuid.UUID(sent["package_id"]),
        )
    return {"document": sent["package_id"], "unsigned": unsigned["package_id"]}


async def test_every_page_reads_in_vietnamese_with_vietnam_times(
    world: World, lived_in: dict[str, str], people: Any, visit: Any
) -> None:
    clerk, sender, admin = visit(), visit(), visit()
    login_page = await clerk.get("/ui/login")
    await clerk.log_in("vanthu.nam")
    await sender.log_in("vanthu.bac")
    await admin.log_in("quantri")
    pages = {
        "/ui/login": login_page,
        "/ui/account": await clerk.get("/ui/account"),
        "/ui/documents": await clerk.get("/ui/documents"),
        "/ui/documents (a bad date)": await clerk.get("/ui/documents?q=&from=31/02/2026", expect=400),
        "/ui/documents/{id}": await clerk.get(f"/ui/documents/{lived_in['document']}"),
        "/ui/documents/{id} (unsigned)": await clerk.get(f"/ui/documents/{lived_in['unsigned']}"),
        "/ui/documents/{id} (the sender's, a delivery failed)": await sender.get(
            f"/ui/documents/{lived_in['document']}"
        ),
        "/ui/documents/{id} (unknown)": await clerk.get(
            "/ui/documents/00000000-0000-0000-0000-000000000000", expect=404
        ),
        "/ui/admin/agencies": await admin.get("/ui/admin/agencies"),
        "/ui/admin/agencies?q": await admin.get("/ui/admin/agencies?q=thu+nghiem&retired=1"),
        "/ui/admin/agencies/{code}": await admin.get("/ui/admin/agencies/000.00.12.H99"),
        "/ui/admin/agencies/{code} (unknown)": await admin.get("/ui/admin/agencies/000.00.77.H99", expect=404),
        "/ui/admin/systems": await admin.get("/ui/admin/systems"),
        "/ui/admin/systems/{id}": await admin.get("/ui/admin/systems/nam-stc"),
        "/ui/admin/import": await admin.get("/ui/admin/import"),
        "/ui/admin/history": await admin.get("/ui/admin/history"),
        "/ui/admin/users": await admin.get("/ui/admin/users"),
        "/ui/admin/upstream (not connected)": await admin.get("/ui/admin/upstream"),
        "/ui/admin/upstream": await admin.post(
            "/ui/admin/upstream",
            {"endpoint": "https://truc.example.gov.vn/vdxp", "system_id": "nam-axis", "serves": "000.00.00.H99"},
        ),
    }
    problems = {}
    for name, page in pages.items():
        text = visible_text(page)
        english, machine = english_in(text), MACHINE_TIME.findall(text)
        if english or machine:
            problems[name] = {"English": english[:5], "machine times": machine[:5]}
    assert not problems, problems


#: The GET routes of /ui/ that are not pages a person reads (files, a stream, redirects).
NOT_PAGES = {
    "/ui/",
    "/ui/admin",
    "/ui/documents.csv",
    "/ui/documents/{package_id}/attachments/{index}",
    "/ui/documents/{package_id}/live",
}
COVERED = {
    "/ui/login",
    "/ui/account",
    "/ui/documents",
    "/ui/documents/{package_id}",
    "/ui/admin/agencies",
    "/ui/admin/agencies/{code}",
    "/ui/admin/systems",
    "/ui/admin/systems/{id}",
    "/ui/admin/import",
    "/ui/admin/history",
    "/ui/admin/users",
    "/ui/admin/upstream",
}


def test_every_page_of_the_site_is_in_the_language_check(world: World) -> None:
    app = world.client.app
    assert app is not None
    pages = {
        route.resource.canonical
        for route in app.router.routes()
        if route.method == "GET" and route.resource is not None and route.resource.canonical.startswith("/ui/")
    }
    pages = {p for p in pages if not p.startswith("/ui/static")} - NOT_PAGES
    assert pages == COVERED, "a page was added: visit it in test_every_page_reads_in_vietnamese_with_vietnam_times"


def test_the_checks_catch_what_they_are_for() -> None:
    assert english_in(visible_text("<p>No agency has the code 'UBND'.</p>"))
    assert MACHINE_TIME.findall(visible_text("<td>2027-12-05T23:07:15+00:00</td>"))
    assert not english_in(
        visible_text('<p>Hạn: <time datetime="2026-12-06T10:00:00+07:00">06/12/2026 10:00</time></p>')
    )
    assert not MACHINE_TIME.findall(visible_text('<time datetime="2026-12-06T10:00:00+07:00">06/12/2026 10:00</time>'))
