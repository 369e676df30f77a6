"""Every parameter of every route, fed what PostgreSQL cannot store, too much, and what it does not know.

Generated, not listed: the routes are the application's own (``app.router.routes()``), each reached
the way its row of the authorization matrix says (a URL that works, its body, who may call it);
what a route reads is what its handler declares (``axis.http.params.declared``), and its path
parameters are those of its template. Every query parameter, path parameter, form field (posted
by a logged-in person of the role the page is for) and field of the row's JSON body gets, in
turn, a NUL byte, an unpaired surrogate, a value longer than the route takes and, for a choice,
a number, a flag or a date, a value that is none. A query parameter that no route declares gets
a NUL too: every URL is checked, declared or not.

The axis never answers 500. NUL, over-long and unknown values are refused with 400 naming the
parameter: in the API's JSON (``details.parameter``, ``details.field``), on a page (the name in
«»), or in the SDK's own answer under ``/vdxp/``. (An unpaired surrogate cannot survive a URL or
a form: aiohttp decodes ``%ED%A0%80`` as U+FFFD, a character like any other. In JSON the
``\\ud800`` escape makes one, and it is refused.)
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from browsing import Visitor
from test_authorization_matrix import ADMIN, ANONYMOUS, MATRIX, OWNER, Row, Scene, build_scene
from world import World
from yarl import URL

from axis import pki
from axis.app import build_app
from axis.config import Settings
from axis.http.body import MAX_TEXT
from axis.http.params import PATH_MAX, Choice, Date, File, Flag, Integer, Param, Text, Where, declared
from axis.web import guard

NUL, SURROGATE_IN_URL = "a\x00b", "%ED%A0%80"
TIMEOUT = aiohttp.ClientTimeout(total=60)


@dataclass(frozen=True)
class Case:
    """One request: ``row`` with the parameter ``name`` (found ``where``) set to ``value``."""

    row: Row
    method: str
    where: str  # query, path, form, json
    name: str
    value: Any
    what: str  # nul, surrogate, long, unknown
    refused: bool  # must be a 400 that names the parameter

    def __str__(self) -> str:
        return f"{self.method} {self.row.template} {self.where} {self.name!r} ({self.what})"


def hostile(parameter: Param[Any]) -> Iterator[tuple[str, str, bool]]:
    """(what, text, must be refused) for one declared parameter."""
    yield "nul", NUL, True
    yield "surrogate", SURROGATE_IN_URL, False
    if isinstance(parameter, File):
        return
    yield "long", "7" * (parameter.max_length + 1), True
    if isinstance(parameter, Choice):
        yield "unknown", "sideways", True
    elif isinstance(parameter, Integer):
        yield "unknown", "12abc", True
        yield "unknown", "²", True  # a digit to str.isdigit, not to int()
    elif isinstance(parameter, Flag):
        yield "unknown", "maybe", True
    elif isinstance(parameter, Date):
        yield "unknown", "2026-02-30", True


def json_hostile(value: Any) -> Iterator[tuple[str, Any, bool]]:
    """(what, JSON value, must be refused) for one field of a row's JSON body."""
    if isinstance(value, list):
        yield "nul", [NUL], True
        yield "surrogate", ["\ud800"], True
        yield "long", ["7" * (MAX_TEXT + 1)], True
        return
    yield "nul", NUL, True
    yield "surrogate", "a\ud800b", True
    yield "long", "7" * (MAX_TEXT + 1), isinstance(value, str)
    yield "unknown", "sideways", False


def path_names(template: str) -> list[str]:
    return re.findall(r"\{(\w+)\}", template)


def cases_of(row: Row, method: str, parameters: tuple[Param[Any], ...]) -> Iterator[Case]:
    typed = {p.name: p for p in parameters if p.where is Where.PATH}
    for name in path_names(row.template):
        parameter = typed.get(name) or Text(name, where=Where.PATH, max_length=PATH_MAX)
        for what, value, refused in hostile(parameter):
            yield Case(row, method, "path", name, value, what, refused)
    for parameter in parameters:
        if parameter.where is Where.PATH:
            continue
        where = "form" if parameter.where is Where.FORM else "query"
        for what, value, refused in hostile(parameter):
            yield Case(row, method, where, parameter.name, value, what, refused)
    yield Case(row, method, "query", "undeclared", NUL, "nul", True)


