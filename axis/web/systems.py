"""Administrator pages for connected systems: settings, bindings, certificates, tokens, AMQP access.

Secrets (a new API token, a RabbitMQ password) are shown once, on the page that answers the POST,
and never stored or put in a cookie: only their hashes (tokens) or nothing at all (RabbitMQ) stay.
Removing a binding and revoking a token or a certificate ask first (`axis.web.confirm`): what
will happen, by name, then the confirmed POST.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from aiohttp import web

from axis.accounts import users
from axis.broker.management import Management
from axis.config import Settings
from axis.errors import AxisError
from axis.exchange import redelivery
from axis.http.params import Choice, File, Flag, Integer, Text, Where, accepts
from axis.registry import browse, systems
from axis.registry.model import Certificate, FilePolicy
from axis.store.db import Conn
from axis.vdxp import setup
from axis.vdxp.secret import SecretBox
from axis.web import admin, confirm, previews, render, sessions
from axis.web.messages import refusal
from axis.web.site import axis_of

routes = web.RouteTableDef()
EXPIRY_WARNING = dt.timedelta(days=30)
FAILED_SHOWN = 20
ID, NAME, CONTACT, AGENCY_CODE, FINGERPRINT, LABEL, KEEP_HOURS, PACKAGE_ID = (
    Text(name, where=Where.FORM, max_length=1000 if name in ("name", "contact") else 300)
    for name in ("id", "name", "contact", "agency_code", "fingerprint", "label", "keep_hours", "package_id")
)
DELIVERY = Choice("delivery", ("http", "amqp", "both"), where=Where.FORM)
ACTIVE, ALLOW_SHA1, ALLOW_UNSIGNED, REQUIRE_CLIENT_CERTIFICATE, REQUIRE_FILE_SIGNATURES = (
    Flag(name, where=Where.FORM)
    for name in ("active", "allow_sha1", "allow_unsigned", "require_client_certificate", "require_file_signatures")
)
ALLOWED_ADDRESSES = Text("allowed_addresses", where=Where.FORM, max_length=10_000)
PEM, FILE = Text("pem", where=Where.FORM, max_length=100_000), File("file")
TOKEN_ID = Integer("token_id", -1, high=2**63 - 1, where=Where.FORM)
CONFIRM = confirm.CONFIRM


def system_url(system_id: str) -> str:
    return f"/ui/admin/systems/{quote(system_id, safe='')}"


def certificate_state(certificate: Certificate, now: dt.datetime) -> tuple[str, str]:
    """(css class, Vietnamese label): revoked, expired, not yet valid, expiring within 30 days, valid."""
    if certificate.revoked:
        return "bad", "Đã thu hồi"
    if certificate.not_after <= now:
        return "bad", "Đã hết hạn"
    if certificate.not_before > now:
        return "warn", "Chưa đến ngày hiệu lực"
    if certificate.not_after - now <= EXPIRY_WARNING:
        return "warn", f"Sắp hết hạn (còn {(certificate.not_after - now).days} ngày)"
    return "ok", "Còn hiệu lực"


def _delivery(value: str) -> dict[str, bool]:
    return {"delivery_http": value in ("http", "both"), "delivery_amqp": value in ("amqp", "both")}


@routes.get("/admin/systems")
@accepts()
async def system_list(request: web.Request) -> web.Response:
    await sessions.require_admin(request)
    axis = axis_of(request)
    async with axis.connection() as conn:
        found = await systems.all_systems(conn)
        counts = await browse.binding_counts(conn)
        backlogs = await redelivery.backlogs(conn)
    # A system whose oldest waiting delivery is older than the acknowledgement deadline has
    # probably stopped taking its documents: the list says so before any sender complains.
    stale_before = dt.datetime.now(dt.UTC) - dt.timedelta(hours=axis.settings.ack_deadline_hours)
    context = {
        "systems": found,
        "counts": counts,
        "backlogs": backlogs,
        "empty": redelivery.Backlog(),
        "stale_before": stale_before,
    }
    return await render.page(request, "systems.html", context)


@routes.post("/admin/systems")
@accepts(ID, NAME, CONTACT, DELIVERY)
async def create_system(request: web.Request) -> web.Response:
    system_id, name = await admin.form_text(request, "id"), await admin.form_text(request, "name")
    contact, delivery = await admin.form_text(request, "contact"), await admin.form_text(request, "delivery")
    settings = {"contact": contact, **_delivery(delivery or "http")}
    return await admin.act(
        request,
        lambda conn, actor: systems.add(conn, actor, system_id, name, **settings),
        done=f"Đã thêm hệ thống {system_id}.",
        back=system_url(system_id) if system_id else "/ui/admin/systems",
    )


async def _system_context(conn: Conn, system_id: str, settings: Settings) -> dict[str, Any]:
    system = await systems.require(conn, system_id)
    now = dt.datetime.now(dt.UTC)
    certificates = await systems.certificates(conn, system_id)
    return {
        "system": system,
        "bindings": await systems.bindings(conn, system_id),
        "certificates": [(c, *certificate_state(c, now)) for c in certificates],
        "tokens": await systems.list_tokens(conn, system_id),
        "clerks": await users.all_users(conn, system_id=system_id),
        "failed": await redelivery.failed(conn, system_id, limit=FAILED_SHOWN),
        "failed_total": await redelivery.failed_count(conn, system_id),
        "sdk_setup": setup.points(system, settings),
    }


@routes.get("/admin/systems/{id}")
@accepts()
async def system_page(request: web.Request) -> web.Response:
    await sessions.require_admin(request)
    async with axis_of(request).connection() as conn:
        context = await _system_context(conn, request.match_info["id"], axis_of(request).settings)
    return await render.page(request, "system.html", context | {"secret": None})


@routes.post("/admin/systems/{id}/settings")
@accepts(
    NAME,
    CONTACT,
    ACTIVE,
    ALLOW_SHA1,
    ALLOW_UNSIGNED,
    REQUIRE_CLIENT_CERTIFICATE,
    REQUIRE_FILE_SIGNATURES,
    ALLOWED_ADDRESSES,
    DELIVERY,
)
async def update_system(request: web.Request) -> web.Response:
    system_id = request.match_info["id"]
    settings = {
        "name": await NAME.posted(request),
        "contact": await CONTACT.posted(request),
        "status": "active" if await ACTIVE.posted(request) else "disabled",
        "allow_sha1": await ALLOW_SHA1.posted(request),
        "allow_unsigned": await ALLOW_UNSIGNED.posted(request),
        "require_client_certificate": await REQUIRE_CLIENT_CERTIFICATE.posted(request),
        "file_policy": FilePolicy.REQUIRE if await REQUIRE_FILE_SIGNATURES.posted(request) else FilePolicy.REPORT,
        "allowed_addresses": await ALLOWED_ADDRESSES.posted(request),
        **_delivery(await DELIVERY.posted(request)),
    }
    return await admin.act(
        request,
        lambda conn, actor: systems.update(conn, actor, system_id, **settings),
        done="Đã lưu thiết lập của hệ thống.",
        back=system_url(system_id),
    )


@routes.post("/admin/systems/{id}/bindings")
@accepts(AGENCY_CODE)
async def bind(request: web.Request) -> web.Response:
    system_id, code = request.match_info["id"], (await admin.form_text(request, "agency_code")).split(" ")[0]
    return await admin.act(
        request,
        lambda conn, actor: systems.bind(conn, actor, system_id, code),
        done=f"Hệ thống {system_id} nay phục vụ {code} và mọi cơ quan trực thuộc.",
        back=system_url(system_id),
    )


@routes.post("/admin/systems/{id}/bindings/remove")
@accepts(AGENCY_CODE, CONFIRM)
async def unbind(request: web.Request) -> web.Response:
    system_id, code = request.match_info["id"], await admin.form_text(request, "agency_code")
    if not await confirm.confirmed(request):
        resolver = axis_of(request).registry.resolver
        back = system_url(system_id)
        return await confirm.ask(
            request,
            lambda conn: previews.unbind(conn, resolver, system_id, code, action=request.url.raw_path, back=back),
            back=back,
        )
    return await admin.act(
        request,
        lambda conn, actor: systems.unbind(conn, actor, system_id, code),
        done=f"Đã bỏ phạm vi {code} khỏi {system_id}.",
        back=system_url(system_id),
    )


@routes.post("/admin/systems/{id}/certificates")
@accepts(FILE, PEM)
async def add_certificate(request: web.Request) -> web.Response:
    system_id = request.match_info["id"]
    upload = await FILE.posted(request)
    pem = upload.file.read() if upload is not None else b""
    pem = pem or (await PEM.posted(request)).encode("utf-8")
    return await admin.act(
        request,
        lambda conn, actor: systems.add_certificate(conn, actor, system_id, pem),
        done="Đã gắn chứng thư số cho hệ thống.",
        back=system_url(system_id),
    )


@routes.post("/admin/systems/{id}/certificates/revoke")
@accepts(FINGERPRINT, CONFIRM)
async def revoke_certificate(request: web.Request) -> web.Response:
    system_id, fingerprint = request.match_info["id"], await admin.form_text(request, "fingerprint")
    if not await confirm.confirmed(request):
        back = system_url(system_id)
        return await confirm.ask(
            request,
            lambda conn: previews.revoke_certificate(
                conn, system_id, fingerprint, action=request.url.raw_path, back=back
            ),
            back=back,
        )
    return await admin.act(
        request,
        lambda conn, actor: systems.revoke_certificate(conn, actor, fingerprint),
        done=f"Đã thu hồi chứng thư số {fingerprint[:16]}….",
        back=system_url(system_id),
    )


@routes.post("/admin/systems/{id}/tokens/revoke")
@accepts(TOKEN_ID, CONFIRM)
async def revoke_token(request: web.Request) -> web.Response:
    system_id = request.match_info["id"]
    token_id = await TOKEN_ID.posted(request)
    if not await confirm.confirmed(request):
        back = system_url(system_id)
        return await confirm.ask(
            request,
            lambda conn: previews.revoke_token(conn, system_id, token_id, action=request.url.raw_path, back=back),
            back=back,
        )
    return await admin.act(
        request,
        lambda conn, actor: systems.revoke_token(conn, actor, system_id, token_id),
        done=f"Đã thu hồi token #{token_id}; hệ thống không dùng được nó nữa.",
        back=system_url(system_id),
    )


async def _with_secret(request: web.Request, secret: dict[str, Any]) -> web.Response:
    async with axis_of(request).connection() as conn:
        context = await _system_context(conn, request.match_info["id"], axis_of(request).settings)
    return await render.page(request, "system.html", context | {"secret": secret})


@routes.post("/admin/systems/{id}/tokens")
@accepts(LABEL)
async def issue_token(request: web.Request) -> web.Response:
    """The token is shown on this answer only (the page says so); reloading does not show it again."""
    user = await sessions.require_admin(request)
    system_id, label = request.match_info["id"], await admin.form_text(request, "label")
    try:
        token_id, token = await admin.change(
            request, user, lambda conn, actor: systems.issue_token(conn, actor, system_id, label)
        )
    except AxisError as exc:
        await admin.flash(request, "error", refusal(exc))
        raise web.HTTPSeeOther(system_url(system_id)) from None
    secret = {"title": f"Token #{token_id} mới cho {system_id}", "rows": [("Token", token)]}
    return await _with_secret(request, secret)


@routes.post("/admin/systems/{id}/sdk-secret")
@accepts(KEEP_HOURS)
async def issue_sdk_secret(request: web.Request) -> web.Response:
    """As ``axis systems secret``: the secret for the national SDK's interface, shown on this answer
    only. The key that seals it must exist already (every axis process shares that file), so the
    page never makes one that the other processes would not have."""
    user = await sessions.require_admin(request)
    system_id = request.match_info["id"]
    raw = (await admin.form_text(request, "keep_hours")).replace(",", ".") or "0"
    try:
        hours = float(raw)
        if not 0 <= hours <= 24 * 30:
            raise ValueError(raw)
        keep = dt.timedelta(hours=hours)
        box = SecretBox.load(axis_of(request).settings.vdxp_key_path)
        secret_id, secret = await admin.change(
            request,
            user,
            lambda conn, actor: systems.issue_sdk_secret(
                conn, actor, system_id, box.seal, box.key_id, previous_valid_for=keep
            ),
        )
    except ValueError:
        # A typo must not revoke the secret in use at once (as 0 hours would): nothing is issued.
        await admin.flash(request, "error", f"Số giờ «{raw}» không hợp lệ (từ 0 đến 720); chưa cấp khóa nào.")
        raise web.HTTPSeeOther(system_url(system_id)) from None
    except AxisError as exc:
        await admin.flash(request, "error", refusal(exc))
        raise web.HTTPSeeOther(system_url(system_id)) from None
    shown = {
        "title": f"Khóa bí mật SDK #{secret_id} cho {system_id}",
        "rows": [
            ("systemid", system_id),
            ("secret", secret),
            ("Điểm kết nối", "/vdxp/ của trục này"),
            ("Khóa cũ", f"còn dùng được {keep.total_seconds() / 3600:g} giờ" if keep else "hết hiệu lực ngay"),
        ],
    }
    return await _with_secret(request, shown)


@routes.post("/admin/systems/{id}/amqp")
@accepts()
async def grant_amqp(request: web.Request) -> web.Response:
    """As ``axis systems grant-amqp``: AMQP delivery on, its queue, and its RabbitMQ user (new password)."""
    user = await sessions.require_admin(request)
    system_id = request.match_info["id"]
    axis = axis_of(request)
    try:
        await admin.change(
            request, user, lambda conn, actor: systems.update(conn, actor, system_id, delivery_amqp=True)
        )
        await axis.broker.ensure_system(system_id)  # the queue exists before the system consumes it
        async with Management(axis.settings.amqp_management_url) as management:
            grant = await management.grant_system(axis.settings.amqp_vhost, system_id)
    except AxisError as exc:
        await admin.flash(request, "error", refusal(exc))
        raise web.HTTPSeeOther(system_url(system_id)) from None
    secret = {
        "title": f"Tài khoản RabbitMQ của {system_id}",
        "rows": [
            ("Tên đăng nhập (username)", grant.username),
            ("Mật khẩu (password)", grant.password),
            ("Virtual host", grant.vhost),
            ("Hàng đợi nhận (consume)", grant.queue),
            ("Exchange gửi (publish)", f"{grant.intake_exchange} — đặt user_id={grant.username}"),
        ],
    }
    return await _with_secret(request, secret)


@routes.post("/admin/systems/{id}/requeue")
@accepts(PACKAGE_ID)
async def requeue_failed(request: web.Request) -> web.Response:
    """As ``axis systems requeue``: the failed deliveries (all, or the one ``package_id`` names) go
    back to the system's queue; the page then says how many."""
    user = await sessions.require_admin(request)
    system_id = request.match_info["id"]
    package_id = await admin.form_text(request, "package_id")
    axis = axis_of(request)
    try:
        done = await axis.exchange.requeue(user.actor, system_id, [package_id] if package_id else None)
    except AxisError as exc:
        await admin.flash(request, "error", refusal(exc))
    else:
        said = f"Đã gửi lại {len(done.deliveries)} văn bản cho hệ thống {system_id}."
        if done.remaining and not package_id:
            said += f" Còn {done.remaining} văn bản thất bại: bấm gửi lại lần nữa."
        await admin.flash(request, "ok", said)
    raise web.HTTPSeeOther(system_url(system_id) + "#failed-title")
