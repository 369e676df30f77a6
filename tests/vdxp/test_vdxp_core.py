"""The pure core of the SDK's interface, without servers: the signature (on the captured bytes),
the 8-bit headers, the parameters, the answers' shapes and the ErrorCode table."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import stat
import uuid
from pathlib import Path
from typing import Any

import pytest

from axis.edxml.model import VN_TZ
from axis.errors import CATALOGUE, AxisError
from axis.registry.model import Agency, AgencyStatus
from axis.vdxp import answers, errorcodes, narrowed, params, replay, signing
from axis.vdxp.secret import SecretBox
from axis.vdxp.store import Waiting

DOCS = Path(__file__).resolve().parents[2] / "docs" / "integration.md"
CAPTURES = Path(__file__).resolve().parent / "sdk-wire"
KEY = b"sdk-demo-secret"


def raw_headers(name: str) -> list[tuple[bytes, bytes]]:
    """A capture's headers as aiohttp hands them over (``request.raw_headers``)."""
    (path,) = CAPTURES.glob(f"{name}-*.http")
    head = path.read_bytes().split(b"\r\n\r\n", 1)[0]
    pairs = [line.split(b":", 1) for line in head.split(b"\r\n")[1:]]
    return [(n.strip(), v.strip()) for n, v in pairs]


def verified(raw: list[tuple[bytes, bytes]], keys: list[bytes] | None = None) -> signing.Envelope:
    envelope = signing.verify(signing.read(raw), [KEY] if keys is None else keys)
    signing.check_headers(envelope)
    return envelope


def refusal(code: str) -> Any:
    return pytest.raises(AxisError, match=rf"^{code}:")


def test_every_captured_signature_verifies_over_the_header_as_received() -> None:
    for path in sorted(CAPTURES.glob("[0-9][0-9]-*.http")):
        name = path.name[:2]
        if name == "08":  # downloadEdoc2 sends no XroadVnpt header at all
            with refusal("vdxp.auth.missing"):
                signing.read(raw_headers(name))
            continue
        envelope = verified(raw_headers(name))
        assert envelope.system_id == "sdk-demo", name
        assert envelope.narrowed == (name == "26"), name


def test_a_value_cut_to_8_bits_is_verified_against_the_vietnamese_text_it_was() -> None:
    """File 26: ``C:\\vxp\\Văn bản`` went out as ``C:\\vxp\\V\\x03n b\\xa3n``."""
    envelope = verified(raw_headers("26"))
    assert envelope.param("filePath") == "C:\\vxp\\Văn bản"
    assert envelope.param("docId") == "5f3c2a9e-1b7d-4c1e-9a41-0d6f2b8e7c11"
    with refusal("vdxp.signature.invalid"):  # guessing does not open the door without the secret
        verified(raw_headers("26"), [b"another secret"])
    assert narrowed.cut("Văn bản đến") == b"V\x03n b\xa3n \x11\xbfn"
    assert list(narrowed.candidates(b"\x11\xe2"))[:2] == ["\u0111\u00e2".encode(), "\u0111\u1ee2".encode()]


def test_the_sdks_timestamp_is_vietnamese_local_time_with_milliseconds() -> None:
    moment = dt.datetime(2026, 12, 6, 7, 15, 12, 860_000, tzinfo=VN_TZ)
    assert signing.parse_timestamp("06122026T071512+0860") == moment
    assert signing.parse_timestamp("06122026T001512+0860") == moment - dt.timedelta(hours=7)  # a JVM in UTC
    for text in ("1795748400000", "1795748400", "2026/11/27 10:00:00", "2026-11-27T03:00:00+00:00"):
        assert signing.parse_timestamp(text) == dt.datetime(2026, 11, 27, 3, 0, tzinfo=dt.UTC)
    with refusal("vdxp.timestamp.invalid"):
        signing.parse_timestamp("31132026T071512+0860")
    with refusal("vdxp.timestamp.invalid"):
        signing.parse_timestamp("yesterday")


def test_names_from_earlier_calls_and_lower_cased_header_names_are_read() -> None:
    envelope = verified([(n.lower(), v) for n, v in raw_headers("25")])
    assert envelope.param("docid") == "5f3c2a9e-1b7d-4c1e-9a41-0d6f2b8e7c11"
    assert envelope.param("status") == "done"
    assert envelope.param("messagetype") == "edoc"  # left by getReceivedEdocList, signed along
    assert replay.can_change(envelope)
    assert not replay.can_change(verified(raw_headers("04")))


def test_two_spellings_with_different_values_are_never_guessed() -> None:
    values = {"systemid": "bac", "timestamp": "06122026T071512+0860", "docId": "p-2", "docid": "p-1"}
    text = json.dumps({f"XroadVnpt-{k}": v for k, v in values.items()}, separators=(",", ":"))
    raw = [(f"XroadVnpt-{k}".encode(), v.encode()) for k, v in values.items()]
    raw += [
        (b"XroadVnpt-sign-header-key", ";".join(values).encode()),
        (b"XroadVnpt-sign-header", text.encode()),
        (b"XroadVnpt-hash-header", hmac.new(KEY, text.encode(), hashlib.sha256).hexdigest().encode()),
    ]
    envelope = verified(raw)
    with refusal("vdxp.param.ambiguous"):
        envelope.param("docId")
    assert (envelope.param("docId", spelling="docid"), envelope.param("docId", spelling="docId")) == ("p-1", "p-2")


