"""Every word a clerk or an administrator reads is Vietnamese: refusals, history, stored reasons.

The catalogue of error codes and ``axis.web.messages`` are checked against each other here, so a
new code without a Vietnamese message, or a message that names a detail no raise site passes,
fails this test before it reaches a page.
"""

from __future__ import annotations

import ast
import dataclasses
import re
import string
from pathlib import Path
from typing import Any

import pytest

from axis.broker import dead_letters
from axis.errors import CATALOGUE, AxisError
from axis.registry import systems
from axis.registry.model import Agency, Certificate, System
from axis.web import messages, wording
from axis.web.messages import MESSAGES, VARIANTS, message
from axis.web.reasons import reason
from axis.web.wording import change_phrase, changes, value_text

AXIS = Path(messages.__file__).resolve().parent.parent

#: Words that give away an untranslated text (none of them is a Vietnamese syllable).
ENGLISH = re.compile(
    r"\b(the|is|are|not|was|were|no|has|have|must|cannot|does|already|with|and|or|of|this|unknown|invalid|missing)\b",
    re.IGNORECASE,
)

#: A plausible value for every detail a template names (a test below insists on one per field).
SAMPLES: dict[str, Any] = {
    "active": "000.00.12.H53",
    "address": "203.0.113.7",
    "upstream_code": "103",
    "upstream_description": "Sai chữ ký",
    "agency_code": "000.00.11.H53",
    "algorithm": "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
    "allowed": ["05", "06"],
    "bad": [{"line": 3, "code": "UBND", "reason": "malformed code"}],
    "bad_rows": 3,
    "certificate_agency": "000.00.99.H99",
    "chain": ["000.00.11.H53", "000.00.12.H53"],
    "code": "04",
    "code_qd20": "H53.11",
    "column": "name",
    "content_ids": ["tep1.pdf"],
    "document_id": "000.00.11.H53,2026/11/20,123/UBND-VP",
    "earliest": "2026-11-01T00:00:00+00:00",
    "element": "To",
    "elements": 2_000_000,
    "encoding": "UTF-16",
    "expected": ["edXML:Code"],
    "field": "name",
    "fingerprint": "ab" * 32,
    "first_seen_seconds_ago": 12_600,
    "form": "QCVN 102",
    "header": ["ma", "ten"],
    "issuer": "CN=CA thử nghiệm",
    "latest": "2026-11-20T03:05:00+00:00",
    "limit": 10_485_760,
    "line": 12,
    "locked_until": "2026-11-20T02:15:00+00:00",
    "method": "PUT",
    "missing": ["code"],
    "namespace": "urn:khac",
    "offset": 42,
    "operation": "getDocument",
    "outside": ["000.00.20.H53", "000.00.21.H53"],
    "package_id": "5b3f2d9e-3c1a-4a57-9d1f-0c1e2b3a4d5f",
    "package_ids": ["5b3f2d9e-3c1a-4a57-9d1f-0c1e2b3a4d5f"],
    "parameter": "docId",
    "parent": "000.00.00.H53",
    "path": "/edXML:edXML/edXML:edXMLEnvelope/edXML:edXMLHeader",
    "reached": "05",
    "recipient": "000.00.30.H53",
    "recipients": ["000.00.31.H53"],
    "requested": "000.00.11.H53",
    "retry_after": 5,
    "revoked_at": "2026-11-19T09:00:00+00:00",
    "scope": "000.00.00.H53",
    "sender": "000.00.11.H53",
    "serial": 4711,
    "size": 12_000_000,
    "state": "delivered",
    "states": {"5b3f2d9e-3c1a-4a57-9d1f-0c1e2b3a4d5f": "delivered"},
    "status": 503,
    "subject": "CN=Văn thư Sở Y tế",
    "successor": "000.00.12.H53",
    "successor_code": "000.00.12.H53",
    "system": "bac",
    "timestamp": "2026-11-21T09:00:00+00:00",
    "token_id": 7,
    "username": "vanthu.bac",
    "value": "maybe",
    "values": {"docId": "a", "docid": "b"},
    "vhost": "axis",
}

