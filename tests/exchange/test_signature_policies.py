"""What a legacy signature policy let in says so wherever it is looked at: the status view, the
search, and the receipts the axis signs.

An administrator may let a system send packages signed with SHA-1 (``legacy:sha1``) or not signed
at all (``legacy:unsigned``, e.g. the national SDK's EdXML102 packages, whose only Signature is in
the edXML namespace). Such a package is accepted, and the people who read it are told.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

import builders
from world import World, status_of

from axis import receipts
from axis.edxml import build
from axis.edxml import model as m
from axis.edxml.trust import AppliedPolicy, TrustAnchors

NORTH, SOUTH = "000.00.00.H98", "000.00.00.H99"


async def view(world: World, document_id: str, by: str) -> dict[str, Any]:
    found: dict[str, Any] = await world.get(f"/api/v1/documents/{urllib.parse.quote(document_id, safe='')}/status", by)
    return found


async def searched(world: World, document_id: str, by: str) -> list[dict[str, Any]]:
    found = await world.get(f"/api/v1/documents?document_id={urllib.parse.quote(document_id, safe='')}", by)
    documents: list[dict[str, Any]] = found["documents"]
    return documents


async def receipt_policies(world: World, package_id: str, by: str = "north") -> dict[str, AppliedPolicy | None]:
    """The policy each of the package's receipts states, by receipt kind, verified with the axis certificate."""
    trust = TrustAnchors.from_pem(await world.get("/api/v1/axis/certificate", by))
    stated = {}
    for item in (await world.get(f"/api/v1/packages/{package_id}/receipts", by))["receipts"]:
        receipt, _ = receipts.verify(await world.get(item["url"], by), trust)
        stated[receipt.kind.value] = receipt.signature_policy
    return stated


def business(document: m.DocumentPackage, kind: m.BusinessDocType, **changes: Any) -> m.DocumentPackage:
    same = {"number": document.code.number, "notation": document.code.notation, "date": document.promulgation.date}
    return builders.document(
        sender=document.sender.organ_id,
        recipients=tuple(r.organ_id for r in document.recipients),
        business=changes.pop("business", m.Business(doc_type=kind, reason="Bổ sung phụ lục")),
        **(same | changes),
    )


async def test_a_document_accepted_without_an_xml_signature_says_so_in_its_status_search_and_receipts(
    world: World,
) -> None:
    await world.relax_signature_policy("north", unsigned=True)
    document = world.document(to=(SOUTH,))
    accepted = await world.post(build(document))
    package_id = accepted["package_id"]
    assert accepted["signature_policy"] == "legacy:unsigned"

    for by in ("north", "south"):  # the sender, and the recipient that will read it
        status = await view(world, document.document_id, by)
        assert status["signature_policy"] == "legacy:unsigned"
        assert [p["signature_policy"] for p in status["packages"]] == ["legacy:unsigned"]
        assert status["recipients"][0]["delivery"]["signature_policy"] == "legacy:unsigned"
        [legacy] = status["legacy_packages"]
        assert legacy == {
            "package_id": package_id,
            "kind": "document",
            "document_id": document.document_id,
            "business_type": 0,
            "status_code": None,
            "sender": NORTH,
            "sender_system": "bac",
            "signature_policy": "legacy:unsigned",
            "received_at": status["received_at"],
        }
        assert [d["signature_policy"] for d in await searched(world, document.document_id, by)] == ["legacy:unsigned"]

    await world.ack(package_id, "south")
    assert await receipt_policies(world, package_id) == {
        "acceptance": AppliedPolicy.LEGACY_UNSIGNED,
        "delivery": AppliedPolicy.LEGACY_UNSIGNED,
    }


async def test_a_package_whose_only_signature_is_in_the_edxml_namespace_is_recorded_as_unsigned(
    world: World,
) -> None:
    """What the national SDK's EdXML102 library sends: a Signature-shaped element that signs nothing."""
    await world.relax_signature_policy("north", unsigned=True)
    document = world.document(to=(SOUTH,), number="102")
    accepted = await world.post(builders.with_edxml_signature(build(document)))
    assert accepted["signature_policy"] == "legacy:unsigned"
    assert "quirk.signature.not_xmldsig" in accepted["quirks"]
    status = await view(world, document.document_id, "south")
    assert [p["package_id"] for p in status["legacy_packages"]] == [accepted["package_id"]]
    assert await receipt_policies(world, accepted["package_id"]) == {"acceptance": AppliedPolicy.LEGACY_UNSIGNED}


