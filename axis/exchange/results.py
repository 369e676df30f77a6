"""What the exchange's operations return: domain results, not answers.

The exchange does not know HTTP. Each interface builds its own answer from the same result: the
native API its JSON, status code and URLs (``axis.http.packages``), ``/vdxp`` the SDK's shapes
(``axis.vdxp.answers``), AMQP intake its metrics. A new package and a repeated submission of the
same bytes are the same result (``repeated`` tells them apart), so their answers cannot drift.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from axis.edxml import model as m


@dataclass(frozen=True, slots=True, kw_only=True)
class Routed:
    """Where one addressed agency's copy goes: the code asked for, the agency it resolved to
    (through successors: ``redirects``), and the system serving it."""

    requested: str
    agency: str
    name: str
    system: str
    redirects: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Accepted:
    """A package the axis holds: just accepted, or ``repeated`` (the same bytes accepted before,
    described as they were then)."""

    package_id: uuid.UUID
    document_id: str
    kind: m.Kind
    recipients: tuple[Routed, ...]
    signature_policy: str  # the rule the package was accepted under (axis.edxml.trust.AppliedPolicy)
    quirks: tuple[str, ...]  # codes of the SDK quirks noticed (axis.edxml.reader.Quirk)
    repeated: bool = False
    #: What the signatures in a document's files are (``axis.files.findings.Verdict``); None: not
    #: checked (a status, or the check off). The sender learns it with the 202.
    file_signatures: str | None = None
