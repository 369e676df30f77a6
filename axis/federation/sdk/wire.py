"""The national Java SDK (SDKVXP-2.0.1) on the wire, byte for byte: requests built as it builds them.

Why: the captures in ``sdk-wire/`` show exactly what the unmodified SDK sends; a test client that
only speaks "about the same" protocol would miss the quirks vendors' software really produces. This
module rebuilds those bytes from the same inputs (endpoint, system, secret, the instance's creation
time, the calls made on it), so a test can send what the SDK would send for any call, not only the
captured ones. Source of the rules: ``../shared/domain/sdk-wire/README.md``; no SDK code is copied.

What it imitates, per service instance (KnobstickServiceImp / AgencyServiceImp):
- one ``java.util.HashMap`` of parameters, never cleared, iterated in HashMap order
  (:class:`axis.federation.sdk.java_map.JavaHashMap`);
- ``XroadVnpt-timestamp`` formatted once, at construction, as ``ddMMyyyy'T'HHmmss+SSSS`` in
  Asia/Ho_Chi_Minh time, where ``+SSSS`` is the milliseconds;
- the signed header list, the gson sign-header JSON (:mod:`axis.federation.sdk.gson`) and its HMAC-SHA256;
- two HTTP stacks: Apache HttpClient for every operation but sendEdoc (its header order, Expect,
  and on an endpoint with an explicit ``http`` port the low 8 bits of each character), and
  java.net.HttpURLConnection for sendEdoc (file + CRLF as an octet-stream, the lossy hash-file).

:func:`axis.federation.sdk.transport.exchange` sends such bytes over TCP and reads one answer;
``tests/vdxp/sdk_reader.py`` reads that answer as the SDK does.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from axis.federation.sdk.gson import gson_json, gson_string, header_value_as_string
from axis.federation.sdk.java_map import JavaHashMap

SDK_USER_AGENT = "JAVASDKAgent/1.0.0 XRoad/VPCP"
SDK_VERSION = "3.0.201608"
#: HttpURLConnection's default Accept as Java 17.0.15 writes it (older JREs wrote ``*; q=.2, */*; q=.2``).
JAVA17_ACCEPT = "text/html, image/gif, image/jpeg, */*; q=0.2"
#: Asia/Ho_Chi_Minh has kept +07:00 since 1975; the captures' JVM ran in that zone.
HO_CHI_MINH = dt.timezone(dt.timedelta(hours=7), "Asia/Ho_Chi_Minh")
OPERATIONS = (
    "sendEdoc",
    "getReceivedEdocList",
    "getSentEdocList",
    "getEdoc",
    "downloadEdoc",
    "downloadEdoc2",
    "updateStatus",
    "countReceiveEdoc",
    "countReceiveStatus",
    "getAgenciesList",
    "getAgenciesListQD20",
    "getSynchronizeUnit",
    "registerAgency",
    "deleteAgency",
)


def lossy_hex(data: bytes) -> str:
    """The SDK's hash-file: SHA-256 with each byte in hex **without** its leading zero."""
    return "".join(format(b, "x") for b in hashlib.sha256(data).digest())


def sdk_timestamp(moment: dt.datetime) -> str:
    """``ddMMyyyy'T'HHmmss+SSSS`` in Asia/Ho_Chi_Minh (a naive moment is taken as that zone's wall time)."""
    local = moment.astimezone(HO_CHI_MINH) if moment.tzinfo else moment
    return (
        f"{local.day:02d}{local.month:02d}{local.year:04d}T"
        f"{local.hour:02d}{local.minute:02d}{local.second:02d}+{local.microsecond // 1000:04d}"
    )


def moment_of(timestamp: str) -> dt.datetime:
    """The creation time an ``XroadVnpt-timestamp`` was formatted from (inverse of :func:`sdk_timestamp`)."""
    moment = dt.datetime.strptime(timestamp[:15], "%d%m%YT%H%M%S").replace(tzinfo=HO_CHI_MINH)
    return moment.replace(microsecond=int(timestamp[16:]) * 1000)


@dataclass(frozen=True)
class Endpoint:
    """The configured endpoint, split as ``java.net.URL`` splits it (``port`` is None when not written)."""

    scheme: str
    host: str
    port: int | None
    path: str

    @classmethod
    def parse(cls, url: str) -> Endpoint:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError(f"not an endpoint the SDK can use here: {url!r}")
        authority = parts.netloc.rpartition("@")[2]  # the host as written: Host headers keep its case
        host = authority[: authority.index("]") + 1] if authority.startswith("[") else authority.split(":")[0]
        return cls(parts.scheme, host, parts.port, parts.path)

    @property
    def effective_port(self) -> int:
        """The TCP port to connect to (what :func:`axis.federation.sdk.transport.exchange` needs)."""
        return self.port if self.port is not None else (443 if self.scheme == "https" else 80)

    @property
    def low_8_bits(self) -> bool:
        """HttpClientFactory gives exactly ``HttpHost(host, port)`` a charset-less config: an explicit
        port with the default ``http`` scheme, so each character goes out as its low 8 bits (README §8)."""
        return self.port is not None and self.scheme == "http"


