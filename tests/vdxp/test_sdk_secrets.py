"""SDK secrets: issued once by the administrator, kept sealed, rotated with an optional grace time;
issuing one says what else to decide before the vendor switches."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sdk_world import Sdk

from axis.cli import main
from axis.registry import history, systems

ANY = ("countReceiveEdoc", {})


async def test_rotating_a_secret_retires_the_old_one_at_once_or_after_a_grace_time(sdk: Sdk) -> None:
    old = sdk.service("south")
    await sdk.ok(old, *ANY)
    await sdk.issue("south", keep_previous=dt.timedelta(hours=1))
    new = sdk.service("south")
    await sdk.ok(old, *ANY)  # the vendor has an hour to reconfigure
    await sdk.ok(new, *ANY)
    await sdk.issue("south")  # no grace: every earlier secret stops now
    await sdk.refused(old, *ANY, "103", "vdxp.signature.invalid")
    await sdk.refused(new, *ANY, "103", "vdxp.signature.invalid")
    await sdk.ok(sdk.service("south"), *ANY)
    async with sdk.world.axis.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT before, after FROM registry_history WHERE action = 'system.sdk_secret.issue' AND subject_id = 'nam'"
        )
    assert len(rows) == 3
    assert all(sdk.secrets["south"] not in str(dict(r)) for r in rows)  # the history never holds a secret


async def test_secrets_are_sealed_at_rest_and_bound_to_their_system(sdk: Sdk) -> None:
    async with sdk.world.axis.pool.acquire() as conn:
        sealed = await conn.fetch("SELECT system_id, sealed, key_id FROM system_sdk_secrets")
        for row in sealed:
            for secret in sdk.secrets.values():
                assert secret.encode() not in row["sealed"]
        assert {r["key_id"] for r in sealed} == {sdk.box.key_id}
        # A sealed secret copied onto another system's row does not open there.
        await conn.execute(
            """INSERT INTO system_sdk_secrets (system_id, sealed, key_id)
               SELECT 'nam-stc', sealed, key_id FROM system_sdk_secrets WHERE system_id = 'nam'"""
        )
    borrowed = sdk.service("dept", secret=sdk.secrets["south"])
    await sdk.refused(borrowed, *ANY, "103", "vdxp.signature.invalid")
    await sdk.ok(sdk.service("dept"), *ANY)


async def test_the_administrator_issues_a_secret_and_is_told_what_else_to_decide(
    sdk: Sdk, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = sdk.world.settings
    monkeypatch.setenv("AXIS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("AXIS_KEYS_DIR", str(settings.keys_dir))
    assert await asyncio.to_thread(main, ["systems", "secret", "nam"]) == 0
    captured = capsys.readouterr()
    (secret,) = [line for line in captured.out.splitlines() if line.startswith("axv_")]
    assert "shown only now" in captured.out
    assert "signature_policy (strict)" in captured.err
    assert "axis systems policy nam --allow-unsigned" in captured.err  # where EdXML102 packages lead
    assert "addresses (any)" in captured.err
    await sdk.ok(sdk.service("south", secret=secret), *ANY)
    await sdk.refused(sdk.service("south"), *ANY, "103", "vdxp.signature.invalid")


async def test_the_admin_api_issues_a_secret_with_the_same_advice(sdk: Sdk) -> None:
    world = sdk.world
    async with world.axis.pool.acquire() as conn:
        async with conn.transaction():
            _, token = await systems.issue_admin_token(conn, "test", "ops")
        await world.axis.registrar.caught_up(await history.version(conn))
    response = await world.client.post(
        "/api/v1/admin/systems/nam/sdk-secret", headers={"Authorization": f"Bearer {token}"}, json={}
    )
    body = await response.json()
    assert response.status == 201, body
    assert body["secret"].startswith("axv_")
    assert [p["topic"] for p in body["setup"]] == ["signature_policy", "transport", "addresses", "client_certificate"]
