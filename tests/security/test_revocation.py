"""A certificate its CA has revoked (a CRL named by AXIS_CRL_FILES) signs nothing the axis accepts."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import builders
import pytest
from cryptography.hazmat.primitives import serialization
from security_world import SecondAxis, sent_now
from world import World

from axis import pki
from axis.cli import main
from axis.config import Settings
from axis.edxml import build, revocation, sign, verify
from axis.edxml.trust import TrustAnchors
from axis.errors import AxisError


def crl_file(path: Path, issuer: pki.Identity, *revoked: pki.Identity, der: bool = False) -> Path:
    crl = revocation.issue(
        issuer.certificate, issuer.key, {r.certificate.serial_number: dt.datetime.now(dt.UTC) for r in revoked}
    )
    path.write_bytes(crl.public_bytes(serialization.Encoding.DER if der else serialization.Encoding.PEM))
    return path


def signed_by(identity: pki.Identity, sender: str = builders.NORTH) -> bytes:
    return sign(build(builders.document(sender=sender)), identity.key, identity.cert_chain)


def test_a_revoked_signer_is_refused_and_an_unrevoked_one_passes(
    tmp_path: Path, dev_ca: pki.Identity, north: pki.Identity, south_ec: pki.Identity
) -> None:
    path = crl_file(tmp_path / "ca.crl.der", dev_ca, north, der=True)
    anchors = TrustAnchors((dev_ca.certificate,), tuple(revocation.load_files([path])))
    with pytest.raises(AxisError) as refused:
        verify(signed_by(north), anchors)
    assert refused.value.code == "signature.certificate.revoked"
    assert refused.value.details["serial"] == format(north.certificate.serial_number, "x")
    assert verify(signed_by(south_ec, builders.SOUTH), anchors).signer is not None


def test_a_crl_signed_by_another_ca_does_not_load(tmp_path: Path, dev_ca: pki.Identity, north: pki.Identity) -> None:
    impostor = pki.new_ca("Test CA")  # the very name of the trusted CA, another key
    assert impostor.certificate.subject == dev_ca.certificate.subject
    path = crl_file(tmp_path / "forged.crl.pem", impostor, north)
    with pytest.raises(AxisError) as refused:
        TrustAnchors((dev_ca.certificate,), tuple(revocation.load_files([path])))
    assert refused.value.code == "config.invalid"
    stranger = crl_file(tmp_path / "stranger.crl.pem", pki.new_ca("Unknown CA"), north)
    with pytest.raises(AxisError) as unknown:
        TrustAnchors((dev_ca.certificate,), tuple(revocation.load_files([stranger])))
    assert unknown.value.code == "config.invalid"


def test_a_missing_or_unreadable_crl_file_stops_the_start(tmp_path: Path) -> None:
    for path in (tmp_path / "absent.crl", tmp_path / "garbage.crl"):
        if path.name == "garbage.crl":
            path.write_bytes(b"not a CRL")
        with pytest.raises(AxisError) as refused:
            revocation.load_files([path])
        assert refused.value.code == "config.invalid"


def test_axis_keys_revoke_writes_a_crl_that_keeps_earlier_entries(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = tmp_path / "keys"
    assert main(["keys", "init", "--dir", str(keys)]) == 0
    assert main(["keys", "issue", "000.00.00.H98", "--name", "Bắc", "--dir", str(keys)]) == 0
    assert main(["keys", "issue", "000.00.00.H99", "--name", "Nam", "--dir", str(keys)]) == 0
    assert main(["keys", "revoke", str(keys / "000.00.00.H98.pem"), "--dir", str(keys)]) == 0
    assert main(["keys", "revoke", str(keys / "000.00.00.H99.pem"), "--dir", str(keys)]) == 0
    assert "AXIS_CRL_FILES=" in capsys.readouterr().out
    anchors = TrustAnchors.from_files([keys / "ca.pem"], [keys / "ca.crl.pem"])
    for code in ("000.00.00.H98", "000.00.00.H99"):
        identity = pki.load(keys / f"{code}.key.pem", keys / f"{code}.pem")
        assert anchors.revocations.revoked(identity.certificate) is not None
    # A certificate from another CA cannot be put on this CA's list.
    other = pki.issue(pki.new_ca("Other CA"), "000.00.00.H98", "Khác")
    pki.save(other, tmp_path, "other")
    assert main(["keys", "revoke", str(tmp_path / "other.pem"), "--dir", str(keys)]) == 1


async def test_intake_refuses_a_package_signed_with_a_revoked_agency_certificate(
    world: World, second_axis: SecondAxis, tmp_path: Path
) -> None:
    crl = crl_file(tmp_path / "world.crl.pem", world.ca, world["north"].identity)
    async with second_axis(crl_files=(crl,)) as restarted:
        refused = await restarted.post(
            "/api/v1/packages", data=world.signed(sent_now(world.document())), headers=world["north"].headers
        )
        body = await refused.json()
        assert refused.status == 400, body
        assert body["error"]["code"] == "signature.certificate.revoked"
        assert body["error"]["details"]["serial"] == format(world["north"].identity.certificate.serial_number, "x")
        unrevoked = world.signed(sent_now(world.document("south", to=("000.00.00.H98",))), by="south")
        accepted = await restarted.post("/api/v1/packages", data=unrevoked, headers=world["south"].headers)
        assert accepted.status == 202, await accepted.text()
    assert await world.count("packages") == 1


async def test_an_axis_configured_with_a_forged_crl_does_not_start(
    world: World, second_axis: SecondAxis, tmp_path: Path
) -> None:
    forged = crl_file(tmp_path / "forged.crl.pem", pki.new_ca("World CA"), world["north"].identity)
    with pytest.raises(AxisError) as refused:
        async with second_axis(crl_files=(forged,)):
            pass
    assert refused.value.code == "config.invalid"


def test_crl_files_come_from_the_environment() -> None:
    settings = Settings.from_env({"AXIS_CRL_FILES": os.pathsep.join(("a.crl.pem", "b.crl"))})
    assert settings.crl_files == (Path("a.crl.pem"), Path("b.crl"))
    assert Settings.from_env({}).crl_files == ()