def test_sendedoc_may_send_one_header_for_two_signed_spellings_but_only_with_the_last_value() -> None:
    """Capture 29: docId and docid signed (equal here), one XroadVnpt-docId header sent."""
    raw = raw_headers("29")
    assert [n for n, _ in raw if n.lower() == b"xroadvnpt-docid"] == [b"XroadVnpt-docId"]
    assert verified(raw).param("docId") == "5f3c2a9e-1b7d-4c1e-9a41-0d6f2b8e7c11"
    other = [(n, b"a1c4e7f0-2b5d-4e8a-9c3f-112233445566" if n == b"XroadVnpt-docId" else v) for n, v in raw]
    with refusal("vdxp.signature.altered"):
        verified(other)  # a value nobody signed, even though the HMAC still holds
    with refusal("vdxp.signature.altered"):
        verified([*raw, (b"XroadVnpt-docid", b"a1c4e7f0-2b5d-4e8a-9c3f-112233445566")])


def test_a_signature_needs_the_control_headers_and_a_known_secret() -> None:
    raw = raw_headers("13")
    with refusal("vdxp.auth.missing"):
        signing.read([(n, v) for n, v in raw if n != b"XroadVnpt-hash-header"])
    with refusal("vdxp.signature.invalid"):
        verified(raw, [])
    verified(raw, [b"an older secret", KEY])
    with refusal("vdxp.signature.malformed"):
        signing.read([(n, b"not json" if n == b"XroadVnpt-sign-header" else v) for n, v in raw])


def test_a_stale_signed_set_may_not_change_anything() -> None:
    day = dt.timedelta(days=1)
    replay.check_fresh(day, day, "updateStatus")
    with refusal("vdxp.signature.stale"):
        replay.check_fresh(day + dt.timedelta(seconds=1), day, "updateStatus")


def test_the_sdks_body_is_the_file_and_a_crlf_bound_by_its_lossy_hash_file() -> None:
    (path,) = CAPTURES.glob("01-*.http")
    body = path.read_bytes().split(b"\r\n\r\n", 1)[1]
    (hash_file,) = [v for n, v in raw_headers("01") if n == b"XroadVnpt-hash-file"]
    assert len(hash_file) == 59  # leading zeros dropped
    assert params.package_bytes(body, hash_file.decode()) == body[:-2]
    assert params.package_bytes(body[:-2], hash_file.decode()) == body[:-2]  # a client that sends the bare file
    with refusal("vdxp.hash_file.mismatch"):
        params.package_bytes(body + b" ", hash_file.decode())
    with refusal("edxml.xml.empty"):
        params.package_bytes(b"", "00")


def test_docid_spelling_setting() -> None:
    assert params.spellings("getEdoc=docId, updateStatus=docid") == {"getedoc": "docId", "updatestatus": "docid"}
    with refusal("config.invalid"):
        params.spellings("getEdoc=documentId")


def test_every_refusal_has_an_error_code_and_the_table_is_documented() -> None:
    assert errorcodes.error_code("vdxp.signature.invalid") == "103"
    assert errorcodes.error_code("signature.digest_mismatch") == "303"
    assert errorcodes.error_code("intake.recipient.unknown") == "305"
    assert errorcodes.error_code("auth.address.refused") == "108"
    assert errorcodes.error_code("internal") == "999"
    assert all(errorcodes.error_code(code) != "999" for code in CATALOGUE if code.startswith("vdxp."))
    assert errorcodes.markdown_table() in DOCS.read_text(encoding="utf-8"), "copy errorcodes.markdown_table() to docs"


def test_answers_are_flat_ascii_and_never_null() -> None:
    refused = answers.fail(AxisError("vdxp.signature.invalid", "Sai chữ ký."), doc_id=True)
    assert refused == {
        "status": "FAIL",
        "ErrorCode": "103",
        "ErrorDesc": "vdxp.signature.invalid: Sai chữ ký.",
        "DocId": "",
    }
    assert answers.dumps(refused).isascii()
    agency = Agency("000.00.11.H99", "Sở Tài chính", "000.00.00.H99")
    retired = Agency("000.00.00.H97", "Cũ", None, AgencyStatus.RETIRED, "000.00.00.H99")
    items = [
        answers.agency_item(agency),
        answers.qd20_item(agency),
        answers.unit_item(retired, center="", modified=None, version=0),
        answers.received_item(
            Waiting(
                id=uuid.UUID(int=1),
                kind="document",
                document_id="d",
                sender_code="s",
                status_code=None,
                signature_policy="strict",
                state="queued",
                created_at=dt.datetime(2026, 12, 6, tzinfo=dt.UTC),
                fetched_at=None,
                recipients=(),
            )
        ),
    ]
    for item in items:
        assert None not in item.values(), item
    assert (items[2]["deleted"], items[2]["version"], items[2]["pid"]) == (True, 0, "0")
    assert answers.sdk_time(dt.datetime(2026, 11, 27, 3, 0, tzinfo=dt.UTC)) == "2026/11/27 10:00:00"


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
