"""Every route × every role: who may call what, as one table.

The routes come from the application itself (``build_app``'s router), so a route added without a
row here fails ``test_every_route_has_a_row`` — whoever adds an endpoint must say who may use it.
Roles: ``anonymous`` (no credentials), ``owner`` (a system the resource belongs to), ``other``
(a system it does not belong to), ``admin`` (an administrator token). Rows run in table order,
each role in the order anonymous, other, admin, owner, so that refusals come before the one call
that may change something.

The rules the table encodes (docs/api.md):
- the agency API needs a system token: 401 without one (an admin token is not one);
- another system's package, receipt or document is 404, never 403: ids leak nothing;
- the admin API needs an admin token: 401 without a token, 403 with a system token;
- the registry look-up, the axis certificate, /healthz, /readyz and /metrics are public;
- /ui/… (web pages, axis.web) authenticate with a log-in session, never a Bearer token: without
  a session a page GET is sent to the log-in page (303), a form POST is refused (403, CSRF and
  session); the log-in page and static files are public;
- /vdxp/… (the national SDK's interface, axis.http.vdxp) authenticates the SDK's signed
  headers: a Bearer token of any kind is refused in the SDK's own answer (HTTP 200 by default,
  ``"status": "FAIL"``, a non-zero ErrorCode) — never a success, never a 500.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import builders
import pytest
from security_world import sent_now
from world import World, wait_until

from axis import pki
from axis.app import build_app
from axis.config import Settings
from axis.edxml.trust import fingerprint
from axis.errors import CATALOGUE
from axis.registry import agencies, systems
from axis.store import db
from axis.vdxp.secret import SecretBox

ANONYMOUS, OTHER, ADMIN, OWNER = "anonymous", "other", "admin", "owner"
ROLES = (ANONYMOUS, OTHER, ADMIN, OWNER)
MATRIX_SYSTEM = "matrix-sys"


@dataclass
class Scene:
    """The world with one document sent north → south, an administrator and a spare system."""

    world: World
    admin: dict[str, str]
    package_id: str = ""
    document_id: str = ""
    receipt_id: str = ""
    spare_token_id: int = 0
    spare_fingerprint: str = ""
    values: dict[str, str] = field(default_factory=dict)

    def headers(self, role: str, row: Row) -> dict[str, str]:
        if role == ANONYMOUS:
            return {}
        if role == ADMIN:
            return self.admin
        return self.world[row.owner if role == OWNER else row.other].headers


Body = Callable[[Scene], Mapping[str, Any]]
Expect = Mapping[str, int | tuple[int, ...]]


def agency(ok: int = 200) -> Expect:
    """The agency API over the caller's own data: any system may call, its answer is its own."""
    return {ANONYMOUS: 401, ADMIN: 401, OTHER: ok, OWNER: ok}


def resource(ok: int = 200) -> Expect:
    """One package, receipt or document: only the systems it belongs to see it."""
    return {ANONYMOUS: 401, ADMIN: 401, OTHER: 404, OWNER: ok}


def admin(ok: int = 200) -> Expect:
    return {ANONYMOUS: 401, OTHER: 403, OWNER: 403, ADMIN: ok}


def public(ok: int = 200) -> Expect:
    return dict.fromkeys(ROLES, ok)


UI_PAGE = dict.fromkeys(ROLES, 303)  # to /ui/login: a Bearer token is no session
UI_FORM = dict.fromkeys(ROLES, 403)  # no session, no CSRF token
VDXP = dict.fromkeys(ROLES, 200)  # the SDK's answer: checked to be "FAIL" below


@dataclass(frozen=True)
class Row:
    method: str
    template: str
    expect: Expect
    path: Callable[[Scene], str] | None = None
    body: Body | None = None
    owner: str = "north"
    other: str = "dept"

    def url(self, scene: Scene) -> str:
        return self.path(scene) if self.path else self.template


