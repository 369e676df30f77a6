"""Coverage-guided fuzzing (libFuzzer, through atheris) of the edXML parser and verifier.

Every input must end as a package or an ``AxisError``; any other exception is a finding, and
libFuzzer writes the input that caused it to ``crash-*`` in the working directory.

    .venv/bin/pip install atheris          # not a project dependency: it may not build everywhere
    .venv/bin/python scripts/fuzz_atheris.py -max_total_time=60            # verify (the intake path)
    .venv/bin/python scripts/fuzz_atheris.py --target parse -max_total_time=60
    .venv/bin/python scripts/fuzz_atheris.py var/fuzz/corpus -max_total_time=600   # keep a corpus

The seed corpus (``var/fuzz/seeds``: a signed document, a signed status, and the SDK samples from
``../shared/domain/samples`` when present) is written on each start. Arguments other than
``--target`` go to libFuzzer. The hypothesis properties in ``tests/security/test_fuzz.py`` run
in CI; this harness is for longer runs.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["axis"]):
    from axis import pki
    from axis.edxml import Limits, build, model, parse, sign, verify
    from axis.edxml.trust import TrustAnchors
    from axis.errors import AxisError

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "var" / "fuzz" / "seeds"
SAMPLES = ROOT.parent / "shared" / "domain" / "samples"
LIMITS = Limits(max_bytes=1024 * 1024, max_depth=32, max_elements=5_000)
SENDER, RECIPIENT = "000.00.00.H98", "000.00.00.H99"


def seeds() -> TrustAnchors:
    """Write the seed corpus; returns the anchors its packages verify against."""
    ca = pki.new_ca("Fuzz CA")
    signer = pki.issue(ca, SENDER, "UBND Tỉnh Thử Nghiệm Bắc")
    now = dt.datetime.now(model.VN_TZ).replace(microsecond=0)
    code = model.Code("125", "UBND-VP")
    document = model.DocumentPackage(
        sender=model.Organization(SENDER, "UBND Tỉnh Thử Nghiệm Bắc"),
        recipients=(model.Organization(RECIPIENT, "UBND Tỉnh Thử Nghiệm Nam"),),
        code=code,
        promulgation=model.PromulgationInfo("Thành phố Bắc", now.date()),
        document_type=model.DocumentType(1, 0, "Công văn"),
        subject="V/v thử nghiệm",
        document_id=model.document_id_for(SENDER, now.date(), code),
        traces=(model.TraceHeader(SENDER, now),),
        attachments=(model.Attachment.from_bytes("1", "a.pdf", "application/pdf", b"%PDF-1.7 thu"),),
    )
    status = model.StatusPackage(
        sender=model.Organization(SENDER, "UBND Tỉnh Thử Nghiệm Bắc"),
        response_for=model.ResponseFor(RECIPIENT, "1/X", now.date(), f"{RECIPIENT},{now:%Y/%m/%d},1/X"),
        status_code=model.StatusCode.ARRIVED,
        timestamp=now,
    )
    SEEDS.mkdir(parents=True, exist_ok=True)
    for name, package in (("document", document), ("status", status)):
        (SEEDS / f"{name}.edxml").write_bytes(sign(build(package), signer.key, signer.cert_chain))
    if SAMPLES.is_dir():
        for sample in sorted(SAMPLES.rglob("*")):
            if sample.is_file() and sample.stat().st_size < LIMITS.max_bytes:
                (SEEDS / f"sample-{sample.name}").write_bytes(sample.read_bytes())
    return TrustAnchors((ca.certificate,))


def main() -> None:
    args = sys.argv[:]
    target = "verify"
    if "--target" in args:
        at = args.index("--target")
        target = args[at + 1]
        del args[at : at + 2]
    trust = seeds()

    def one_input(data: bytes) -> None:
        try:
            if target == "parse":
                parse(data, limits=LIMITS)
            else:
                verify(data, trust, limits=LIMITS)
        except AxisError:
            pass

    corpus_given = any(not a.startswith("-") for a in args[1:])
    atheris.Setup([*args, *([] if corpus_given else [str(SEEDS)])], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
