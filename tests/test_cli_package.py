"""A vendor's first session with the CLI: keys, an example package, sign, inspect, verify."""

from __future__ import annotations

from pathlib import Path

import pytest
from pdfs import cast_for, decree

from axis import pki
from axis.cli import main


def axis(*args: str | Path) -> int:
    return main([str(a) for a in args])


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    directory = tmp_path / "keys"
    assert axis("keys", "init", "--dir", directory) == 0
    assert axis("keys", "issue", "000.00.00.H98", "--name", "UBND Tỉnh Thử Nghiệm Bắc", "--dir", directory) == 0
    return directory


def test_vendor_signs_and_verifies_an_example_package(
    keys: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    attachment = tmp_path / "công văn.pdf"
    attachment.write_bytes(b"%PDF-1.7 thu nghiem")
    doc, signed = tmp_path / "doc.edxml", tmp_path / "signed.edxml"
    assert (
        axis(
            "package",
            "example",
            "--from",
            "000.00.00.H98",
            "--to",
            "000.00.00.H99",
            "--attach",
            attachment,
            "-o",
            doc,
        )
        == 0
    )
    assert (
        axis(
            "package",
            "sign",
            doc,
            "--key",
            keys / "000.00.00.H98.key.pem",
            "--cert",
            keys / "000.00.00.H98.pem",
            "-o",
            signed,
        )
        == 0
    )
    capsys.readouterr()

    assert axis("package", "verify", signed, "--trust", keys / "ca.pem") == 0
    out = capsys.readouterr().out
    assert "valid        document 000.00.00.H98," in out
    assert "agency code  000.00.00.H98" in out
    assert "policy       strict" in out

    assert axis("package", "inspect", signed) == 0
    out = capsys.readouterr().out
    assert "To           000.00.00.H99" in out
    assert "công văn.pdf  application/octet-stream  19 bytes" in out
    assert "NOT verified here" in out


def test_verify_prints_the_stable_code_and_fails_on_a_tampered_package(
    keys: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc, signed = tmp_path / "doc.edxml", tmp_path / "signed.edxml"
    axis("package", "example", "--from", "000.00.00.H98", "--to", "000.00.00.H99", "-o", doc)
    axis(
        "package",
        "sign",
        doc,
        "--key",
        keys / "000.00.00.H98.key.pem",
        "--cert",
        keys / "000.00.00.H98.pem",
        "-o",
        signed,
    )
    signed.write_bytes(signed.read_bytes().replace(b">000.00.00.H99<", b">000.00.00.G01<"))
    capsys.readouterr()
    assert axis("package", "verify", signed, "--trust", keys / "ca.pem") == 1
    assert "error: signature.digest_mismatch:" in capsys.readouterr().err


def test_sha1_sdk_style_signature_needs_the_legacy_flag(
    keys: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc, signed = tmp_path / "doc.edxml", tmp_path / "signed.edxml"
    axis("package", "example", "--from", "000.00.00.H98", "--to", "000.00.00.H99", "-o", doc)
    axis(
        "package",
        "sign",
        doc,
        "--sha1",
        "--key",
        keys / "000.00.00.H98.key.pem",
        "--cert",
        keys / "000.00.00.H98.pem",
        "-o",
        signed,
    )
    capsys.readouterr()
    assert axis("package", "verify", signed, "--trust", keys / "ca.pem") == 1
    assert "signature.algorithm.forbidden" in capsys.readouterr().err
    assert axis("package", "verify", signed, "--trust", keys / "ca.pem", "--legacy-sha1") == 0
    assert "policy       legacy:sha1" in capsys.readouterr().out


def test_inspect_shows_the_quirks_of_a_real_sdk_sample(samples: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert axis("package", "inspect", samples / "bkav_edoc_new.edxml") == 0
    out = capsys.readouterr().out
    assert "Signature    none: the package is unsigned" in out
    assert "quirk.date.dmy" in out
    assert "quirk.attachment.zipped" in out


def test_missing_file_is_a_clear_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert axis("package", "inspect", tmp_path / "nope.edxml") == 1
    assert "error: cli.file_not_found:" in capsys.readouterr().err


def test_keys_show_reads_the_agency_code(keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert axis("keys", "show", keys / "000.00.00.H98.pem") == 0
    assert "agency code: 000.00.00.H98" in capsys.readouterr().out


def test_inspect_says_who_signed_the_pdf_inside_as_which_agency_and_whether_it_holds(
    keys: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ca = pki.load(keys / "ca.key.pem", keys / "ca.pem")
    decision = tmp_path / "quyet-dinh.pdf"
    decision.write_bytes(decree(cast_for(ca, "000.00.00.H98", "UBND Tỉnh Thử Nghiệm Bắc")))
    doc = tmp_path / "doc.edxml"
    axis("package", "example", "--from", "000.00.00.H98", "--to", "000.00.00.H99", "--attach", decision, "-o", doc)
    capsys.readouterr()
    assert axis("package", "inspect", doc, "--document-trust", keys / "ca.pem") == 0
    out = capsys.readouterr().out
    assert "Files        valid" in out
    assert "File         quyet-dinh.pdf (main)" in out
    assert "Nguyễn Văn An, Chủ tịch, UBND Tỉnh Thử Nghiệm Bắc [individual]" in out
    assert "UBND Tỉnh Thử Nghiệm Bắc, 000.00.00.H98 [agency]" in out
