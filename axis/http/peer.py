"""Who is at the other end of a request: its address, and whether its connection is encrypted.

The axis's own socket says both. Behind a reverse proxy that terminates TLS, the socket sees the
proxy over plain HTTP; a proxy listed in ``AXIS_TRUSTED_PROXIES`` is believed about the client
(``X-Forwarded-For``, read from the right, skipping trusted proxies) and the scheme
(``X-Forwarded-Proto``). Headers from any other peer are ignored: a client cannot name its own
address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from aiohttp import web

from axis.errors import AxisError
from axis.registry.model import System

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=64)
def networks(texts: tuple[str, ...]) -> tuple[Network, ...]:
    """CIDRs (or single addresses) as networks; the settings validated them."""
    return tuple(ipaddress.ip_network(text, strict=False) for text in texts)


def _address(text: str | None) -> Address | None:
    if not text:
        return None
    try:
        found = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(found, ipaddress.IPv6Address) and found.ipv4_mapped is not None:
        return found.ipv4_mapped
    return found


def _within(address: Address, allowed: Sequence[Network]) -> bool:
    return any(address.version == network.version and address in network for network in allowed)


@dataclass(frozen=True, slots=True)
class Peer:
    address: Address | None
    encrypted: bool

    @property
    def local(self) -> bool:
        """On this host: a loopback address (a test, or a process beside the axis)."""
        return self.address is not None and self.address.is_loopback

    def within(self, allowed: Sequence[str]) -> bool:
        return self.address is not None and _within(self.address, networks(tuple(allowed)))


def peer(request: web.BaseRequest, trusted_proxies: Sequence[str]) -> Peer:
    """The client as far as the axis can trust it."""
    address = _address(request.remote)
    encrypted = request.secure
    trusted = networks(tuple(trusted_proxies))
    if address is None or not trusted or not _within(address, trusted):
        return Peer(address, encrypted)
    hops = [part for header in request.headers.getall("X-Forwarded-For", ()) for part in header.split(",")]
    for hop in reversed(hops):
        found = _address(hop)
        if found is None:
            break
        address = found
        if not _within(found, trusted):
            break
    proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return Peer(address, encrypted or proto == "https")


def check_address(request: web.BaseRequest, system: System, trusted_proxies: Sequence[str]) -> None:
    """For a system with an address allow-list: the request must come from one of its networks."""
    if not system.allowed_addresses:
        return
    client = peer(request, trusted_proxies)
    if not client.within(system.allowed_addresses):
        raise AxisError(
            "auth.address.refused",
            f"The system {system.id} does not send from {client.address}: the administrator allowed "
            f"{', '.join(system.allowed_addresses)}.",
            system=system.id,
            address=str(client.address),
        )
