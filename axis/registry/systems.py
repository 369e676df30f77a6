"""SQL for connected systems: settings, bindings, tokens, signing certificates, admin tokens.

Like ``agencies``, each change records its history; callers hold the transaction. Disabling a
system also fails what waits for it (``update``).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import asyncpg
from cryptography import x509

from axis.edxml.trust import Signer
from axis.errors import AxisError
from axis.exchange import deliveries
from axis.registry import codes, history, tokens
from axis.registry.agencies import require as require_agency
from axis.registry.model import Certificate, FilePolicy, System, SystemStatus
from axis.store.db import Conn

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_COLUMNS = (
    "id, name, contact, delivery_http, delivery_amqp, allow_sha1, allow_unsigned, status, require_client_certificate,"
    " allowed_addresses, file_policy"
)
_SETTABLE = frozenset(
    {
        "name",
        "contact",
        "delivery_http",
        "delivery_amqp",
        "allow_sha1",
        "allow_unsigned",
        "status",
        "require_client_certificate",
        "allowed_addresses",
        "file_policy",
    }
)


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A token as listed: never the token itself, which is shown once at issue."""

    id: int
    label: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


def from_row(row: asyncpg.Record) -> System:
    return System(
        id=row["id"],
        name=row["name"],
        contact=row["contact"],
        delivery_http=row["delivery_http"],
        delivery_amqp=row["delivery_amqp"],
        allow_sha1=row["allow_sha1"],
        allow_unsigned=row["allow_unsigned"],
        status=SystemStatus(row["status"]),
        require_client_certificate=row["require_client_certificate"],
        allowed_addresses=tuple(row["allowed_addresses"]),
        file_policy=FilePolicy(row["file_policy"]),
    )


def certificate_from_row(row: asyncpg.Record) -> Certificate:
    return Certificate(
        fingerprint=row["fingerprint"],
        system_id=row["system_id"],
        subject=row["subject"],
        agency_code=row["agency_code"],
        not_before=row["not_before"],
        not_after=row["not_after"],
        revoked=row["revoked_at"] is not None,
    )


async def get(conn: Conn, system_id: str, *, for_share: bool = False) -> System | None:
    """``for_share``: the row stays as read until the caller's transaction ends (a change to the
    system, such as disabling it, waits for that)."""
    lock = " FOR SHARE" if for_share else ""
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM systems WHERE id = $1{lock}", system_id)
    return from_row(row) if row else None


async def require(conn: Conn, system_id: str, *, for_share: bool = False) -> System:
    system = await get(conn, system_id, for_share=for_share)
    if system is None:
        raise AxisError("registry.system.unknown", f"No system has the id {system_id!r}.", system=system_id)
    return system


async def all_systems(conn: Conn) -> list[System]:
    return [from_row(r) for r in await conn.fetch(f"SELECT {_COLUMNS} FROM systems ORDER BY id")]


async def add(conn: Conn, actor: str, system_id: str, name: str, **settings: Any) -> System:
    if not _ID.match(system_id):
        raise AxisError(
            "registry.system.invalid",
            f"System id {system_id!r} must be 1-64 letters, digits, '.', '_' or '-'.",
            system=system_id,
        )
    system = _with(System(system_id, name.strip()), settings)
    inserted = await conn.fetchval(
        f"""INSERT INTO systems ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            ON CONFLICT (id) DO NOTHING RETURNING id""",
        system.id,
        system.name,
        system.contact,
        system.delivery_http,
        system.delivery_amqp,
        system.allow_sha1,
        system.allow_unsigned,
        system.status.value,
        system.require_client_certificate,
        list(system.allowed_addresses),
        system.file_policy.value,
    )
    if inserted is None:
        raise AxisError("registry.system.exists", f"The system {system_id} already exists.", system=system_id)
    await history.record(conn, actor, "system.create", "system", system.id, None, system)
    return system


