"""Who receives a package, and may this system send it: pure answers over one registry `Snapshot`.

Resolution is the hot path of routing: every recipient of every package is resolved, so a `Resolver`
memoizes its answers (a Snapshot never changes, and the cache builds a new Resolver per snapshot).
Nothing here does I/O or reads a clock.

Systems serve agency *subtrees*: a binding of ``000.00.00.H53`` serves every code under it, and the
most specific binding wins, so a province can bind its whole tree to its eOffice and a department
that runs its own software can bind just its branch. Retired agencies stay resolvable: a package
for a retired code follows the successor chain to the agency that replaced it, and the answer
records the codes it passed through.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from axis.errors import AxisError
from axis.registry import codes
from axis.registry.model import Agency, Certificate, Snapshot, System


@dataclass(frozen=True, slots=True)
class Resolution:
    """Where a package addressed to `requested` goes."""

    requested: str
    """The code as asked (either form, surrounding whitespace removed)."""
    agency: Agency
    """The active agency finally addressed (the requested one, or the end of its successor chain)."""
    system: System
    """The active system that serves `agency`: its most specific binding."""
    redirects: tuple[str, ...] = ()
    """The retired codes passed through, in order, in QCVN 102 form; empty when none."""


class Resolver:
    """Resolution over one Snapshot, memoized (a Snapshot never changes; the cache builds a new
    Resolver per snapshot).

    The memo only holds answers for codes the snapshot knows (in either form), so it is bounded by
    the registry's size however much unknown or malformed input arrives; those are worked out
    afresh each time, which is cheap. Refusals are memoized too, and raised as a fresh copy each
    time: re-raising one shared exception object would grow its traceback and share its details.
    """

    __slots__ = (
        "_agencies",
        "_bindings",
        "_bound",
        "_certificates",
        "_external",
        "_external_qd20",
        "_qd20",
        "_resolved",
        "_systems",
        "_upstream",
        "snapshot",
    )

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        # Bound once: attribute look-ups through the snapshot cost on the hot path.
        self._agencies = snapshot.agencies
        self._qd20 = snapshot.qd20
        self._systems = snapshot.systems
        self._bindings = snapshot.bindings
        self._certificates = snapshot.certificates
        self._upstream = snapshot.upstream
        self._external = snapshot.external
        self._external_qd20 = {a.code_qd20: a.code for a in snapshot.external.values() if a.code_qd20}
        self._resolved: dict[str, Resolution | AxisError] = {}
        self._bound: dict[str, str | None] = {}

    # --- Look-up ---------------------------------------------------------------------------------

    def agency(self, code: str) -> Agency:
        """The agency with this QCVN 102 or Decision 20/2020 code, whatever its status.

        Raises ``registry.agency.unknown`` for a well-formed code nobody registered, and
        ``agency_code.malformed`` when the text is neither form.
        """
        text = code.strip()
        found = self._find(text)
        if found is None:
            raise self._not_found(text)
        return found

    def serving_system(self, code: str) -> System | None:
        """The system of the most specific binding among the code itself and its ancestors.

        Whatever the system's status (`resolve` refuses disabled ones), and without following
        successors. A well-formed QCVN 102 code need not be registered: its ancestors follow from
        the code alone. An unregistered Decision 20/2020 code cannot be placed in the hierarchy, so
        it has no system (None). Raises ``agency_code.malformed`` when the text is neither form.
        """
        text = code.strip()
        canonical = self._canonical(text)
        if canonical is None:
            if codes.qd20_problem(text) is None:
                return None
            raise self._not_found(text)
        system_id = self._binding(canonical)
        return None if system_id is None else self._systems.get(system_id)

    # --- Recipients ------------------------------------------------------------------------------

    def resolve(self, code: str) -> Resolution:
        """The active agency and the active system a package addressed to `code` goes to.

        Retired agencies are followed to their successors (recorded in ``redirects``). Raises
        ``agency_code.malformed``, ``registry.agency.unknown`` (also for a successor missing from
        the registry), ``registry.agency.retired_without_successor``,
        ``registry.agency.successor_cycle`` and ``registry.agency.unserved`` (no binding, or the
        serving system is disabled). Details name the code (``agency_code``), the code as asked
        (``requested``) and the successor ``chain`` walked.
        """
        outcome = self._resolved.get(code)
        if outcome is None:
            outcome = self._resolve_afresh(code)
        if isinstance(outcome, Resolution):
            return outcome
        raise _copy(outcome)

    def _resolve_afresh(self, code: str) -> Resolution | AxisError:
        text = code.strip()
        if text != code:
            known = self._resolved.get(text)
            if known is not None:
                return known
        agency = self._find(text)
        if agency is None:
            # Not memoized: unknown and malformed inputs are unbounded.
            upstream = self._to_upstream(text, None, ())
            return upstream if upstream is not None else self._not_found(text)
        outcome = self._follow(text, agency)
        self._resolved[text] = outcome
        return outcome

    def _follow(self, requested: str, agency: Agency) -> Resolution | AxisError:
        """From a registered agency along its successors to an active one, then to its system."""
        redirects: tuple[str, ...] = ()
        if agency.retired:
            chain = [agency.code]
            seen = {agency.code}
            while agency.retired:
                successor = agency.successor_code
                if not successor:
                    return AxisError(
                        "registry.agency.retired_without_successor",
                        f"Agency {agency.code} is retired and names no successor.",
                        agency_code=agency.code,
                        requested=requested,
                        chain=chain,
                    )
                found = self._find(successor.strip())
                if found is None:
                    return AxisError(
                        "registry.agency.unknown",
                        f"Agency {agency.code} is retired; its successor {successor!r} is not registered.",
                        agency_code=successor,
                        requested=requested,
                        chain=[*chain, successor],
                    )
                if found.code in seen:
                    loop = [*chain, found.code]
                    return AxisError(
                        "registry.agency.successor_cycle",
                        f"The successors of retired agency {requested} loop: {' -> '.join(loop)}.",
                        agency_code=requested,
                        requested=requested,
                        chain=loop,
                    )
                chain.append(found.code)
                seen.add(found.code)
                agency = found
            redirects = tuple(chain[:-1])

        system_id = self._binding(agency.code)
        if system_id is None:
            upstream = self._to_upstream(requested, agency, redirects)
            if upstream is not None:
                return upstream
            return self._unserved(requested, agency, redirects, "unbound", "no system is bound to it")
        system = self._systems.get(system_id)
        if system is None:
            # A binding to a system the snapshot lacks is a broken registry; falling through to a
            # less specific binding would route to software that chose not to serve this subtree.
            return self._unserved(
                requested,
                agency,
                redirects,
                "system_missing",
                f"its system {system_id} is missing",
                system_id,
            )
        if not system.active:
            return self._unserved(
                requested, agency, redirects, "disabled", f"its system {system_id} is disabled", system_id
            )
        return Resolution(requested, agency, system, redirects)

    # --- The axis above ---------------------------------------------------------------------------

    def upstream_system(self) -> str | None:
        """The id of the system standing for the axis above this one, if there is a link."""
        return self._upstream.system_id if self._upstream is not None else None

    def served_here(self, code: str) -> bool:
        """Whether ``code`` (QCVN 102, or a registered Decision 20/2020 code) lies within a subtree
        this axis serves itself. Without an upstream link, everything is served here."""
        if self._upstream is None:
            return True
        canonical = self._canonical(code.strip()) or self._external_qd20.get(code.strip())
        if canonical is None:
            return False
        lineage = set(self._lineage(canonical))
        return any(root in lineage for root in self._upstream.serves)

    def _to_upstream(
        self, requested: str, agency: Agency | None, redirects: tuple[str, ...]
    ) -> Resolution | AxisError | None:
        """The upstream's answer for an agency nobody here serves: routed to the axis above when
        there is a link and the code lies outside the subtrees this axis serves; else None (the
        caller refuses as without a link)."""
        if self._upstream is None:
            return None
        text = agency.code if agency is not None else requested.strip()
        canonical = self._canonical(text) or self._external_qd20.get(text)
        if canonical is None or self.served_here(canonical):
            return None
        if agency is None:
            agency = self._external.get(canonical) or Agency(canonical, canonical)
        system_id = self._upstream.system_id
        system = self._systems.get(system_id)
        if system is None or not system.active:
            return self._unserved(
                requested, agency, redirects, "disabled", f"the upstream link {system_id} is disabled", system_id
            )
        return Resolution(requested, agency, system, redirects)

    @staticmethod
    def _unserved(
        requested: str,
        agency: Agency,
        redirects: tuple[str, ...],
        reason: str,
        why: str,
        system_id: str | None = None,
    ) -> AxisError:
        details: dict[str, Any] = {
            "agency_code": agency.code,
            "requested": requested,
            "chain": [*redirects, agency.code],
            "reason": reason,
        }
        if system_id is not None:
            details["system"] = system_id
        return AxisError("registry.agency.unserved", f"Agency {agency.code} is unserved: {why}.", **details)

    # --- Senders ---------------------------------------------------------------------------------

    def check_sender(self, system_id: str, sender_code: str) -> Agency:
        """The sending agency, once it is known, active, and served by the calling system.

        Raises ``registry.system.unknown`` / ``registry.system.disabled`` for the caller,
        ``agency_code.malformed`` / ``registry.agency.unknown`` / ``registry.agency.retired`` for
        the sender, and ``registry.sender.not_served`` (details ``system``, ``sender``) when another
        system, or none, serves the sender.
        """
        system = self._systems.get(system_id)
        if system is None:
            raise AxisError("registry.system.unknown", f"No system has the id {system_id!r}.", system=system_id)
        if not system.active:
            raise AxisError("registry.system.disabled", f"System {system_id} is disabled.", system=system_id)
        if self._upstream is not None and system_id == self._upstream.system_id:
            return self._upstream_sender(sender_code)
        agency = self.agency(sender_code)
        if agency.retired:
            raise AxisError(
                "registry.agency.retired",
                f"The sending agency {agency.code} is retired.",
                agency_code=agency.code,
                successor_code=agency.successor_code,
            )
        if self._binding(agency.code) != system_id:
            raise AxisError(
                "registry.sender.not_served",
                f"System {system_id} does not serve the sending agency {agency.code}.",
                system=system_id,
                sender=agency.code,
            )
        return agency

    def _upstream_sender(self, sender_code: str) -> Agency:
        """A sender the axis above brought: any agency outside the subtrees served here (the
        upstream vouched for it; its signature was checked against the trust anchors)."""
        text = sender_code.strip()
        canonical = self._canonical(text) or self._external_qd20.get(text)
        if canonical is None:
            raise self._not_found(text)
        if self.served_here(canonical):
            raise AxisError(
                "registry.sender.not_served",
                f"The upstream cannot send for {canonical}: this axis serves that agency itself.",
                system=self._upstream.system_id if self._upstream else "",
                sender=canonical,
            )
        return self._agencies.get(canonical) or self._external.get(canonical) or Agency(canonical, canonical)

    def check_certificate(self, system_id: str, fingerprint: str, sender_code: str) -> Certificate | None:
        """The registered certificate with this SHA-256 fingerprint, fit to sign for the sender.

        It must be bound to the calling system (``registry.certificate.not_bound``; a certificate
        of another system gets the same answer, so callers learn nothing about others), not
        revoked (``registry.certificate.revoked``), and when it names an agency, that agency must
        be the sender or one of its ancestors (``registry.certificate.agency_mismatch``): a
        province's certificate may sign for its departments, not the other way round. Validity
        dates are the signature check's business (``signature.certificate.expired``).
        """
        # Fingerprints are lower-case hex (axis.edxml.trust.fingerprint); operators paste other spellings.
        key = fingerprint.strip().lower().replace(":", "")
        certificate = self._certificates.get(key) or self._certificates.get(fingerprint)
        if self._upstream is not None and system_id == self._upstream.system_id and certificate is None:
            # Agencies of other provinces sign with certificates bound on their own axes, not here:
            # for what the upstream brings, the chain to the trust anchors (and the CRLs) decides.
            return None
        if certificate is None or certificate.system_id != system_id:
            raise AxisError(
                "registry.certificate.not_bound",
                f"The certificate {key} is not bound to system {system_id}.",
                system=system_id,
                fingerprint=key,
            )
        if certificate.revoked:
            raise AxisError(
                "registry.certificate.revoked",
                f"The certificate {key} was revoked.",
                system=system_id,
                fingerprint=key,
            )
        named = certificate.agency_code
        if named:
            sender = sender_code.strip()
            if self._qcvn(named.strip()) not in self._lineage(self._qcvn(sender)):
                raise AxisError(
                    "registry.certificate.agency_mismatch",
                    f"The certificate {key} names agency {named}, which is neither the sender "
                    f"{sender} nor one of its ancestors.",
                    system=system_id,
                    fingerprint=key,
                    certificate_agency=named,
                    sender=sender,
                )
        return certificate

    # --- Tokens ----------------------------------------------------------------------------------

    def system_for_token(self, token_hash: str) -> System | None:
        """The active system holding the token with this SHA-256 hex digest, else None."""
        system_id = self.snapshot.tokens.get(token_hash)
        if system_id is None:
            return None
        system = self._systems.get(system_id)
        return system if system is not None and system.active else None

    def admin_for_token(self, token_hash: str) -> str | None:
        """The name of the admin token with this SHA-256 hex digest, else None."""
        return self.snapshot.admin_tokens.get(token_hash)

    # --- Internals -------------------------------------------------------------------------------

    def _find(self, text: str) -> Agency | None:
        """The registered agency with this (stripped) code in either form, else None."""
        agency = self._agencies.get(text)
        if agency is None:
            canonical = self._qd20.get(text)
            if canonical is not None:
                agency = self._agencies.get(canonical)
        return agency

    def _canonical(self, text: str) -> str | None:
        """The QCVN 102 text for a registered code (either form) or a well-formed QCVN 102 code."""
        if text in self._agencies:
            return text
        mapped = self._qd20.get(text)
        if mapped is not None:
            return mapped
        return text if codes.problem(text) is None else None

    def _qcvn(self, text: str) -> str:
        """The QCVN 102 form of a registered Decision 20/2020 code; any other text unchanged."""
        return text if text in self._agencies else self._qd20.get(text, text)

    def _binding(self, code: str) -> str | None:
        """The system id of the most specific binding over `code` (QCVN 102 form), else None."""
        bound = self._bound
        if code in bound:
            return bound[code]
        try:
            parsed = codes.parse(code)
        except AxisError:
            # A legacy code (see `_lineage`): rare, so not worth a memo.
            for root in self._lineage(code):
                system_id = self._bindings.get(root)
                if system_id is not None:
                    return system_id
            return None
        return self._binding_of(parsed)

    def _binding_of(self, code: codes.AgencyCode) -> str | None:
        """`_binding` for a parsed code: its own binding, else its parent's, memoized per code.

        Memoizing every registered code's answer means resolving a new code costs one parent step
        (its siblings already answered for the parent), not a walk to level 1. A registered code's
        parent is read from its registry row (the registry derives it from the code and checks it),
        which spares building the parent code. Only registered codes are kept, so the memo stays
        bounded by the registry whatever codes are asked about.
        """
        text = code.text
        bound = self._bound
        if text in bound:
            return bound[text]
        system_id = self._bindings.get(text)
        if system_id is None:
            agency = self._agencies.get(text)
            if agency is not None and agency.parent_code is not None:
                system_id = self._binding_of(codes.parse(agency.parent_code))
            elif agency is None and (parent := code.parent) is not None:
                system_id = self._binding_of(parent)
        if text in self._agencies:
            bound[text] = system_id
        return system_id

    def _lineage(self, code: str) -> tuple[str, ...]:
        """`code` and the codes above it, nearest first.

        The hierarchy follows from a well-formed code alone. A legacy code that breaks the pattern
        (EDXML.md §1: they circulate, and imports keep them with a warning) has no parent in its
        text, so its registry row's ``parent_code`` is followed instead, guarding against loops.
        """
        try:
            parsed = codes.parse(code)
        except AxisError:
            pass
        else:
            return (parsed.text, *[ancestor.text for ancestor in parsed.ancestors()])
        found = [code]
        row = self._agencies.get(code)
        parent = row.parent_code if row is not None else None
        while parent and parent not in found:
            if codes.problem(parent) is None:
                return (*found, *self._lineage(parent))
            found.append(parent)
            row = self._agencies.get(parent)
            parent = row.parent_code if row is not None else None
        return tuple(found)

    def _not_found(self, text: str) -> AxisError:
        """The refusal for a code the registry lacks: malformed when neither form, else unknown."""
        reason = codes.problem(text)
        if reason is not None:
            reason_qd20 = codes.qd20_problem(text)
            if reason_qd20 is not None:
                return AxisError(
                    "agency_code.malformed",
                    f"{text!r} is neither a QCVN 102 nor a Decision 20/2020 agency code: {reason}.",
                    agency_code=text,
                    reason=reason,
                    reason_qd20=reason_qd20,
                    form="QCVN 102 or QD20",
                )
        return AxisError("registry.agency.unknown", f"No agency has the code {text!r}.", agency_code=text)


def _copy(error: AxisError) -> AxisError:
    """A fresh exception equal to a memoized one, its lists copied so no caller can edit the memo."""
    details = {key: list(value) if isinstance(value, list) else value for key, value in error.details.items()}
    return AxisError(error.code, error.message, **details)
