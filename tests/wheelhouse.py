"""Wheels of what a wheel depends on, rebuilt from this environment, for installing without the network.

pip cannot download on a machine without the network, and it keeps no wheel of what it installed. But
every distribution it installed is still described by its ``RECORD`` (the files it put under
site-packages) and its ``WHEEL`` (the tags it was built for). Zipping those files back with their
metadata gives a wheel pip accepts as any other, so a fresh virtualenv can install a wheel of ours
with ``pip install --no-index --find-links <wheelhouse>``: pip itself then resolves every dependency
from the wheel's own ``Requires-Dist``, and a dependency the metadata forgets is a failed install.

Only files under site-packages are carried: console scripts are written again by pip from
``entry_points.txt``; compiled bytecode and the installer's own records are left out.
"""

from __future__ import annotations

import base64
import email
import hashlib
import re
import zipfile
from collections.abc import Iterable, Iterator
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

#: What pip wrote about the installation itself, not part of the distribution.
_INSTALLER_FILES = frozenset({"INSTALLER", "REQUESTED", "RECORD", "direct_url.json"})


def requirements_of(wheel: Path) -> list[Requirement]:
    """The ``Requires-Dist`` of a built wheel."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        message = email.message_from_bytes(archive.read(name))
    return [Requirement(text) for text in message.get_all("Requires-Dist") or []]


def build(requirements: Iterable[Requirement], into: Path) -> list[Path]:
    """Wheels of ``requirements`` and of everything they need in turn, as installed here, in ``into``."""
    into.mkdir(parents=True, exist_ok=True)
    return [_repack(distribution, into) for distribution in _closure(requirements)]


def _closure(requirements: Iterable[Requirement]) -> Iterator[metadata.Distribution]:
    """The installed distributions ``requirements`` need (markers evaluated here, extras followed)."""
    pending = [(requirement, "") for requirement in requirements]
    seen: set[tuple[str, str]] = set()
    found: set[str] = set()
    while pending:
        requirement, extra = pending.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(requirement.name)
        distribution = metadata.distribution(name)
        if name not in found:
            found.add(name)
            yield distribution
        for wanted in ("", *sorted(requirement.extras)):
            if (name, wanted) not in seen:
                seen.add((name, wanted))
                pending.extend((Requirement(text), wanted) for text in distribution.requires or [])


def _repack(distribution: metadata.Distribution, into: Path) -> Path:
    info = email.message_from_string(distribution.read_text("WHEEL") or "")
    tags = [tag.split("-") for tag in info.get_all("Tag") or []]
    # The compressed tag set (PEP 425) of every tag it was installed for: pip needs one of them to fit.
    tag = "-".join(".".join(sorted({parts[i] for parts in tags})) for i in range(3))
    name = re.sub(r"[-_.]+", "_", distribution.metadata["Name"]).lower()
    wheel = into / f"{name}-{distribution.version}-{tag}.whl"
    entries = list(distribution.files or [])
    record = next(e for e in entries if e.name == "RECORD" and e.parent.name.endswith(".dist-info"))
    lines: list[str] = []
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for entry in entries:
            if entry.parts[0] == ".." or "__pycache__" in entry.parts or entry.suffix == ".pyc":
                continue  # a script pip writes again, or bytecode
            if entry.parent == record.parent and entry.name in _INSTALLER_FILES:
                continue
            source = Path(str(distribution.locate_file(entry)))
            if not source.is_file():
                continue
            data = source.read_bytes()
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            archive.writestr(entry.as_posix(), data)
            lines.append(f"{entry.as_posix()},sha256={digest},{len(data)}")
        lines.append(f"{record.as_posix()},,")
        archive.writestr(record.as_posix(), "\n".join(lines) + "\n")
    return wheel
