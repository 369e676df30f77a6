"""SQL: a document's context for status and business checks, loaded under a row lock.

The lock (``FOR UPDATE`` on the document's row) serializes packages about one document, so two
statuses from the same recipient cannot both pass the lifecycle check against the same history.
"""

from __future__ import annotations

from collections.abc import Iterable

from axis.edxml import model as m
from axis.exchange.flows import DocumentContext
from axis.exchange.lifecycle import Party, Step
from axis.store.db import Conn

_ANSWERS = (m.StatusCode.AGREED.value, m.StatusCode.REFUSED.value)
UNLOCKED = """SELECT document_id, sender_code, sender_system, state FROM documents
               WHERE document_id = ANY($1::text[]) ORDER BY document_id"""
LOCKED = UNLOCKED + " FOR UPDATE"


async def load(conn: Conn, document_ids: Iterable[str], *, lock: bool = True) -> dict[str, DocumentContext]:
    ids = sorted(set(document_ids))  # a fixed order, so that two transactions never lock in opposite orders
    if not ids:
        return {}
    documents = await conn.fetch(
        LOCKED if lock else UNLOCKED,
        ids,
    )
    if not documents:
        return {}
    recipients = await conn.fetch(
        """SELECT DISTINCT p.document_id, r.agency_code, r.requested_code
             FROM packages p JOIN package_recipients r ON r.package_id = p.id
            WHERE p.document_id = ANY($1::text[]) AND p.kind = 'document'""",
        ids,
    )
    events = await conn.fetch(
        """SELECT document_id, kind, agency_code, detail FROM events
            WHERE document_id = ANY($1::text[]) AND kind IN ('status', 'business') ORDER BY id""",
        ids,
    )
    contexts = {}
    for row in documents:
        document_id = row["document_id"]
        addressed = {r["agency_code"]: r["requested_code"] for r in recipients if r["document_id"] == document_id}
        histories: dict[str, list[Step]] = {}
        pending: set[str] = set()
        for event in events:
            if event["document_id"] != document_id or event["agency_code"] is None:
                continue
            agency, detail = event["agency_code"], event["detail"]
            if event["kind"] == "business":
                pending.add(agency)
                continue
            histories.setdefault(agency, []).append(Step(m.StatusCode(detail["code"]), Party(detail["by"])))
            if detail["code"] in _ANSWERS:
                pending.discard(agency)
        contexts[document_id] = DocumentContext(
            document_id=document_id,
            sender_code=row["sender_code"],
            sender_system=row["sender_system"],
            state=row["state"],
            recipients=addressed,
            histories={k: tuple(v) for k, v in histories.items()},
            business_pending=frozenset(pending),
        )
    return contexts
