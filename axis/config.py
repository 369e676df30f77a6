"""One frozen settings object, read from the environment once and validated at start.

Defaults work on a developer machine with local PostgreSQL and RabbitMQ and development keys
under ``var/keys``; production sets the ``AXIS_*`` variables. ``Settings.redacted()`` is what gets
logged, so secrets never reach a log line.
"""

from __future__ import annotations

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
                max_xml_depth=int(get("MAX_XML_DEPTH", defaults.max_xml_depth)),
                keys_dir=keys_dir,
                trust_anchors=anchors,
                log_level=get("LOG_LEVEL", defaults.log_level).lower(),
                verify_workers=int(get("VERIFY_WORKERS", defaults.verify_workers)),
                intake_prefetch=int(get("INTAKE_PREFETCH", defaults.intake_prefetch)),
                ack_deadline_hours=float(get("ACK_DEADLINE_HOURS", defaults.ack_deadline_hours)),
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
    def amqp_vhost(self) -> str:
        path = urlsplit(self.amqp_url).path
        return unquote(path[1:]) if len(path) > 1 else "/"

    def validate(self) -> None:
        if not 0 < self.http_port < 65536:
            raise AxisError("config.invalid", f"AXIS_HTTP_PORT {self.http_port} is not a port number.")
        if self.max_package_bytes < 1024:
            raise AxisError("config.invalid", "AXIS_MAX_PACKAGE_BYTES must be at least 1024.")
        if self.verify_workers < 0:
            raise AxisError("config.invalid", "AXIS_VERIFY_WORKERS must be 0 (on the event loop) or more.")
        if self.log_level not in ("debug", "info", "warning", "error"):
            raise AxisError("config.invalid", f"AXIS_LOG_LEVEL {self.log_level!r} is not a log level.")

    def redacted(self) -> dict[str, object]:
        """The settings as they may be logged: passwords in URLs replaced by ``***``."""
        values = asdict(self)
        for name in ("database_url", "amqp_url", "amqp_management_url"):
            values[name] = _redact_url(values[name])
        return {k: str(v) if isinstance(v, Path) else v for k, v in values.items()}


def _redact_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))
