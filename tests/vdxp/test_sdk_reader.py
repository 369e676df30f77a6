"""What the SDK makes of an answer: the captured answers are read in full, and every loss README §7
observed (nulls, fake successes, garbage, silent zeros) is reproduced from an answer built inline."""

from __future__ import annotations

import base64
import gzip
from dataclasses import replace
from pathlib import Path

import pytest
from sdk_reader import SdkResult, commons_base64_decode, read_reply, sdk_accepts

from axis.federation.sdk.gson import GsonNumber, parse_gson
from axis.federation.sdk.transport import Reply, parse_reply

WIRE = Path(__file__).parent / "sdk-wire"
OK = '"status":"OK","ErrorCode":"0","ErrorDesc":"Success"'
LISTED_DOC = "5f3c2a9e-1b7d-4c1e-9a41-0d6f2b8e7c11"
RECEIVED_ITEM = {
    "docId": LISTED_DOC,
    "serviceType": "eDoc",
    "messageType": "edoc",
    "created_time": "2026/12/06 07:15:09",
    "updated_time": "2026/12/06 07:15:09",
    "from": "000.00.00.H98",
    "to": "000.00.00.H99",
    "status": "initial",
    "status_desc": "waiting to be fetched",
}
OPERATION_OF = {
    **dict.fromkeys((1, 2, 3, 28), "sendEdoc"),
    **dict.fromkeys((4, 5, 20, 21, 22, 23), "getReceivedEdocList"),
    **dict.fromkeys((6, 24, 26, 27), "getEdoc"),
    **dict.fromkeys((9, 10, 11, 25), "updateStatus"),
    7: "downloadEdoc",
    8: "downloadEdoc2",
    12: "getSentEdocList",
    13: "countReceiveEdoc",
    14: "countReceiveStatus",
    15: "getAgenciesList",
    16: "getAgenciesListQD20",
    17: "getSynchronizeUnit",
    18: "registerAgency",
    19: "deleteAgency",
}


def package() -> bytes:
    """The edoc package of sendEdoc capture 01 (the getEdoc and download answers carry it)."""
    return next(WIRE.glob("01-*.http")).read_bytes().split(b"\r\n\r\n", 1)[1][:-2]


def answer(body: str | bytes, status: int = 200, content_type: str = "application/json") -> Reply:
    raw = body.encode("utf-8") if isinstance(body, str) else body
    return Reply(status, "", (("Content-Type", content_type), ("Content-Length", str(len(raw)))), raw)


def expected_for(number: int) -> dict[str, object]:
    """Beyond OK/"0"/"Success": what each captured answer must give the caller."""
    edoc = {"data": package(), "file": package()}
    return {
        1: {"doc_id": "a1c4e7f0-2b5d-4e8a-9c3f-112233445566"},
        2: {"doc_id": "b2d5f801-3c6e-4f9b-8d40-223344556677"},
        3: {"doc_id": "c3e60912-4d7f-4a0c-9e51-334455667788"},
        4: {"items": (RECEIVED_ITEM,)},
        5: {"items": ({**RECEIVED_ITEM, "docId": "8b0e4d62-3a5f-4f0c-b2d9-6c1a7e9f3d22", "messageType": "status"},)},
        6: edoc,
        7: {"status": "SUCCESS", "error_desc": None, "file": package()},
        8: {"status": "SUCCESS", "error_desc": None, "file": package()},
        12: {"items": ({"senderDocId": "a1c4e7f0-2b5d-4e8a-9c3f-112233445566", "receiveStatus": "done"},)},
        13: {"count": 1},
        14: {"count": 1},
        15: {"items": ({"code": "000.00.00.H98", "pid": "0", "oldCode": "H98"}, {"code": "000.00.00.H99"})},
        16: {"items": ({"code": "000.00.00.H98", "code102": "000.00.00.H98"},)},
        17: {"items": ({"code": "000.00.00.H98", "version": 3, "deleted": False, "isAgency": True},)},
        20: {"items": (RECEIVED_ITEM,)},
        24: edoc,
        26: edoc,
        27: edoc,
        28: {"doc_id": "a1c4e7f0-2b5d-4e8a-9c3f-112233445566"},
    }.get(number, {})


