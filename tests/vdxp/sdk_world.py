"""The world of the exchange tests, with SDK secrets for its HTTP systems and SDK-style clients."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sdk_client import SdkClient
from world import World

from axis.registry import systems
from axis.store import db
from axis.vdxp.secret import SecretBox


@dataclass
class Sdk:
    """The world, and for each HTTP system its SDK secret and an SDK client."""

    world: World
    box: SecretBox
    secrets: dict[str, str] = field(default_factory=dict)
    clients: dict[str, SdkClient] = field(default_factory=dict)

    def __getitem__(self, name: str) -> SdkClient:
        return self.clients[name]

    def client(self, name: str, **overrides: object) -> SdkClient:
        """A fresh SDK instance (empty parameter map) for the party ``name``."""
        kwargs: dict[str, object] = {"system_id": self.world[name].system_id, "secret": self.secrets[name]}
        return SdkClient(self.world.client, **(kwargs | overrides))  # type: ignore[arg-type]

    async def issue(self, name: str, *, keep_previous: dt.timedelta = dt.timedelta(0)) -> str:
        """A new secret for the party, as ``axis systems secret`` issues it."""
        conn = await db.connect(self.world.settings.database_url)
        try:
            async with conn.transaction():
                _, secret = await systems.issue_sdk_secret(
                    conn,
                    "test",
                    self.world[name].system_id,
                    self.box.seal,
                    self.box.key_id,
                    previous_valid_for=keep_previous,
                )
        finally:
            await conn.close()
        self.secrets[name] = secret
        return secret


async def make_sdk(built: World) -> Sdk:
    box, _ = SecretBox.load_or_create(built.settings.vdxp_key_path)
    sdk = Sdk(built, box)
    for name in ("north", "south", "dept"):
        await sdk.issue(name)
        sdk.clients[name] = sdk.client(name)
    return sdk
