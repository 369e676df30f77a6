"""The registry in PostgreSQL: administrators' changes, their history, and what systems may do."""

from __future__ import annotations

import asyncpg
import pytest

from axis import pki
from axis.errors import AxisError
from axis.registry import agencies, history, systems, tokens
from axis.registry import snapshot as snapshot_store
from axis.registry.model import AgencyStatus
from axis.store.migrate import migrate

ADMIN = "test:admin"


async def seed(conn: asyncpg.Connection) -> None:
    async with conn.transaction():
        await agencies.add(conn, ADMIN, "000.00.00.H98", "UBND Tỉnh Thử Nghiệm Bắc")
        await agencies.add(conn, ADMIN, "000.00.11.H98", "Sở Tài chính Tỉnh Thử Nghiệm Bắc")
        await agencies.add(conn, ADMIN, "000.00.00.H99", "UBND Tỉnh Thử Nghiệm Nam")


async def test_migrations_run_once_and_in_order(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        assert await migrate(conn) == []  # the template is migrated already
        names = [r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations ORDER BY version")]
    assert names[0] == "001_registry"


async def test_agency_gets_its_parent_from_its_code(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await seed(conn)
        department = await agencies.require(conn, "000.00.11.H98")
    assert department.parent_code == "000.00.00.H98"


async def test_agency_without_its_parent_is_refused(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        with pytest.raises(AxisError) as refused:
            await agencies.add(conn, ADMIN, "000.21.31.H98", "UBND Xã Thử")
    assert refused.value.code == "registry.agency.parent_missing"
    assert refused.value.details["parent"] == "000.00.31.H98"


async def test_every_change_is_in_the_history_with_before_and_after(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await seed(conn)
        async with conn.transaction():
            await agencies.rename(conn, "alice", "000.00.00.H99", "UBND Tỉnh Nam (đổi tên)")
        async with conn.transaction():
            await agencies.merge(conn, "bob", "000.00.00.H99", "000.00.00.H98")
        entries = await history.entries(conn, subject_kind="agency", subject_id="000.00.00.H99")
    assert [(e.actor, e.action) for e in entries] == [
        ("bob", "agency.merge"),
        ("alice", "agency.rename"),
        (ADMIN, "agency.create"),
    ]
    merge, rename, _ = entries
    assert rename.before is not None
    assert rename.before["name"] == "UBND Tỉnh Thử Nghiệm Nam"
    assert rename.after is not None
    assert rename.after["name"] == "UBND Tỉnh Nam (đổi tên)"
    assert merge.after is not None
    assert merge.after["status"] == "retired"
    assert merge.after["successor_code"] == "000.00.00.H98"


async def test_history_cannot_be_rewritten(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await seed(conn)
        for statement in ("UPDATE registry_history SET actor = 'mallory'", "DELETE FROM registry_history"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(statement)
        assert await conn.fetchval("SELECT count(*) FROM registry_history WHERE actor = $1", ADMIN) == 3


async def test_a_retired_successor_is_refused_naming_its_chain_and_the_active_agency_at_its_end(
    pool: asyncpg.Pool,
) -> None:
    async with pool.acquire() as conn:
        await seed(conn)
        await agencies.retire(conn, ADMIN, "000.00.11.H98", "000.00.00.H99")
        with pytest.raises(AxisError) as refused:
            await agencies.retire(conn, ADMIN, "000.00.00.H98", "000.00.11.H98")
        kept = await agencies.require(conn, "000.00.00.H98")
    assert refused.value.code == "registry.agency.successor_invalid"
    assert refused.value.details["reason"] == "retired"
    assert refused.value.details["chain"] == ["000.00.11.H98", "000.00.00.H99"]
    assert refused.value.details["active"] == "000.00.00.H99"
    assert "000.00.11.H98 → 000.00.00.H99" in refused.value.message
    assert not kept.retired  # nothing changed


async def test_a_successor_chain_back_to_the_agency_itself_offers_no_active_end(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await seed(conn)
        await agencies.retire(conn, ADMIN, "000.00.00.H99", "000.00.00.H98")
        with pytest.raises(AxisError) as refused:
            await agencies.merge(conn, ADMIN, "000.00.00.H98", "000.00.00.H99")
    assert refused.value.code == "registry.agency.successor_invalid"
    assert refused.value.details["chain"] == ["000.00.00.H99", "000.00.00.H98"]
    assert refused.value.details["active"] is None


async def test_a_retired_agency_is_reactivated_without_its_successor_and_the_history_says_so(
    pool: asyncpg.Pool,
) -> None:
    async with pool.acquire() as conn:
        await seed(conn)
        await agencies.retire(conn, ADMIN, "000.00.11.H98", "000.00.00.H99")
        async with conn.transaction():
            back = await agencies.reactivate(conn, ADMIN, "000.00.11.H98")
        again = await agencies.reactivate(conn, ADMIN, "000.00.11.H98")  # already active: nothing to do
        (entry, *_) = await history.entries(conn, subject_kind="agency", subject_id="000.00.11.H98", limit=5)
    assert back.status is AgencyStatus.ACTIVE
    assert back.successor_code is None
    assert again == back
    assert entry.action == "agency.reactivate"
    assert entry.before is not None
    assert entry.after is not None
    assert (entry.before["status"], entry.before["successor_code"]) == ("retired", "000.00.00.H99")
    assert (entry.after["status"], entry.after["successor_code"]) == ("active", None)


async def test_moving_an_agency_retires_its_old_code_towards_the_new(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await seed(conn)
        async with conn.transaction():
            moved = await agencies.move(conn, ADMIN, "000.00.11.H98", "000.00.11.H99")
        old = await agencies.require(conn, "000.00.11.H98")
    assert moved.parent_code == "000.00.00.H99"
    assert old.status is AgencyStatus.RETIRED
    assert old.successor_code == "000.00.11.H99"


async def test_search_is_accent_insensitive_and_by_either_code_form(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await seed(conn)
        await agencies.set_code_qd20(conn, ADMIN, "000.00.11.H98", "H98.11")
        by_name = await agencies.search(conn, q="so tai chinh")
        by_prefix = await agencies.search(conn, q="000.00.1")
        by_qd20 = await agencies.search(conn, q="H98.1")
        under = await agencies.search(conn, under="000.00.00.H98")
        by_other_form = await agencies.require(conn, "H98.11")
    assert [a.code for a in by_name] == ["000.00.11.H98"]
    assert [a.code for a in by_prefix] == ["000.00.11.H98"]
    assert [a.code for a in by_qd20] == ["000.00.11.H98"]
    assert [a.code for a in under] == ["000.00.00.H98", "000.00.11.H98"]
    assert by_other_form.code == "000.00.11.H98"


async def test_tokens_are_stored_hashed_and_revocable(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await systems.add(conn, ADMIN, "bac-eoffice", "eOffice Tỉnh Bắc")
        token_id, token = await systems.issue_token(conn, ADMIN, "bac-eoffice", "production")
        stored = await conn.fetchval("SELECT token_hash FROM system_tokens WHERE id = $1", token_id)
        assert token.startswith("axs_")
        assert stored == tokens.token_hash(token)
        assert await conn.fetchval("SELECT count(*) FROM system_tokens WHERE token_hash = $1", token) == 0
        assert (await snapshot_store.load(conn)).tokens == {stored: "bac-eoffice"}
        await systems.revoke_token(conn, ADMIN, "bac-eoffice", token_id)
        assert (await snapshot_store.load(conn)).tokens == {}
        with pytest.raises(AxisError) as again:
            await systems.revoke_token(conn, ADMIN, "bac-eoffice", token_id)
    assert again.value.code == "registry.token.unknown"


async def test_certificates_and_bindings_reach_the_snapshot(pool: asyncpg.Pool, north: pki.Identity) -> None:
    async with pool.acquire() as conn:
        await seed(conn)
        await systems.add(conn, ADMIN, "bac-eoffice", "eOffice Tỉnh Bắc", delivery_amqp=True)
        await systems.bind(conn, ADMIN, "bac-eoffice", "000.00.00.H98")
        certificate = await systems.add_certificate(conn, ADMIN, "bac-eoffice", pki.cert_pem(north.certificate))
        snapshot = await snapshot_store.load(conn)
        with pytest.raises(AxisError) as twice:
            await systems.add_certificate(conn, ADMIN, "bac-eoffice", pki.cert_pem(north.certificate))
        await systems.add(conn, ADMIN, "nam-eoffice", "eOffice Tỉnh Nam")
        with pytest.raises(AxisError) as taken:
            await systems.bind(conn, ADMIN, "nam-eoffice", "000.00.00.H98")
    assert certificate.agency_code == "000.00.00.H98"
    assert snapshot.bindings == {"000.00.00.H98": "bac-eoffice"}
    assert snapshot.certificates[certificate.fingerprint].system_id == "bac-eoffice"
    assert snapshot.systems["bac-eoffice"].delivery_amqp
    assert twice.value.code == "registry.certificate.exists"
    assert taken.value.code == "registry.binding.exists"


async def test_version_moves_with_every_change(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        before = (await snapshot_store.load(conn)).version
        await seed(conn)
        after = (await snapshot_store.load(conn)).version
    assert after == before + 3