def _with(system: System, settings: Mapping[str, Any]) -> System:
    unknown = set(settings) - _SETTABLE
    if unknown:
        raise AxisError("registry.system.invalid", f"Unknown system settings: {sorted(unknown)}.")
    values = dict(settings)
    if "status" in values:
        values["status"] = SystemStatus(values["status"])
    if "allowed_addresses" in values:
        values["allowed_addresses"] = addresses(values["allowed_addresses"], system.id)
    if "file_policy" in values:
        try:
            values["file_policy"] = FilePolicy(values["file_policy"])
        except ValueError:
            allowed = ", ".join(FilePolicy)
            raise AxisError(
                "registry.system.invalid",
                f"The file signature policy is one of {allowed}, not {values['file_policy']!r}.",
                system=system.id,
            ) from None
    updated = replace(system, **values)
    if not updated.name:
        raise AxisError("registry.system.invalid", "A system needs a name.", system=system.id)
    if not (updated.delivery_http or updated.delivery_amqp):
        raise AxisError(
            "registry.system.invalid",
            "A system must receive over HTTP pull, AMQP, or both.",
            system=system.id,
        )
    return updated


def addresses(given: Any, system_id: str) -> tuple[str, ...]:
    """An address allow-list as networks in CIDR form (a single address is its /32 or /128),
    without repeats; text is split on commas and spaces."""
    items = given.replace(",", " ").split() if isinstance(given, str) else list(given)
    found: list[str] = []
    for item in items:
        try:
            network = str(ipaddress.ip_network(str(item).strip(), strict=False))
        except ValueError:
            raise AxisError(
                "registry.system.invalid",
                f"{item!r} is not an IP address or a network in CIDR form (10.1.2.0/24).",
                system=system_id,
            ) from None
        if network not in found:
            found.append(network)
    return tuple(found)


#: Why a disabled system's deliveries failed: the sender's status view and failure notice say it.
DISABLED_REASON = "the recipient system was disabled"


async def update(conn: Conn, actor: str, system_id: str, **settings: Any) -> System:
    """Change a system's settings. Disabling it also fails every delivery still queued for it,
    with ``DISABLED_REASON`` (a disabled system will not take them, and a sender must not wait on
    them in silence), in the same transaction: a savepoint when the caller holds one.
    ``axis.exchange.redelivery`` sends them again once the system is enabled."""
    before = await require(conn, system_id)
    after = _with(before, settings)
    if after == before:
        return before
    disabling = after.status is SystemStatus.DISABLED and before.status is not SystemStatus.DISABLED
    async with conn.transaction():
        await _write(conn, after)
        if disabling:
            await deliveries.fail(conn, system_id, reason=DISABLED_REASON)
        await history.record(conn, actor, "system.update", "system", system_id, before, after)
    return after


async def _write(conn: Conn, after: System) -> None:
    await conn.execute(
        """UPDATE systems SET name = $2, contact = $3, delivery_http = $4, delivery_amqp = $5,
                  allow_sha1 = $6, allow_unsigned = $7, status = $8, require_client_certificate = $9,
                  allowed_addresses = $10, file_policy = $11, updated_at = now()
            WHERE id = $1""",
        after.id,
        after.name,
        after.contact,
        after.delivery_http,
        after.delivery_amqp,
        after.allow_sha1,
        after.allow_unsigned,
        after.status.value,
        after.require_client_certificate,
        list(after.allowed_addresses),
        after.file_policy.value,
    )


# --- bindings -----------------------------------------------------------------------------------------


async def bindings(conn: Conn, system_id: str) -> list[str]:
    rows = await conn.fetch("SELECT agency_code FROM bindings WHERE system_id = $1 ORDER BY agency_code", system_id)
    return [r["agency_code"] for r in rows]


