"""What a captured SDK request can be used for, and the one limit the axis puts on it. Pure.

The SDK signs its parameter map once per service instance and never refreshes the timestamp:
one instance sends byte-identical requests for hours, and neither a freshness window nor a
replay cache can tell its next poll from a replay (sdk-wire README §5). The HMAC covers only the
headers: not the method, the URL or the body. A captured request is therefore a credential for
the parameters it carries, usable with any operation. The axis makes that harmless by what the
operations are, rather than by refusing the SDK:

- **sendEdoc** needs a signed ``hash-file``: a capture can only send the file it was made for
  again, and the same bytes are the same package (idempotent).
- **Reads** (the lists, counts, registry lists, getEdoc/downloadEdoc of the signed ``docId``)
  change nothing. They disclose what the system itself may read: TLS, the per-system address
  allow-list and mutual TLS keep captures from being made or used elsewhere.
- **updateStatus** and **deleteAgency** change something, and the never-cleared map means a
  request made for a read may carry a ``status`` or an ``AgencyCode`` left from an earlier call.
  A signed header set that carries one of those (``CHANGING``) is remembered when the axis first
  sees it, and may change something only within ``window`` of that first sight
  (``AXIS_VDXP_CHANGE_WINDOW_SECONDS``, a day by default): the vendor's own loop acknowledges
  seconds after fetching, a capture replayed later changes nothing. Repeating what is already so
  (``done`` twice) is idempotent anyway.
- **registerAgency** carries its data in the body, which nothing signs: the axis never takes
  registry changes from it.
"""

from __future__ import annotations

import datetime as dt

from axis.errors import AxisError
from axis.vdxp.signing import Envelope

#: Parameters (lower case) that make a signed header set able to change a delivery or an agency.
CHANGING = frozenset({"status", "agencycode"})


def can_change(envelope: Envelope) -> bool:
    """Whether the signed set carries a parameter that an operation acts on to change state."""
    return bool(envelope.names_lower() & CHANGING)


def check_fresh(age: dt.timedelta, window: dt.timedelta, operation: str) -> None:
    """A change asked with a signed set first seen longer than ``window`` ago is refused."""
    if age > window:
        hours = age.total_seconds() / 3600
        raise AxisError(
            "vdxp.signature.stale",
            f"This signed header set was first used {hours:.1f} h ago; {operation} may change something only "
            f"within {window.total_seconds() / 3600:g} h of a set's first use. Create a new SDK service instance "
            "(its constructor signs afresh) and call again.",
            first_seen_seconds_ago=int(age.total_seconds()),
        )
