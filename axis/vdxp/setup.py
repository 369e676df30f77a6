"""What an administrator decides when a system connects through the national SDK. Pure.

Issuing the SDK secret is where the CLI, the admin API and the admin page stop and say, for the
system as it is set: which packages its signature policy lets in (the SDK's EdXML102 library
builds packages with a placeholder signature, refused under the strict policy that new systems
get), and what keeps its signed requests from being reused elsewhere (HTTPS, an address
allow-list, mutual TLS). One list of points, worded for each of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from axis.config import Settings
from axis.registry.model import System


@dataclass(frozen=True, slots=True)
class Point:
    topic: str
    """``signature_policy``, ``transport``, ``addresses`` or ``client_certificate``."""
    state: str
    settled: bool
    """Nothing to do (the safe choice is made); otherwise the text says what to consider."""
    text: str
    """English, for the CLI and the API."""
    text_vi: str
    """Vietnamese, for the web page."""


def points(system: System, settings: Settings) -> list[Point]:
    return [_policy(system), _transport(settings), _addresses(system), _client_certificate(system, settings)]


def _policy(system: System) -> Point:
    policy = system.policy.name
    if system.allow_unsigned:
        return Point(
            "signature_policy",
            policy,
            False,
            "Packages without an XML Signature (such as those the SDK's EdXML102 library builds) are accepted from "
            "this system, and marked as unsigned on the recipients' pages, in the status view and in the receipts. "
            f"Once the vendor signs its packages: axis systems policy {system.id} --no-allow-unsigned.",
            "Trục đang nhận gói tin không có chữ ký số XML từ hệ thống này (như gói tin do thư viện EdXML102 của SDK "
            "tạo ra); mỗi gói tin như vậy được ghi rõ là không ký số ở trang văn bản của bên nhận, trong trạng thái "
            "và trong biên nhận. Khi bên cung cấp phần mềm đã ký số gói tin, hãy bỏ chọn «Chấp nhận gói tin không ký».",
        )
    sha1 = " SHA-1 signatures are accepted (legacy)." if system.allow_sha1 else ""
    return Point(
        "signature_policy",
        policy,
        True,
        "Packages must carry a real XML Signature by a certificate registered to this system." + sha1 + " Packages "
        "the SDK's EdXML102 library builds carry only a placeholder Signature and are refused (ErrorCode 303, "
        "signature.missing). If the vendor cannot sign yet, and only for the migration: "
        f"axis systems policy {system.id} --allow-unsigned (each package accepted so is marked unsigned).",
        "Gói tin phải có chữ ký số XML bằng chứng thư đã gắn cho hệ thống."
        + (" Chấp nhận chữ ký SHA-1 (SDK cũ)." if system.allow_sha1 else "")
        + " Gói tin do thư viện EdXML102 của SDK tạo ra chỉ có phần chữ ký giả nên bị từ chối (mã lỗi 303). Nếu bên "
        "cung cấp phần mềm chưa ký số được, trong thời gian chuyển đổi hãy chọn «Chấp nhận gói tin không ký» "
        "(mỗi gói tin như vậy được ghi rõ là không ký số).",
    )


def _transport(settings: Settings) -> Point:
    if settings.vdxp_allow_plain_http:
        return Point(
            "transport",
            "plain HTTP allowed",
            False,
            "AXIS_VDXP_ALLOW_PLAIN_HTTP is on: SDK requests over plain HTTP are taken from any machine, and whoever "
            "sees one can reuse its signature. Serve HTTPS (AXIS_TLS_CERT) or put a TLS proxy in front.",
            "Trục đang nhận yêu cầu SDK qua HTTP không mã hóa từ mọi máy (AXIS_VDXP_ALLOW_PLAIN_HTTP): ai đọc được "
            "một yêu cầu có thể dùng lại chữ ký của nó. Hãy dùng HTTPS.",
        )
    if not settings.tls_cert and not settings.trusted_proxies:
        return Point(
            "transport",
            "local only",
            False,
            "This axis serves plain HTTP and trusts no TLS proxy, so it takes SDK requests from this host only: serve "
            "HTTPS (AXIS_TLS_CERT, AXIS_TLS_KEY) or name the TLS proxy in front of it (AXIS_TRUSTED_PROXIES).",
            "Trục đang phục vụ HTTP không mã hóa và không có proxy TLS tin cậy, nên chỉ nhận yêu cầu SDK từ chính máy "
            "chủ của trục: hãy bật HTTPS (AXIS_TLS_CERT, AXIS_TLS_KEY) hoặc khai báo proxy TLS (AXIS_TRUSTED_PROXIES).",
        )
    behind = "the axis serves HTTPS" if settings.tls_cert else "through the trusted TLS proxy"
    return Point(
        "transport",
        "https",
        True,
        f"SDK requests are taken over HTTPS only ({behind}), or over plain HTTP from this host: give the vendor the "
        "https:// address of /vdxp.",
        "Trục chỉ nhận yêu cầu SDK qua HTTPS (hoặc HTTP từ chính máy chủ của trục): hãy đưa cho bên cung cấp phần "
        "mềm địa chỉ https://…/vdxp.",
    )


def _addresses(system: System) -> Point:
    if system.allowed_addresses:
        listed = ", ".join(system.allowed_addresses)
        return Point(
            "addresses",
            listed,
            True,
            f"Requests are taken only from {listed}.",
            f"Chỉ nhận yêu cầu từ {listed}.",
        )
    return Point(
        "addresses",
        "any",
        False,
        "Requests are taken from any address. The SDK signs once per instance, so a captured request can be "
        f"reused: name the vendor's servers with axis systems policy {system.id} --addresses 203.0.113.7,10.1.2.0/24.",
        "Trục nhận yêu cầu từ mọi địa chỉ. SDK ký một lần cho mỗi phiên nên một yêu cầu bị lộ có thể bị dùng lại: hãy "
        "ghi các địa chỉ máy chủ của hệ thống vào «Địa chỉ được phép gửi».",
    )


def _client_certificate(system: System, settings: Settings) -> Point:
    if system.require_client_certificate:
        return Point(
            "client_certificate",
            "required",
            True,
            "Requests must come over mutual TLS with one of the system's registered certificates (the SDK's JVM: "
            "-Djavax.net.ssl.keyStore=… -Djavax.net.ssl.keyStorePassword=…).",
            "Yêu cầu phải đến qua TLS hai chiều với một chứng thư đã gắn cho hệ thống (JVM của SDK: "
            "-Djavax.net.ssl.keyStore=…).",
        )
    possible = settings.tls_client_ca is not None
    return Point(
        "client_certificate",
        "optional",
        not possible,
        (
            f"Mutual TLS is available: axis systems policy {system.id} --require-client-cert, with the SDK's JVM "
            "started with -Djavax.net.ssl.keyStore=… holding one of the system's certificates."
            if possible
            else "Mutual TLS is not set up on this axis (AXIS_TLS_CLIENT_CA)."
        ),
        (
            "Có thể bắt buộc TLS hai chiều: chọn «Bắt buộc kết nối TLS hai chiều» và chạy JVM của SDK với "
            "-Djavax.net.ssl.keyStore=… chứa một chứng thư của hệ thống."
            if possible
            else "Trục chưa thiết lập TLS hai chiều (AXIS_TLS_CLIENT_CA)."
        ),
    )
