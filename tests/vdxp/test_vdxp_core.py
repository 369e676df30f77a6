"""The pure core of the SDK's interface, without servers: the signature, the quirks, the answers."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import stat
from pathlib import Path
from typing import Any

import pytest

from axis.edxml.model import VN_TZ
from axis.errors import CATALOGUE, AxisError
from axis.vdxp import answers, params, signing
from axis.vdxp.secret import SecretBox

DOCS = Path(__file__).resolve().parents[2] / "docs" / "integration.md"
KEY = b"axv_secret"
NOW = dt.datetime(2026, 11, 27, 3, 0, tzinfo=dt.UTC)


def headers(values: dict[str, str], *, text: str | None = None, names: str | None = None) -> list[tuple[bytes, bytes]]:
    """Raw headers as an SDK sends them: each parameter, the list, the JSON, its HMAC."""
    text = json.dumps(values) if text is None else text
    raw = [(f"XroadVnpt-{k}".encode(), v.encode()) for k, v in values.items()]
    raw += [
        (b"XroadVnpt-sign-header-key", (names if names is not None else ";".join(values)).encode()),
        (b"XroadVnpt-sign-header", text.encode()),
        (b"XroadVnpt-hash-header", hmac.new(KEY, text.encode(), hashlib.sha256).hexdigest().encode()),
    ]
    return raw


def accepted(raw: list[tuple[bytes, bytes]], mode: str = "as_sent") -> signing.Envelope:
    envelope = signing.read(raw)
    signing.verify(envelope, [KEY], mode=mode)
    signing.check_headers(envelope)
    return envelope


def refusal(code: str) -> Any:
    return pytest.raises(AxisError, match=rf"^{code}:")


BASE = {"systemid": "bac", "timestamp": "1795748400000"}


def test_the_signed_json_is_checked_as_sent_whatever_its_spacing_and_key_form() -> None:
    values = BASE | {"docId": "p-1"}
    assert accepted(headers(values)).param("docid") == "p-1"
    # Prefixed keys, spaces, another order, a number: the HMAC covers the text as sent.
    text = '{ "XroadVnpt-timestamp" : 1795748400000, "XroadVnpt-docId": "p-1", "XroadVnpt-systemid": "bac" }'
    envelope = accepted(headers(values, text=text, names="XroadVnpt-systemid;XroadVnpt-timestamp;XroadVnpt-docId"))
    assert (envelope.system_id, envelope.timestamp) == ("bac", "1795748400000")


def test_header_names_lower_cased_on_the_way_are_still_matched() -> None:
    raw = [(name.lower(), value) for name, value in headers(BASE | {"docId": "p-1"})]
    assert accepted(raw).param("docId") == "p-1"


def test_canonical_mode_checks_a_rebuilt_compact_json() -> None:
    values = BASE | {"docId": "p-1"}
    compact = json.dumps(values, separators=(",", ":"))
    raw = headers(values, text=compact)
    spaced = json.dumps(values, indent=1)  # sent with other spacing than the one signed
    raw = [(n, spaced.encode()) if n == b"XroadVnpt-sign-header" else (n, v) for n, v in raw]
    with refusal("vdxp.signature.invalid"):
        accepted(raw)
    assert accepted(raw, mode="canonical").param("docId") == "p-1"


def test_a_signature_needs_the_system_and_the_time_and_one_of_the_secrets() -> None:
    with refusal("vdxp.auth.missing"):
        signing.read(headers({"timestamp": "1"}))
    envelope = signing.read(headers(BASE))
    with refusal("vdxp.signature.invalid"):
        signing.verify(envelope, [])
    signing.verify(envelope, [b"an older secret", KEY])
    with refusal("vdxp.signature.malformed"):
        signing.read(headers(BASE, text='{"systemid": "bac", "systemid": "x", "timestamp": "1"}'))
    with refusal("vdxp.signature.malformed"):
        signing.read(headers(BASE, text='["systemid", "timestamp"]'))


def test_two_spellings_with_different_values_are_never_guessed() -> None:
    envelope = accepted(headers(BASE | {"docId": "p-2", "docid": "p-1"}, names="systemid;timestamp;docId;docid"))
    with refusal("vdxp.param.ambiguous"):
        envelope.param("docId")
    assert envelope.param("docId", spelling="docid") == "p-1"
    assert envelope.param("docId", spelling="docId") == "p-2"


@pytest.mark.parametrize(
    "text",
    ["1795748400000", "1795748400", "2026/11/27 10:00:00", "2026-11-27 10:00:00", "2026-11-27T03:00:00+00:00"],
)
def test_timestamps_in_the_forms_sdks_write(text: str) -> None:
    assert signing.parse_timestamp(text) == NOW


def test_the_timestamp_window() -> None:
    envelope = signing.read(headers(BASE))
    assert signing.check_time(envelope, NOW + dt.timedelta(seconds=299), 300) == NOW
    with refusal("vdxp.timestamp.invalid"):
        signing.check_time(envelope, NOW + dt.timedelta(seconds=301), 300)
    with refusal("vdxp.timestamp.invalid"):
        signing.check_time(envelope, NOW - dt.timedelta(seconds=301), 300)


def test_hash_file_in_the_sdks_unpadded_hex() -> None:
    data = b"x"
    while hashlib.sha256(data).digest()[0] >= 0x10:  # a digest whose first byte needs padding
        data += b"x"
    digest = hashlib.sha256(data).digest()
    assert params.sdk_hex(digest) == f"{digest[0]:x}" + params.sdk_hex(digest[1:])
    assert len(params.sdk_hex(digest)) < 64
    assert params.hash_file_matches(data, params.sdk_hex(digest))
    assert params.hash_file_matches(data, digest.hex().upper())
    assert not params.hash_file_matches(data + b" ", params.sdk_hex(digest))


EDXML = b'<?xml version="1.0" encoding="UTF-8"?>\n<edXML:edXML xmlns:edXML="urn:x">\n\n</edXML:edXML>'


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (EDXML, "application/octet-stream"),
        (EDXML, "multipart/form-data; boundary=abc"),  # multipart in name only
        (
            b"--abc\r\nContent-Disposition: form-data; name=file\r\n\r\n" + EDXML + b"\r\n--abc--\r\n",
            'multipart/form-data; boundary="abc"',
        ),
        (
            b"--xyz\r\nContent-Disposition: form-data; name=file\r\n\r\n" + EDXML + b"\r\n",
            "multipart/form-data; boundary=abc",
        ),
        (b"--xyz\n" + EDXML, "multipart/form-data"),  # no part headers, no closing delimiter
        (b"--xyz\r\n" + EDXML + b"\r\n--xyz--", "text/plain"),
    ],
)
def test_the_file_is_found_in_every_wrapping_the_sdks_use(body: bytes, content_type: str) -> None:
    hash_file = params.sdk_hex(hashlib.sha256(EDXML).digest())
    assert params.package_bytes(body, content_type, hash_file) == EDXML


def test_a_body_without_the_hashed_file_is_refused() -> None:
    with refusal("vdxp.hash_file.mismatch"):
        params.package_bytes(EDXML + b"!", "application/octet-stream", params.sdk_hex(hashlib.sha256(EDXML).digest()))
    with refusal("edxml.xml.empty"):
        params.package_bytes(b"", "application/octet-stream", "00")


def test_docid_spelling_setting() -> None:
    assert params.spellings("getEdoc=docId, updateStatus=docid") == {"getedoc": "docId", "updatestatus": "docid"}
    with refusal("config.invalid"):
        params.spellings("getEdoc=documentId")


def test_every_refusal_has_an_error_code_and_the_table_is_documented() -> None:
    assert answers.error_code("vdxp.signature.invalid") == "103"
    assert answers.error_code("signature.digest_mismatch") == "303"
    assert answers.error_code("intake.recipient.unknown") == "305"
    assert answers.error_code("status.backwards") == "307"
    assert answers.error_code("internal") == "999"
    vdxp_codes = [code for code in CATALOGUE if code.startswith("vdxp.")]
    assert all(answers.error_code(code) != "999" for code in vdxp_codes)
    assert answers.markdown_table() in DOCS.read_text(encoding="utf-8"), "copy answers.markdown_table() into the docs"
    refused = answers.fail(AxisError("vdxp.signature.replayed", "Again."))
    assert refused == {"status": "FAIL", "ErrorCode": "107", "ErrorDesc": "vdxp.signature.replayed: Again."}


def test_sdk_times_are_vietnamese_local_time() -> None:
    assert answers.sdk_time(NOW) == "2026/11/27 10:00:00"
    assert answers.sdk_time(NOW.astimezone(VN_TZ)) == "2026/11/27 10:00:00"


def test_a_sealed_secret_opens_only_with_its_key_and_for_its_system(tmp_path: Path) -> None:
    box, created = SecretBox.load_or_create(tmp_path / "keys" / "vdxp-secrets.key")
    assert created
    assert stat.S_IMODE((tmp_path / "keys" / "vdxp-secrets.key").stat().st_mode) == 0o600
    assert SecretBox.load_or_create(tmp_path / "keys" / "vdxp-secrets.key")[1] is False
    sealed = box.seal("bac", "axv_s3cret")
    assert b"axv_s3cret" not in sealed
    assert box.open("bac", sealed) == b"axv_s3cret"
    assert box.open("nam", sealed) is None
    other, _ = SecretBox.load_or_create(tmp_path / "other.key")
    assert other.open("bac", sealed) is None
    assert box.open("bac", sealed[:-1] + bytes([sealed[-1] ^ 1])) is None
    with refusal("vdxp.key.missing"):
        SecretBox.load(tmp_path / "missing.key")
    (tmp_path / "bad.key").write_text("not base64")
    with refusal("config.invalid"):
        SecretBox.load(tmp_path / "bad.key")
