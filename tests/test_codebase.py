"""The codebase keeps its own rules: lint, formatting, strict typing, and a documented error table."""

from __future__ import annotations

import ast
import re
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


_SQL = re.compile(r"\b(SELECT\b.*\bFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|WITH\s+\w+\s+AS\s*\()", re.S)


def gateway_breaches(source: str, *, interface: bool) -> list[str]:
    """What breaks the database gateway in one module: an ``acquire`` without a timeout anywhere;
    in an interface module (``axis/http/``, ``axis/web/``) also asyncpg, SQL text, any ``acquire``,
    or a transaction (a change is its service's: the exchange, the registrar, accounts)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "acquire":
            if interface:
                found.append(f"{line}: acquire (borrow through Axis.connection)")
            elif not any(k.arg == "timeout" for k in node.keywords):
                found.append(f"{line}: acquire without timeout")
        if not interface:
            continue
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "transaction":
            found.append(f"{line}: transaction (the change belongs in its service)")
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "asyncpg" for a in node.names):
            found.append(f"{line}: imports asyncpg")
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "asyncpg":
            found.append(f"{line}: imports asyncpg")
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and _SQL.search(node.value):
            found.append(f"{line}: SQL text")
    return found


def test_the_gateway_check_catches_each_breach() -> None:
    """The check below is only worth its silence if it speaks when it should."""
    handler = (
        "import asyncpg\n"
        "async def h(axis):\n"
        "    async with axis.pool.acquire() as conn, conn.transaction():\n"
        "        await conn.fetch('SELECT code FROM agencies')\n"
        "        await conn.execute(f'UPDATE agencies SET name = {1}')\n"
    )
    assert [b.split(": ")[1] for b in gateway_breaches(handler, interface=True)] == [
        "imports asyncpg",
        "acquire (borrow through Axis.connection)",
        "transaction (the change belongs in its service)",
        "SQL text",
        "SQL text",
    ]
    assert gateway_breaches(handler, interface=False) == ["3: acquire without timeout"]
    assert gateway_breaches("x = 'Select the agency from the list'\n", interface=True) == []


def test_every_database_connection_is_lent_by_the_gateway_within_the_acquire_timeout() -> None:
    """A database that cannot lend a connection is a 503, never a request that hangs: every
    ``acquire`` names its timeout, and nothing under ``axis/http/`` or ``axis/web/`` holds SQL, a
    pool or asyncpg: handlers borrow through ``Axis.connection`` and call the modules that own the
    queries (``axis/exchange``, ``axis/registry``, ``axis/accounts``, ``axis/vdxp``, ``axis/store``)."""
    breaches = []
    for path in sorted((ROOT / "axis").rglob("*.py")):
        relative = path.relative_to(ROOT)
        interface = relative.parts[1] in ("http", "web")
        breaches += [f"{relative}:{b}" for b in gateway_breaches(path.read_text(encoding="utf-8"), interface=interface)]
    assert not breaches, breaches


def test_the_in_memory_twins_serve_tests_only() -> None:
    """``axis.broker.memory`` and ``axis.exchange.memory`` imitate RabbitMQ and PostgreSQL for the
    tests of the relay's and the exchange's logic; the axis itself never runs on them."""
    twins = re.compile(
        r"^\s*(from\s+axis\.(broker|exchange)\.memory\s+import|from\s+axis\.(broker|exchange)\s+import\s+.*\bmemory\b|import\s+axis\.(broker|exchange)\.memory)",
        re.M,
    )
    found = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "axis").rglob("*.py"))
        if path.name != "memory.py" and twins.search(path.read_text(encoding="utf-8"))
    ]
    assert not found, found
    assert twins.search("from axis.exchange.memory import MemoryLedger")  # the check sees an import