def ok_with(extra: str = "") -> str:
    """An OK answer's JSON text with more members (``extra`` starts with a comma)."""
    return "{" + OK + extra + "}"


def read(operation: str, reply: Reply, header: dict[str, object] | None = None) -> SdkResult:
    """What the SDK returns, where it returns an object at all."""
    result = read_reply(operation, reply, header)
    assert result is not None, f"the SDK's {operation} returns null"
    return result


def swallowing(result: SdkResult | None) -> SdkResult:
    """The result, after checking that the SDK printed and swallowed an exception while filling it."""
    assert result is not None
    assert result.swallowed, result
    return replace(result, swallowed=())


ANSWERS = sorted((WIRE / "answers").glob("[0-9][0-9]-*.http"))


@pytest.mark.parametrize("path", ANSWERS, ids=[p.stem for p in ANSWERS])
def test_the_sdk_accepts_every_captured_answer_with_its_values(path: Path) -> None:
    number = int(path.name[:2])
    result = sdk_accepts(OPERATION_OF[number], parse_reply(path.read_bytes()), {"filePath": "xml"})
    expected = {"status": "OK", "error_code": "0", "error_desc": "Success", **expected_for(number)}
    for name, value in expected.items():
        if name != "items":
            assert getattr(result, name) == value, name
            continue
        assert isinstance(value, tuple)
        assert result.items is not None
        assert len(result.items) == len(value)
        for item, subset in zip(result.items, value, strict=True):
            assert subset.items() <= item.items()


def test_a_list_item_holds_exactly_the_fields_the_sdk_reads() -> None:
    result = read("getAgenciesListQD20", answer(ok_with(',"data":[{"code":"X","pid":"0","extra":1}]')))
    assert result.items == ({"code": "X", "id": None, "mail": None, "name": None, "code102": None},)


# --- sendEdoc (HttpURLConnection, US-ASCII) ------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        '{"status":"OK","ErrorCode":"0","ErrorDesc":"Success"}',
        '{"status":"OK","ErrorCode":"0","ErrorDesc":"Success","DocId":null}',
        '{"ErrorCode":"0","ErrorDesc":"Success","DocId":"d1"}',
        '{"status":"FAIL","ErrorCode":"17","ErrorDesc":"Rejected"}',
        "",
    ],
    ids=["no DocId", "DocId null", "no status", "a failure without DocId", "empty body"],
)
def test_send_edoc_loses_every_field_when_one_of_the_four_is_missing(body: str) -> None:
    assert swallowing(read_reply("sendEdoc", answer(body))) == SdkResult("sendEdoc", None, None, None)
    with pytest.raises(AssertionError, match="lose information"):
        sdk_accepts("sendEdoc", answer(body))


def test_send_edoc_returns_null_for_an_html_page_and_for_an_error_without_body() -> None:
    assert read_reply("sendEdoc", answer("<html><body>Bad gateway</body></html>", 502, "text/html")) is None
    assert read_reply("sendEdoc", answer("", 500)) is None


def test_send_edoc_reads_a_500_json_answer_from_the_error_stream() -> None:
    result = read_reply("sendEdoc", answer('{"status":"FAIL","ErrorCode":"9","ErrorDesc":"x","DocId":""}', 500))
    assert result == SdkResult("sendEdoc", "FAIL", "9", "x", doc_id="")


def test_send_edoc_reads_numbers_as_their_text() -> None:
    result = sdk_accepts("sendEdoc", answer('{"status":"OK","ErrorCode":0,"ErrorDesc":"Success","DocId":123}'))
    assert (result.error_code, result.doc_id) == ("0", "123")


def test_send_edoc_reads_non_ascii_as_replacement_characters() -> None:
    reply = answer('{"status":"OK","ErrorCode":"0","ErrorDesc":"Thành công","DocId":"d1"}')
    assert read("sendEdoc", reply).error_desc == "Th\ufffd\ufffdnh c\ufffd\ufffdng"
    with pytest.raises(AssertionError, match="U\\+FFFD"):
        sdk_accepts("sendEdoc", reply)
    escaped = answer('{"status":"OK","ErrorCode":"0","ErrorDesc":"Th\\u00e0nh c\\u00f4ng","DocId":"d1"}')
    assert sdk_accepts("sendEdoc", escaped).error_desc == "Thành công"


