"""``/api/v1/admin/…``: the registry operations of the CLI, behind an administrator token.

Each change runs in one transaction with its history row (actor ``admin:<token name>``), and the
response is sent only once this process's registry cache has the change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web

from axis.errors import AxisError
from axis.exchange import redelivery
from axis.http.agencies import agency_json
from axis.http.auth import admin_of
from axis.http.body import field, json_object, text
from axis.http.context import axis_of
from axis.http.params import Choice, Flag, Integer, Text, Where, accepts
from axis.registry import agencies, diff, history, importer, imports, systems
from axis.registry.model import Certificate, FilePolicy, System, SystemStatus
from axis.store.db import Conn
from axis.vdxp import setup
from axis.vdxp.secret import SecretBox

routes = web.RouteTableDef()
T = TypeVar("T")
DRY_RUN, PARTIAL, ALLOW_OUTSIDE = Flag("dry_run"), Flag("partial"), Flag("allow_outside")
LIMIT, OFFSET = Integer("limit", 100, low=1, high=1000), Integer("offset", 0, high=2**31)
TOKEN_ID = Integer("token_id", 0, high=2**63 - 1, where=Where.PATH)
KIND, SUBJECT = Choice("kind", history.SUBJECT_KINDS), Text("id")
ACTION, ACTOR, BEFORE = Text("action"), Text("actor"), Integer("before", 0, high=2**62)


async def change(request: web.Request, operation: Callable[[Conn, str], Awaitable[T]]) -> T:
    """Authenticate the administrator; the registrar runs ``operation`` as ``admin:<token name>``."""
    axis = axis_of(request)
    return await axis.registrar.change(f"admin:{admin_of(request, axis.registry.resolver)}", operation)


async def read(request: web.Request, operation: Callable[[Conn], Awaitable[T]]) -> T:
    axis = axis_of(request)
    admin_of(request, axis.registry.resolver)
    async with axis.connection() as conn:
        return await operation(conn)


def system_json(system: System) -> dict[str, Any]:
    return {
        "id": system.id,
        "name": system.name,
        "contact": system.contact,
        "delivery_http": system.delivery_http,
        "delivery_amqp": system.delivery_amqp,
        "allow_sha1": system.allow_sha1,
        "allow_unsigned": system.allow_unsigned,
        "require_client_certificate": system.require_client_certificate,
        "allowed_addresses": list(system.allowed_addresses),
        "signature_policy": system.policy.name,
        "file_policy": system.file_policy,
        "status": system.status.value,
    }


def certificate_json(certificate: Certificate) -> dict[str, Any]:
    return {
        "fingerprint": certificate.fingerprint,
        "system": certificate.system_id,
        "subject": certificate.subject,
        "agency_code": certificate.agency_code,
        "not_before": certificate.not_before.isoformat(),
        "not_after": certificate.not_after.isoformat(),
        "revoked": certificate.revoked,
    }


# --- agencies -----------------------------------------------------------------------------------------


@routes.post("/api/v1/admin/agencies")
@accepts()
async def add_agency(request: web.Request) -> web.Response:
    body = await json_object(request)
    code, name, qd20 = text(body, "code"), text(body, "name"), field(body, "code_qd20", str, required=False)
    agency = await change(request, lambda conn, actor: agencies.add(conn, actor, code, name, code_qd20=qd20))
    return web.json_response(agency_json(agency), status=201)


@routes.patch("/api/v1/admin/agencies/{code}")
@accepts()
async def update_agency(request: web.Request) -> web.Response:
    body = await json_object(request)
    code = request.match_info["code"]
    name = field(body, "name", str, required=False)

    async def operation(conn: Conn, actor: str) -> Any:
        agency = await agencies.require(conn, code)
        if name is not None:
            agency = await agencies.rename(conn, actor, agency.code, name)
        if "code_qd20" in body:
            agency = await agencies.set_code_qd20(
                conn, actor, agency.code, field(body, "code_qd20", str, required=False)
            )
        return agency

    return web.json_response(agency_json(await change(request, operation)))


@routes.post("/api/v1/admin/agencies/{code}/retire")
@accepts()
async def retire_agency(request: web.Request) -> web.Response:
    body = await json_object(request) if request.can_read_body else {}
    successor = field(body, "successor", str, required=False)
    code = request.match_info["code"]
    agency = await change(request, lambda conn, actor: agencies.retire(conn, actor, code, successor))
    return web.json_response(agency_json(agency))


@routes.post("/api/v1/admin/agencies/{code}/reactivate")
@accepts()
async def reactivate_agency(request: web.Request) -> web.Response:
    """A retired agency active again, without successor (``agency.reactivate`` in the history)."""
    code = request.match_info["code"]
    agency = await change(request, lambda conn, actor: agencies.reactivate(conn, actor, code))
    return web.json_response(agency_json(agency))


@routes.post("/api/v1/admin/agencies/{code}/merge")
@accepts()
async def merge_agency(request: web.Request) -> web.Response:
    into = text(await json_object(request), "into")
    code = request.match_info["code"]
    agency = await change(request, lambda conn, actor: agencies.merge(conn, actor, code, into))
    return web.json_response(agency_json(agency))


@routes.post("/api/v1/admin/agencies/{code}/move")
@accepts()
async def move_agency(request: web.Request) -> web.Response:
    new_code = text(await json_object(request), "new_code")
    code = request.match_info["code"]
    agency = await change(request, lambda conn, actor: agencies.move(conn, actor, code, new_code))
    return web.json_response(agency_json(agency), status=201)


@routes.post("/api/v1/admin/imports")
@accepts(DRY_RUN, PARTIAL, ALLOW_OUTSIDE)
async def import_agencies(request: web.Request) -> web.Response:
    """A CSV of agencies (as ``axis agencies import``). ``?dry_run=1``: the diff only;
    ``?partial=1``: import the good rows even when some are bad (else nothing is imported);
    ``?allow_outside=1``: accept changes to agencies outside the subtree most of the file covers
    (else such a file imports nothing)."""
    rows = importer.read_csv(await request.read(), source="request body")
    dry_run, partial, allow_outside = DRY_RUN.of(request), PARTIAL.of(request), ALLOW_OUTSIDE.of(request)

    async def operation(conn: Conn, actor: str) -> dict[str, Any]:
        existing = await imports.existing(conn)
        plan = importer.plan(rows, existing)
        if plan.bad and not partial and not dry_run:
            raise AxisError(
                "registry.import.bad_rows",
                f"{len(plan.bad)} bad rows; nothing was imported (add ?partial=1 to import the good ones).",
                bad=[{"line": b.line, "code": b.code, "reason": b.reason} for b in plan.bad[:200]],
            )
        if plan.outside and not allow_outside and not dry_run:
            raise importer.outside_refusal(plan, "?allow_outside=1")
        applied = 0 if dry_run else await imports.apply(conn, actor, plan)
        return {
            "dry_run": dry_run,
            "summary": plan.summary(),
            "applied": applied,
            "encoding": rows.encoding,
            "bad": [{"line": b.line, "code": b.code, "reason": b.reason} for b in plan.bad],
            "warnings": [{"line": w.line, "code": w.code, "reason": w.reason} for w in plan.warnings],
            "scope": plan.scope.root if plan.scope else None,
            "outside": [{"code": c.code, "kind": c.kind.value} for c in plan.outside],
            "diff": diff.format_diff(plan, existing, additions=200),
        }

    return web.json_response(await change(request, operation))


# --- systems --------------------------------------------------------------------------------------------


_SETTINGS = {
    "name": str,
    "contact": str,
    "delivery_http": bool,
    "delivery_amqp": bool,
    "allow_sha1": bool,
    "allow_unsigned": bool,
    "require_client_certificate": bool,
    "allowed_addresses": list,
    "status": str,
    "file_policy": str,
}


_CHOICES = {"status": tuple(SystemStatus), "file_policy": tuple(FilePolicy)}


def _settings(body: dict[str, Any]) -> dict[str, Any]:
    return {k: field(body, k, kind, choices=_CHOICES.get(k)) for k, kind in _SETTINGS.items() if k in body}


def backlog_json(backlog: redelivery.Backlog) -> dict[str, Any]:
    oldest = backlog.oldest_queued_at.isoformat() if backlog.oldest_queued_at else None
    return {"queued": backlog.queued, "failed": backlog.failed, "oldest_queued_at": oldest}


@routes.get("/api/v1/admin/systems")
@accepts()
async def list_systems(request: web.Request) -> web.Response:
    """Every system, with its ``deliveries``: how many wait for it (since when) and how many failed."""

    async def operation(conn: Conn) -> dict[str, Any]:
        found = await systems.all_systems(conn)
        backlogs = await redelivery.backlogs(conn)
        empty = redelivery.Backlog()
        return {"systems": [system_json(s) | {"deliveries": backlog_json(backlogs.get(s.id, empty))} for s in found]}

    return web.json_response(await read(request, operation))


@routes.post("/api/v1/admin/systems")
@accepts()
async def add_system(request: web.Request) -> web.Response:
    body = await json_object(request)
    system_id, name = text(body, "id"), text(body, "name")
    settings = {k: v for k, v in _settings(body).items() if k != "name"}
    system = await change(request, lambda conn, actor: systems.add(conn, actor, system_id, name, **settings))
    return web.json_response(system_json(system), status=201)


@routes.get("/api/v1/admin/systems/{id}")
@accepts()
async def show_system(request: web.Request) -> web.Response:
    system_id = request.match_info["id"]

    async def operation(conn: Conn) -> dict[str, Any]:
        body = system_json(await systems.require(conn, system_id))
        body["bindings"] = await systems.bindings(conn, system_id)
        body["certificates"] = [certificate_json(c) for c in await systems.certificates(conn, system_id)]
        body["tokens"] = [
            {
                "id": t.id,
                "label": t.label,
                "created_at": t.created_at.isoformat(),
                "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
            }
            for t in await systems.list_tokens(conn, system_id)
        ]
        return body

    return web.json_response(await read(request, operation))


@routes.patch("/api/v1/admin/systems/{id}")
@accepts()
async def update_system(request: web.Request) -> web.Response:
    settings = _settings(await json_object(request))
    system_id = request.match_info["id"]
    system = await change(request, lambda conn, actor: systems.update(conn, actor, system_id, **settings))
    return web.json_response(system_json(system))


@routes.post("/api/v1/admin/systems/{id}/tokens")
@accepts()
async def issue_token(request: web.Request) -> web.Response:
    body = await json_object(request) if request.can_read_body else {}
    label = field(body, "label", str, required=False) or ""
    system_id = request.match_info["id"]
    token_id, token = await change(request, lambda conn, actor: systems.issue_token(conn, actor, system_id, label))
    return web.json_response({"id": token_id, "token": token, "note": "shown once; store it now"}, status=201)


@routes.post("/api/v1/admin/systems/{id}/sdk-secret")
@accepts()
async def issue_sdk_secret(request: web.Request) -> web.Response:
    """As ``axis systems secret``: the secret for the national SDK's interface (shown once), and
    what the administrator decides before the vendor switches (``axis.vdxp.setup``): the signature
    policy first. ``keep_previous_hours`` lets the secret it replaces work that much longer."""
    body = await json_object(request) if request.can_read_body else {}
    hours = field(body, "keep_previous_hours", (int, float), required=False) or 0  # type: ignore[arg-type]
    if not 0 <= hours <= 24 * 30:
        raise AxisError(
            "http.bad_request", "keep_previous_hours must be between 0 and 720.", field="keep_previous_hours"
        )
    axis, system_id = axis_of(request), request.match_info["id"]
    box = SecretBox.load(axis.settings.vdxp_key_path)
    keep = dt.timedelta(hours=hours)

    async def operation(conn: Conn, actor: str) -> tuple[int, str, System]:
        secret_id, secret = await systems.issue_sdk_secret(
            conn, actor, system_id, box.seal, box.key_id, previous_valid_for=keep
        )
        return secret_id, secret, await systems.require(conn, system_id)

    secret_id, secret, system = await change(request, operation)
    answer = {
        "id": secret_id,
        "system": system_id,
        "secret": secret,
        "endpoint": "/vdxp",
        "note": "shown once: give the vendor the https:// address of /vdxp, the system id and this secret",
        "setup": [
            {"topic": p.topic, "state": p.state, "settled": p.settled, "advice": p.text}
            for p in setup.points(system, axis.settings)
        ],
    }
    return web.json_response(answer, status=201)


@routes.delete("/api/v1/admin/systems/{id}/tokens/{token_id}")
@accepts(TOKEN_ID)
async def revoke_token(request: web.Request) -> web.Response:
    system_id, token_id = request.match_info["id"], TOKEN_ID.of(request)
    await change(request, lambda conn, actor: systems.revoke_token(conn, actor, system_id, token_id))
    return web.Response(status=204)


@routes.post("/api/v1/admin/systems/{id}/certificates")
@accepts()
async def add_certificate(request: web.Request) -> web.Response:
    pem = await request.read()
    system_id = request.match_info["id"]
    certificate = await change(request, lambda conn, actor: systems.add_certificate(conn, actor, system_id, pem))
    return web.json_response(certificate_json(certificate), status=201)


@routes.delete("/api/v1/admin/certificates/{fingerprint}")
@accepts()
async def revoke_certificate(request: web.Request) -> web.Response:
    value = request.match_info["fingerprint"]
    certificate = await change(request, lambda conn, actor: systems.revoke_certificate(conn, actor, value))
    return web.json_response(certificate_json(certificate))


@routes.post("/api/v1/admin/systems/{id}/bindings")
@accepts()
async def bind(request: web.Request) -> web.Response:
    code = text(await json_object(request), "agency_code")
    system_id = request.match_info["id"]
    bound = await change(request, lambda conn, actor: systems.bind(conn, actor, system_id, code))
    return web.json_response({"system": system_id, "agency_code": bound}, status=201)


@routes.delete("/api/v1/admin/systems/{id}/bindings/{code}")
@accepts()
async def unbind(request: web.Request) -> web.Response:
    system_id, code = request.match_info["id"], request.match_info["code"]
    await change(request, lambda conn, actor: systems.unbind(conn, actor, system_id, code))
    return web.Response(status=204)


# --- failed deliveries ---------------------------------------------------------------------------------


def failed_json(delivery: redelivery.FailedDelivery) -> dict[str, Any]:
    return {
        "package_id": str(delivery.package_id),
        "document_id": delivery.document_id,
        "system": delivery.system_id,
        "sender": delivery.sender_code,
        "subject": delivery.subject,
        "reason": delivery.reason,
        "failed_at": delivery.failed_at.isoformat() if delivery.failed_at else None,
        "archived": delivery.archived,
    }


@routes.get("/api/v1/admin/systems/{id}/failed-deliveries")
@accepts(LIMIT, OFFSET)
async def failed_deliveries(request: web.Request) -> web.Response:
    system_id = request.match_info["id"]
    limit, offset = LIMIT.of(request), OFFSET.of(request)

    async def operation(conn: Conn) -> dict[str, Any]:
        await systems.require(conn, system_id)
        found = await redelivery.failed(conn, system_id, limit=limit, offset=offset)
        total = await redelivery.failed_count(conn, system_id)
        return {"system": system_id, "total": total, "deliveries": [failed_json(f) for f in found]}

    return web.json_response(await read(request, operation))


@routes.post("/api/v1/admin/systems/{id}/failed-deliveries/requeue")
@accepts()
async def requeue_failed(request: web.Request) -> web.Response:
    """Send the system's failed deliveries again: the oldest ``redelivery.BATCH`` (``remaining``
    says how many are left for the next call), or ``{"package_ids": [...]}``."""
    body = await json_object(request) if request.can_read_body else {}
    package_ids = field(body, "package_ids", list, required=False)
    if package_ids is not None and not all(isinstance(p, str) for p in package_ids):
        raise AxisError("http.bad_request", "package_ids is a list of package ids (strings).")
    system_id = request.match_info["id"]
    axis = axis_of(request)
    actor = f"admin:{admin_of(request, axis.registry.resolver)}"
    done = await axis.exchange.requeue(actor, system_id, package_ids)
    return web.json_response(
        {"system": system_id, "requeued": [failed_json(f) for f in done.deliveries], "remaining": done.remaining}
    )


# --- history --------------------------------------------------------------------------------------------


@routes.get("/api/v1/admin/history")
@accepts(KIND, SUBJECT, ACTION, ACTOR, BEFORE, LIMIT)
async def show_history(request: web.Request) -> web.Response:
    before, limit = BEFORE.of(request) or None, LIMIT.of(request)

    async def operation(conn: Conn) -> list[history.HistoryEntry]:
        return await history.entries(
            conn,
            subject_kind=KIND.of(request) or None,
            subject_id=SUBJECT.of(request) or None,
            action=ACTION.of(request) or None,
            actor=ACTOR.of(request) or None,
            limit=limit,
            before_id=before,
        )

    entries = await read(request, operation)
    return web.json_response(
        {
            "history": [
                {
                    "id": e.id,
                    "at": e.at.isoformat(),
                    "actor": e.actor,
                    "action": e.action,
                    "kind": e.subject_kind,
                    "subject": e.subject_id,
                    "before": e.before,
                    "after": e.after,
                }
                for e in entries
            ]
        }
    )


__all__ = ["routes"]