#: Raise sites a scan of the source cannot read (the code or the details are computed): what they pass.
COMPUTED: dict[str, frozenset[str]] = {
    # axis.exchange.lifecycle.check, and axis.exchange.flows adds the recipient agency
    **dict.fromkeys(
        (c for c in CATALOGUE if c.startswith("status.") and c.count(".") == 1),
        frozenset({"code", "by", "reached", "allowed", "agency_code"}),
    ),
    # axis.edxml.schema: a schema failure under the code of its simple type, or of the signature
    **dict.fromkeys(
        (
            "edxml.schema.invalid",
            "edxml.agency_code.malformed",
            "edxml.status_code.unknown",
            "edxml.business_doc_type.unknown",
            "edxml.date.invalid",
            "edxml.timestamp.invalid",
            "edxml.document_id.malformed",
            "signature.multiple",
            "signature.location",
            "signature.malformed",
            "signature.certificate.malformed",
        ),
        frozenset({"path", "reason", "line", "expected"}),
    ),
    # axis.exchange.admission: a recipient's registry refusal, with the registry's details
    **dict.fromkeys(
        ("intake.recipient.unknown", "intake.recipient.unserved", "intake.recipient.retired"),
        frozenset(
            {
                "recipient",
                "registry_code",
                "agency_code",
                "requested",
                "chain",
                "reason",
                "system",
                "reason_qd20",
                "form",
            }
        ),
    ),
    # axis.exchange.flows: business.target.{state}
    "business.target.revoked": frozenset({"document_id"}),
    "business.target.superseded": frozenset({"document_id"}),
    # details passed on with ** (axis.edxml.xmlsafe, axis.registry.resolve, axis.exchange.freshness,
    # axis.vdxp.signing, axis.registry.importfile)
    **dict.fromkeys(
        ("edxml.xml.malformed", "edxml.xml.entity_forbidden", "edxml.xml.too_deep"), frozenset({"line", "column"})
    ),
    "registry.agency.unserved": frozenset({"agency_code", "requested", "chain", "reason", "system"}),
    **dict.fromkeys(
        ("intake.timestamp.future", "intake.timestamp.stale"),
        frozenset({"element", "timestamp", "now", "earliest", "latest"}),
    ),
    "vdxp.signature.malformed": frozenset({"header", "names", "listed", "signed", "parameter"}),
    "registry.import.encoding": frozenset({"problem", "line", "encoding"}),
    # axis.http.params: a URL parameter is named by ``parameter``, a form field by ``field``
    "http.bad_request": frozenset({"field", "parameter", "character", "max_length", "allowed", "low", "high"}),
}


def _raise_sites() -> tuple[dict[str, set[str]], set[str]]:
    """code -> the detail names its literal raise sites pass, and the codes some site passes ``**``."""
    passed: dict[str, set[str]] = {}
    spread: set[str] = set()
    for path in AXIS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)):
                continue
            code = node.args[0].value
            if code not in CATALOGUE:
                continue
            names = passed.setdefault(code, set())
            for keyword in node.keywords:
                if keyword.arg is None:
                    spread.add(code)
                else:
                    names.add(keyword.arg)
    return passed, spread


def _segments(template: str) -> list[list[str]]:
    return [segment.split("|") for segment in re.findall(r"\[([^\[\]]*)\]", template)]


def _fields(template: str) -> set[str]:
    return {
        name
        for segment in _segments(template)
        for alternative in segment
        for _, name, _, _ in string.Formatter().parse(alternative)
        if name
    }


def _templates_of(code: str) -> dict[str, str]:
    return {key: text for key, text in MESSAGES.items() if key == code or key.startswith(f"{code}:")}


def _reads_as_vietnamese(text: str) -> None:
    assert not ENGLISH.search(text), text
    assert any(c.isalpha() and ord(c) > 127 for c in text), text
    assert not re.search(r"[{}\[\]|]", text), text
    assert "None" not in text, text


# --- refusals -----------------------------------------------------------------------------------------


def test_every_error_code_has_a_vietnamese_message() -> None:
    assert sorted(set(CATALOGUE) - set(MESSAGES)) == []
    for key in MESSAGES:
        code, _, variant = key.partition(":")
        assert code in CATALOGUE, key
        assert not variant or code in VARIANTS, f"{key}: {code} picks no variant (axis.web.messages.VARIANTS)"


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_a_message_reads_as_vietnamese_with_or_without_its_details(key: str) -> None:
    code = key.partition(":")[0]
    variant = {VARIANTS[code]: key.partition(":")[2]} if ":" in key else {}
    bare = AxisError(code, "an English message", **variant)
    full = AxisError(code, "an English message", **{**SAMPLES, **variant})
    assert message(bare) == messages.fill(MESSAGES[key], variant)
    assert message(full) == messages.fill(MESSAGES[key], {**SAMPLES, **variant})
    for text in (message(bare), message(full)):
        _reads_as_vietnamese(text)
        assert "English" not in text