class SdkService:
    """One SDK service instance: its endpoint, credentials, creation time and never-cleared map.

    Each operation method takes the JSON header as the vendor passes it (a dict; values copied as
    gson's ``getAsString()``), updates the map as the SDK does, and returns the exact request bytes.
    Java splits the operations over KnobstickServiceImp and AgencyServiceImp; each keeps its own
    map, so make one ``SdkService`` per Java instance.
    """

    def __init__(
        self,
        endpoint: str | Endpoint,
        system_id: str,
        secret: str,
        created_at: dt.datetime | None = None,
        *,
        java_version: str = "17.0.15",
        url_connection_accept: str = JAVA17_ACCEPT,
    ) -> None:
        self.endpoint = endpoint if isinstance(endpoint, Endpoint) else Endpoint.parse(endpoint)
        self.secret = secret
        self.java_version = java_version
        self.url_connection_accept = url_connection_accept
        self.params = JavaHashMap()
        self.params.put("timestamp", sdk_timestamp(created_at or dt.datetime.now(HO_CHI_MINH)))
        self.params.put("systemid", system_id)

    @property
    def timestamp(self) -> str:
        """``XroadVnpt-timestamp`` as this instance sends it on every call (unless a header overrides it)."""
        return self.params.get("timestamp") or ""

    # --- the operations ---------------------------------------------------------------------------

    def send_edoc(self, header: Mapping[str, object], package: bytes) -> bytes:
        """POST over HttpURLConnection: ``to`` kept as JSON text, then ``hash-file``; body = file + CRLF."""
        self.params.put("Content-Type", "application/octet-stream")
        for key, value in header.items():
            self.params.put(key, gson_json(value) if key == "to" else header_value_as_string(key, value))
        self.params.put("hash-file", lossy_hex(package))
        return self._url_connection("sendEdoc", package + b"\r\n")

    def get_received_edoc_list(self, header: Mapping[str, object]) -> bytes:
        return self._apache("getReceivedEdocList", header, "POST", b"")

    def get_sent_edoc_list(self, header: Mapping[str, object]) -> bytes:
        return self._apache("getSentEdocList", header, "POST", b"")

    def get_edoc(self, header: Mapping[str, object]) -> bytes:
        return self._apache("getEdoc", header, "POST", b"{}")

    def download_edoc(self, header: Mapping[str, object]) -> bytes:
        return self._apache("downloadEdoc", header, "GET", None)

    def download_edoc2(self, header: Mapping[str, object]) -> bytes:
        """A bare GET from a default HttpClient: the map is updated, but nothing of it is sent."""
        self._put("application/json", header)
        lines = [
            f"GET {self.endpoint.path}/downloadEdoc HTTP/1.1",
            f"Host: {self._apache_host()}",
            "Connection: Keep-Alive",
            f"User-Agent: Apache-HttpClient/4.5.6 (Java/{self.java_version})",
            "Accept-Encoding: gzip,deflate",
        ]
        return _head(lines, low_8_bits=True)  # a default client has no charset either

    def update_status(self, header: Mapping[str, object]) -> bytes:
        return self._apache("updateStatus", header, "POST", b"{}")

    def count_receive_edoc(self, header: Mapping[str, object]) -> bytes:
        """The SDK passes "GET", but its ``{}`` overload always posts (README §1)."""
        return self._apache("countReceiveEdoc", header, "POST", b"{}")

    def count_receive_status(self, header: Mapping[str, object]) -> bytes:
        return self._apache("countReceiveStatus", header, "POST", b"{}")

    def get_agencies_list(self, header: Mapping[str, object]) -> bytes:
        return self._apache("getAgenciesList", header, "POST", b"")

    def get_agencies_list_qd20(self, header: Mapping[str, object]) -> bytes:
        return self._apache("getAgenciesListQD20", header, "POST", b"")

    def get_synchronize_unit(self, header: Mapping[str, object]) -> bytes:
        return self._apache("getSynchronizeUnit", header, "POST", b"")

    def register_agency(self, header: Mapping[str, object], data: str) -> bytes:
        """The caller's data string goes out verbatim in UTF-8, even when it is not JSON."""
        return self._apache("registerAgency", header, "POST", data.encode("utf-8", "replace"))

    def delete_agency(self, header: Mapping[str, object]) -> bytes:
        return self._apache("deleteAgency", header, "POST", b"{}")

    def call(self, operation: str, header: Mapping[str, object], payload: bytes | str | None = None) -> bytes:
        """Any operation by its SDK name (the package bytes for sendEdoc, the data for registerAgency)."""
        if operation == "sendEdoc":
            if not isinstance(payload, bytes):
                raise TypeError("sendEdoc needs the package bytes")
            return self.send_edoc(header, payload)
        if operation == "registerAgency":
            if not isinstance(payload, str):
                raise TypeError("registerAgency needs the data string")
            return self.register_agency(header, payload)
        method: Callable[[Mapping[str, object]], bytes] = getattr(self, _SNAKE[operation])
        return method(header)

    # --- signing and the two HTTP stacks ----------------------------------------------------------

    def signed_headers(self) -> list[tuple[str, str]]:
        """VnptService's header list: the map (plain Content-Type first of its pair), then the signature."""
        entries = self.params.items()
        headers: list[tuple[str, str]] = []
        for key, value in entries:
            if key == "Content-Type":
                headers.append((key, value))
            headers.append((f"XroadVnpt-{key}", value))
        sign_header = "{" + ",".join(f"{gson_string('XroadVnpt-' + k)}:{gson_string(v)}" for k, v in entries) + "}"
        mac = hmac.new(self.secret.encode("utf-8", "replace"), sign_header.encode("utf-8", "replace"), hashlib.sha256)
        return [
            *headers,
            ("XroadVnpt-sign-header-key", ";".join(key for key, _ in entries)),
            ("XroadVnpt-sign-header", sign_header),
            ("XroadVnpt-hash-header", mac.hexdigest()),
            ("User-Agent", SDK_USER_AGENT),
            ("XroadVnpt-version", SDK_VERSION),
        ]

    def _put(self, content_type: str, header: Mapping[str, object]) -> None:
        self.params.put("Content-Type", content_type)
        for key, value in header.items():
            self.params.put(key, header_value_as_string(key, value))

    def _apache_host(self) -> str:
        port = self.endpoint.port
        return self.endpoint.host if port is None else f"{self.endpoint.host}:{port}"

    def _apache(self, operation: str, header: Mapping[str, object], method: str, body: bytes | None) -> bytes:
        """HttpClient 4.5.6: default headers in list order, then its own (Expect only with a body)."""
        self._put("application/json", header)
        lines = [f"{method} {self.endpoint.path}/{operation} HTTP/1.1"]
        lines += [f"{name}: {value}" for name, value in self.signed_headers()]
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        lines += [f"Host: {self._apache_host()}", "Connection: Keep-Alive"]
        if body:
            lines.append("Expect: 100-continue")
        lines.append("Accept-Encoding: gzip,deflate")
        return _head(lines, low_8_bits=self.endpoint.low_8_bits) + (body or b"")

    def _url_connection(self, operation: str, body: bytes) -> bytes:
        """HttpURLConnection: setRequestProperty replaces same-named (any case) headers in place."""
        # The SDK first declares a multipart type; its own Content-Type then replaces it (README §1).
        headers: dict[str, tuple[str, str]] = {"content-type": ("Content-Type", "multipart/form-data")}
        for name, value in self.signed_headers():
            spelled = headers.get(name.lower(), (name, ""))[0]
            headers[name.lower()] = (spelled, value)
        port = self.endpoint.port
        host = self.endpoint.host
        if port is not None and port != (443 if self.endpoint.scheme == "https" else 80):
            host = f"{host}:{port}"
        lines = [f"POST {self.endpoint.path}/{operation} HTTP/1.1"]
        lines += [f"{name}: {value}" for name, value in headers.values()]
        lines += [
            "Cache-Control: no-cache",
            "Pragma: no-cache",
            f"Host: {host}",
            f"Accept: {self.url_connection_accept}",
            "Connection: keep-alive",
            f"Content-Length: {len(body)}",
        ]
        return _head(lines, low_8_bits=False) + body


_SNAKE = {op: re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", op).lower() for op in OPERATIONS}


def _head(lines: list[str], *, low_8_bits: bool) -> bytes:
    """The request head; a CR or LF inside a value is refused (the captures do not cover it)."""
    if any("\r" in line or "\n" in line for line in lines):
        raise ValueError("a header value holds CR or LF: not modelled")
    text = "\r\n".join(lines) + "\r\n\r\n"
    if low_8_bits:
        return bytes(ord(ch) & 0xFF for ch in text)
    return text.encode("utf-8", "ignore")  # HttpClient's UTF-8 config drops what it cannot encode
