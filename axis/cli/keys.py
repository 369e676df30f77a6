"""``axis keys``: a development CA, agency certificates, and the axis's own receipt key."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization

from axis import pki
from axis.config import Settings
from axis.edxml import revocation
from axis.edxml.trust import Signer
from axis.errors import AxisError


def register(sub: Any) -> None:
    keys = sub.add_parser("keys", help="development CA and signing certificates")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    default_dir = Settings.from_env().keys_dir

    init = keys_sub.add_parser("init", help="create the development CA and the axis's receipt key")
    init.add_argument("--dir", type=Path, default=default_dir, help=f"key directory (default {default_dir})")
    init.add_argument("--force", action="store_true", help="replace existing files")
    init.set_defaults(handler=_init)

    issue = keys_sub.add_parser("issue", help="issue an agency signing certificate from the development CA")
    issue.add_argument("code", help="agency identifier code, e.g. 000.00.00.H98")
    issue.add_argument("--name", required=True, help="agency name for the certificate subject")
    issue.add_argument("--dir", type=Path, default=default_dir)
    issue.add_argument("--key-type", choices=("rsa", "ec"), default="rsa")
    issue.add_argument("--days", type=int, default=365)
    issue.set_defaults(handler=_issue)

    show = keys_sub.add_parser("show", help="print who a certificate file says its holder is")
    show.add_argument("certificate", type=Path)
    show.set_defaults(handler=_show)

    revoke = keys_sub.add_parser(
        "revoke", help="put certificates on the development CA's revocation list (writes DIR/ca.crl.pem)"
    )
    revoke.add_argument(
        "certificates", nargs="*", type=Path, help="PEM certificates issued by the CA (none: re-issue the CRL)"
    )
    revoke.add_argument("--dir", type=Path, default=default_dir)
    revoke.add_argument("--days", type=int, default=30, help="days until the CRL's nextUpdate (default 30)")
    revoke.add_argument(
        "--out", type=Path, help="the CRL file (default DIR/ca.crl.pem); entries already in it are kept"
    )
    revoke.set_defaults(handler=_revoke)


def _init(args: argparse.Namespace) -> int:
    directory: Path = args.dir
    ca_files = directory / "ca.key.pem", directory / "ca.pem"
    if all(p.exists() for p in ca_files) and not args.force:
        print(f"development CA already in {directory} (use --force to replace)")
        ca = pki.load(*ca_files)
    else:
        ca = pki.new_ca()
        pki.save(ca, directory, "ca")
        print(f"created development CA: {ca_files[1]}")
    axis_files = directory / "axis.key.pem", directory / "axis.pem"
    if not all(p.exists() for p in axis_files) or args.force:
        pki.save(pki.issue(ca, None, "Trục liên thông (axis, development)", key_type="ec"), directory, "axis")
        print(f"created the axis's receipt signing certificate: {axis_files[1]}")
    return 0


def _issue(args: argparse.Namespace) -> int:
    ca = pki.load(args.dir / "ca.key.pem", args.dir / "ca.pem")
    identity = pki.issue(ca, args.code, args.name, days=args.days, key_type=args.key_type)
    key_path, cert_path = pki.save(identity, args.dir, args.code)
    print(f"key:         {key_path}")
    print(f"certificate: {cert_path}")
    _print_signer(identity.certificate)
    return 0


def _show(args: argparse.Namespace) -> int:
    for cert in x509.load_pem_x509_certificates(args.certificate.read_bytes()):
        _print_signer(cert)
    return 0


def _revoke(args: argparse.Namespace) -> int:
    """Add the certificates' serial numbers to the CA's CRL (keeping those already listed) and
    sign it anew: a development stand-in for a real CA's CRL, for AXIS_CRL_FILES."""
    ca = pki.load(args.dir / "ca.key.pem", args.dir / "ca.pem")
    out: Path = args.out or args.dir / "ca.crl.pem"
    listed: dict[int, dt.datetime] = {}
    if out.exists():
        for crl in revocation.Revocations.verified(revocation.load_files([out]), [ca.certificate]).crls:
            listed.update({entry.serial_number: entry.revocation_date_utc for entry in crl})
    now = dt.datetime.now(dt.UTC)
    for path in args.certificates:
        try:
            certs = x509.load_pem_x509_certificates(path.read_bytes())
        except FileNotFoundError:
            raise AxisError("cli.file_not_found", f"{path} does not exist.") from None
        cert = certs[0]  # the file's first certificate; any after it are its chain
        try:
            cert.verify_directly_issued_by(ca.certificate)
        except (ValueError, TypeError, InvalidSignature):
            raise AxisError(
                "keys.foreign_certificate", f"{path} was not issued by the CA in {args.dir}; its CRL cannot revoke it."
            ) from None
        listed.setdefault(cert.serial_number, now)
        print(f"revoked:     {format(cert.serial_number, 'x')}  {cert.subject.rfc4514_string()}")
    crl = revocation.issue(ca.certificate, ca.key, listed, days=args.days, now=now)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    print(f"CRL:         {out} ({len(listed)} revoked, next update {now + dt.timedelta(days=args.days):%Y-%m-%d})")
    print(f"use it with: AXIS_CRL_FILES={out}")
    return 0


def _print_signer(cert: x509.Certificate) -> None:
    signer = Signer.from_certificate(cert)
    print(f"subject:     {signer.subject}")
    print(f"agency code: {signer.agency_code or '(none)'}")
    print(f"issuer:      {signer.issuer}")
    print(f"valid:       {signer.not_before:%Y-%m-%d} .. {signer.not_after:%Y-%m-%d}")
    print(f"sha256:      {signer.fingerprint_sha256}")