def json_body(**values: Any) -> Body:
    return lambda _: {"json": values}


def new_document(scene: Scene) -> Mapping[str, Any]:
    return {"data": scene.world.signed(sent_now(scene.world.document(number="777")))}


MATRIX: tuple[Row, ...] = (
    # --- operations and public look-up ---
    Row("GET", "/healthz", public()),
    Row("GET", "/readyz", public()),
    Row("GET", "/metrics", public()),
    Row("GET", "/api/v1/agencies", public(), path=lambda s: "/api/v1/agencies?q=H98"),
    Row("GET", "/api/v1/agencies/{code}", public(), path=lambda s: "/api/v1/agencies/000.00.00.H98"),
    Row("GET", "/api/v1/axis/certificate", public()),
    # --- the agency API: reads ---
    Row("GET", "/api/v1/inbox", agency()),
    Row("GET", "/api/v1/documents", agency()),
    Row(
        "GET",
        "/api/v1/packages/{id}",
        resource(),
        path=lambda s: f"/api/v1/packages/{s.package_id}",
        owner="south",
    ),
    Row("GET", "/api/v1/packages/{id}/receipt", resource(), path=lambda s: f"/api/v1/packages/{s.package_id}/receipt"),
    Row(
        "GET", "/api/v1/packages/{id}/receipts", resource(), path=lambda s: f"/api/v1/packages/{s.package_id}/receipts"
    ),
    Row(
        "GET",
        "/api/v1/packages/{id}/files",
        resource(),
        path=lambda s: f"/api/v1/packages/{s.package_id}/files",
        owner="south",
    ),
    Row("GET", "/api/v1/receipts/{id}", resource(), path=lambda s: f"/api/v1/receipts/{s.receipt_id}", other="south"),
    Row(
        "GET",
        "/api/v1/documents/{document_id}/status",
        resource(),
        path=lambda s: f"/api/v1/documents/{s.document_id}/status",
    ),
    # --- the agency API: changes ---
    Row("POST", "/api/v1/packages", {**agency(202), OTHER: 403}, body=new_document, other="south"),
    Row(
        "POST",
        "/api/v1/packages/{id}/ack",
        resource(),
        path=lambda s: f"/api/v1/packages/{s.package_id}/ack",
        owner="south",
    ),
    Row(
        "POST",
        "/api/v1/inbox/ack",
        agency(),  # per id: another system's ids answer "unknown", checked below
        body=lambda s: {"json": {"packages": [s.package_id], "receipts": [s.receipt_id]}},
        owner="south",
    ),
    Row(
        "POST",
        "/api/v1/receipts/{id}/ack",
        resource(204),
        path=lambda s: f"/api/v1/receipts/{s.receipt_id}/ack",
        other="south",
    ),
    # --- the admin API ---
    Row("GET", "/api/v1/admin/systems", admin()),
    Row("GET", "/api/v1/admin/systems/{id}", admin(), path=lambda s: f"/api/v1/admin/systems/{MATRIX_SYSTEM}"),
    Row("GET", "/api/v1/admin/history", admin()),
    Row("POST", "/api/v1/admin/agencies", admin(201), body=json_body(code="000.00.21.H98", name="Sở Thử Ma Trận")),
    Row(
        "PATCH",
        "/api/v1/admin/agencies/{code}",
        admin(),
        path=lambda s: "/api/v1/admin/agencies/000.00.22.H98",
        body=json_body(name="Sở Đổi Tên"),
    ),
    Row(
        "POST",
        "/api/v1/admin/agencies/{code}/retire",
        admin(),
        path=lambda s: "/api/v1/admin/agencies/000.00.22.H98/retire",
    ),
    Row(
        "POST",
        "/api/v1/admin/agencies/{code}/reactivate",
        admin(),
        path=lambda s: "/api/v1/admin/agencies/000.00.22.H98/reactivate",
    ),
    Row(
        "POST",
        "/api/v1/admin/agencies/{code}/merge",
        admin(),
        path=lambda s: "/api/v1/admin/agencies/000.00.23.H98/merge",
        body=json_body(into="000.00.00.H98"),
    ),
    Row(
        "POST",
        "/api/v1/admin/agencies/{code}/move",
        admin(201),
        path=lambda s: "/api/v1/admin/agencies/000.00.24.H98/move",
        body=json_body(new_code="000.00.25.H98"),
    ),
    Row(
        "POST",
        "/api/v1/admin/imports",
        admin(),
        path=lambda s: "/api/v1/admin/imports?dry_run=1",
        body=lambda s: {"data": "code,name\n000.00.26.H98,Sở Nhập Thử\n".encode()},
    ),
    Row(
        "PUT",
        "/api/v1/admin/upstream",
        admin(),
        body=json_body(
            endpoint="https://truc.example.gov.vn/vdxp", system_id="000.00.00.H98", serves=["000.00.00.H98"]
        ),
    ),
    Row("PUT", "/api/v1/admin/upstream/secret", admin(), body=json_body(secret="given-by-the-upstream")),
    Row("GET", "/api/v1/admin/upstream", admin()),
    Row("POST", "/api/v1/admin/systems", admin(201), body=json_body(id="matrix-new", name="Hệ thống mới")),
    Row(
        "PATCH",
        "/api/v1/admin/systems/{id}",
        admin(),
        path=lambda s: f"/api/v1/admin/systems/{MATRIX_SYSTEM}",
        body=json_body(contact="vanthu@matrix.test", status="active"),
    ),
    Row(
        "POST",
        "/api/v1/admin/systems/{id}/tokens",
        admin(201),
        path=lambda s: f"/api/v1/admin/systems/{MATRIX_SYSTEM}/tokens",
    ),
    Row(
        "POST",
        "/api/v1/admin/systems/{id}/sdk-secret",
        admin(201),
        path=lambda s: f"/api/v1/admin/systems/{MATRIX_SYSTEM}/sdk-secret",
    ),
    Row(
        "DELETE",
        "/api/v1/admin/systems/{id}/tokens/{token_id}",
        admin(204),
        path=lambda s: f"/api/v1/admin/systems/{MATRIX_SYSTEM}/tokens/{s.spare_token_id}",
    ),
    Row(
        "POST",
        "/api/v1/admin/systems/{id}/certificates",
        admin(201),
        path=lambda s: f"/api/v1/admin/systems/{MATRIX_SYSTEM}/certificates",
        body=lambda s: {"data": s.values["new_certificate"].encode()},
    ),
    Row(
        "DELETE",
        "/api/v1/admin/certificates/{fingerprint}",
        admin(),
        path=lambda s: f"/api/v1/admin/certificates/{s.spare_fingerprint}",
    ),
    Row(
        "POST",
        "/api/v1/admin/systems/{id}/bindings",
        admin(201),
        path=lambda s: f"/api/v1/admin/systems/{MATRIX_SYSTEM}/bindings",
        body=json_body(agency_code="000.00.27.H98"),
    ),
    Row(
        "DELETE",
        "/api/v1/admin/systems/{id}/bindings/{code}",
        admin(204),
        path=lambda s: f"/api/v1/admin/systems/{MATRIX_SYSTEM}/bindings/000.00.28.H98",
    ),
    Row(
        "GET",
        "/api/v1/admin/systems/{id}/failed-deliveries",
        admin(),
        path=lambda s: f"/api/v1/admin/systems/{MATRIX_SYSTEM}/failed-deliveries",
    ),
    Row(
        "POST",
        "/api/v1/admin/systems/{id}/failed-deliveries/requeue",
        admin(),
        path=lambda s: f"/api/v1/admin/systems/{MATRIX_SYSTEM}/failed-deliveries/requeue",
    ),
    # --- the web pages (axis.web): sessions, not Bearer tokens ---
    # axis.web redirects /ui to /ui/ (308); the /ui/ sub-application's prefix also matches /ui and
    # may answer 404 first. Either way: never a page, never a 500.
    Row("GET", "/ui", dict.fromkeys(ROLES, (308, 404))),
    Row("GET", "/ui/", UI_PAGE),
    Row("GET", "/ui/login", public()),
    Row("GET", "/ui/static", public(), path=lambda s: "/ui/static/axis.css"),
    Row("GET", "/favicon.ico", public()),
    Row("GET", "/ui/account", UI_PAGE),
    Row("GET", "/ui/documents", UI_PAGE),
    Row("GET", "/ui/documents.csv", UI_PAGE),
    Row("GET", "/ui/documents/{package_id}", UI_PAGE, path=lambda s: f"/ui/documents/{s.package_id}"),
    Row(
        "GET",
        "/ui/documents/{package_id}/attachments/{index}",
        UI_PAGE,
        path=lambda s: f"/ui/documents/{s.package_id}/attachments/0",
    ),
    Row("GET", "/ui/documents/{package_id}/live", UI_PAGE, path=lambda s: f"/ui/documents/{s.package_id}/live"),
    Row("GET", "/ui/admin", UI_PAGE),
    Row("GET", "/ui/admin/agencies", UI_PAGE),
    Row("GET", "/ui/admin/agencies/{code}", UI_PAGE, path=lambda s: "/ui/admin/agencies/000.00.00.H98"),
    Row("GET", "/ui/admin/systems", UI_PAGE),
    Row("GET", "/ui/admin/systems/{id}", UI_PAGE, path=lambda s: "/ui/admin/systems/bac"),
    Row("GET", "/ui/admin/import", UI_PAGE),
    Row("GET", "/ui/admin/history", UI_PAGE),
    Row("GET", "/ui/admin/users", UI_PAGE),
    Row("POST", "/ui/login", UI_FORM),
    Row("POST", "/ui/logout", UI_FORM),
    Row("POST", "/ui/account", UI_FORM),
    Row("POST", "/ui/admin/agencies", UI_FORM),
    Row("POST", "/ui/admin/agencies/{code}/rename", UI_FORM, path=lambda s: "/ui/admin/agencies/000.00.00.H98/rename"),
    Row("POST", "/ui/admin/agencies/{code}/retire", UI_FORM, path=lambda s: "/ui/admin/agencies/000.00.00.H98/retire"),
    Row("POST", "/ui/admin/agencies/{code}/merge", UI_FORM, path=lambda s: "/ui/admin/agencies/000.00.00.H98/merge"),
    Row("POST", "/ui/admin/agencies/{code}/move", UI_FORM, path=lambda s: "/ui/admin/agencies/000.00.00.H98/move"),
    Row(
        "POST",
        "/ui/admin/agencies/{code}/reactivate",
        UI_FORM,
        path=lambda s: "/ui/admin/agencies/000.00.00.H98/reactivate",
    ),
    Row("POST", "/ui/admin/agencies/{code}/qd20", UI_FORM, path=lambda s: "/ui/admin/agencies/000.00.00.H98/qd20"),
    Row("POST", "/ui/admin/systems", UI_FORM),
    Row("POST", "/ui/admin/systems/{id}/settings", UI_FORM, path=lambda s: "/ui/admin/systems/bac/settings"),
    Row("POST", "/ui/admin/systems/{id}/bindings", UI_FORM, path=lambda s: "/ui/admin/systems/bac/bindings"),
    Row(
        "POST",
        "/ui/admin/systems/{id}/bindings/remove",
        UI_FORM,
        path=lambda s: "/ui/admin/systems/bac/bindings/remove",
    ),
    Row("POST", "/ui/admin/systems/{id}/certificates", UI_FORM, path=lambda s: "/ui/admin/systems/bac/certificates"),
    Row(
        "POST",
        "/ui/admin/systems/{id}/certificates/revoke",
        UI_FORM,
        path=lambda s: "/ui/admin/systems/bac/certificates/revoke",
    ),
    Row("POST", "/ui/admin/systems/{id}/tokens", UI_FORM, path=lambda s: "/ui/admin/systems/bac/tokens"),
    Row("POST", "/ui/admin/systems/{id}/tokens/revoke", UI_FORM, path=lambda s: "/ui/admin/systems/bac/tokens/revoke"),
    Row("POST", "/ui/admin/systems/{id}/amqp", UI_FORM, path=lambda s: "/ui/admin/systems/bac/amqp"),
    Row("POST", "/ui/admin/systems/{id}/sdk-secret", UI_FORM, path=lambda s: "/ui/admin/systems/bac/sdk-secret"),
    Row("GET", "/ui/admin/upstream", UI_PAGE),
    Row("POST", "/ui/admin/upstream", UI_FORM),
    Row("POST", "/ui/admin/upstream/secret", UI_FORM),
    Row("POST", "/ui/admin/systems/{id}/requeue", UI_FORM, path=lambda s: "/ui/admin/systems/bac/requeue"),
    Row("POST", "/ui/admin/import", UI_FORM),
    Row("POST", "/ui/admin/import/{draft}", UI_FORM, path=lambda s: "/ui/admin/import/1"),
    Row("POST", "/ui/admin/users", UI_FORM),
    Row("POST", "/ui/admin/users/{username}/password", UI_FORM, path=lambda s: "/ui/admin/users/vanthu/password"),
    Row("POST", "/ui/admin/users/{username}/status", UI_FORM, path=lambda s: "/ui/admin/users/vanthu/status"),
    Row("POST", "/ui/admin/users/{username}/unlock", UI_FORM, path=lambda s: "/ui/admin/users/vanthu/unlock"),
    # --- the national SDK's interface (axis.http.vdxp): its own signed headers ---
    Row("*", "/vdxp/{operation}", VDXP, path=lambda s: "/vdxp/getReceivedEdocList"),
)


