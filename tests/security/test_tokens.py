"""A revoked token stops working at once: in the administrator's process on the next request, and
in every other axis process as soon as PostgreSQL's NOTIFY reaches it."""

from __future__ import annotations

import ast
import asyncio
import os
import sys
from pathlib import Path

from aiohttp.test_utils import TestClient
from security_world import SecondAxis, axis_of
from world import World, wait_until

from axis.registry import systems
from axis.registry.tokens import token_hash
from axis.store import db

AXIS_CLI = Path(sys.executable).parent / "axis"


async def token_ids(world: World, system_id: str) -> list[int]:
    conn = await db.connect(world.settings.database_url)
    try:
        return [t.id for t in await systems.list_tokens(conn, system_id) if t.revoked_at is None]
    finally:
        await conn.close()


async def test_a_token_revoked_through_the_admin_api_is_refused_on_the_next_request(
    world: World, admin_token: str
) -> None:
    south = world["south"]
    await world.get("/api/v1/inbox", "south")
    [token_id] = await token_ids(world, south.system_id)
    revoked = await world.client.delete(
        f"/api/v1/admin/systems/{south.system_id}/tokens/{token_id}",
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    assert revoked.status == 204, await revoked.text()
    refused = await world.get("/api/v1/inbox", "south", expect=401)
    assert refused["error"]["code"] == "auth.token.invalid"


async def test_a_token_revoked_with_the_cli_is_refused_by_every_axis_process(
    world: World, second_axis: SecondAxis
) -> None:
    north = world["north"]
    async with second_axis() as other:
        assert (await other.get("/api/v1/inbox", headers=north.headers)).status == 200
        [token_id] = await token_ids(world, north.system_id)
        env = {**os.environ, "AXIS_DATABASE_URL": world.settings.database_url}
        cli = await asyncio.create_subprocess_exec(
            str(AXIS_CLI),
            "systems",
            "revoke-token",
            north.system_id,
            str(token_id),
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await cli.communicate()
        assert cli.returncode == 0, err.decode()
        assert b"revoked" in out

        async def refused_by(client: TestClient) -> bool:
            response = await client.get("/api/v1/inbox", headers=north.headers)
            return response.status == 401

        # Bounded: the NOTIFY arrives in milliseconds; the slow version poll (30 s) is not needed.
        await wait_until(lambda: refused_by(other), timeout=5.0)
        await wait_until(lambda: refused_by(world.client), timeout=5.0)
        assert axis_of(other).registry.resolver.system_for_token(token_hash(north.token)) is None


def test_no_secret_is_compared_with_equality_in_the_authentication_code() -> None:
    """Tokens are found by their hash in a dict; anything compared directly must use
    hmac.compare_digest. A ``==`` on a token, secret or hash would be a timing side channel."""
    root = Path(__file__).resolve().parents[2] / "axis"
    for path in (root / "http" / "auth.py", root / "http" / "tls.py", root / "registry" / "tokens.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare) and any(isinstance(op, ast.Eq | ast.NotEq) for op in node.ops):
                names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
                names |= {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}
                secret = {n for n in names if any(w in n.lower() for w in ("token", "secret", "hash", "password"))}
                assert not secret, f"{path.name}:{node.lineno} compares {secret} with ==; use hmac.compare_digest"