async def test_a_document_signed_with_sha1_says_legacy_sha1(world: World) -> None:
    await world.relax_signature_policy("north", sha1=True)
    document = world.document(to=(SOUTH,), number="11")
    accepted = await world.post(world.signed(document, sha1=True))
    assert accepted["signature_policy"] == "legacy:sha1"
    status = await view(world, document.document_id, "south")
    assert status["signature_policy"] == "legacy:sha1"
    assert [p["signature_policy"] for p in status["legacy_packages"]] == ["legacy:sha1"]
    assert [d["signature_policy"] for d in await searched(world, document.document_id, "south")] == ["legacy:sha1"]
    assert await receipt_policies(world, accepted["package_id"]) == {"acceptance": AppliedPolicy.LEGACY_SHA1}


async def test_a_strongly_signed_document_is_strict_even_from_a_system_allowed_less(world: World) -> None:
    """The policy recorded is the rule the package needed, not the most its system was allowed."""
    await world.relax_signature_policy("north", sha1=True, unsigned=True)
    document = world.document(to=(SOUTH,), number="12")
    accepted = await world.post(world.signed(document))
    assert accepted["signature_policy"] == "strict"
    status = await view(world, document.document_id, "north")
    assert status["signature_policy"] == "strict"
    assert status["legacy_packages"] == []
    assert status["recipients"][0]["delivery"]["signature_policy"] == "strict"
    assert [d["signature_policy"] for d in await searched(world, document.document_id, "north")] == ["strict"]
    await world.ack(accepted["package_id"], "south")
    assert await receipt_policies(world, accepted["package_id"]) == {
        "acceptance": AppliedPolicy.STRICT,
        "delivery": AppliedPolicy.STRICT,
    }


async def test_an_unsigned_status_update_or_replacement_of_a_signed_document_is_pointed_out(world: World) -> None:
    """The document itself was signed; what came after it need not have been, and the status view
    of the document lists each such package for the sender and the recipient alike."""
    document = world.document(to=(SOUTH,), number="13")
    await world.post(world.signed(document))

    await world.relax_signature_policy("south", unsigned=True)
    arrived = await world.post(build(status_of(document, m.StatusCode.ARRIVED, "south", SOUTH)), by="south")
    assert arrived["signature_policy"] == "legacy:unsigned"
    await world.relax_signature_policy("north", unsigned=True)
    update = await world.post(build(business(document, m.BusinessDocType.UPDATE, subject="V/v thử nghiệm (cập nhật)")))
    replacement = builders.document(
        sender=NORTH,
        recipients=(SOUTH,),
        number="14",
        business=m.Business(
            doc_type=m.BusinessDocType.REPLACE,
            reason="Thay thế văn bản số 13",
            replacements=(m.Replacement(document.document_id, (SOUTH,)),),
        ),
    )
    replaced = await world.post(build(replacement))

    for by in ("north", "south"):
        status = await view(world, document.document_id, by)
        assert status["signature_policy"] == "strict"  # the document's own package
        assert [(p["kind"], p["package_id"], p["signature_policy"]) for p in status["legacy_packages"]] == [
            ("status", arrived["package_id"], "legacy:unsigned"),
            ("document", update["package_id"], "legacy:unsigned"),
            ("document", replaced["package_id"], "legacy:unsigned"),
        ]
        status_entry, update_entry, replacement_entry = status["legacy_packages"]
        assert (status_entry["status_code"], status_entry["sender"], status_entry["sender_system"]) == (
            "01",
            SOUTH,
            "nam",
        )
        assert update_entry["business_type"] == 2
        assert (replacement_entry["business_type"], replacement_entry["document_id"]) == (3, replacement.document_id)
        [recipient] = status["recipients"]
        assert [(s["code"], s["package_id"], s["signature_policy"]) for s in recipient["statuses"]] == [
            ("01", arrived["package_id"], "legacy:unsigned")
        ]
        assert [d["signature_policy"] for d in recipient["deliveries"]] == ["strict", "legacy:unsigned"]
        assert [(q["type"], q["signature_policy"]) for q in recipient["requests"]] == [
            (2, "legacy:unsigned"),
            (3, "legacy:unsigned"),
        ]
    # The status package's own receipt, for the recipient that sent it, says so as well.
    assert await receipt_policies(world, arrived["package_id"], "south") == {
        "acceptance": AppliedPolicy.LEGACY_UNSIGNED
    }