def routes_of_app(world: World) -> set[tuple[str, str]]:
    """(method, path template) of every route, HEAD folded into its GET (aiohttp adds it)."""
    app = world.client.app
    assert app is not None
    found: set[tuple[str, str]] = set()
    heads: set[str] = set()
    for route in app.router.routes():
        assert route.resource is not None
        canonical = route.resource.canonical
        if route.method == "HEAD":
            heads.add(canonical)
        else:
            found.add((route.method, canonical))
    unpaired = {h for h in heads if ("GET", h) not in found and ("*", h) not in found}
    assert not unpaired, f"HEAD routes without a GET: {unpaired}"
    return found


def test_every_route_has_a_row(tmp_path: Path) -> None:
    """Checked on a freshly built application: its router is complete before it starts."""
    keys = tmp_path / "keys"
    pki.save(pki.new_ca(), keys, "ca")
    app = build_app(Settings(keys_dir=keys))
    found = set()
    for route in app.router.routes():
        assert route.resource is not None
        if route.method != "HEAD":
            found.add((route.method, route.resource.canonical))
    rows = {(row.method, row.template) for row in MATRIX}
    assert len(rows) == len(MATRIX), "a route has two rows"
    assert not found - rows, f"routes without a row in the authorization matrix: {sorted(found - rows)}"
    assert not rows - found, f"rows for routes that no longer exist: {sorted(rows - found)}"


