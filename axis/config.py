"""One frozen settings object, read from the environment once and validated at start.

Defaults work on a developer machine with local PostgreSQL and RabbitMQ and development keys
under ``var/keys``; production sets the ``AXIS_*`` variables. ``Settings.redacted()`` is what gets
logged, so secrets never reach a log line.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from axis.errors import AxisError

_MB = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    database_url: str = "postgresql://postgres@127.0.0.1:5432/axis"
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    #: RabbitMQ's management API: ``axis systems grant-amqp`` creates per-system users through it.
    amqp_management_url: str = "http://guest:guest@127.0.0.1:15672"
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    max_package_bytes: int = 100 * _MB
    #: Packages up to this size travel over AMQP in the message; larger ones by reference (the
    #: message names the package, the recipient fetches it over HTTP). 16 MiB is RabbitMQ 4's
    #: default max_message_size; common clients refuse bodies over 64 MiB by default.
    amqp_inline_max_bytes: int = 16 * _MB
    max_xml_depth: int = 48
    keys_dir: Path = Path("var/keys")
    #: PEM files of the CAs that agency signing certificates must chain to.
    trust_anchors: tuple[Path, ...] = field(default_factory=tuple)
    log_level: str = "info"
    #: Threads that verify packages off the event loop (parsing and XML Signature checks).
    verify_workers: int = 1
    #: AMQP packages from systems processed at once per axis process.
    intake_prefetch: int = 8
    #: A delivery not acknowledged within this many hours is marked overdue in the status views.
    ack_deadline_hours: float = 24.0
    #: Intakes in flight per process; beyond it intake answers 503 with Retry-After.
    max_intake_in_flight: int = 64
    #: Bytes of packages being received at once per process (0 = no budget); beyond it: 503.
    max_intake_bytes_in_flight: int = 256 * _MB
    #: Requests a minute per system (average; 0 = no limit) and the burst allowed; beyond: 429.
    rate_limit_per_minute: float = 1200.0
    rate_limit_burst: int = 200
    #: Seconds to wait for a database connection before answering 503.
    db_acquire_timeout: float = 5.0
    #: Retention: packages older than this are archived by `axis retention run` into archive_dir.
    retention_days: float = 1825.0
    archive_dir: Path = Path("var/archive")

    # Security (issue 7)
    #: CRL files (PEM or DER) issued by the trust anchors: a signer certificate they list is refused.
    crl_files: tuple[Path, ...] = field(default_factory=tuple)
    #: A package's timestamp may lie this far ahead of the axis's clock, and be this old (0: no age limit).
    max_clock_skew_seconds: float = 600.0
    max_package_age_days: float = 30.0
    #: Serve HTTPS with this certificate (chain) and key; with a client CA, ask systems for client
    #: certificates (optional, required per system: ``axis systems policy --require-client-cert``).
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_client_ca: Path | None = None

    # National SDK compatibility (axis.vdxp: /vdxp/<operation>)
    #: The key that seals the systems' SDK secrets (32 random bytes, base64); ``axis systems secret``
    #: creates it when missing. Default: ``keys_dir/vdxp-secrets.key``.
    vdxp_secret_key_file: Path | None = None
    #: A signed header set that carries ``status`` or ``AgencyCode`` may change a delivery or an agency
    #: only within this many seconds of its first use (axis.vdxp.replay): the SDK never re-signs.
    vdxp_change_window_seconds: float = 86400.0
    #: Take SDK requests over plain HTTP from other machines too (the SDK's signature can be reused
    #: by whoever sees it: by default plain HTTP is taken from the axis's own host only).
    vdxp_allow_plain_http: bool = False
    #: FAIL answers carry the error's HTTP status instead of 200 (the SDK reads ErrorCode).
    vdxp_http_errors: bool = False
    #: The spelling each operation uses when docId and docid arrive with different values, e.g.
    #: ``getEdoc=docId,updateStatus=docid`` (without it such requests are refused, never guessed).
    vdxp_docid_spelling: str = ""
    #: Systems may retire agencies (deleteAgency) under the subtrees they serve.
    vdxp_agency_changes: bool = False
    #: Reverse proxies whose X-Forwarded-For and X-Forwarded-Proto the axis believes (CIDRs).
    trusted_proxies: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        defaults = cls()

        def get(name: str, default: object) -> str:
            return env.get(f"AXIS_{name}", str(default))

        try:
            keys_dir = Path(get("KEYS_DIR", defaults.keys_dir))
            anchors_text = env.get("AXIS_TRUST_ANCHORS", "")
            anchors = tuple(Path(p) for p in anchors_text.split(os.pathsep) if p) or (keys_dir / "ca.pem",)
            settings = cls(
                database_url=get("DATABASE_URL", defaults.database_url),
                amqp_url=get("AMQP_URL", defaults.amqp_url),
                amqp_management_url=get("AMQP_MANAGEMENT_URL", defaults.amqp_management_url),
                http_host=get("HTTP_HOST", defaults.http_host),
                http_port=int(get("HTTP_PORT", defaults.http_port)),
                max_package_bytes=int(get("MAX_PACKAGE_BYTES", defaults.max_package_bytes)),
                amqp_inline_max_bytes=int(get("AMQP_INLINE_MAX_BYTES", defaults.amqp_inline_max_bytes)),
                max_xml_depth=int(get("MAX_XML_DEPTH", defaults.max_xml_depth)),
                keys_dir=keys_dir,
                trust_anchors=anchors,
                log_level=get("LOG_LEVEL", defaults.log_level).lower(),
                verify_workers=int(get("VERIFY_WORKERS", defaults.verify_workers)),
                intake_prefetch=int(get("INTAKE_PREFETCH", defaults.intake_prefetch)),
                ack_deadline_hours=float(get("ACK_DEADLINE_HOURS", defaults.ack_deadline_hours)),
                max_intake_in_flight=int(get("MAX_INTAKE_IN_FLIGHT", defaults.max_intake_in_flight)),
                max_intake_bytes_in_flight=int(get("MAX_INTAKE_BYTES_IN_FLIGHT", defaults.max_intake_bytes_in_flight)),
                rate_limit_per_minute=float(get("RATE_LIMIT_PER_MINUTE", defaults.rate_limit_per_minute)),
                rate_limit_burst=int(get("RATE_LIMIT_BURST", defaults.rate_limit_burst)),
                db_acquire_timeout=float(get("DB_ACQUIRE_TIMEOUT", defaults.db_acquire_timeout)),
                retention_days=float(get("RETENTION_DAYS", defaults.retention_days)),
                archive_dir=Path(get("ARCHIVE_DIR", defaults.archive_dir)),
                crl_files=_paths(env.get("AXIS_CRL_FILES", "")),
                max_clock_skew_seconds=float(get("MAX_CLOCK_SKEW_SECONDS", defaults.max_clock_skew_seconds)),
                max_package_age_days=float(get("MAX_PACKAGE_AGE_DAYS", defaults.max_package_age_days)),
                tls_cert=_path(env.get("AXIS_TLS_CERT", "")),
                tls_key=_path(env.get("AXIS_TLS_KEY", "")),
                tls_client_ca=_path(env.get("AXIS_TLS_CLIENT_CA", "")),
                vdxp_secret_key_file=_path(env.get("AXIS_VDXP_SECRET_KEY_FILE", "")),
                vdxp_change_window_seconds=float(
                    get("VDXP_CHANGE_WINDOW_SECONDS", defaults.vdxp_change_window_seconds)
                ),
                vdxp_allow_plain_http=_flag(get("VDXP_ALLOW_PLAIN_HTTP", "0")),
                vdxp_http_errors=_flag(get("VDXP_HTTP_ERRORS", "0")),
                vdxp_docid_spelling=get("VDXP_DOCID_SPELLING", defaults.vdxp_docid_spelling),
                vdxp_agency_changes=_flag(get("VDXP_AGENCY_CHANGES", "0")),
                trusted_proxies=tuple(p.strip() for p in get("TRUSTED_PROXIES", "").split(",") if p.strip()),
            )
        except ValueError as exc:
            raise AxisError("config.invalid", f"A numeric AXIS_* setting is not a number: {exc}") from None
        settings.validate()
        return settings

    @property
    def axis_key(self) -> Path:
        """The axis's own signing key (receipts); ``axis keys init`` makes a development one."""
        return self.keys_dir / "axis.key.pem"

    @property
    def axis_certificate(self) -> Path:
        return self.keys_dir / "axis.pem"

    @property
    def vdxp_key_path(self) -> Path:
        """The key that seals SDK secrets (``AXIS_VDXP_SECRET_KEY_FILE``, else in ``keys_dir``)."""
        return self.vdxp_secret_key_file or self.keys_dir / "vdxp-secrets.key"

    @property
    def amqp_vhost(self) -> str:
        path = urlsplit(self.amqp_url).path
        return unquote(path[1:]) if len(path) > 1 else "/"

    def validate(self) -> None:
        if not 0 < self.http_port < 65536:
            raise AxisError("config.invalid", f"AXIS_HTTP_PORT {self.http_port} is not a port number.")
        if self.max_package_bytes < 1024:
            raise AxisError("config.invalid", "AXIS_MAX_PACKAGE_BYTES must be at least 1024.")
        if self.amqp_inline_max_bytes < 1024:
            raise AxisError("config.invalid", "AXIS_AMQP_INLINE_MAX_BYTES must be at least 1024.")
        if self.max_intake_bytes_in_flight < 0:
            raise AxisError("config.invalid", "AXIS_MAX_INTAKE_BYTES_IN_FLIGHT must be 0 (no budget) or more.")
        if self.verify_workers < 0:
            raise AxisError("config.invalid", "AXIS_VERIFY_WORKERS must be 0 (on the event loop) or more.")
        if self.log_level not in ("debug", "info", "warning", "error"):
            raise AxisError("config.invalid", f"AXIS_LOG_LEVEL {self.log_level!r} is not a log level.")
        if self.max_clock_skew_seconds < 0 or self.max_package_age_days < 0:
            raise AxisError(
                "config.invalid", "AXIS_MAX_CLOCK_SKEW_SECONDS and AXIS_MAX_PACKAGE_AGE_DAYS must be 0 or more."
            )
        if (self.tls_cert is None) != (self.tls_key is None):
            raise AxisError("config.invalid", "AXIS_TLS_CERT and AXIS_TLS_KEY go together: set both or neither.")
        if self.tls_client_ca is not None and self.tls_cert is None:
            raise AxisError("config.invalid", "AXIS_TLS_CLIENT_CA needs AXIS_TLS_CERT and AXIS_TLS_KEY (HTTPS).")
        if self.vdxp_change_window_seconds <= 0:
            raise AxisError("config.invalid", "AXIS_VDXP_CHANGE_WINDOW_SECONDS must be more than 0.")
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise AxisError(
                    "config.invalid", f"AXIS_TRUSTED_PROXIES: {proxy!r} is not an address or a network (CIDR)."
                ) from None

    def redacted(self) -> dict[str, object]:
        """The settings as they may be logged: passwords in URLs replaced by ``***``."""
        values = asdict(self)
        for name in ("database_url", "amqp_url", "amqp_management_url"):
            values[name] = _redact_url(values[name])
        return {k: str(v) if isinstance(v, Path) else v for k, v in values.items()}


def _paths(text: str) -> tuple[Path, ...]:
    """An os.pathsep-separated list of files (empty parts ignored)."""
    return tuple(Path(p) for p in text.split(os.pathsep) if p)


def _path(text: str) -> Path | None:
    return Path(text) if text else None


def _flag(text: str) -> bool:
    return text.strip().lower() in ("1", "true", "yes", "on")


def _redact_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))
