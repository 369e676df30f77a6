"""SDK secrets: issued once by the administrator, kept sealed, rotated with an optional grace time."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sdk_client import ok
from sdk_world import Sdk
from test_sdk_refusals import refused

from axis.cli import main


async def test_rotating_a_secret_retires_the_old_one_at_once_or_after_a_grace_time(sdk: Sdk) -> None:
    old = sdk.client("south")
    ok(await old.call("countReceiveEdoc"))
    await sdk.issue("south", keep_previous=dt.timedelta(hours=1))
    new = sdk.client("south")
    ok(await old.call("countReceiveEdoc"))  # the vendor has an hour to reconfigure
    ok(await new.call("countReceiveEdoc"))
    await sdk.issue("south")  # no grace: every earlier secret stops now
    refused(await old.call("countReceiveEdoc"), "103", "vdxp.signature.invalid")
    refused(await new.call("countReceiveEdoc"), "103", "vdxp.signature.invalid")
    ok(await sdk.client("south").call("countReceiveEdoc"))
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
    borrowed = sdk.client("dept", secret=sdk.secrets["south"])
    refused(await borrowed.call("countReceiveEdoc"), "103", "vdxp.signature.invalid")
    ok(await sdk.client("dept").call("countReceiveEdoc"))


async def test_the_administrator_issues_a_secret_from_the_command_line(
    sdk: Sdk, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = sdk.world.settings
    monkeypatch.setenv("AXIS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("AXIS_KEYS_DIR", str(settings.keys_dir))
    assert await asyncio.to_thread(main, ["systems", "secret", "nam"]) == 0
    out = capsys.readouterr().out
    (secret,) = [line for line in out.splitlines() if line.startswith("axv_")]  # the axis's own logs aside
    assert "shown only now" in out
    ok(await sdk.client("south", secret=secret).call("countReceiveEdoc"))
    refused(await sdk.client("south").call("countReceiveEdoc"), "103", "vdxp.signature.invalid")
