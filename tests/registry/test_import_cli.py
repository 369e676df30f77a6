"""An administrator imports agency lists from CSV: the real provincial list, then our seed files."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from axis.cli import main
from axis.registry import snapshot as snapshot_store
from axis.registry.model import Snapshot
from axis.store import db

SEEDS = Path(__file__).resolve().parents[2] / "axis" / "registry" / "agency_codes"


@pytest.fixture
def cli_db(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AXIS_DATABASE_URL", database_url)
    return database_url


async def load(url: str) -> Snapshot:
    conn = await db.connect(url)
    try:
        return await snapshot_store.load(conn)
    finally:
        await conn.close()


def test_real_provincial_list_reports_bad_rows_and_imports_the_rest_on_request(
    cli_db: str, samples: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = samples / "tayninh_agency_codes_qcvn102.csv"
    assert main(["agencies", "import", str(source)]) == 1
    out, err = capsys.readouterr()
    assert "registry.import.bad_rows" in err
    for line in (183, 386, 449, 420, 455, 422, 453, 423, 454, 425, 451, 426, 456, 427, 450):
        assert f"line {line}:" in out, line
    assert asyncio.run(load(cli_db)).agencies == {}  # nothing imported without --partial

    assert main(["agencies", "import", str(source), "--partial"]) == 0
    snapshot = asyncio.run(load(cli_db))
    assert len(snapshot.agencies) == 455 - 1 - 2 * 7  # all rows but the malformed one and the doubly listed
    assert snapshot.agencies["000.21.31.H53"].parent_code == "000.00.31.H53"
    assert snapshot.agencies["000.00.31.H53"].parent_code == "000.00.00.H53"
    assert "000.00.00.G15" not in snapshot.agencies  # listed twice with different names
    capsys.readouterr()

    assert main(["agencies", "import", str(source), "--partial"]) == 0
    assert "imported: 0 changes" in capsys.readouterr().out


def test_seed_files_import_idempotently_with_a_dry_run_diff(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("national.csv", "fictitious.csv"):
        assert main(["agencies", "import", str(SEEDS / name), "--dry-run"]) == 0
        assert "+ " in capsys.readouterr().out
        assert main(["agencies", "import", str(SEEDS / name)]) == 0
    first = asyncio.run(load(cli_db))
    capsys.readouterr()
    assert main(["agencies", "import", str(SEEDS / "fictitious.csv")]) == 0
    assert "imported: 0 changes" in capsys.readouterr().out
    assert asyncio.run(load(cli_db)).version == first.version
    assert first.agencies["000.00.00.H98"].name.startswith("UBND Tỉnh Thử Nghiệm Bắc")


def test_provincial_list_after_the_national_one_dry_runs_grouped_and_asks_before_renaming_ministries(
    cli_db: str, samples: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["agencies", "import", str(SEEDS / "national.csv")]) == 0
    capsys.readouterr()
    source = samples / "tayninh_agency_codes_qcvn102.csv"
    assert main(["agencies", "import", str(source), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("create 415, rename 8; bad 15, unchanged 17, warnings 1\n")
    assert out.index("OUTSIDE THE FILE'S SUBTREE") < out.index("renames (8):") < out.index("additions (415):")
    assert "000.00.00.G18: 'Bộ Y tế' → 'Bộ Y Tế'  [outside the file's subtree]" in out
    assert "000.00.00.G05: 'Bộ Kế hoạch và Đầu tư' → 'Bộ Kế hoạch Đầu tư'" in out
    assert "000.00.00.H53: 'Ủy ban nhân dân tỉnh Tây Ninh' → 'UBND Tỉnh Tây Ninh'\n" in out  # its own: no mark
    assert "more" not in out  # a dry run folds nothing
    assert out.count("\n  + ") == 415

    assert main(["agencies", "import", str(source), "--partial"]) == 1
    assert "registry.import.outside_scope" in capsys.readouterr().err
    assert asyncio.run(load(cli_db)).agencies["000.00.00.G18"].name == "Bộ Y tế"  # nothing imported
    assert main(["agencies", "import", str(source), "--partial", "--allow-outside"]) == 0
    assert asyncio.run(load(cli_db)).agencies["000.00.00.G18"].name == "Bộ Y Tế"
