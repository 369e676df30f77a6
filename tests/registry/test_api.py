"""The registry over HTTP: administrators manage it with an admin token; systems look agencies up."""

from __future__ import annotations

from world import Api

from axis import pki
from axis.http.context import AXIS
from axis.registry.tokens import token_hash


async def seed(api: Api) -> None:
    for code, name in (
        ("000.00.00.H98", "UBND Tỉnh Thử Nghiệm Bắc"),
        ("000.00.11.H98", "Sở Tài chính Tỉnh Thử Nghiệm Bắc"),
        ("000.00.00.H99", "UBND Tỉnh Thử Nghiệm Nam"),
    ):
        await api.call("POST", "/api/v1/admin/agencies", json={"code": code, "name": name}, status=201)


async def test_administrator_builds_the_registry_and_a_system_reads_it(api: Api) -> None:
    await seed(api)
    found = await api.call("GET", "/api/v1/agencies?q=tai chinh bac", status=200, headers={})
    assert [a["code"] for a in found["agencies"]] == ["000.00.11.H98"]
    province = await api.call("GET", "/api/v1/agencies/000.00.00.H98", status=200, headers={})
    assert province["name"] == "UBND Tỉnh Thử Nghiệm Bắc"
    assert [c["code"] for c in province["children"]] == ["000.00.11.H98"]


async def test_look_up_by_the_decision_20_code_form(api: Api) -> None:
    await seed(api)
    await api.call("PATCH", "/api/v1/admin/agencies/000.00.11.H98", json={"code_qd20": "H98.11"}, status=200)
    agency = await api.call("GET", "/api/v1/agencies/H98.11", status=200, headers={})
    assert agency["code"] == "000.00.11.H98"


async def test_retirement_with_successor_and_its_history(api: Api) -> None:
    await seed(api)
    retired = await api.call(
        "POST", "/api/v1/admin/agencies/000.00.00.H99/retire", json={"successor": "000.00.00.H98"}, status=200
    )
    assert retired["status"] == "retired"
    assert retired["successor"] == "000.00.00.H98"
    history = await api.call("GET", "/api/v1/admin/history?kind=agency&id=000.00.00.H99", status=200)
    assert [(h["actor"], h["action"]) for h in history["history"]] == [
        ("admin:registry-admin", "agency.retire"),
        ("admin:registry-admin", "agency.create"),
    ]


async def test_system_onboarding_token_is_usable_at_once_and_revocable(api: Api, north: pki.Identity) -> None:
    await seed(api)
    await api.call("POST", "/api/v1/admin/systems", json={"id": "bac-eoffice", "name": "eOffice Bắc"}, status=201)
    await api.call(
        "POST",
        "/api/v1/admin/systems/bac-eoffice/bindings",
        json={"agency_code": "000.00.00.H98"},
        status=201,
    )
    issued = await api.call("POST", "/api/v1/admin/systems/bac-eoffice/tokens", json={"label": "prod"}, status=201)
    cert = await api.call(
        "POST",
        "/api/v1/admin/systems/bac-eoffice/certificates",
        data=pki.cert_pem(north.certificate),
        status=201,
    )
    assert cert["agency_code"] == "000.00.00.H98"
    shown = await api.call("GET", "/api/v1/admin/systems/bac-eoffice", status=200)
    assert shown["bindings"] == ["000.00.00.H98"]
    assert [t["label"] for t in shown["tokens"]] == ["prod"]
    assert "token" not in shown["tokens"][0]

    app = api.client.app
    assert app is not None
    resolver = app[AXIS].registry.resolver
    assert resolver.system_for_token(token_hash(issued["token"])) is not None
    assert resolver.resolve("000.00.11.H98").system.id == "bac-eoffice"

    system_headers = {"Authorization": f"Bearer {issued['token']}"}
    refused = await api.call("GET", "/api/v1/admin/systems", status=403, headers=system_headers)
    assert refused["error"]["code"] == "auth.admin.required"

    await api.call("DELETE", f"/api/v1/admin/systems/bac-eoffice/tokens/{issued['id']}", status=204)
    assert app[AXIS].registry.resolver.system_for_token(token_hash(issued["token"])) is None


async def test_admin_api_needs_an_admin_token(api: Api) -> None:
    missing = await api.call("GET", "/api/v1/admin/systems", status=401, headers={})
    wrong = await api.call("GET", "/api/v1/admin/systems", status=401, headers={"Authorization": "Bearer nope"})
    assert missing["error"]["code"] == "auth.token.missing"
    assert wrong["error"]["code"] == "auth.token.invalid"


