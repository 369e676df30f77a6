"""Whether a verified package may enter the axis, and where it goes: pure, over the registry snapshot.

Everything here is decided from the verified package, the calling system and the ``Resolver``; no
I/O, so every rule is tested without servers and intake costs no query on this path.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from axis import ids
from axis.edxml import model as m
from axis.edxml.codec import Verified
from axis.errors import AxisError
from axis.files.findings import DocumentCheck
from axis.registry.model import System
from axis.registry.resolve import Resolution, Resolver

#: Registry refusals of a recipient, as intake reports them: the package, not the look-up, failed.
_RECIPIENT_CODES = {
    "registry.agency.unknown": "intake.recipient.unknown",
    "agency_code.malformed": "intake.recipient.unknown",
    "registry.agency.unserved": "intake.recipient.unserved",
    "registry.agency.retired_without_successor": "intake.recipient.retired",
    "registry.agency.successor_cycle": "intake.recipient.retired",
}


@dataclass(frozen=True, slots=True)
class Recipient:
    """One addressed agency: as the sender wrote it, and where the registry routes it."""

    requested_code: str
    agency_code: str
    agency_name: str
    system_id: str
    redirects: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Admission:
    """A package the axis accepts, with everything storage and delivery need."""

    package_id: uuid.UUID
    verified: Verified
    caller: System
    digest: str
    size: int
    dedupe_key: str
    recipients: tuple[Recipient, ...]
    #: What the signatures in its files are (``axis.files``); None when not checked (a status package,
    #: or AXIS_FILE_CHECK=0).
    files: DocumentCheck | None = None

    @property
    def file_verdict(self) -> str | None:
        """The one word listings and the 202 answer give for ``files``."""
        return self.files.verdict.value if self.files is not None else None

    @property
    def package(self) -> m.Package:
        return self.verified.package

    @property
    def kind(self) -> m.Kind:
        return self.verified.package.kind

    @property
    def document_id(self) -> str:
        return self.verified.package.document_id

    @property
    def systems(self) -> tuple[str, ...]:
        """The distinct recipient systems, in the order their first agency was addressed."""
        return tuple(dict.fromkeys(r.system_id for r in self.recipients))


def dedupe_key(package: m.Package, digest: str) -> str:
    """What "the same package" means. A new document, a replacement or a revocation is its
    DocumentId (a second one with other bytes is a conflict); updates of one document may be
    many, and a status package has no identity: those are their bytes."""
    if isinstance(package, m.DocumentPackage):
        kind = package.business.doc_type
        if kind is m.BusinessDocType.UPDATE:
            return f"document:{int(kind)}:{package.document_id}:{digest}"
        return f"document:{int(kind)}:{package.document_id}"
    return f"status:{digest}"


def authorize(verified: Verified, caller: System, resolver: Resolver) -> None:
    """The caller may send for the package's sender agency, with this certificate."""
    package = verified.package
    if not caller.active:
        raise AxisError("registry.system.disabled", f"The system {caller.id} is disabled.", system=caller.id)
    resolver.check_sender(caller.id, package.sender.organ_id)
    if verified.signer is not None:
        resolver.check_certificate(caller.id, verified.signer.fingerprint_sha256, package.sender.organ_id)


def admit(
    verified: Verified,
    caller: System,
    resolver: Resolver,
    *,
    digest: str,
    size: int,
    route: Sequence[str] | None = None,
) -> Admission:
    """Check the caller may send this package for its sender, and route its recipients: the To
    list of a document, or ``route`` (decided by the flow rules, e.g. a status back to the
    document's sender, a take-back request to its recipients)."""
    package = verified.package
    authorize(verified, caller, resolver)
    if route is not None:
        addressed = list(route)
    elif isinstance(package, m.DocumentPackage):
        addressed = [r.organ_id for r in package.recipients]
    else:
        addressed = [package.response_for.organ_id]
    if caller.id == resolver.upstream_system():
        # What the axis above brought is for the agencies served here; the rest of its To list
        # (other provinces, or this one's own sender) was the upstream's to deliver, never to send back up.
        addressed = [code for code in addressed if resolver.served_here(code)]
        if not addressed:
            raise AxisError(
                "intake.recipient.unserved",
                "None of the package's recipients is served by this axis; the upstream delivered it here in error.",
                recipient="",
            )
    recipients = tuple(_route(resolver, code) for code in dict.fromkeys(addressed))
    return Admission(
        package_id=ids.time_ordered(),
        verified=verified,
        caller=caller,
        digest=digest,
        size=size,
        dedupe_key=dedupe_key(package, digest),
        recipients=recipients,
    )


def _route(resolver: Resolver, code: str) -> Recipient:
    try:
        resolution: Resolution = resolver.resolve(code)
    except AxisError as exc:
        intake_code = _RECIPIENT_CODES.get(exc.code)
        if intake_code is None:
            raise
        raise AxisError(
            intake_code,
            f"Recipient {code}: {exc.message}",
            recipient=code,
            registry_code=exc.code,
            **{k: v for k, v in exc.details.items() if k != "recipient"},
        ) from None
    return Recipient(
        requested_code=code,
        agency_code=resolution.agency.code,
        agency_name=resolution.agency.name,
        system_id=resolution.system.id,
        redirects=resolution.redirects,
    )