def test_templates_keep_their_fields_inside_optional_segments() -> None:
    specs = set(messages._SPECS)
    for key, template in MESSAGES.items():
        outside = re.sub(r"\[[^\[\]]*\]", "", template)
        assert not re.search(r"[{}\[\]|]", outside), f"{key}: a field or bracket outside [...]"
        for segment in _segments(template):
            for alternative in segment:
                for _, name, spec, conversion in string.Formatter().parse(alternative):
                    if name is None:
                        continue
                    assert name.isidentifier(), f"{key}: {{{name}}}"
                    assert not spec or spec in specs, f"{key}: unknown format spec {spec!r}"
                    assert conversion is None, f"{key}: !{conversion}"
                    assert name in SAMPLES, f"{key}: add a sample value for {name!r} to this test"


def test_templates_name_only_details_their_raise_sites_pass() -> None:
    passed, spread = _raise_sites()
    for code in CATALOGUE:
        assert code not in spread or code in COMPUTED, f"{code} is raised with **details: list them in COMPUTED"
        known = passed.get(code, set()) | COMPUTED.get(code, frozenset())
        for key, template in _templates_of(code).items():
            assert _fields(template) <= known, f"{key} names {sorted(_fields(template) - known)}; sites pass {known}"
        if code in VARIANTS:
            assert VARIANTS[code] in known, f"{code}: no raise site passes {VARIANTS[code]!r}"


def test_administrator_reads_the_agency_code_that_was_not_found() -> None:
    error = AxisError("registry.agency.unknown", "No agency has the code 'UBND'.", agency_code="UBND")
    assert message(error) == "Danh bạ không có cơ quan nào mang mã «UBND»."
    assert message(AxisError("registry.agency.unknown", "x")) == "Danh bạ không có cơ quan nào mang mã này."


def test_alternatives_follow_the_details_the_raise_site_had() -> None:
    by_code = AxisError("registry.agency.exists", "x", agency_code="000.00.11.H53")
    by_qd20 = AxisError("registry.agency.exists", "x", code_qd20="H53.11")
    assert message(by_code) == "Đã có cơ quan mang mã «000.00.11.H53»."
    assert message(by_qd20) == "Đã có cơ quan khác mang mã QĐ 20/2020 «H53.11»."
    assert message(AxisError("registry.agency.exists", "x")) == "Đã có cơ quan mang mã này."


def test_a_detail_picks_the_precise_message_when_there_is_one() -> None:
    itself = AxisError("registry.agency.successor_invalid", "x", agency_code="000.00.11.H53", reason="itself")
    assert message(itself) == "Cơ quan «000.00.11.H53» không thể kế thừa chính nó."
    retired = AxisError(
        "registry.agency.successor_invalid",
        "x",
        agency_code="000.00.11.H53",
        successor="000.00.12.H53",
        reason="retired",
        chain=["000.00.12.H53", "000.00.13.H53"],
        active="000.00.13.H53",
    )
    assert message(retired) == (
        "Cơ quan kế thừa «000.00.12.H53» cũng đã giải thể (chuỗi cơ quan kế thừa: 000.00.12.H53 → 000.00.13.H53); "
        "hãy chọn «000.00.13.H53», nơi văn bản của cơ quan đó đang được chuyển tới."
    )
    dead_end = AxisError(
        "registry.agency.successor_invalid", "x", successor="000.00.12.H53", reason="retired", active=None
    )
    assert "không dẫn tới cơ quan nào đang hoạt động" in message(dead_end)
    mismatch = AxisError("web.password.weak", "Hai lần nhập mật khẩu không giống nhau.", field="again")
    assert message(mismatch) == "Hai lần nhập mật khẩu không giống nhau."
    unknown_variant = AxisError("registry.import.format", "x", problem="something new", line=4)
    assert message(unknown_variant).startswith("Không đọc được tệp nhập")


def test_sizes_limits_and_lists_are_shown_the_vietnamese_way() -> None:
    too_large = AxisError("edxml.xml.too_large", "x", size=12_000_000, limit=10_485_760)
    assert message(too_large) == (
        "Gói tin vượt quá giới hạn dung lượng 10,0 MB đã cấu hình trên trục (gói tin có 11,4 MB)."
    )
    many = AxisError("edxml.xml.too_many_elements", "x", elements=2_000_000, limit=1_000_000)
    assert "2.000.000 phần tử" in message(many)
    columns = AxisError("registry.import.format", "x", problem="column_missing", missing=["code"], header=["ma", ""])
    assert message(columns) == "Dòng tiêu đề thiếu cột «code» (tệp có các cột: «ma»)."