async def test_bad_requests_get_stable_codes(api: Api) -> None:
    await seed(api)
    cases = [
        (
            "POST",
            "/api/v1/admin/agencies",
            {"code": "000.1137.H98", "name": "x"},
            400,
            "agency_code.malformed",
        ),
        (
            "POST",
            "/api/v1/admin/agencies",
            {"code": "000.00.00.H98", "name": "x"},
            409,
            "registry.agency.exists",
        ),
        (
            "POST",
            "/api/v1/admin/agencies",
            {"code": "000.05.31.H98", "name": "x"},
            422,
            "registry.agency.parent_missing",
        ),
        ("POST", "/api/v1/admin/agencies", {"name": "x"}, 400, "http.bad_request"),
        (
            "POST",
            "/api/v1/admin/agencies/000.00.00.H98/merge",
            {"into": "000.00.00.H98"},
            422,
            "registry.agency.successor_invalid",
        ),
        ("POST", "/api/v1/admin/systems", {"id": "bad id!", "name": "x"}, 422, "registry.system.invalid"),
        ("GET", "/api/v1/admin/systems/nope", None, 404, "registry.system.unknown"),
    ]
    for method, path, body, status, code in cases:
        answer = await api.call(method, path, json=body, status=status)
        assert answer["error"]["code"] == code, (path, answer)
    unknown = await api.call("GET", "/api/v1/agencies/000.00.00.H01", status=404, headers={})
    assert unknown["error"]["code"] == "registry.agency.unknown"
    nowhere = await api.call("GET", "/api/v1/nowhere", status=404, headers={})
    assert nowhere["error"]["code"] == "http.not_found"


async def test_administrator_imports_a_csv_with_a_dry_run_first(api: Api) -> None:
    csv = "code,name\n000.00.00.H98,UBND Tỉnh Thử Nghiệm Bắc\n000.00.11.H98,Sở Tài chính\n000.1137.H98,Sai mã\n"
    refused = await api.call("POST", "/api/v1/admin/imports", data=csv.encode(), status=422)
    assert refused["error"]["code"] == "registry.import.bad_rows"
    assert refused["error"]["details"]["bad"][0]["line"] == 4
    preview = await api.call("POST", "/api/v1/admin/imports?dry_run=1", data=csv.encode(), status=200)
    assert preview["summary"]["create"] == 2
    assert preview["applied"] == 0
    done = await api.call("POST", "/api/v1/admin/imports?partial=1", data=csv.encode(), status=200)
    assert done["applied"] == 2
    found = await api.call("GET", "/api/v1/agencies?under=000.00.00.H98", status=200, headers={})
    assert [a["code"] for a in found["agencies"]] == ["000.00.00.H98", "000.00.11.H98"]
    history = await api.call("GET", "/api/v1/admin/history?kind=agency&id=000.00.11.H98", status=200)
    assert history["history"][0]["actor"] == "admin:registry-admin"


async def test_administrator_reactivates_a_retired_agency_over_the_api(api: Api) -> None:
    await seed(api)
    await api.call(
        "POST", "/api/v1/admin/agencies/000.00.11.H98/retire", json={"successor": "000.00.00.H99"}, status=200
    )
    back = await api.call("POST", "/api/v1/admin/agencies/000.00.11.H98/reactivate", status=200)
    assert (back["status"], back["successor"]) == ("active", None)
    app = api.client.app
    assert app is not None
    assert app[AXIS].registry.resolver.agency("000.00.11.H98").retired is False  # the cache has it already
    history = await api.call("GET", "/api/v1/admin/history?kind=agency&id=000.00.11.H98", status=200)
    assert [(h["actor"], h["action"]) for h in history["history"]][:2] == [
        ("admin:registry-admin", "agency.reactivate"),
        ("admin:registry-admin", "agency.retire"),
    ]
    unknown = await api.call("POST", "/api/v1/admin/agencies/000.00.12.H98/reactivate", status=404)
    assert unknown["error"]["code"] == "registry.agency.unknown"


async def test_a_retired_successor_is_refused_over_the_api_with_its_chain(api: Api) -> None:
    await seed(api)
    await api.call(
        "POST", "/api/v1/admin/agencies/000.00.11.H98/retire", json={"successor": "000.00.00.H99"}, status=200
    )
    refused = await api.call(
        "POST", "/api/v1/admin/agencies/000.00.00.H98/merge", json={"into": "000.00.11.H98"}, status=422
    )
    assert refused["error"]["code"] == "registry.agency.successor_invalid"
    assert refused["error"]["details"]["chain"] == ["000.00.11.H98", "000.00.00.H99"]
    assert refused["error"]["details"]["active"] == "000.00.00.H99"


async def test_an_import_changing_agencies_outside_its_subtree_needs_allow_outside(api: Api) -> None:
    await seed(api)
    csv = (
        "code;name\n000.00.11.H98;Sở Tài chính Tỉnh Thử Nghiệm Bắc\n000.00.12.H98;Sở Tư pháp\n"
        "000.00.13.H98;Sở Nội vụ\n000.00.00.H99;UBND Tỉnh Nam (đổi tên)\n"
    ).encode("utf-16")
    preview = await api.call("POST", "/api/v1/admin/imports?dry_run=1", data=csv, status=200)
    assert preview["encoding"] == "UTF-16"
    assert preview["scope"] == "000.00.00.H98"
    assert preview["outside"] == [{"code": "000.00.00.H99", "kind": "rename"}]
    assert preview["diff"].index("renames (1):") < preview["diff"].index("additions (2):")
    refused = await api.call("POST", "/api/v1/admin/imports", data=csv, status=409)
    assert refused["error"]["code"] == "registry.import.outside_scope"
    assert refused["error"]["details"]["outside"] == ["000.00.00.H99"]
    done = await api.call("POST", "/api/v1/admin/imports?allow_outside=1", data=csv, status=200)
    assert done["applied"] == 3
    undecodable = await api.call("POST", "/api/v1/admin/imports", data=b"code,name\n000.00.00.H98,\x81\n", status=400)
    assert undecodable["error"]["code"] == "registry.import.encoding"