# --- running the matrix ---------------------------------------------------------------------------------


@pytest.fixture
async def scene(world: World, admin_token: str) -> Scene:
    return await build_scene(world, admin_token)


async def build_scene(world: World, admin_token: str) -> Scene:
    """The world the rows' URLs and bodies refer to (also tests/security/test_parameters.py's)."""
    scene = Scene(world, {"Authorization": f"Bearer {admin_token}"})
    document = sent_now(world.document())
    accepted = await world.post(world.signed(document))
    scene.package_id = accepted["package_id"]
    scene.document_id = urllib.parse.quote(document.document_id, safe="")
    receipts = await world.get(f"/api/v1/packages/{scene.package_id}/receipts", "north")
    scene.receipt_id = receipts["receipts"][0]["id"]
    spare = pki.issue(world.ca, "000.00.27.H98", "Sở Thử Ma Trận")
    scene.values["new_certificate"] = pki.cert_pem(pki.issue(world.ca, None, "Máy chủ ma trận").certificate).decode()
    scene.spare_fingerprint = fingerprint(spare.certificate)
    SecretBox.load_or_create(world.settings.vdxp_key_path)  # the key that seals SDK secrets, as the CLI makes it
    conn = await db.connect(world.settings.database_url)
    try:
        async with conn.transaction():
            for code in ("000.00.22.H98", "000.00.23.H98", "000.00.24.H98", "000.00.27.H98", "000.00.28.H98"):
                await agencies.add(conn, "matrix", code, f"Sở {code}")
            await systems.add(conn, "matrix", MATRIX_SYSTEM, "Hệ thống ma trận")
            await systems.bind(conn, "matrix", MATRIX_SYSTEM, "000.00.28.H98")
            await systems.add_certificate(conn, "matrix", MATRIX_SYSTEM, pki.cert_pem(spare.certificate))
            scene.spare_token_id, _ = await systems.issue_token(conn, "matrix", MATRIX_SYSTEM)
        version = await conn.fetchval("SELECT version FROM registry_version")
    finally:
        await conn.close()
    await wait_until(lambda: world.axis.registry.snapshot.version >= version)
    return scene