# --- getReceivedEdocList and the other lists ------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        ok_with(',"data":[{"docId":"d1","status":null}]'),
        ok_with(),
        ok_with(',"data":null'),
        '{"status":"OK","ErrorCode":"00","ErrorDesc":"Success","data":[{"docId":"d1"}]}',
    ],
    ids=["a null item field", "no data", "data null", 'ErrorCode "00"'],
)
def test_a_damaged_list_answer_keeps_the_status_but_the_list_is_null(body: str) -> None:
    result = read("getReceivedEdocList", answer(body))
    assert (result.status, result.items) == ("OK", None)
    with pytest.raises(AssertionError, match="lose information"):
        sdk_accepts("getReceivedEdocList", answer(body))


def test_items_holding_only_a_doc_id_are_read_with_the_other_fields_null() -> None:
    result = sdk_accepts("getReceivedEdocList", answer(ok_with(',"data":[{"docId":"d1"}]')))
    assert result.items == ({**dict.fromkeys(RECEIVED_ITEM), "docId": "d1"},)


def test_an_html_page_becomes_a_fake_empty_success_of_get_received_edoc_list() -> None:
    reply = answer("<html><body>Service Unavailable</body></html>", 503, "text/html")
    result = read("getReceivedEdocList", reply)
    assert (result.status, result.error_code, result.error_desc, result.items) == ("OK", "0", "Success", ())
    with pytest.raises(AssertionError, match="not JSON"):
        sdk_accepts("getReceivedEdocList", reply)
    assert read_reply("getSentEdocList", reply) is None  # the other lists return null


def test_an_empty_list_answer_gives_every_field_null() -> None:
    result = swallowing(read_reply("getReceivedEdocList", answer("")))
    assert result == SdkResult("getReceivedEdocList", None, None, None)


def test_the_http_status_is_ignored_on_the_apache_path() -> None:
    body = '{"status":"FAIL","ErrorCode":"3","ErrorDesc":"no such document"}'
    result = sdk_accepts("updateStatus", answer(body, 500))
    assert (result.status, result.error_code, result.error_desc) == ("FAIL", "3", "no such document")


def test_a_gzip_answer_is_read_after_decompression_as_httpclient_does() -> None:
    reply = Reply(200, "OK", (("Content-Encoding", "gzip"),), gzip.compress(ok_with(',"count":4').encode()))
    assert sdk_accepts("countReceiveEdoc", reply).count == 4


def test_a_null_agency_pid_nulls_the_agency_list() -> None:
    result = read("getAgenciesList", answer(ok_with(',"data":[{"code":"X","pid":null}]')))
    assert (result.error_code, result.items) == ("0", None)


def test_synchronize_unit_reads_numeric_and_boolean_strings_but_a_null_version_nulls_the_list() -> None:
    body = ok_with(',"data":[{"code":"X","version":"4","deleted":"TRUE","isAgency":1}]')
    (unit,) = sdk_accepts("getSynchronizeUnit", answer(body)).items or ()
    assert (unit["version"], unit["deleted"], unit["isAgency"]) == (4, True, False)
    (missing,) = sdk_accepts("getSynchronizeUnit", answer(ok_with(',"data":[{"code":"X"}]'))).items or ()
    assert (missing["version"], missing["deleted"], missing["isAgency"]) == (0, False, False)
    for version in ("null", '"4.0"', "4.5"):
        result = read("getSynchronizeUnit", answer(ok_with(',"data":[{"version":' + version + "}]")))
        assert result.items is None, version


# --- getEdoc and downloadEdoc -------------------------------------------------------------------


@pytest.mark.parametrize("body", [ok_with(), ok_with(',"data":null')], ids=["no data", "data null"])
def test_get_edoc_without_data_keeps_the_status_and_writes_no_file(body: str) -> None:
    result = read("getEdoc", answer(body), {"filePath": "xml"})
    assert (result.status, result.data, result.file) == ("OK", None, None)
    with pytest.raises(AssertionError, match="lose information"):
        sdk_accepts("getEdoc", answer(body), {"filePath": "xml"})


