"""The exchange tests' world, reached the way the official SDK reaches it: each system holds an SDK
secret, requests are the SDK's exact bytes (``sdk_wire``) sent on a socket, and answers are read by
the SDK's own reading rules (``sdk_reader``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sdk_reader import SdkResult, read_reply, sdk_accepts
from world import World

from axis.federation.sdk.transport import Reply, exchange
from axis.federation.sdk.wire import SdkService
from axis.registry import systems
from axis.store import db
from axis.vdxp.secret import SecretBox

#: The JSON headers a vendor passes, as the SDK's example (ServiceTest) builds them.
LIST_EDOC = {"servicetype": "eDoc", "messagetype": "edoc"}
LIST_STATUS = {"servicetype": "eDoc", "messagetype": "status"}


@dataclass
class Sdk:
    """The world, and for each HTTP system its SDK secret."""

    world: World
    box: SecretBox
    secrets: dict[str, str] = field(default_factory=dict)

    @property
    def host(self) -> str:
        return str(self.world.client.server.host)

    @property
    def port(self) -> int:
        port = self.world.client.server.port
        assert port is not None
        return port

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}/vdxp"

    def service(self, name: str, **overrides: Any) -> SdkService:
        """A new SDK service instance (a fresh map, a timestamp of now) for the party ``name``."""
        kwargs: dict[str, Any] = {"system_id": self.world[name].system_id, "secret": self.secrets[name]}
        kwargs |= overrides
        return SdkService(self.endpoint, kwargs.pop("system_id"), kwargs.pop("secret"), **kwargs)

    async def send(self, raw: bytes) -> Reply:
        return await exchange(self.host, self.port, raw)

    async def call(self, service: SdkService, operation: str, header: dict[str, Any], payload: Any = None) -> Reply:
        return await self.send(service.call(operation, header, payload))

    async def read(self, service: SdkService, operation: str, header: dict[str, Any], payload: Any = None) -> SdkResult:
        """The SDK's result; fails the test wherever the SDK would lose information."""
        return sdk_accepts(operation, await self.call(service, operation, header, payload), header)

    async def ok(self, service: SdkService, operation: str, header: dict[str, Any], payload: Any = None) -> SdkResult:
        result = await self.read(service, operation, header, payload)
        assert (result.status, result.error_code) in (("OK", "0"), ("SUCCESS", "0")), result
        return result

    async def refused(
        self,
        service: SdkService,
        operation: str,
        header: dict[str, Any],
        error_code: str,
        code: str,
        payload: Any = None,
    ) -> SdkResult:
        result = await self.read(service, operation, header, payload)
        assert_refused(result, error_code, code)
        return result

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


def assert_refused(result: SdkResult | None, error_code: str, code: str) -> None:
    """A refusal as the SDK's caller sees it: FAIL, the ErrorCode, and the axis's code first in ErrorDesc."""
    assert result is not None
    assert (result.status, result.error_code) == ("FAIL", error_code), result
    assert result.error_desc is not None
    assert result.error_desc.startswith(f"{code}: "), result


def read_raw(operation: str, reply: Reply, header: dict[str, Any] | None = None) -> SdkResult | None:
    """What the SDK makes of an answer, without failing on losses (for replies meant to fail)."""
    return read_reply(operation, reply, header)


def edoc_header(sender: str, **extra: Any) -> dict[str, Any]:
    """sendEdoc's JSON header as ServiceTest builds it."""
    return {"from": sender, "servicetype": "eDoc", "messagetype": "edoc", **extra}


def get_header(doc_id: str) -> dict[str, Any]:
    """getEdoc's header as ServiceTest builds it (files go under ``xml/``)."""
    return {"filePath": "xml", "docId": doc_id}


def update_header(doc_id: str, status: str) -> dict[str, Any]:
    return {"status": status, "docId": doc_id}


async def make_sdk(built: World) -> Sdk:
    box, _ = SecretBox.load_or_create(built.settings.vdxp_key_path)
    sdk = Sdk(built, box)
    for name in ("north", "south", "dept"):
        await sdk.issue(name)
    return sdk
