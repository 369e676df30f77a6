"""An operator installs the axis from its wheel, away from any checkout, and it has all it needs.

The wheel must carry what the package reads at run time: the XML Schemas, the agency code lists, the
SQL migrations and the web pages' templates and static files. In a checkout they are found beside
the modules whether the wheel lists them or not, so only a wheel installed elsewhere tells.

No network is needed. The wheel is built with ``--no-build-isolation`` by the build backend that the
dev dependencies install (setuptools), from a copy of the sources, so the build leaves nothing in the
checkout. The virtualenv is made by ``python -m venv``, without the system's or the project's
site-packages. pip installs the wheel into it with ``--no-index`` from a wheelhouse of the
dependencies that ``wheelhouse`` rebuilds from the project's own environment (pip keeps no copy of
what it downloaded); pip resolves them itself from the wheel's ``Requires-Dist``, so a dependency the
metadata forgets fails the install or the commands, as it would from PyPI. Every command then runs
the installed ``axis`` script in a directory outside the checkout.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pg
import pytest
import wheelhouse

from axis.store import db

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
NORTH = "000.00.00.H98"


def run(*command: str | Path, cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@dataclass(frozen=True)
class Installed:
    """The axis installed from its wheel into a virtualenv, used from a directory outside the checkout."""

    venv: Path
    cwd: Path
    env: dict[str, str]

    def axis(self, *args: str | Path, **env: str) -> str:
        return run(self.venv / "bin" / "axis", *args, cwd=self.cwd, env=self.env | env)

    def python(self, code: str) -> str:
        return run(self.venv / "bin" / "python", "-c", code, cwd=self.cwd, env=self.env).strip()


@pytest.fixture(scope="module")
def clean_env() -> dict[str, str]:
    """This environment without the project's: no pip configuration, no PYTHONPATH, no AXIS_ settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PIP_", "PYTHON", "AXIS_"))}
    return env | {"PIP_CONFIG_FILE": os.devnull, "PIP_NO_CACHE_DIR": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package's sources as they are in the work tree, copied so that the build litters elsewhere."""
    copy = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, copy / name)
    shutil.copytree(ROOT / "axis", copy / "axis", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return copy


@pytest.fixture(scope="module")
def wheel(sources: Path, clean_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    build = (sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index")
    run(*build, "--wheel-dir", dist, sources, cwd=dist, env=clean_env)
    (built,) = dist.glob("axis-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, clean_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Installed:
    wheels = tmp_path_factory.mktemp("wheels")
    wheelhouse.build(wheelhouse.requirements_of(wheel), wheels)
    venv = tmp_path_factory.mktemp("venv")
    run(sys.executable, "-m", "venv", venv, cwd=venv, env=clean_env)
    install = (venv / "bin" / "python", "-m", "pip", "install", "--no-index", "--no-compile")
    run(*install, "--find-links", wheels, wheel, cwd=venv, env=clean_env)
    return Installed(venv, tmp_path_factory.mktemp("elsewhere"), clean_env)


def test_the_wheel_carries_every_file_of_the_package(sources: Path, wheel: Path) -> None:
    """Not only the files the commands below happen to read: templates, static files, every migration."""
    with zipfile.ZipFile(wheel) as archive:
        packed = set(archive.namelist())
    files = {path.relative_to(sources).as_posix() for path in (sources / "axis").rglob("*") if path.is_file()}
    assert files - packed == set()


def test_the_installed_axis_is_the_wheel_not_the_checkout(installed: Installed) -> None:
    assert Path(installed.python("import axis; print(axis.__file__)")).is_relative_to(installed.venv)
    assert not installed.cwd.is_relative_to(ROOT)


def test_vendor_verifies_a_signed_package_with_the_installed_axis(installed: Installed) -> None:
    keys = installed.cwd / "keys"
    installed.axis("keys", "init", "--dir", keys)
    installed.axis("keys", "issue", NORTH, "--name", "UBND Tỉnh Thử Nghiệm Bắc", "--dir", keys)
    installed.axis("package", "example", "--from", NORTH, "--to", "000.00.00.H99", "-o", "doc.edxml")
    key, certificate = keys / f"{NORTH}.key.pem", keys / f"{NORTH}.pem"
    installed.axis("package", "sign", "doc.edxml", "--key", key, "--cert", certificate, "-o", "signed.edxml")

    verified = installed.axis("package", "verify", "signed.edxml", "--trust", keys / "ca.pem")
    assert f"valid        document {NORTH}," in verified


@pytest.fixture
def new_database_url() -> Iterator[str]:
    """A database that does not exist yet: the installed ``axis db migrate`` creates and migrates it."""
    name = f"axis_test_{os.getpid()}_{uuid.uuid4().hex[:8]}_wheel"
    yield db.with_database(pg.SERVER, name)
    asyncio.run(pg.drop(name))


def test_operator_migrates_a_new_database_and_imports_the_packaged_national_list(
    installed: Installed, new_database_url: str
) -> None:
    migrated = installed.axis("db", "migrate", AXIS_DATABASE_URL=new_database_url)
    assert "001 001_registry" in migrated

    national = Path(
        installed.python(
            "from importlib.resources import files; print(files('axis.registry') / 'agency_codes' / 'national.csv')"
        )
    )
    assert national.is_relative_to(installed.venv)
    rows = len(national.read_text(encoding="utf-8").splitlines()) - 1
    imported = installed.axis("agencies", "import", national, AXIS_DATABASE_URL=new_database_url)
    assert f"imported: {rows} changes; 0 rows already up to date" in imported
    assert "Bộ Công an" in installed.axis("agencies", "show", "000.00.00.G01", AXIS_DATABASE_URL=new_database_url)


def test_the_installed_package_reads_its_level_1_letters(installed: Installed) -> None:
    letters = installed.python("from axis.registry import codes; print(sorted(codes.load_letters()))")
    assert "'H'" in letters