async def bind(conn: Conn, actor: str, system_id: str, agency_code: str) -> str:
    """Let ``system_id`` serve the subtree rooted at ``agency_code``."""
    await require(conn, system_id)
    agency = await require_agency(conn, codes.parse(agency_code).text)
    holder = await conn.fetchval("SELECT system_id FROM bindings WHERE agency_code = $1", agency.code)
    if holder == system_id:
        return agency.code
    if holder is not None:
        raise AxisError(
            "registry.binding.exists",
            f"{agency.code} is already served by {holder}; unbind it there first.",
            agency_code=agency.code,
            system=holder,
        )
    await conn.execute("INSERT INTO bindings (agency_code, system_id) VALUES ($1, $2)", agency.code, system_id)
    await history.record(conn, actor, "system.bind", "system", system_id, None, {"agency_code": agency.code})
    return agency.code


async def unbind(conn: Conn, actor: str, system_id: str, agency_code: str) -> None:
    deleted = await conn.fetchval(
        "DELETE FROM bindings WHERE agency_code = $1 AND system_id = $2 RETURNING agency_code",
        agency_code.strip(),
        system_id,
    )
    if deleted is None:
        raise AxisError(
            "registry.binding.unknown",
            f"{system_id} has no binding for {agency_code}.",
            system=system_id,
            agency_code=agency_code,
        )
    await history.record(conn, actor, "system.unbind", "system", system_id, {"agency_code": deleted}, None)


# --- tokens ---------------------------------------------------------------------------------------------


async def issue_token(conn: Conn, actor: str, system_id: str, label: str = "") -> tuple[int, str]:
    """A new token for the system: returns (id, token). The token is not stored and not shown again."""
    await require(conn, system_id)
    token = tokens.new_token(tokens.SYSTEM_PREFIX)
    token_id: int = await conn.fetchval(
        "INSERT INTO system_tokens (system_id, token_hash, label) VALUES ($1, $2, $3) RETURNING id",
        system_id,
        tokens.token_hash(token),
        label,
    )
    await history.record(
        conn, actor, "system.token.issue", "system", system_id, None, {"token_id": token_id, "label": label}
    )
    return token_id, token


async def list_tokens(conn: Conn, system_id: str) -> list[TokenInfo]:
    rows = await conn.fetch(
        "SELECT id, label, created_at, revoked_at FROM system_tokens WHERE system_id = $1 ORDER BY id",
        system_id,
    )
    return [TokenInfo(**dict(r)) for r in rows]


async def revoke_token(conn: Conn, actor: str, system_id: str, token_id: int) -> None:
    revoked = await conn.fetchval(
        """UPDATE system_tokens SET revoked_at = now()
            WHERE id = $1 AND system_id = $2 AND revoked_at IS NULL RETURNING id""",
        token_id,
        system_id,
    )
    if revoked is None:
        raise AxisError(
            "registry.token.unknown",
            f"{system_id} has no active token {token_id}.",
            system=system_id,
            token_id=token_id,
        )
    await history.record(conn, actor, "system.token.revoke", "system", system_id, {"token_id": token_id}, None)


# --- SDK secrets (the national SDK's interface, /vdxp/) ------------------------------------------------

SDK_SECRET_PREFIX = "axv_"  # noqa: S105 (a prefix that names the kind of secret, not a secret)