def json_cases_of(row: Row, method: str, body: dict[str, Any]) -> Iterator[Case]:
    for name, value in body.items():
        for what, mutated, refused in json_hostile(value):
            yield Case(row, method, "json", name, mutated, what, refused)
    yield Case(row, method, "json", "undeclared", NUL, "nul", True)


def encoded(value: str) -> str:
    return value if value == SURROGATE_IN_URL else quote(value, safe="")


def mutated_url(row: Row, scene: Scene, case: Case) -> URL:
    """The row's working URL with the case's path segment or query parameter changed."""
    url = URL(row.url(scene))
    path, pairs = url.raw_path, [(k, v) for k, v in url.query.items() if k != case.name]
    if case.where == "path":
        segments, names = path.split("/"), row.template.split("/")
        index = next(i for i, part in enumerate(names) if part == "{" + case.name + "}")
        segments[index] = encoded(case.value)
        path = "/".join(segments)
    query = [f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs]
    if case.where == "query":
        query.append(f"{case.name}={encoded(case.value)}")
    return URL(path + ("?" + "&".join(query) if query else ""), encoded=True)


# --- who reaches each route ------------------------------------------------------------------------


def api_role(row: Row) -> str:
    """The first role the row lets through: the handler, not the authorization, must answer."""
    for role in (OWNER, ADMIN, ANONYMOUS):
        expected = row.expect[role]
        if min(expected if isinstance(expected, tuple) else (expected,)) < 400:
            return role
    raise AssertionError(f"no role reaches {row.template}")


def page_person(row: Row) -> str | None:
    """The web user a page is for (None: anyone)."""
    if row.template.startswith("/ui/admin"):
        return "quantri"
    if row.template.startswith(("/ui/documents", "/ui/account")):
        return "vanthu.bac"
    return None


@dataclass
class Reach:
    """How the cases reach the axis: the matrix's scene, and a logged-in visitor per kind of page."""

    world: World
    scene: Scene
    visitors: dict[str | None, Visitor]

    async def send(self, case: Case) -> tuple[int, str, Any]:
        """(status, text, the JSON body or None)."""
        row, scene = case.row, self.scene
        url = mutated_url(row, scene, case) if case.where in ("path", "query") else URL(row.url(scene))
        if row.template.startswith("/ui"):
            visitor = self.visitors[page_person(row)]
            kwargs: dict[str, Any] = {}
            if case.method == "POST":
                body = f"csrf={quote(visitor.csrf, safe='')}"
                if case.where == "form":
                    body += f"&{case.name}={encoded(case.value)}"
                kwargs = {"data": body, "headers": {"Content-Type": "application/x-www-form-urlencoded"}}
            async with visitor.session.request(
                case.method, visitor.base.join(url), allow_redirects=False, timeout=TIMEOUT, **kwargs
            ) as response:
                return await _read(response)
        kwargs = dict(row.body(scene)) if row.body else {}
        if case.where == "json":
            kwargs["json"] = {**kwargs.get("json", {}), case.name: case.value}
        headers = scene.headers(api_role(row), row)
        async with self.world.client.request(
            case.method, url, headers=headers, allow_redirects=False, timeout=TIMEOUT, **kwargs
        ) as response:
            return await _read(response)


@pytest.fixture
async def reach(world: World, admin_token: str, people: Any, visit: Any) -> Reach:
    visitors: dict[str | None, Visitor] = {}
    for person in ("quantri", "vanthu.bac", None):
        visitor = visit()
        if person is None:
            await visitor.get("/ui/login")
        else:
            await visitor.log_in(person)
        visitors[person] = visitor
    return Reach(world, await build_scene(world, admin_token), visitors)


async def _read(response: aiohttp.ClientResponse) -> tuple[int, str, Any]:
    text = await response.text(errors="replace")
    try:
        parsed = json.loads(text) if response.content_type == "application/json" else None
    except ValueError:
        parsed = None
    return response.status, text, parsed