def test_a_status_refusal_names_the_steps_in_words() -> None:
    error = AxisError(
        "status.backwards", "x", code="04", by="recipient", reached="05", allowed=["05", "06"], agency_code="H53"
    )
    assert message(error) == (
        "Trạng thái 04 (Đã phân công) lùi về trước bước bên nhận «H53» đã đạt: 05 (Đang xử lý); "
        "có thể gửi: 05 (Đang xử lý), 06 (Hoàn thành)."
    )
    first = AxisError("status.not_registered", "x", code="04", by="recipient", reached=None, allowed=[])
    assert message(first).endswith("; bên nhận chưa gửi trạng thái nào.")


def test_a_successor_chain_of_one_agency_is_not_shown_as_a_chain() -> None:
    direct = AxisError("intake.recipient.unserved", "x", recipient="000.00.30.H53", chain=["000.00.30.H53"])
    assert message(direct) == "Chưa có hệ thống kết nối nào phục vụ cơ quan nhận «000.00.30.H53»."
    disabled = AxisError("intake.recipient.unserved", "x", recipient="000.00.30.H53", system="nam", reason="disabled")
    assert message(disabled) == "Hệ thống «nam» phục vụ cơ quan nhận «000.00.30.H53» đang bị vô hiệu hóa."


def test_times_in_a_refusal_are_vietnam_time() -> None:
    revoked = AxisError("signature.certificate.revoked", "x", revoked_at="2027-12-05T23:07:15+00:00")
    assert message(revoked).endswith("; thu hồi lúc 06/12/2027 06:07.")
    locked = AxisError("web.login.locked", "x", locked_until=None)
    assert message(locked) == "Đăng nhập sai quá nhiều lần: tài khoản tạm khóa trong ít phút."


def test_details_of_an_unexpected_shape_never_break_the_page() -> None:
    odd = AxisError("edxml.xml.too_large", "x", size="lớn lắm", limit=object())
    assert message(odd) == "Gói tin vượt quá giới hạn dung lượng đã cấu hình trên trục."
    chain = AxisError("registry.agency.retired_without_successor", "x", agency_code="H53", chain=7)
    assert message(chain) == "Cơ quan «H53» đã giải thể và không có cơ quan kế thừa."
    path = AxisError("edxml.date.invalid", "x", path="/*/*[1]/*[2]")  # the reader's paths say nothing
    assert "/*" not in message(path)


def test_a_code_newer_than_the_messages_still_gets_vietnamese() -> None:
    error = AxisError("internal", "An internal error occurred.")
    error.code = "something.new"
    assert message(error) == "Trục không thực hiện được yêu cầu (mã lỗi something.new)."


# --- history -----------------------------------------------------------------------------------------


def test_administrator_reads_a_retirement_in_words() -> None:
    assert change_phrase("status", "active", "retired") == "Tình trạng: Đang hoạt động → Đã giải thể"
    assert change_phrase("status", "active", "disabled") == "Tình trạng: Đang hoạt động → Đã vô hiệu hóa"
    assert change_phrase("revoked", False, True) == "Đã thu hồi: không → có"
    assert change_phrase("successor_code", None, "000.00.12.H53") == "Cơ quan kế thừa: (trống) → 000.00.12.H53"
    assert change_phrase("role", "clerk", "admin") == "Vai trò: Văn thư → Quản trị viên"


def test_history_times_are_vietnam_time_never_utc() -> None:
    phrase = change_phrase("not_after", "2026-06-30T17:00:00+00:00", "2027-12-05T23:07:15+00:00")
    assert phrase == "Hiệu lực đến: 01/07/2026 00:00 → 06/12/2027 06:07"
    assert "+00:00" not in phrase
    assert value_text("previous_valid_until", "2027-12-05T23:07:15+00:00") == "06/12/2027 06:07"


