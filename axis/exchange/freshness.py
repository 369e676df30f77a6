"""Whether a package's own time is believable: not far in the future, not too old. Pure.

A signed package stays valid for as long as its certificate does, so a copy captured in transit
(or a stale one an SDK retries for weeks) could be submitted long after it was written. Intake
therefore refuses a package whose timestamp lies outside ``[now - max age, now + clock skew]``:
a status package's ``Timestamp``, and a document's last ``TraceHeader`` (the sending hop; a
document without one is not checked). The timestamps are signed, so nobody but the signer can
move them. Resubmitting the very same bytes is answered as a repeat before this check (the
contract makes resubmission idempotent), so only new packages are held to the window.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from axis.edxml import model as m
from axis.errors import AxisError


@dataclass(frozen=True, slots=True)
class Window:
    """How far ahead of the axis's clock and how far behind it a package's timestamp may be.

    ``max_age`` of zero means no age limit (e.g. while loading an archive of old packages).
    """

    max_skew: dt.timedelta = dt.timedelta(minutes=10)
    max_age: dt.timedelta = dt.timedelta(days=30)

    @classmethod
    def of(cls, skew_seconds: float, age_days: float) -> Window:
        return cls(dt.timedelta(seconds=skew_seconds), dt.timedelta(days=age_days))


def stamp_of(package: m.Package) -> tuple[str, dt.datetime] | None:
    """The timestamp intake judges, with the element it comes from; None when there is none."""
    if isinstance(package, m.StatusPackage):
        return "Timestamp", package.timestamp
    if package.traces:
        return "TraceHeaderList/TraceHeader[last]/Timestamp", package.traces[-1].timestamp
    return None


def check(package: m.Package, now: dt.datetime, window: Window) -> None:
    """Refuse a package whose timestamp lies outside ``[now - max_age, now + max_skew]``."""
    found = stamp_of(package)
    if found is None:
        return
    element, stamp = found
    if stamp.tzinfo is None:  # the reader gives aware times; a naive one is in Vietnam's civil time
        stamp = stamp.replace(tzinfo=m.VN_TZ)
    latest = now + window.max_skew
    earliest = now - window.max_age if window.max_age else None
    details = {
        "element": element,
        "timestamp": stamp.isoformat(),
        "now": now.isoformat(),
        "earliest": earliest.isoformat() if earliest else None,
        "latest": latest.isoformat(),
    }
    if stamp > latest:
        raise AxisError(
            "intake.timestamp.future",
            f"The package's {element} {stamp.isoformat()} is later than {latest.isoformat()} "
            f"(the axis's clock plus {window.max_skew.total_seconds():.0f} s of skew); check the sender's clock.",
            **details,
        )
    if earliest is not None and stamp < earliest:
        raise AxisError(
            "intake.timestamp.stale",
            f"The package's {element} {stamp.isoformat()} is older than {earliest.isoformat()} "
            f"(the maximum package age is {window.max_age / dt.timedelta(days=1):g} days); send a new package.",
            **details,
        )
