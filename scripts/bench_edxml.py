"""Benchmark: the axis's whole edXML check against bare signxml verification of the same bytes.

For a 30 KB and a 1 MB signed package, prints packages/s for
  axis     hardened parse + schema validation + signature and chain verification + model
  signxml  XMLVerifier().verify(...) with the same trust anchor, nothing else
measured in the same run, alternating, on one core. The ratio axis/signxml is the figure: it says
what everything the axis adds costs relative to the cryptographic check it cannot avoid.

    .venv/bin/python scripts/bench_edxml.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import builders
from signxml import SignatureConfiguration, XMLVerifier

from axis import pki
from axis.edxml import build, default_schemas, sign, verify
from axis.edxml import model as m
from axis.edxml.trust import TrustAnchors


def package_of_size(identity: pki.Identity, target: int) -> bytes:
    """A signed document whose attachment brings it to about ``target`` bytes."""
    base = len(sign(build(builders.document(attachments=())), identity.key, identity.cert_chain))
    payload = os.urandom(max(0, (target - base - 600) * 3 // 4))
    attachment = m.Attachment.from_bytes("1", "phu-luc.pdf", "application/pdf", payload)
    document = builders.document(attachments=(attachment,))
    return sign(build(document), identity.key, identity.cert_chain)


def rate(action: Callable[[], object], seconds: float) -> float:
    action()  # warm up
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        action()
        count += 1
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0, help="time per measurement")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per size")
    args = parser.parse_args()

    ca = pki.new_ca("Bench CA")
    agency = pki.issue(ca, "000.00.00.H98", "UBND Tỉnh Thử Nghiệm Bắc")
    trust = TrustAnchors((ca.certificate,))
    default_schemas()  # loaded once per process, as in the axis
    with tempfile.NamedTemporaryFile("wb", suffix=".pem", delete=False) as ca_file:
        ca_file.write(pki.cert_pem(ca.certificate))
    bare_config = SignatureConfiguration(expect_references=1)

    print(f"{'package':>10} {'axis/s':>10} {'signxml/s':>10} {'ratio':>7}")
    for label, size in (("30 KB", 30_000), ("1 MB", 1_000_000)):
        data = package_of_size(agency, size)
        ours, bare = [], []
        for _ in range(args.rounds):
            ours.append(rate(lambda d=data: verify(d, trust), args.seconds))
            bare.append(
                rate(
                    lambda d=data: XMLVerifier().verify(d, ca_pem_file=ca_file.name, expect_config=bare_config),
                    args.seconds,
                )
            )
        axis_rate, bare_rate = max(ours), max(bare)
        ratio = axis_rate / bare_rate
        print(f"{label:>10} {axis_rate:>10.1f} {bare_rate:>10.1f} {ratio:>7.2f}   ({len(data):,} bytes)")
    Path(ca_file.name).unlink()


if __name__ == "__main__":
    main()
