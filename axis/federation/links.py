"""SQL: the upstream link, configured by an administrator, with its history.

A change is written with its history row (``registry_history``, subject ``upstream``) in the
caller's transaction, as registry changes are; the secret the upstream gave this axis is kept
sealed with the key that seals SDK secrets (``axis.vdxp.secret``), under the link's own name, so a
copy of the database reveals nothing and a sealed value moved to another row does not open.
History names when the secret changed, never the secret.
"""

from __future__ import annotations

import re
from typing import Any

import asyncpg

from axis.errors import AxisError
from axis.federation.link import UpstreamLink, checked_endpoint, checked_serves
from axis.registry import history, systems
from axis.store.db import Conn
from axis.vdxp.secret import SecretBox

_COLUMNS = "id, endpoint, system_id, serves, secret_set_at, updated_at"
#: As the upstream's own system ids are written (and this table's CHECK constraint).
_SYSTEM_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def _link(row: asyncpg.Record) -> UpstreamLink:
    return UpstreamLink(
        id=row["id"],
        endpoint=row["endpoint"],
        system_id=row["system_id"],
        serves=tuple(row["serves"]),
        secret_set_at=row["secret_set_at"],
        updated_at=row["updated_at"],
    )


def _sealing_name(link_id: str) -> str:
    """What the seal is bound to: never a system id (those cannot hold a colon)."""
    return f"upstream:{link_id}"


def as_json(link: UpstreamLink) -> dict[str, Any]:
    """The link as history keeps it (and the admin API shows it): never the secret."""
    return {
        "id": link.id,
        "endpoint": link.endpoint,
        "system_id": link.system_id,
        "serves": list(link.serves),
        "secret_set": link.secret_set_at is not None,
    }


async def get(conn: Conn, link_id: str) -> UpstreamLink | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM upstream_links WHERE id = $1", link_id)
    return _link(row) if row else None


async def require(conn: Conn, link_id: str) -> UpstreamLink:
    link = await get(conn, link_id)
    if link is None:
        raise AxisError(
            "upstream.unknown",
            "No upstream link is configured: set one with `axis upstream set --endpoint URL --system ID "
            "--serves CODE`.",
            link=link_id,
        )
    return link


async def configure(
    conn: Conn, actor: str, link_id: str, *, endpoint: str, system_id: str, serves: tuple[str, ...]
) -> UpstreamLink:
    """Create the link or change where it points, who this axis is there, and what stays here."""
    endpoint, serves = checked_endpoint(endpoint), checked_serves(serves)
    system_id = system_id.strip()
    if not _SYSTEM_ID.fullmatch(system_id):
        raise AxisError(
            "registry.system.invalid",
            f"The system id the upstream gave this axis must be 1-64 letters, digits, '.', '_' or '-': {system_id!r}.",
            system=system_id,
        )
    before = await get(conn, link_id)
    if before is None and await systems.get(conn, link_id) is None:
        # The upstream is a system of this axis: deliveries to it are what is forwarded, packages
        # from it what the upstream brought. Its signature policy is the migration one, as the
        # national SDK's packages need (an administrator may tighten it: `axis systems policy`).
        await systems.add(
            conn,
            actor,
            link_id,
            "Trục cấp trên (liên thông qua SDK)",
            contact=endpoint,
            allow_sha1=True,
            allow_unsigned=True,
        )
    row = await conn.fetchrow(
        f"""INSERT INTO upstream_links (id, endpoint, system_id, serves) VALUES ($1, $2, $3, $4)
            ON CONFLICT (id) DO UPDATE
               SET endpoint = EXCLUDED.endpoint, system_id = EXCLUDED.system_id, serves = EXCLUDED.serves,
                   updated_at = now()
            RETURNING {_COLUMNS}""",
        link_id,
        endpoint,
        system_id,
        list(serves),
    )
    assert row is not None
    link = _link(row)
    if before is None or as_json(before) != as_json(link):
        await history.record(
            conn,
            actor,
            "upstream.configure",
            "upstream",
            link_id,
            as_json(before) if before else None,
            as_json(link),
            cached=True,  # the registry snapshot routes by the link's served subtrees
        )
    return link


async def set_secret(conn: Conn, actor: str, link_id: str, secret: str, box: SecretBox) -> UpstreamLink:
    """Keep the secret the upstream gave this axis, sealed; the one it replaces is gone."""
    if not secret.strip():
        raise AxisError("upstream.secret.invalid", "The upstream's secret is empty.")
    before = await require(conn, link_id)
    row = await conn.fetchrow(
        f"""UPDATE upstream_links
               SET secret_sealed = $2, secret_key_id = $3, secret_set_at = now(), updated_at = now()
             WHERE id = $1 RETURNING {_COLUMNS}""",
        link_id,
        box.seal(_sealing_name(link_id), secret.strip()),
        box.key_id,
    )
    assert row is not None
    link = _link(row)
    await history.record(
        conn,
        actor,
        "upstream.secret",
        "upstream",
        link_id,
        {"secret_set_at": before.secret_set_at.isoformat() if before.secret_set_at else None},
        {"secret_set_at": link.secret_set_at.isoformat() if link.secret_set_at else None},
        cached=False,
    )
    return link


async def secret(conn: Conn, link_id: str, box: SecretBox) -> bytes:
    """The upstream's secret as the HMAC key the SDK's interface wants; ``upstream.unknown`` when
    none is set, ``vdxp.key.missing``-like refusal when this key cannot open it."""
    row = await conn.fetchrow("SELECT secret_sealed, secret_key_id FROM upstream_links WHERE id = $1", link_id)
    if row is None or row["secret_sealed"] is None:
        raise AxisError("upstream.unknown", "The upstream link has no secret: set it with `axis upstream secret`.")
    opened = box.open(_sealing_name(link_id), row["secret_sealed"])
    if opened is None:
        raise AxisError(
            "vdxp.key.missing",
            f"The upstream's secret was sealed with key {row['secret_key_id']}, not this axis's "
            f"{box.key_id}: give every axis process the same AXIS_VDXP_SECRET_KEY_FILE, or set the secret again.",
        )
    return opened
