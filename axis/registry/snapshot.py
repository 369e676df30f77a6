"""Load the whole registry as one consistent ``Snapshot`` (one REPEATABLE READ transaction)."""

from __future__ import annotations

from axis.registry import agencies, history, systems
from axis.registry.model import Agency, Snapshot, UpstreamRoute
from axis.store.db import Conn


async def load(conn: Conn) -> Snapshot:
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        version = await history.version(conn)
        agency_rows = await conn.fetch(
            "SELECT code, name, parent_code, status, successor_code, code_qd20 FROM agencies"
        )
        system_rows = await conn.fetch("SELECT * FROM systems")
        binding_rows = await conn.fetch("SELECT agency_code, system_id FROM bindings")
        certificate_rows = await conn.fetch(
            "SELECT fingerprint, system_id, subject, agency_code, not_before, not_after, revoked_at"
            " FROM system_certificates"
        )
        token_rows = await conn.fetch("SELECT token_hash, system_id FROM system_tokens WHERE revoked_at IS NULL")
        admin_rows = await conn.fetch("SELECT token_hash, name FROM admin_tokens WHERE revoked_at IS NULL")
        link = await conn.fetchrow(
            "SELECT l.id, l.serves FROM upstream_links l JOIN systems s ON s.id = l.id ORDER BY l.id LIMIT 1"
        )
        external_rows = await conn.fetch("SELECT code, name, parent_code, code_qd20 FROM external_agencies")
    return Snapshot(
        version=version,
        agencies={r["code"]: agencies.from_row(r) for r in agency_rows},
        systems={r["id"]: systems.from_row(r) for r in system_rows},
        bindings={r["agency_code"]: r["system_id"] for r in binding_rows},
        certificates={r["fingerprint"]: systems.certificate_from_row(r) for r in certificate_rows},
        tokens={r["token_hash"]: r["system_id"] for r in token_rows},
        admin_tokens={r["token_hash"]: r["name"] for r in admin_rows},
        upstream=UpstreamRoute(link["id"], tuple(link["serves"])) if link else None,
        external={
            r["code"]: Agency(r["code"], r["name"], r["parent_code"], code_qd20=r["code_qd20"]) for r in external_rows
        },
    )