async def issue_sdk_secret(
    conn: Conn,
    actor: str,
    system_id: str,
    seal: Callable[[str, str], bytes],
    key_id: str,
    *,
    previous_valid_for: dt.timedelta = dt.timedelta(0),
) -> tuple[int, str]:
    """A new secret for the national SDK's HMAC signature: returns (id, secret), shown once.

    The axis must compute the HMAC, so the secret cannot be kept as a hash: only
    ``seal(system_id, secret)`` is stored (``axis.vdxp.secret.SecretBox.seal``; ``key_id`` names
    the sealing key). The system's earlier secrets stop working at once, or after
    ``previous_valid_for`` (time to reconfigure the SDK); the history records the rotation,
    never the secret."""
    await require(conn, system_id)
    secret = tokens.new_token(SDK_SECRET_PREFIX)
    previous = await conn.fetch(
        """UPDATE system_sdk_secrets SET valid_until = now() + $2::interval
            WHERE system_id = $1 AND (valid_until IS NULL OR valid_until > now() + $2::interval)
        RETURNING id, valid_until""",
        system_id,
        previous_valid_for,
    )
    secret_id: int = await conn.fetchval(
        "INSERT INTO system_sdk_secrets (system_id, sealed, key_id) VALUES ($1, $2, $3) RETURNING id",
        system_id,
        seal(system_id, secret),
        key_id,
    )
    await history.record(
        conn,
        actor,
        "system.sdk_secret.issue",
        "system",
        system_id,
        {"secret_ids": [r["id"] for r in previous]} if previous else None,
        {
            "secret_id": secret_id,
            "key_id": key_id,
            "previous_valid_until": max(r["valid_until"] for r in previous).isoformat() if previous else None,
        },
    )
    return secret_id, secret


async def issue_admin_token(conn: Conn, actor: str, name: str) -> tuple[int, str]:
    token = tokens.new_token(tokens.ADMIN_PREFIX)
    token_id: int = await conn.fetchval(
        "INSERT INTO admin_tokens (name, token_hash) VALUES ($1, $2) RETURNING id",
        name,
        tokens.token_hash(token),
    )
    await history.record(conn, actor, "admin.token.issue", "admin", name, None, {"token_id": token_id})
    return token_id, token


# --- certificates ---------------------------------------------------------------------------------------


async def add_certificate(conn: Conn, actor: str, system_id: str, pem: bytes) -> Certificate:
    """Bind a signing certificate (PEM; the first certificate in the data) to a system."""
    await require(conn, system_id)
    try:
        signer = Signer.from_certificate(x509.load_pem_x509_certificates(pem)[0])
    except (ValueError, IndexError, x509.InvalidVersion) as exc:
        raise AxisError("registry.certificate.invalid", f"The PEM data holds no readable certificate: {exc}") from None
    certificate = Certificate(
        fingerprint=signer.fingerprint_sha256,
        system_id=system_id,
        subject=signer.subject,
        agency_code=signer.agency_code,
        not_before=signer.not_before,
        not_after=signer.not_after,
    )
    inserted = await conn.fetchval(
        """INSERT INTO system_certificates
               (fingerprint, system_id, pem, subject, agency_code, not_before, not_after)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (fingerprint) DO NOTHING RETURNING fingerprint""",
        certificate.fingerprint,
        system_id,
        signer.certificate_pem,
        certificate.subject,
        certificate.agency_code,
        certificate.not_before,
        certificate.not_after,
    )
    if inserted is None:
        raise AxisError(
            "registry.certificate.exists",
            f"The certificate {certificate.fingerprint[:16]}… is already registered.",
            fingerprint=certificate.fingerprint,
        )
    await history.record(conn, actor, "system.certificate.add", "system", system_id, None, certificate)
    return certificate


async def certificates(conn: Conn, system_id: str) -> list[Certificate]:
    rows = await conn.fetch("SELECT * FROM system_certificates WHERE system_id = $1 ORDER BY not_after DESC", system_id)
    return [certificate_from_row(r) for r in rows]


async def revoke_certificate(conn: Conn, actor: str, fingerprint: str) -> Certificate:
    row = await conn.fetchrow(
        """UPDATE system_certificates SET revoked_at = now()
            WHERE fingerprint = $1 AND revoked_at IS NULL RETURNING *""",
        fingerprint.lower(),
    )
    if row is None:
        raise AxisError(
            "registry.certificate.unknown", f"No active certificate {fingerprint}.", fingerprint=fingerprint
        )
    certificate = certificate_from_row(row)
    await history.record(
        conn,
        actor,
        "system.certificate.revoke",
        "system",
        certificate.system_id,
        replace(certificate, revoked=False),
        certificate,
    )
    return certificate
