"""The registry as frozen values: what resolution, authorization and the cache work on.

A ``Snapshot`` is the whole registry at one version, held in memory by every axis process: the
hot path (resolving recipients, checking a token or a certificate) never queries PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from axis.edxml.trust import SignaturePolicy


class AgencyStatus(enum.StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"


class SystemStatus(enum.StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class FilePolicy(enum.StrEnum):
    """What a system's documents' files must carry (``axis.files.judge``)."""

    REPORT = "report"  # check, keep and show what was found; refuse nothing (default)
    REQUIRE = "require"  # refuse a document whose main file has no valid signature of the sending agency


@dataclass(frozen=True, slots=True)
class Agency:
    code: str
    name: str
    parent_code: str | None = None
    status: AgencyStatus = AgencyStatus.ACTIVE
    successor_code: str | None = None
    code_qd20: str | None = None

    @property
    def retired(self) -> bool:
        return self.status is AgencyStatus.RETIRED


@dataclass(frozen=True, slots=True)
class System:
    """One installation of document-management software connected to the axis."""

    id: str
    name: str
    contact: str = ""
    delivery_http: bool = True
    delivery_amqp: bool = False
    allow_sha1: bool = False
    allow_unsigned: bool = False
    status: SystemStatus = SystemStatus.ACTIVE
    #: Requests must come over mutual TLS with one of the system's registered certificates.
    require_client_certificate: bool = False
    #: Networks (CIDR) the system's HTTP requests may come from; empty: any address.
    allowed_addresses: tuple[str, ...] = ()
    file_policy: FilePolicy = FilePolicy.REPORT

    @property
    def policy(self) -> SignaturePolicy:
        """The signature policy an administrator granted this system (strict unless relaxed)."""
        return SignaturePolicy(allow_sha1=self.allow_sha1, allow_unsigned=self.allow_unsigned)

    @property
    def active(self) -> bool:
        return self.status is SystemStatus.ACTIVE


@dataclass(frozen=True, slots=True)
class Certificate:
    """A signing certificate bound to a system."""

    fingerprint: str
    system_id: str
    subject: str
    agency_code: str | None
    not_before: dt.datetime
    not_after: dt.datetime
    revoked: bool = False


@dataclass(frozen=True, slots=True)
class UpstreamRoute:
    """Where a recipient this axis does not serve goes: the system standing for the axis above
    (``axis.federation``), and the agency subtrees that stay here."""

    system_id: str
    serves: tuple[str, ...]


@dataclass(frozen=True)
class Snapshot:
    """The registry at one version. Built by the store, replaced whole by the cache on change."""

    version: int = 0
    agencies: Mapping[str, Agency] = field(default_factory=dict)
    systems: Mapping[str, System] = field(default_factory=dict)
    #: subtree root (agency code) -> system id
    bindings: Mapping[str, str] = field(default_factory=dict)
    #: fingerprint -> certificate (revoked ones included, flagged, so refusals can say "revoked")
    certificates: Mapping[str, Certificate] = field(default_factory=dict)
    #: sha256 hex of an active system token -> system id
    tokens: Mapping[str, str] = field(default_factory=dict)
    #: sha256 hex of an active admin token -> the token's name
    admin_tokens: Mapping[str, str] = field(default_factory=dict)
    #: The link to the axis above this one, when there is one (issue 17).
    upstream: UpstreamRoute | None = None
    #: Agencies the upstream knows (read-only here, routed upstream): code -> agency
    external: Mapping[str, Agency] = field(default_factory=dict)
    #: Decision 20/2020 code -> QCVN 102 code
    qd20: Mapping[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index = {a.code_qd20: a.code for a in self.agencies.values() if a.code_qd20}
        object.__setattr__(self, "qd20", index)
