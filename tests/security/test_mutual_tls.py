"""Mutual TLS: a system that requires it is heard only over HTTPS with one of its own certificates.

The axis runs a real TLS server (``axis.http.tls.server_context``, as ``axis serve`` does) and
the clients are aiohttp sessions presenting certificates made with ``axis.pki``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import ssl
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from security_world import SecondAxis, axis_of
from world import World, wait_until

from axis import pki
from axis.config import Settings
from axis.edxml.trust import fingerprint
from axis.errors import AxisError
from axis.http import tls
from axis.registry import systems
from axis.store import db


def server_identity(ca: pki.Identity) -> pki.Identity:
    """A TLS server certificate for 127.0.0.1 (what an operator gets from their CA)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "axis.test")]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .sign(ca.key, hashes.SHA256())
    )
    return pki.Identity(key, cert)


@dataclasses.dataclass
class Tls:
    settings: Settings
    server_ca: Path
    files: Path

    def client(self, identity: pki.Identity | None = None) -> ssl.SSLContext:
        """A client context trusting the server, presenting ``identity``'s certificate if given."""
        context = ssl.create_default_context(cafile=self.server_ca)
        if identity is not None:
            stem = f"client-{identity.certificate.serial_number:x}"
            key_path, cert_path = pki.save(identity, self.files, stem)
            context.load_cert_chain(cert_path, key_path)
        return context


@pytest.fixture
def tls_files(world: World, tmp_path: Path) -> Tls:
    files = tmp_path / "tls"
    server_ca = pki.new_ca("Server CA")
    key_path, cert_path = pki.save(server_identity(server_ca), files, "server")
    pki.save(server_ca, files, "server-ca")
    settings = dataclasses.replace(
        world.settings, tls_cert=cert_path, tls_key=key_path, tls_client_ca=world.settings.keys_dir / "ca.pem"
    )
    return Tls(settings, files / "server-ca.pem", files)


async def require_client_certificate(world: World, system_id: str, *axes: Any) -> None:
    conn = await db.connect(world.settings.database_url)
    try:
        async with conn.transaction():
            await systems.update(conn, "test", system_id, require_client_certificate=True)
    finally:
        await conn.close()
    for axis in axes:
        await wait_until(lambda axis=axis: axis.registry.snapshot.systems[system_id].require_client_certificate)


async def get(url: Any, context: ssl.SSLContext, token: str | None) -> tuple[int, dict[str, Any], Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session,
        session.get(url, headers=headers) as response,
    ):
        return response.status, await response.json(), response.headers


async def test_a_system_requiring_mutual_tls_is_heard_only_with_its_own_certificate(
    world: World, second_axis: SecondAxis, tls_files: Tls
) -> None:
    north, south = world["north"], world["south"]
    async with second_axis(ssl=tls.server_context(tls_files.settings)) as https:
        inbox = https.make_url("/api/v1/inbox")
        await require_client_certificate(world, north.system_id, world.axis, axis_of(https))

        status, body, headers = await get(inbox, tls_files.client(north.identity), north.token)
        assert status == 200, body
        assert headers["Strict-Transport-Security"].startswith("max-age=")

        status, body, _ = await get(inbox, tls_files.client(), north.token)
        assert (status, body["error"]["code"]) == (403, "auth.client_certificate.required")

        # A certificate the CA issued, but registered to another system.
        status, body, _ = await get(inbox, tls_files.client(south.identity), north.token)
        assert (status, body["error"]["code"]) == (403, "auth.client_certificate.mismatch")

        # Plain HTTP cannot carry a client certificate at all.
        plain = await world.get("/api/v1/inbox", "north", expect=403)
        assert plain["error"]["code"] == "auth.client_certificate.required"

        # Systems without the flag, and the public look-up, need no client certificate.
        status, body, _ = await get(inbox, tls_files.client(), south.token)
        assert status == 200, body
        status, body, _ = await get(https.make_url("/api/v1/agencies?q=H98"), tls_files.client(), None)
        assert status == 200, body

        # Revoking the certificate in the registry unbinds it from the connection too.
        conn = await db.connect(world.settings.database_url)
        try:
            async with conn.transaction():
                await systems.revoke_certificate(conn, "test", fingerprint(north.identity.certificate))
        finally:
            await conn.close()

        async def mismatch() -> bool:
            status, body, _ = await get(inbox, tls_files.client(north.identity), north.token)
            return status == 403 and body["error"]["code"] == "auth.client_certificate.mismatch"

        await wait_until(mismatch)


async def test_a_client_certificate_from_an_untrusted_ca_fails_the_handshake(
    world: World, second_axis: SecondAxis, tls_files: Tls, stranger: pki.Identity
) -> None:
    async with second_axis(ssl=tls.server_context(tls_files.settings)) as https:
        with pytest.raises((aiohttp.ClientError, ssl.SSLError, ConnectionError)):
            await get(https.make_url("/healthz"), tls_files.client(stranger), None)


def test_tls_settings_come_from_the_environment_and_must_be_complete(tmp_path: Path) -> None:
    settings = Settings.from_env({"AXIS_TLS_CERT": "a.pem", "AXIS_TLS_KEY": "a.key", "AXIS_TLS_CLIENT_CA": "ca.pem"})
    assert (settings.tls_cert, settings.tls_key, settings.tls_client_ca) == (
        Path("a.pem"),
        Path("a.key"),
        Path("ca.pem"),
    )
    for env in ({"AXIS_TLS_CERT": "a.pem"}, {"AXIS_TLS_CLIENT_CA": "ca.pem"}):
        with pytest.raises(AxisError) as refused:
            Settings.from_env(env)
        assert refused.value.code == "config.invalid"
    assert tls.server_context(Settings()) is None
    with pytest.raises(AxisError) as missing:
        tls.server_context(Settings(tls_cert=tmp_path / "no.pem", tls_key=tmp_path / "no.key"))
    assert missing.value.code == "config.invalid"


def test_the_policy_command_sets_and_clears_the_requirement(database_url: str) -> None:
    env = {"AXIS_DATABASE_URL": database_url, "PATH": str(Path(sys.executable).parent)}
    axis = str(Path(sys.executable).parent / "axis")

    def run(*args: str) -> str:
        done = subprocess.run([axis, *args], env=env, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout

    run("systems", "add", "mtls-sys", "--name", "Hệ thống mTLS")
    assert "client certificate required" in run("systems", "policy", "mtls-sys", "--require-client-cert")
    assert "mTLS:      client certificate required" in run("systems", "show", "mtls-sys")
    assert "client certificate required" not in run("systems", "policy", "mtls-sys", "--no-require-client-cert")