def refused_by_name(case: Case, status: int, text: str, body: Any) -> None:
    """The refusal names the parameter, in the shape of where it was sent."""
    if case.row.template.startswith("/vdxp/"):
        assert status == 200, f"{case}: {status} {text[:300]}"
        assert body["status"] == "FAIL", case
        assert body["ErrorDesc"].startswith("http.bad_request:"), f"{case}: {body}"
        assert repr(case.name) in body["ErrorDesc"], f"{case}: {body}"
        return
    if status == 404 and all(404 in (e if isinstance(e, tuple) else (e,)) for e in case.row.expect.values()):
        return  # /ui: the pages' own prefix may answer first (the matrix says so); never the handler
    assert status == 400, f"{case}: {status} {text[:300]}"
    if body is not None:
        error = body["error"]
        assert error["code"] == "http.bad_request", f"{case}: {error}"
        named = error["details"].get("field") or error["details"].get("parameter") or ""
        assert named == case.name or named.startswith(f"{case.name}["), f"{case}: {error}"
    else:
        assert f"«{case.name}»" in text, f"{case}: the page does not name it: {text[:2000]}"


# --- the tests -----------------------------------------------------------------------------------------


async def test_the_requests_tried_from_outside_are_refused_by_name(world: World, admin_token: str) -> None:
    """Issue 16's requests: each was a 500 with a traceback, or a 200 that ignored the value."""
    north, admin = world["north"].headers, {"Authorization": f"Bearer {admin_token}"}
    document_id = quote(world.document().document_id, safe="")
    for url, headers, name in (
        ("/api/v1/agencies?q=%00", {}, "q"),
        ("/api/v1/agencies?under=%00", {}, "under"),
        ("/api/v1/documents?q=%00", north, "q"),
        ("/api/v1/documents?number=1%00", north, "number"),
        ("/api/v1/documents?counterpart=%00", north, "counterpart"),
        (f"/api/v1/documents/{document_id}%00/status", north, "document_id"),
        ("/api/v1/documents?direction=sideways", north, "direction"),
        ("/api/v1/documents?delivery=maybe", north, "delivery"),
        ("/api/v1/admin/history?kind=%00", admin, "kind"),
    ):
        response = await world.client.get(URL(url, encoded=True), headers=headers)
        error = (await response.json())["error"]
        assert (response.status, error["code"], error["details"]["parameter"]) == (400, "http.bad_request", name), url
    for method, url, body, name in (
        ("POST", "/api/v1/admin/agencies", '{"code": "000.00.40.H98", "name": "a\\u0000b"}', "name"),
        ("POST", "/api/v1/admin/agencies", '{"code": "000.00.40.H98", "name": "a\\ud800b"}', "name"),
        ("PATCH", "/api/v1/admin/systems/bac", '{"status": "maybe"}', "status"),
    ):
        response = await world.client.request(
            method, url, data=body, headers={**admin, "Content-Type": "application/json"}
        )
        error = (await response.json())["error"]
        assert (response.status, error["details"]["field"]) == (400, name), (body, error)


def test_every_route_declares_what_it_reads(tmp_path: Path) -> None:
    """Checked on a freshly built application: every handler but the static files' (whose name
    ``axis.web.guard`` checks) passes through ``axis.http.params`` before it runs."""
    keys = tmp_path / "keys"
    pki.save(pki.new_ca(), keys, "ca")
    app = build_app(Settings(keys_dir=keys))
    undeclared = sorted(
        f"{route.method} {route.resource.canonical}"
        for route in app.router.routes()
        if route.resource is not None and declared(route.handler) is None and "/static" not in route.resource.canonical
    )
    assert not undeclared, f"routes without @accepts (axis.http.params): {undeclared}"


async def test_no_parameter_of_any_route_gets_a_server_error(world: World, reach: Reach) -> None:
    app = world.client.app
    assert app is not None
    rows = {(row.method, row.template): row for row in MATRIX}
    sent = refused = 0
    for route in app.router.routes():
        assert route.resource is not None
        if route.method == "HEAD":
            continue
        row = rows[(route.method, route.resource.canonical)]
        parameters = declared(route.handler)
        if row.template == "/ui/static":  # aiohttp's own handler: the pages check its file name
            row, parameters = dataclasses.replace(row, template="/ui/static/{filename}"), guard.STATIC
        assert parameters is not None, row.template
        for method in ("GET", "POST") if row.method == "*" else (row.method,):
            cases = list(cases_of(row, method, parameters))
            body = row.body(reach.scene) if row.body else {}
            if isinstance(body.get("json"), dict):
                cases += json_cases_of(row, method, body["json"])
            for case in cases:
                status, text, parsed = await reach.send(case)
                sent += 1
                assert status != 500, f"{case}: 500 {text[:500]}"
                if case.refused:
                    refused_by_name(case, status, text, parsed)
                    refused += 1
    assert sent > 300, sent
    assert refused > 200, refused
