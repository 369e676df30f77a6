"""An operator retires an agency by mistake and brings it back from the command line."""

from __future__ import annotations

import asyncio

import pytest

from axis.cli import main
from axis.registry import agencies, history
from axis.store import db


@pytest.fixture
def cli_db(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AXIS_DATABASE_URL", database_url)
    return database_url


async def history_of(url: str, code: str) -> list[str]:
    conn = await db.connect(url)
    try:
        return [e.action for e in await history.entries(conn, subject_kind="agency", subject_id=code, limit=10)]
    finally:
        await conn.close()


async def status_of(url: str, code: str) -> tuple[str, str | None]:
    conn = await db.connect(url)
    try:
        agency = await agencies.require(conn, code)
        return agency.status.value, agency.successor_code
    finally:
        await conn.close()


def test_operator_reactivates_a_retired_agency(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    for code, name in (("000.00.00.H98", "UBND Tỉnh Bắc"), ("000.00.11.H98", "Sở Tài chính Bắc")):
        assert main(["agencies", "add", code, "--name", name]) == 0
    assert main(["agencies", "retire", "000.00.11.H98", "--successor", "000.00.00.H98"]) == 0
    capsys.readouterr()

    assert main(["agencies", "reactivate", "000.00.11.H98"]) == 0
    assert capsys.readouterr().out == "reactivated: 000.00.11.H98  Sở Tài chính Bắc\n"
    assert asyncio.run(status_of(cli_db, "000.00.11.H98")) == ("active", None)
    assert asyncio.run(history_of(cli_db, "000.00.11.H98"))[:2] == ["agency.reactivate", "agency.retire"]

    assert main(["agencies", "reactivate", "000.00.12.H98"]) == 1
    assert "registry.agency.unknown" in capsys.readouterr().err


def test_a_retired_successor_is_refused_on_the_command_line_naming_the_active_one(
    cli_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for code, name in (
        ("000.00.00.H98", "UBND Tỉnh Bắc"),
        ("000.00.00.H99", "UBND Tỉnh Nam"),
        ("000.00.00.H97", "UBND Tỉnh Tây"),
    ):
        assert main(["agencies", "add", code, "--name", name]) == 0
    assert main(["agencies", "merge", "000.00.00.H99", "--into", "000.00.00.H98"]) == 0
    capsys.readouterr()
    assert main(["agencies", "retire", "000.00.00.H97", "--successor", "000.00.00.H99"]) == 1
    err = capsys.readouterr().err
    assert "registry.agency.successor_invalid" in err
    assert "000.00.00.H99 → 000.00.00.H98" in err
    assert "name 000.00.00.H98 instead" in err
    assert asyncio.run(status_of(cli_db, "000.00.00.H97")) == ("active", None)


def test_postgresql_going_away_mid_command_is_a_clear_error_not_a_traceback(
    cli_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The operator's command loses its server half-way (a restart, a failover): one line naming
    the code and what to do, exit status 1."""
    real_require = agencies.require

    async def server_goes_away(conn: db.Conn, code: str) -> object:
        await conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")  # a real disconnection
        return await real_require(conn, code)

    monkeypatch.setattr(agencies, "require", server_goes_away)
    assert main(["agencies", "show", "000.00.00.H98"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: service.unavailable: PostgreSQL could not be reached"), err
    assert "run the command again" in err
    assert "Traceback" not in err
