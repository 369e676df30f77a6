"""The codebase keeps its own rules: lint, formatting, strict typing, and a documented error table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from axis.config import markdown_table as settings_table
from axis.errors import markdown_table

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / tool), *args], cwd=ROOT, capture_output=True, text=True, check=False)


@pytest.mark.slow
def test_ruff_finds_nothing() -> None:
    result = run("ruff", "check", "axis", "tests", "scripts")
    assert result.returncode == 0, result.stdout


@pytest.mark.slow
def test_code_is_formatted() -> None:
    result = run("ruff", "format", "--check", "axis", "tests", "scripts")
    assert result.returncode == 0, result.stdout


@pytest.mark.slow
def test_mypy_strict_is_clean() -> None:
    result = run("mypy")
    assert result.returncode == 0, result.stdout


def test_error_table_in_docs_matches_the_catalogue() -> None:
    documented = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    assert documented == markdown_table(), "regenerate: python -m axis.errors > docs/errors.md"


def test_the_settings_table_in_the_operations_guide_is_the_declarations() -> None:
    """A setting nobody can find is a setting nobody sets right: docs/operations.md shows the table
    generated from axis/config.py's declarations."""
    guide = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    assert settings_table() in guide, "regenerate: python -m axis.config, into docs/operations.md"


def test_every_database_connection_is_lent_within_the_acquire_timeout() -> None:
    """A database that cannot lend a connection is a 503, never a request that hangs: every
    ``acquire`` names its timeout, and the HTTP and web handlers borrow through ``Axis.connection``."""
    import re

    missing, direct = [], []
    for path in sorted((ROOT / "axis").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for number, line in enumerate(text.splitlines(), 1):
            if re.search(r"\.acquire\((?![^)]*timeout)", line):
                missing.append(f"{path.relative_to(ROOT)}:{number}")
            if path.parts[-2] in ("http", "web", "vdxp") and ".pool.acquire(" in line:
                direct.append(f"{path.relative_to(ROOT)}:{number}")
    assert not missing, f"acquire without the timeout: {missing}"
    # The health probes answer within their own, shorter timeout (a probe must not wait 5 s).
    assert all(place.startswith("axis/http/health.py:") for place in direct), direct
