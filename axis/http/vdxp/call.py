"""Who calls ``/vdxp/…`` and with what: the SDK's request authenticated (``authenticate``), and
what the endpoint keeps per process (``Compat``).

Order of the checks: the transport (HTTPS, or plain HTTP from this host), the signature over the
signed text with the system's current secrets in constant time, the headers against it, the
timestamp's form, the system (active, its TLS client certificate and address if it requires
them, its rate), and last, for a signed set that can change state, when the axis first saw it
(``axis.vdxp.replay``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog
from aiohttp import web

from axis.config import Settings
from axis.errors import AxisError
from axis.http.context import axis_of
from axis.http.peer import check_address, peer
from axis.http.tls import check_client_certificate
from axis.registry.model import System
from axis.vdxp import params, replay, signing, store
from axis.vdxp.secret import SecretBox

if TYPE_CHECKING:
    from axis.app import Axis

log = structlog.get_logger("axis.vdxp")


class Compat:
    """What the endpoint keeps per process: its settings, the key that opens SDK secrets (loaded
    when first needed: ``axis systems secret`` may create it after the axis started), and the
    registry lists already answered for the current registry version."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.spellings = params.spellings(settings.vdxp_docid_spelling)
        self.window = dt.timedelta(seconds=settings.vdxp_change_window_seconds)
        self._box: SecretBox | None = None
        self.lists: dict[tuple[str, str], tuple[int, bytes]] = {}

    def box(self) -> SecretBox:
        if self._box is None:
            self._box = SecretBox.load(self.settings.vdxp_key_path)
        return self._box


COMPAT: web.AppKey[Compat] = web.AppKey("vdxp", Compat)


@dataclass(frozen=True, slots=True)
class Call:
    """An authenticated request: who calls, and its signed parameters."""

    request: web.Request
    axis: Axis
    system: System
    envelope: signing.Envelope
    compat: Compat
    operation: str
    #: How long ago the axis first saw this signed set, when it can change state (else None).
    sighting_age: dt.timedelta | None = None

    def param(self, name: str) -> str | None:
        spelling = self.compat.spellings.get(self.operation.lower()) if name.lower() == "docid" else None
        return self.envelope.param(name, spelling=spelling)

    def required(self, name: str) -> str:
        value = self.param(name)
        if not value:
            raise AxisError(
                "vdxp.param.missing", f"{self.operation} needs {signing.PREFIX}{name}, signed.", parameter=name
            )
        return value

    def may_change(self) -> None:
        """Before an operation changes state: the signed set must be fresh enough (``replay``)."""
        if self.sighting_age is not None:
            replay.check_fresh(self.sighting_age, self.compat.window, self.operation)


def check_transport(request: web.Request, settings: Settings) -> None:
    """The SDK's signature can be reused by whoever sees a request: it travels encrypted, or
    stays on this host, unless the administrator decided otherwise."""
    if settings.vdxp_allow_plain_http:
        return
    client = peer(request, settings.trusted_proxies)
    if not client.encrypted and not client.local:
        raise AxisError(
            "vdxp.transport.insecure",
            "This request came over plain HTTP from another machine: its signature could be read and reused "
            "on the way. Use the axis's https:// endpoint.",
            address=str(client.address),
        )


async def authenticate(request: web.Request, compat: Compat, operation: str) -> Call:
    axis = axis_of(request)
    check_transport(request, compat.settings)
    envelope = signing.read(request.raw_headers)
    snapshot = axis.registry.snapshot
    keys = await _secrets(axis, compat, envelope.system_id) if envelope.system_id in snapshot.systems else []
    envelope = signing.verify(envelope, keys)
    signing.check_headers(envelope)
    signing.parse_timestamp(envelope.timestamp)  # its form only: the SDK never refreshes it
    system = snapshot.systems[envelope.system_id]  # verify() refused ids without a secret
    if not system.active:
        raise AxisError("registry.system.disabled", f"The system {system.id} is disabled.", system=system.id)
    check_client_certificate(request, system, snapshot.certificates)
    check_address(request, system, compat.settings.trusted_proxies)
    axis.rate_limiter.check(system.id)
    age = None
    if replay.can_change(envelope):
        async with axis.connection() as conn:
            age = await store.sighting_age(conn, system.id, envelope.signature)
    if envelope.narrowed:
        log.info("vdxp.narrowed_headers", system=system.id, operation=operation)
    return Call(request, axis, system, envelope, compat, operation, age)


async def _secrets(axis: Axis, compat: Compat, system_id: str) -> list[bytes]:
    """The system's current SDK secrets, opened (the HMAC keys)."""
    box = compat.box()
    async with axis.connection() as conn:
        sealed = await store.current_secrets(conn, system_id)
    keys = [key for key in (box.open(system_id, s) for s in sealed) if key is not None]
    if len(keys) < len(sealed):  # rows sealed under another key file: a deployment mistake
        log.warning("vdxp.secret.unopenable", system=system_id, key_id=box.key_id, sealed=len(sealed))
    return keys