def test_every_field_the_history_records_has_a_vietnamese_name() -> None:
    recorded = {f.name for model in (Agency, System, Certificate) for f in dataclasses.fields(model)}
    recorded |= {"agency_code", "token_id", "label", "secret_id", "secret_ids", "key_id", "previous_valid_until"}
    recorded |= {"username", "full_name", "role", "system", "status"}  # axis.accounts.users._public
    recorded |= {"requeued", "package_ids"}  # axis.exchange.redelivery
    assert sorted(recorded - set(wording.FIELDS)) == []
    for name in wording.FIELDS.values():
        _reads_as_vietnamese(name)


def test_a_system_update_lists_only_what_changed() -> None:
    before = {"id": "bac", "name": "eOffice Bắc", "allow_sha1": False, "allowed_addresses": [], "status": "active"}
    after = {**before, "allow_sha1": True, "allowed_addresses": ["10.1.2.0/24", "203.0.113.7/32"]}
    assert changes(before, after) == [
        ("Chấp nhận chữ ký SHA-1", "không", "có"),
        ("Địa chỉ được phép gửi", "(mọi địa chỉ)", "10.1.2.0/24, 203.0.113.7/32"),
    ]


def test_a_creation_shows_every_field_it_set() -> None:
    created = {"code": "000.00.11.H53", "name": "Sở Y tế", "parent_code": None, "status": "active"}
    assert changes(None, created) == [
        ("Mã định danh", "(trống)", "000.00.11.H53"),
        ("Tên", "(trống)", "Sở Y tế"),
        ("Tình trạng", "(trống)", "Đang hoạt động"),
    ]


# --- stored reasons -----------------------------------------------------------------------------------

STORED_REASONS = {
    "the recipient system's consumer rejected the message": "Phần mềm của hệ thống nhận đã từ chối gói tin",
    "the recipient system's consumer failed to take the message too many times": (
        "Phần mềm của hệ thống nhận không nhận được gói tin sau nhiều lần thử"
    ),
    "the message expired in the recipient system's queue": (
        "Gói tin hết hạn trong hàng đợi của hệ thống nhận (không được lấy về kịp)"
    ),
    "the recipient system's queue was full": "Hàng đợi của hệ thống nhận đã đầy",
    "the recipient system was disabled": "Hệ thống nhận đã bị vô hiệu hóa",
    "dead-lettered": "Trục không chuyển được gói tin đến hệ thống nhận",
    "dead-lettered (x-foo)": "Trục không chuyển được gói tin đến hệ thống nhận (RabbitMQ báo: x-foo)",
    "hệ thống nhận báo không xử lý được gói tin (updateStatus fail)": "Hệ thống nhận báo không xử lý được gói tin",
    "package 5b3f2d9e-3c1a-4a57-9d1f-0c1e2b3a4d5f not acknowledged within 1.5 h": (
        "Gói tin 5b3f2d9e-3c1a-4a57-9d1f-0c1e2b3a4d5f: quá 1,5 giờ mà hệ thống nhận chưa xác nhận đã nhận"
    ),
    "due date 2026-11-20 passed before completion (06)": "Quá hạn xử lý 20/11/2026 mà chưa hoàn thành (06)",
    "package 5b3f2d9e-3c1a-4a57-9d1f-0c1e2b3a4d5f handed to the national axis, no answer from the recipient within 24 h": (
        "Gói tin 5b3f2d9e-3c1a-4a57-9d1f-0c1e2b3a4d5f: đã chuyển lên trục liên thông quốc gia nhưng quá 24 giờ "
        "chưa có trạng thái nào của nơi nhận"
    ),
    "hệ thống nhận báo không xử lý được gói tin (updateStatus fail): intake.recipient.unknown: Recipient 000.00.07.H98": (
        "Hệ thống nhận báo không xử lý được gói tin; lý do hệ thống nhận nêu: intake.recipient.unknown: "
        "Recipient 000.00.07.H98"
    ),
}


@pytest.mark.parametrize(("stored", "shown"), STORED_REASONS.items())
def test_a_stored_reason_is_shown_in_vietnamese(stored: str, shown: str) -> None:
    assert reason(stored) == shown


def test_the_reasons_the_axis_writes_are_all_translated() -> None:
    written = {*dead_letters._REASONS.values(), systems.DISABLED_REASON, "dead-lettered"}
    for text in written:
        assert reason(text) != text
        _reads_as_vietnamese(reason(text))


def test_a_reason_the_axis_does_not_know_is_shown_as_written() -> None:
    assert reason("hệ thống đã gỡ bỏ") == "hệ thống đã gỡ bỏ"
    assert reason(None) == ""
    assert reason("") == ""