async def check(scene: Scene, row: Row, role: str, method: str) -> None:
    client = scene.world.client
    kwargs = dict(row.body(scene)) if row.body else {}
    response = await client.request(
        method, row.url(scene), headers=scene.headers(role, row), allow_redirects=False, **kwargs
    )
    expected = row.expect[role]
    allowed = expected if isinstance(expected, tuple) else (expected,)
    where = f"{method} {row.template} as {role}"
    text = await response.text(errors="replace")  # an icon is no text
    assert response.status != 500, f"{where}: 500 {text}"
    assert response.status in allowed, f"{where}: {response.status}, expected {allowed}: {text[:300]}"
    if response.status >= 400 and row.template.startswith("/api/"):
        code = (await response.json())["error"]["code"]
        assert code in CATALOGUE, where
        if response.status == 401:
            assert code in ("auth.token.missing", "auth.token.invalid"), where
        if response.status == 403 and role in (OWNER, OTHER) and "/admin/" in row.template:
            assert code == "auth.admin.required", where
    if row.template == "/api/v1/inbox/ack" and role == OTHER:
        answer = await response.json()
        codes = [item["error"]["code"] for item in (*answer["packages"], *answer["receipts"])]
        assert codes == ["package.unknown", "receipt.unknown"], where
    if row.expect is UI_PAGE:
        assert response.headers["Location"].startswith("/ui"), where
    if row.expect is VDXP:
        answer = await response.json()
        assert answer["status"] == "FAIL", where
        assert answer["ErrorCode"] != "0", where


async def test_the_authorization_matrix_holds_for_every_route_and_role(scene: Scene) -> None:
    assert routes_of_app(scene.world) == {(row.method, row.template) for row in MATRIX}
    for row in MATRIX:
        for role in ROLES:
            for method in ("GET", "POST") if row.method == "*" else (row.method,):
                await check(scene, row, role, method)


def test_the_table_states_every_role_of_every_row() -> None:
    for row in MATRIX:
        assert set(row.expect) == set(ROLES), row.template
    assert builders.NORTH == "000.00.00.H98"  # the rows' agency codes live under the world's northern province
