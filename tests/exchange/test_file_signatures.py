"""The signatures inside a document's files, checked once at intake and shown wherever people look:
the recipient's inbox, the status view, the API's report, the SDK's listing; and refused, under a
system's `require` policy, when the main file has no valid signature of the sending agency."""

from __future__ import annotations

from pdfs import cast_for, decree, sign, unsigned_pdf, with_file
from world import World

from axis.edxml import model as m
from axis.registry import history, systems
from axis.store import db

SOUTH = "000.00.00.H99"
WORD = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


async def set_file_policy(world: World, name: str, policy: str) -> None:
    """What ``axis systems policy ID --file-policy POLICY`` does; returns once the axis knows."""
    conn = await db.connect(world.settings.database_url)
    try:
        async with conn.transaction():
            await systems.update(conn, "admin", world[name].system_id, file_policy=policy)
        await world.axis.registrar.caught_up(await history.version(conn))
    finally:
        await conn.close()


async def test_a_decree_signed_by_the_signer_and_the_sending_agency_is_valid_wherever_it_is_listed(
    world: World,
) -> None:
    people = cast_for(world.ca, "000.00.00.H98", "UBND Tỉnh Thử Nghiệm Bắc")
    sent = await world.post(with_file(world, decree(people)))
    assert sent["file_signatures"] == "valid"  # the sender knows with the 202
    (item,) = (await world.get("/api/v1/inbox", "south"))["items"]
    assert item["package_id"] == sent["package_id"]
    assert item["file_signatures"] == "valid"
    status = await world.get(f"/api/v1/documents/{sent['document_id']}/status", "north")
    assert status["file_signatures"] == "valid"
    assert status["packages"][0]["file_signatures"] == "valid"

    report = await world.get(f"/api/v1/packages/{sent['package_id']}/files", "south")
    assert report["checked"] is True
    assert report["verdict"] == "valid"
    assert report["main"] == 0
    (file,) = report["files"]
    assert file["attachment"] == "quyet-dinh.pdf"
    person, agency = file["signatures"]
    assert person["signer"]["name"] == "Nguyễn Văn An"
    assert person["signer"]["role"] == "individual"
    assert person["signer"]["title"] == "Chủ tịch"
    assert agency["signer"]["agency_code"] == "000.00.00.H98"
    assert agency["signer"]["role"] == "agency"
    assert person["valid"]
    assert agency["valid"]
    assert agency["whole_file"]


async def test_under_the_report_policy_an_unsigned_or_altered_decision_is_accepted_and_said_to_be_so(
    world: World,
) -> None:
    people = cast_for(world.ca, "000.00.00.H98", "UBND Tỉnh Thử Nghiệm Bắc")
    unsigned = await world.post(with_file(world, unsigned_pdf()))
    altered = await world.post(
        with_file(world, decree(people) + b"\n% changed after signing\n", name="qd-2.pdf", number="126")
    )
    verdicts = {i["package_id"]: i["file_signatures"] for i in (await world.get("/api/v1/inbox", "south"))["items"]}
    assert verdicts[unsigned["package_id"]] == "unsigned"
    assert verdicts[altered["package_id"]] == "invalid"
    listed = {
        d["package_id"]: d["file_signatures"] for d in (await world.get("/api/v1/documents", "south"))["documents"]
    }
    assert listed == {unsigned["package_id"]: "unsigned", altered["package_id"]: "invalid"}
    report = await world.get(f"/api/v1/packages/{unsigned['package_id']}/files", "north")
    assert report["codes"] == ["file.unsigned", "file.agency_signature.missing"]


async def test_the_header_naming_someone_who_did_not_sign_is_a_warning(world: World) -> None:
    people = cast_for(world.ca, "000.00.00.H98", "UBND Tỉnh Thử Nghiệm Bắc")
    sent = await world.post(with_file(world, decree(people), signer="Trần Thị Bình"))
    report = await world.get(f"/api/v1/packages/{sent['package_id']}/files", "south")
    assert report["verdict"] == "warning"
    assert report["problems"] == ["file.signer.mismatch"]


async def test_a_system_requiring_signed_files_has_a_document_without_its_agencys_signature_refused(
    world: World,
) -> None:
    await set_file_policy(world, "north", "require")
    people = cast_for(world.ca, "000.00.00.H98", "UBND Tỉnh Thử Nghiệm Bắc")
    refused = await world.post(with_file(world, sign(unsigned_pdf(), people.person, field="CaNhan")), expect=422)
    error = refused["error"]
    assert error["code"] == "file.signature.required"
    assert "quyet-dinh.pdf" in error["message"]
    assert "Nguyễn Văn An" in error["message"]
    assert "file.agency_signature.missing" in error["details"]["codes"]
    stranger = cast_for(world.ca, "000.00.00.H99", "UBND Tỉnh Thử Nghiệm Nam")  # another agency's seal
    refused = await world.post(with_file(world, decree(stranger), number="127"), expect=422)
    assert refused["error"]["code"] == "file.signature.required"
    assert "file.agency.mismatch" in refused["error"]["details"]["codes"]
    assert await world.count("packages") == 0

    accepted = await world.post(with_file(world, decree(people), number="128"))
    assert accepted["file_signatures"] == "valid"


async def test_a_document_accepted_before_a_policy_was_tightened_is_answered_as_before_when_sent_again(
    world: World,
) -> None:
    data = with_file(world, unsigned_pdf())
    first = await world.post(data)
    assert first["file_signatures"] == "unsigned"
    await set_file_policy(world, "north", "require")
    again = await world.post(data, expect=200)
    assert again == {**first, "repeated": True}
    refused = await world.post(with_file(world, unsigned_pdf(), number="129"), expect=422)
    assert refused["error"]["code"] == "file.signature.required"


async def test_a_document_without_any_pdf_is_not_checked_but_listed_as_having_none(world: World) -> None:
    letter = m.Attachment.from_bytes("1", "cong-van.docx", WORD, b"PK\x05\x06" + bytes(18))  # an empty zip
    scan = m.Attachment.from_bytes("2", "phu-luc.pdf", "application/pdf", b"not a PDF at all, whatever its name")
    sent = await world.post(world.signed(world.document(to=(SOUTH,), attachments=(letter, scan))))
    (item,) = (await world.get("/api/v1/inbox", "south"))["items"]
    assert item["package_id"] == sent["package_id"]
    assert item["file_signatures"] == "none"
    report = await world.get(f"/api/v1/packages/{sent['package_id']}/files", "south")
    assert report["files"] == []