def test_get_edoc_does_not_read_the_data_of_a_fail_answer() -> None:
    body = '{"status":"FAIL","ErrorCode":"5","ErrorDesc":"not yours","data":"PGVkWE1MLz4="}'
    result = sdk_accepts("getEdoc", answer(body), {"filePath": "xml"})
    assert (result.status, result.data, result.file) == ("FAIL", None, None)


def test_get_edoc_returns_null_for_an_html_page() -> None:
    assert read_reply("getEdoc", answer("<html>Internal error</html>", 500, "text/html")) is None


def test_get_edoc_decodes_any_text_leniently_and_saves_the_garbage() -> None:
    body = ok_with(',"data":"<?xml version=\\"1.0\\"?>"')
    result = sdk_accepts("getEdoc", answer(body), {"filePath": "xml"})
    assert result.data == commons_base64_decode('<?xml version="1.0"?>') != b'<?xml version="1.0"?>'
    assert result.file is not None


def test_get_edoc_writes_a_file_only_when_a_file_path_was_given_and_the_code_is_zero() -> None:
    data = ',"data":"' + base64.b64encode(b"<edXML/>").decode() + '"'
    assert sdk_accepts("getEdoc", answer(ok_with(data)), {"docId": "d1"}).file is None
    other_code = answer('{"status":"OK","ErrorCode":"1","ErrorDesc":"warn"' + data + "}")
    assert sdk_accepts("getEdoc", other_code, {"FILEPATH": "xml"}).file is None
    assert sdk_accepts("getEdoc", answer(ok_with(data)), {"FILEPATH": "xml"}).file == b"<edXML/>"


def test_the_saved_file_is_the_data_after_a_utf8_string_round_trip() -> None:
    legacy = "<a>Văn</a>".encode("cp1258")
    body = ok_with(',"data":"' + base64.b64encode(legacy).decode() + '"')
    result = sdk_accepts("getEdoc", answer(body), {"filePath": "x"})
    assert result.data == legacy
    assert result.file == legacy.decode("utf-8", "replace").encode("utf-8") != legacy


def test_a_404_page_is_downloaded_as_a_success_and_an_empty_404_fails() -> None:
    page = answer("<html>Not Found</html>", 404, "text/html")
    result = read("downloadEdoc", page)
    assert (result.status, result.error_code, result.file) == ("SUCCESS", "0", b"<html>Not Found</html>")
    with pytest.raises(AssertionError, match="HTTP 404 body is saved"):
        sdk_accepts("downloadEdoc", page)
    empty = read("downloadEdoc", answer("", 404))
    assert (empty.status, empty.error_code) == ("FAIL", "100")


# --- counts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("count", ["", ',"count":null'], ids=["no count", "count null"])
def test_a_missing_or_null_count_silently_reads_zero(count: str) -> None:
    result = read("countReceiveEdoc", answer(ok_with(count)))
    assert (result.status, result.count) == ("OK", 0)
    with pytest.raises(AssertionError, match="count"):
        sdk_accepts("countReceiveEdoc", answer(ok_with(count)))


def test_a_count_written_as_a_string_is_read() -> None:
    assert sdk_accepts("countReceiveStatus", answer(ok_with(',"count":"7"'))).count == 7


# --- the libraries the SDK reads with ------------------------------------------------------------


def test_gson_reads_leniently_but_refuses_trailing_content() -> None:
    parsed = parse_gson("{status:OK; 'ErrorCode'=>0, \"ErrorDesc\"=Success /* c */, data:[1,,]} # done")
    assert isinstance(parsed, dict)
    assert (parsed["status"], parsed["data"]) == ("OK", [GsonNumber("1"), None, None])
    assert sdk_accepts("updateStatus", answer("{status:OK,ErrorCode:0,ErrorDesc:Success}")).error_code == "0"
    assert read_reply("updateStatus", answer('{"status":"OK"} trailing')) is None
    assert parse_gson("null trailing") is None


def test_commons_codec_skips_foreign_characters_and_needs_no_padding() -> None:
    assert commons_base64_decode("PGVk\r\nWE1M Lz4") == b"<edXML/>"
    assert commons_base64_decode("-_-_") == base64.urlsafe_b64decode("-_-_")
    assert commons_base64_decode("QQ=garbage") == b"A"
