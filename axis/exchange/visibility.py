"""Who may see a package, and so its document: the system that sent it, or a system it goes to.

A package is addressed to agencies, but systems connect, and the axis knows which systems a
package goes to by its deliveries: one per recipient system, written with the package when it
is accepted (``axis.exchange.deliveries``), whatever became of them since. So a package exists
for its sender's system and for each system with a delivery of it, and for no other system: a
read answers "unknown" (404, never 403), so that probing package or document ids tells a system
nothing about what others exchange. Within a document's rows per recipient agency, the sender's
system sees every recipient, a recipient system only the agencies it serves (the rows whose
system is its own, which are the rows its delivery stands for).

Written once, as SQL conditions, and built by one function: each read keeps the rule inside its
own statement and plan (one look-up by the primary key of ``deliveries`` per package, no extra
round trip), and none writes the rule again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PLACEHOLDER = re.compile(r"^\$[1-9][0-9]*$")
_ALIAS = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class Visible:
    """The rule as SQL conditions over one statement's aliases, for one system's placeholder."""

    sent: str  # the system sent the package
    received: str  # a delivery of the package goes to the system
    package: str  # the system may see the package: it sent it or received it
    recipient: str  # the system may see this row of ``package_recipients``: it sent the package, or it is the row's


def rule(system: str, package: str, *, recipients: str = "pr") -> Visible:
    """The conditions under which the system bound to ``system`` (a placeholder such as ``"$2"``)
    may see the row of ``packages`` aliased ``package``; ``recipient`` also names the alias of
    ``package_recipients`` (``recipients``). Only placeholders and aliases go in, never values:
    the text is checked, so no caller can make it carry one."""
    if not _PLACEHOLDER.match(system):
        raise ValueError(f"not a query parameter placeholder: {system!r}")
    for alias in (package, recipients):
        if not _ALIAS.match(alias):
            raise ValueError(f"not a table alias: {alias!r}")
    sent = f"{package}.sender_system = {system}"
    received = (
        f"EXISTS (SELECT 1 FROM deliveries seen WHERE seen.package_id = {package}.id AND seen.system_id = {system})"
    )
    return Visible(
        sent=sent,
        received=received,
        package=f"({sent} OR {received})",
        recipient=f"({sent} OR {recipients}.system_id = {system})",
    )
