"""An operator manages web users from the command line: ``axis users add|passwd|disable``."""

from __future__ import annotations

import asyncio
import io

import pytest

from axis.accounts import passwords, users
from axis.cli import main
from axis.registry import systems
from axis.store import db


@pytest.fixture
def cli_db(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AXIS_DATABASE_URL", database_url)

    async def seed() -> None:
        conn = await db.connect(database_url)
        try:
            await systems.add(conn, "test", "bac", "eOffice Bắc")
        finally:
            await conn.close()

    asyncio.run(seed())
    return database_url


def typed(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text + "\n"))


async def user(url: str, username: str) -> tuple[users.User, str, list[str]]:
    conn = await db.connect(url)
    try:
        found = await users.require(conn, username)
        stored = await conn.fetchval("SELECT password_hash FROM web_users WHERE username = $1", username)
        actions = [r["action"] for r in await conn.fetch(
            "SELECT action FROM registry_history WHERE subject_kind = 'user' AND subject_id = $1 ORDER BY id", username
        )]  # fmt: skip
        return found, stored, actions
    finally:
        await conn.close()


def test_operator_adds_a_clerk_changes_the_password_and_disables_them(
    cli_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    typed(monkeypatch, "mat-khau-ban-dau-1")
    assert (
        main(["users", "add", "Van.Thu", "--role", "clerk", "--system", "bac", "--name", "Văn Thư", "--password-stdin"])
        == 0
    )
    assert "added van.thu" in capsys.readouterr().out
    clerk, first_hash, _ = asyncio.run(user(cli_db, "van.thu"))
    assert clerk.system_id == "bac"
    assert clerk.full_name == "Văn Thư"
    assert first_hash.startswith("scrypt$32768$8$3$")
    assert passwords.verify_password("mat-khau-ban-dau-1", first_hash)

    typed(monkeypatch, "mat-khau-thu-hai-2")
    assert main(["users", "passwd", "van.thu", "--password-stdin"]) == 0
    _, second_hash, _ = asyncio.run(user(cli_db, "van.thu"))
    assert passwords.verify_password("mat-khau-thu-hai-2", second_hash)

    assert main(["users", "disable", "van.thu"]) == 0
    disabled, _, actions = asyncio.run(user(cli_db, "van.thu"))
    assert disabled.status == "disabled"
    assert actions == ["user.create", "user.password", "user.disable"]
    capsys.readouterr()
    assert main(["users", "list"]) == 0
    assert "van.thu" in capsys.readouterr().out


def test_the_cli_refuses_weak_passwords_clerks_without_a_system_and_duplicates(
    cli_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    typed(monkeypatch, "ngan")
    assert main(["users", "add", "a1", "--role", "admin", "--password-stdin"]) == 1
    assert "web.password.weak" in capsys.readouterr().err
    typed(monkeypatch, "du-dai-roi-day")
    assert main(["users", "add", "a1", "--role", "clerk", "--password-stdin"]) == 1
    assert "web.user.invalid" in capsys.readouterr().err
    typed(monkeypatch, "du-dai-roi-day")
    assert main(["users", "add", "a1", "--role", "clerk", "--system", "khong-co", "--password-stdin"]) == 1
    assert "registry.system.unknown" in capsys.readouterr().err
    typed(monkeypatch, "du-dai-roi-day")
    assert main(["users", "add", "a1", "--role", "admin", "--password-stdin"]) == 0
    typed(monkeypatch, "du-dai-roi-day")
    assert main(["users", "add", "A1", "--role", "admin", "--password-stdin"]) == 1
    assert "web.user.exists" in capsys.readouterr().err
    assert main(["users", "disable", "khong-ai"]) == 1
    assert "web.user.unknown" in capsys.readouterr().err
