"""One frozen settings object, read from the environment once and validated at start.

Each setting is declared once, below: its field (name, type, default) carries its environment
variable, how text becomes its value, its check and one line of documentation. ``from_env`` reads
the variables from those declarations, ``validate`` runs their checks, and ``markdown_table`` is
the table of docs/operations.md (a test keeps the two equal, as docs/errors.md is kept with the
error catalogue). Defaults work on a developer machine with local PostgreSQL and RabbitMQ and
development keys under ``var/keys``. ``Settings.redacted()`` is what gets logged, so secrets
never reach a log line.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from axis.edxml.xmlsafe import Limits
from axis.errors import AxisError

_MB = 1024 * 1024
Check = Callable[[Any], "str | None"]


def setting(
    default: Any = dataclasses.MISSING,
    *,
    doc: str,
    factory: Callable[[], Any] | None = None,
    parse: Callable[[str], Any] | None = None,
    check: Check | None = None,
    shown: str | None = None,
) -> Any:
    """Declare a setting: ``doc`` is its line in docs/operations.md, ``parse`` turns the variable's
    text into the value (by default from the field's type), ``check`` says what is wrong with a
    value (None when it is right), ``shown`` how the docs show the default."""
    metadata = {"doc": doc, "parse": parse, "check": check, "shown": shown}
    if factory is not None:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


def _at_least(low: float, *, reason: str = "") -> Check:
    return lambda value: None if value >= low else f"must be at least {low:g}{reason}."


def _more_than(low: float) -> Check:
    return lambda value: None if value > low else f"must be more than {low:g}."


def _networks(values: tuple[str, ...]) -> str | None:
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            return f"{value!r} is not an address or a network (CIDR)."
    return None


def _flag(text: str) -> bool:
    return text.strip().lower() in ("1", "true", "yes", "on")


def _paths(text: str) -> tuple[Path, ...]:
    """An os.pathsep-separated list of files (empty parts ignored)."""
    return tuple(Path(p) for p in text.split(os.pathsep) if p)


def _words(text: str) -> tuple[str, ...]:
    """A comma-separated list (blanks ignored)."""
    return tuple(p.strip() for p in text.split(",") if p.strip())


@dataclass(frozen=True)
class Settings:
    database_url: str = setting(
        "postgresql://postgres@127.0.0.1:5432/axis", doc="PostgreSQL (the database is created when missing)"
    )
    db_pool_size: int = setting(20, doc="database connections each axis process keeps at most", check=_at_least(2))
    db_acquire_timeout: float = setting(
        5.0, doc="seconds to wait for a database connection before answering `503`", check=_more_than(0)
    )
    amqp_url: str = setting(
        "amqp://guest:guest@127.0.0.1:5672/",
        doc="RabbitMQ; its path is the vhost. A cluster: one URL per node, separated by commas (any live node is "
        "used, another when it dies)",
    )
    amqp_management_url: str = setting(
        "http://guest:guest@127.0.0.1:15672",
        doc="RabbitMQ's management API (per-system users through `axis systems grant-amqp`, queue depths); a "
        "cluster: one URL per node, separated by commas",
    )
    publisher_confirm_timeout: float = setting(
        30.0, doc="seconds RabbitMQ has to confirm a publish before the outbox retries it", check=_more_than(0)
    )
    relay_interval: float = setting(
        2.0,
        doc="seconds between two rounds of the outbox relay (what a lost confirm waits at most)",
        check=_more_than(0),
    )
    relay_batch: int = setting(50, doc="outbox messages one relay round publishes at most", check=_at_least(1))
    http_host: str = setting("127.0.0.1", doc="where `axis serve` listens")
    http_port: int = setting(
        8080, doc="the port `axis serve` listens on", check=lambda p: None if 0 < p < 65536 else "is not a port number."
    )
    max_package_bytes: int = setting(
        100 * _MB,
        doc="larger packages are refused before they are read",
        check=_at_least(1024),
        shown="104857600 (100 MB)",
    )
    amqp_inline_max_bytes: int = setting(
        16 * _MB,
        doc="larger packages go to AMQP systems by reference (empty body, `body_url`/`body_size`/`body_sha256` "
        "headers; the system fetches over HTTP with its token): RabbitMQ 4 and common clients cap message sizes",
        check=_at_least(1024),
        shown="16777216 (16 MiB)",
    )
    max_xml_depth: int = setting(48, doc="deeper XML is refused", check=_at_least(4))
    keys_dir: Path = setting(
        Path("var/keys"),
        doc="the axis's receipt key and certificate (`axis.key.pem`, `axis.pem`); `axis keys init` makes "
        "development ones",
    )
    trust_anchors: tuple[Path, ...] = setting(
        factory=tuple,
        parse=_paths,
        doc="PEM files (`:`-separated) of the CAs agency signing certificates must chain to",
        shown="<keys>/ca.pem",
    )
    document_trust_anchors: tuple[Path, ...] = setting(
        factory=tuple,
        parse=_paths,
        doc="PEM files (`:`-separated) of the CAs that signatures inside document files (PDF) must chain to: the "
        "government's specialised CA for document signing, kept apart from `AXIS_TRUST_ANCHORS` (the CRLs of "
        "`AXIS_CRL_FILES` serve both)",
        shown="<keys>/ca.pem",
    )
    file_check: bool = setting(
        True,
        parse=_flag,
        doc="check the signatures in each document's PDF files (also inside zips) at intake; `0`: neither checked "
        "nor required",
    )
    file_check_workers: int = setting(1, doc="processes checking files (each one PDF at a time)", check=_at_least(1))
    file_check_seconds: float = setting(
        20.0,
        doc="seconds one attachment's check may take; beyond: `file.limits`, its process replaced",
        check=_more_than(0),
    )
    file_check_memory_bytes: int = setting(
        1024 * _MB,
        doc="the address space of a checking process; an attachment needing more gets `file.limits`",
        check=_at_least(256 * _MB),
        shown="1073741824 (1 GiB)",
    )
    file_check_max_bytes: int = setting(
        50 * _MB,
        doc="larger attachments are not checked (`file.too_large`)",
        check=_at_least(1024),
        shown="52428800 (50 MiB)",
    )
    file_check_max_unzipped_bytes: int = setting(
        200 * _MB,
        doc="a zipped attachment expanding to more (or over 200 times an entry's compressed size) is `file.zip.bomb`",
        check=_at_least(1024),
        shown="209715200 (200 MiB)",
    )
    file_check_fetch: bool = setting(
        True,
        parse=_flag,
        doc="ask the OCSP responder or CRL address a document signer's certificate names (answers cached); no "
        "answer is the warning `file.signature.revocation_unknown`; `0`: only `AXIS_CRL_FILES`",
    )
    file_check_fetch_timeout: float = setting(
        5.0, doc="seconds an OCSP responder or CRL address has to answer", check=_more_than(0)
    )
    log_level: str = setting(
        "info",
        doc="JSON logs on stderr at this level",
        parse=str.lower,
        check=lambda v: None if v in ("debug", "info", "warning", "error") else "is not a log level.",
    )
    verify_workers: int = setting(
        1, doc="threads verifying packages off the event loop (`0`: on the loop)", check=_at_least(0)
    )
    intake_prefetch: int = setting(8, doc="AMQP packages processed at once per process", check=_at_least(1))
    intake_retry_limit: int = setting(
        20,
        doc="deliveries of an AMQP package the axis could not take (database or broker down) before it goes to "
        "`axis.dead` and its sender is told",
        check=_at_least(1),
    )
    ack_deadline_hours: float = setting(24.0, doc="a delivery not acknowledged within this is marked overdue")
    max_intake_in_flight: int = setting(
        64, doc="intakes at once per process; beyond: `503` + `Retry-After`", check=_at_least(1)
    )
    max_intake_bytes_in_flight: int = setting(
        256 * _MB,
        doc="bytes of packages received at once per process (by Content-Length, else the size limit; `0`: no "
        "budget); beyond it `503 intake.overloaded` with Retry-After. One package is always let in when nothing "
        "else is being received; a package costs up to about 1.6 times its size while it is checked, and a clerk "
        "opening a document over 1 MiB counts in the same budget",
        check=_at_least(0),
        shown="268435456 (256 MiB)",
    )
    rate_limit_per_minute: float = setting(
        1200.0, doc="requests a minute per system (average; `0`: no limit); beyond: `429` + `Retry-After`"
    )
    rate_limit_burst: int = setting(200, doc="the burst of requests a system may send above its rate")
    retention_days: float = setting(1825.0, doc="`axis retention run`: the age of the packages it archives")
    archive_dir: Path = setting(Path("var/archive"), doc="`axis retention run`: where archived packages go")
    crl_files: tuple[Path, ...] = setting(
        factory=tuple,
        parse=_paths,
        doc="CRL files (`:`-separated, PEM or DER) of the trust anchors; a listed signer certificate is refused "
        "(read at start)",
    )
    max_clock_skew_seconds: float = setting(
        600.0,
        doc="a status `Timestamp` or a document's last `TraceHeader` further in the future is refused",
        check=_at_least(0),
    )
    max_package_age_days: float = setting(30.0, doc="… or further in the past (`0`: no age limit)", check=_at_least(0))
    tls_cert: Path | None = setting(
        None, doc="serve HTTPS directly with this certificate (chain) (else terminate TLS in front)"
    )
    tls_key: Path | None = setting(None, doc="… and this key")
    tls_client_ca: Path | None = setting(
        None,
        doc="ask clients for certificates from these CAs; systems with `--require-client-cert` must present one "
        "of their registered certificates",
    )
    upstream_forward_interval: float = setting(
        1.0,
        doc="federation: seconds between two rounds handing packages to the upstream (sooner when one is accepted)",
        check=_more_than(0),
    )
    upstream_poll_interval: float = setting(
        5.0,
        doc="federation: seconds between two polls of the upstream for documents and statuses (getReceivedEdocList)",
        check=_more_than(0),
    )
    upstream_agencies_interval: float = setting(
        86400.0,
        doc="federation: seconds between two refreshes of the upstream's agency lists (external agencies)",
        check=_more_than(0),
    )
    upstream_call_timeout: float = setting(
        30.0, doc="federation: seconds the upstream has to answer one call", check=_more_than(0)
    )
    vdxp_secret_key_file: Path | None = setting(
        None, doc="the key that seals the SDK secrets of `/vdxp/`", shown="<keys>/vdxp-secrets.key"
    )
    vdxp_change_window_seconds: float = setting(
        86400.0,
        doc="`/vdxp/`: a signed header set carrying `status` or `AgencyCode` may change a delivery or an agency only "
        "this long after the axis first saw it (the SDK never re-signs; see integration.md §1.4)",
        check=_more_than(0),
    )
    vdxp_allow_plain_http: bool = setting(
        False,
        doc="`/vdxp/`: `1` takes SDK requests over plain HTTP from any machine (default: HTTPS, or plain HTTP from "
        "this host only); for a closed network",
    )
    vdxp_http_errors: bool = setting(
        False,
        doc="`/vdxp/`: `1` answers refusals with HTTP 4xx (default: 200 with `status: FAIL`, as SDK clients expect)",
    )
    vdxp_docid_spelling: str = setting(
        "",
        doc="`/vdxp/`: which of `docId`/`docid` each operation uses when both arrive with different values, "
        "e.g. `getEdoc=docId,updateStatus=docid`",
    )
    vdxp_agency_changes: bool = setting(
        False,
        doc="`/vdxp/`: `1` lets a system retire agencies below its own bindings (`deleteAgency`); `registerAgency` "
        "is never taken (its data is unsigned)",
    )
    trusted_proxies: tuple[str, ...] = setting(
        factory=tuple,
        parse=_words,
        check=_networks,
        doc="reverse proxies (CIDRs, comma-separated) whose `X-Forwarded-For` and `X-Forwarded-Proto` are "
        "believed: the client's address (allow-lists) and HTTPS behind a TLS-terminating proxy",
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for each in dataclasses.fields(cls):
            raw = env.get(variable(each))
            if raw is None or (raw == "" and each.type not in ("str",)):
                continue
            try:
                values[each.name] = _parser(each)(raw)
            except ValueError:
                raise AxisError(
                    "config.invalid", f"{variable(each)}={raw!r} is not {_kind(each)}.", setting=variable(each)
                ) from None
        for anchors in ("trust_anchors", "document_trust_anchors"):
            if anchors not in values:  # the development CA beside the axis's own keys
                values[anchors] = (Path(values.get("keys_dir", cls.keys_dir)) / "ca.pem",)
        settings = cls(**values)
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
    def package_limits(self) -> Limits:
        """What a package may be (its size, its depth), wherever one is parsed."""
        return Limits(max_bytes=self.max_package_bytes, max_depth=self.max_xml_depth)

    @property
    def amqp_vhost(self) -> str:
        path = urlsplit(amqp_addresses(self.amqp_url)[0]).path
        return unquote(path[1:]) if len(path) > 1 else "/"

    def validate(self) -> None:
        """Each setting's own check, then the ones that concern two at once."""
        for each in dataclasses.fields(self):
            check: Check | None = each.metadata.get("check")
            problem = check(getattr(self, each.name)) if check is not None else None
            if problem:
                raise AxisError("config.invalid", f"{variable(each)} {problem}", setting=variable(each))
        if (self.tls_cert is None) != (self.tls_key is None):
            raise AxisError("config.invalid", "AXIS_TLS_CERT and AXIS_TLS_KEY go together: set both or neither.")
        if self.tls_client_ca is not None and self.tls_cert is None:
            raise AxisError("config.invalid", "AXIS_TLS_CLIENT_CA needs AXIS_TLS_CERT and AXIS_TLS_KEY (HTTPS).")
        vhosts = {urlsplit(url).path for url in amqp_addresses(self.amqp_url)}
        if len(vhosts) > 1:
            raise AxisError(
                "config.invalid",
                "AXIS_AMQP_URL names several RabbitMQ nodes with different virtual hosts: one cluster, one vhost.",
                setting="AXIS_AMQP_URL",
            )

    def redacted(self) -> dict[str, object]:
        """The settings as they may be logged: passwords in URLs replaced by ``***``."""
        values = asdict(self)
        for name in ("database_url", "amqp_url", "amqp_management_url"):
            values[name] = redact_url(values[name])
        return {k: str(v) if isinstance(v, Path) else v for k, v in values.items()}


def variable(each: dataclasses.Field[Any]) -> str:
    """The environment variable of a setting: ``AXIS_`` and its name in capitals."""
    return f"AXIS_{each.name.upper()}"


def _parser(each: dataclasses.Field[Any]) -> Callable[[str], Any]:
    given: Callable[[str], Any] | None = each.metadata.get("parse")
    if given is not None:
        return given
    kinds: dict[str, Callable[[str], Any]] = {
        "str": str,
        "int": int,
        "float": float,
        "bool": _flag,
        "Path": Path,
        "Path | None": lambda text: Path(text) if text else None,
    }
    return kinds[str(each.type)]


def _kind(each: dataclasses.Field[Any]) -> str:
    return {"int": "an integer", "float": "a number"}.get(str(each.type), "a valid value")


def amqp_addresses(text: str) -> tuple[str, ...]:
    """The URLs of ``AXIS_AMQP_URL`` (or of the management API): one, or one per node of a
    cluster, separated by commas."""
    found = tuple(part.strip() for part in text.split(",") if part.strip())
    return found or (text,)


def redact_url(url: str) -> str:
    """A URL as it may be logged: its password replaced by ``***`` (each URL of a comma list)."""
    if "," in url:
        return ",".join(redact_url(part) for part in amqp_addresses(url))
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def _shown(each: dataclasses.Field[Any]) -> str:
    if each.metadata.get("shown"):
        return f"`{each.metadata['shown']}`"
    factory: Any = each.default_factory
    default = each.default if each.default is not dataclasses.MISSING else factory()
    if default is None or default == ():
        return "none"
    if default == "":
        return "empty"
    if isinstance(default, bool):
        return f"`{int(default)}`"
    if isinstance(default, float) and default.is_integer():
        return f"`{int(default)}`"
    return f"`{default}`"


def markdown_table() -> str:
    """The settings table of docs/operations.md, from the declarations."""
    lines = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for each in dataclasses.fields(Settings):
        lines.append(f"| `{variable(each)}` | {_shown(each)} | {each.metadata['doc']} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(markdown_table())
