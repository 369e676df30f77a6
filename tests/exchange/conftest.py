"""What the exchange's stories share."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from world import World

from axis.store import db


@pytest.fixture
async def conn(world: World) -> AsyncIterator[asyncpg.Connection]:
    """A connection of the story's own to the axis's database, for reads and moves below the API."""
    connection = await db.connect(world.settings.database_url)
    yield connection
    await connection.close()
