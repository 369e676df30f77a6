"""The SDK's request signature, checked the way the SDK makes it (EDXML.md §4).

Every parameter travels as a header ``XroadVnpt-<name>``; ``XroadVnpt-sign-header-key`` lists
the signed names joined by ``;``; ``XroadVnpt-sign-header`` carries the JSON object of those
names and values; ``XroadVnpt-hash-header`` is the hex HMAC-SHA256 of that JSON, keyed with the
system's secret. The JSON's exact bytes (key order, spacing, escapes) are the SDK's business, so
the HMAC is checked over the text **as sent** (or, if configured, over a compact JSON rebuilt
from it); then the parsed object is held against the headers actually sent: a value that differs
or a signed header that is missing means the request was altered.

The SDK never clears its parameter map, so names from earlier calls arrive too, signed like the
others: they are checked and then simply not used. A ``XroadVnpt-*`` header outside the signed
list is tolerated as long as no operation reads it. Names are compared without regard to case
(HTTP header names have none, and proxies lower-case them); which spelling a signed value belongs
to (``docId`` or ``docid``) is taken from the signed JSON.

Pure: no I/O, no clock (callers pass ``now``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from axis.edxml.model import VN_TZ
from axis.errors import AxisError

PREFIX = "XroadVnpt-"
SIGN_KEYS = "sign-header-key"
SIGN_JSON = "sign-header"
HASH = "hash-header"
_CONTROL = frozenset({SIGN_KEYS, SIGN_JSON, HASH})
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_TIME_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M:%S")

#: What the HMAC is computed over: the sign-header text as received, or the compact JSON rebuilt from it.
SIGNED_TEXT_MODES = ("as_sent", "canonical")


def bare(name: str) -> str:
    """A parameter name without the ``XroadVnpt-`` prefix (if it has one, in any case)."""
    return name[len(PREFIX) :] if name.lower().startswith(PREFIX.lower()) else name


@dataclass(frozen=True, slots=True)
class Envelope:
    """What a request's ``XroadVnpt-*`` headers say, read but not yet trusted."""

    names: tuple[str, ...]
    """The signed names as listed in ``XroadVnpt-sign-header-key`` (without prefix), in order."""
    values: Mapping[str, Any]
    """The signed JSON object: name (without prefix) → value as sent (a string or an integer)."""
    text: bytes
    """``XroadVnpt-sign-header`` exactly as received."""
    signature: str
    """``XroadVnpt-hash-header``, lower-case."""
    headers: Mapping[str, tuple[str, ...]]
    """Every ``XroadVnpt-<name>`` header sent, by lower-case name (control headers excluded)."""

    @property
    def system_id(self) -> str:
        value = self.param("systemid")
        assert value is not None  # read() refuses envelopes without it
        return value

    @property
    def timestamp(self) -> str:
        value = self.param("timestamp")
        assert value is not None
        return value

    def param(self, name: str, *, spelling: str | None = None) -> str | None:
        """The signed value of a parameter, whatever the case of its name; None when not sent.

        A parameter sent but not signed is refused (``vdxp.param.unsigned``): whoever could alter
        the request could have set it. When several spellings carry different values (the SDK
        writes ``docId`` in some calls and, per the quirk, ``docid`` in others, and keeps both), the
        value of ``spelling`` is taken; without one the request is refused, never guessed.
        """
        wanted = name.lower()
        found = {k: _text(v) for k, v in self.values.items() if k.lower() == wanted}
        if not found:
            if wanted in self.headers:
                raise AxisError(
                    "vdxp.param.unsigned",
                    f"{PREFIX}{name} is sent but not listed in {PREFIX}{SIGN_KEYS}: sign it.",
                    parameter=name,
                )
            return None
        distinct = set(found.values())
        if len(distinct) == 1:
            return distinct.pop()
        if spelling is not None and spelling in found:
            return found[spelling]
        raise AxisError(
            "vdxp.param.ambiguous",
            f"The spellings of {name!r} carry different values; the axis does not guess which one the "
            "operation means (the administrator can set AXIS_VDXP_DOCID_SPELLING).",
            parameter=name,
            values=found,
        )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _malformed(message: str, **details: Any) -> AxisError:
    return AxisError("vdxp.signature.malformed", message, **details)


def read(raw_headers: Iterable[tuple[bytes, bytes]]) -> Envelope:
    """Read the ``XroadVnpt-*`` headers (aiohttp's ``request.raw_headers``): their structure only."""
    headers: dict[str, list[str]] = {}
    for raw_name, raw_value in raw_headers:
        name = raw_name.decode("latin-1")
        if not name.lower().startswith(PREFIX.lower()):
            continue
        try:
            value = raw_value.decode("utf-8")
        except UnicodeDecodeError:
            raise _malformed(f"The header {name} is not UTF-8.", header=name) from None
        headers.setdefault(bare(name).lower(), []).append(value.strip())
    control: dict[str, str] = {}
    for name in (SIGN_KEYS, SIGN_JSON, HASH):
        sent = headers.pop(name, [])
        if not sent:
            raise AxisError("vdxp.auth.missing", f"The header {PREFIX}{name} is missing.", header=f"{PREFIX}{name}")
        if len(sent) > 1:
            raise _malformed(f"The header {PREFIX}{name} is sent {len(sent)} times.", header=f"{PREFIX}{name}")
        control[name] = sent[0]
    names = tuple(bare(n.strip()) for n in control[SIGN_KEYS].split(";") if n.strip())
    if len(set(names)) != len(names):
        raise _malformed(f"{PREFIX}{SIGN_KEYS} lists a name twice.", names=list(names))
    if _CONTROL & {n.lower() for n in names}:
        raise _malformed(f"{PREFIX}{SIGN_KEYS} lists a control header.", names=list(names))
    text = control[SIGN_JSON]
    values = _signed_object(text)
    if set(values) != set(names):
        raise _malformed(
            f"{PREFIX}{SIGN_JSON} and {PREFIX}{SIGN_KEYS} name different parameters.",
            listed=sorted(names),
            signed=sorted(values),
        )
    envelope = Envelope(
        names=names,
        values=values,
        text=text.encode("utf-8"),
        signature=control[HASH].lower(),
        headers={k: tuple(v) for k, v in headers.items()},
    )
    for required in ("systemid", "timestamp"):
        try:
            found = envelope.param(required)
        except AxisError as exc:
            raise _malformed(f"The signed {required} is ambiguous.", parameter=required) from exc
        if not found:
            raise AxisError(
                "vdxp.auth.missing",
                f"{required} is not among the signed headers (it must be, in every request).",
                parameter=required,
            )
    return envelope


def _signed_object(text: str) -> dict[str, Any]:
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in items]
        if len(set(keys)) != len(keys):
            raise _malformed(f"{PREFIX}{SIGN_JSON} names a parameter twice.")
        return dict(items)

    try:
        parsed = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        raise _malformed(f"{PREFIX}{SIGN_JSON} is not JSON: {exc.msg}.") from None
    if not isinstance(parsed, dict):
        raise _malformed(f"{PREFIX}{SIGN_JSON} is not a JSON object.")
    values: dict[str, Any] = {}
    for key, value in parsed.items():
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise _malformed(f"The signed value of {key!r} is neither a string nor an integer.", parameter=key)
        name = bare(key)
        if name in values:
            raise _malformed(f"{PREFIX}{SIGN_JSON} names {name!r} twice.", parameter=name)
        values[name] = value
    return values


def signed_text(envelope: Envelope, mode: str = "as_sent") -> bytes:
    """The bytes the HMAC covers. ``canonical``: the signed names in their listed order, as compact
    JSON without ASCII escapes (for an SDK that signs a serialization other than the one it sends)."""
    if mode == "canonical":
        rebuilt = {name: envelope.values[name] for name in envelope.names}
        return json.dumps(rebuilt, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return envelope.text


def mac(text: bytes, key: bytes) -> str:
    """Hex HMAC-SHA256, as ``XroadVnpt-hash-header`` carries it."""
    return hmac.new(key, text, hashlib.sha256).hexdigest()


def verify(envelope: Envelope, keys: Sequence[bytes], *, mode: str = "as_sent") -> None:
    """The HMAC must be that of one of the system's current secrets (compared in constant time).
    An unknown system, or one without a secret, gets the same answer as a wrong secret."""
    text = signed_text(envelope, mode)
    signature = envelope.signature if _HEX64.match(envelope.signature) else "0" * 64
    matched = False
    for key in keys or (b"\x00" * 32,):  # the same work whether or not the system has a secret
        matched |= hmac.compare_digest(mac(text, key), signature)
    if not keys or not matched:
        raise AxisError(
            "vdxp.signature.invalid",
            f"{PREFIX}{HASH} is not the HMAC-SHA256 of {PREFIX}{SIGN_JSON} with the secret of this systemid.",
        )


def check_headers(envelope: Envelope) -> None:
    """Each signed name's values must be exactly the headers sent under that name (any case):
    none changed, none removed, none added."""
    signed: dict[str, list[str]] = {}
    for name, value in envelope.values.items():
        signed.setdefault(name.lower(), []).append(_text(value).strip())
    for name, values in signed.items():
        sent = envelope.headers.get(name, ())
        if sorted(sent) != sorted(values):
            problem = "missing" if not sent else "different from its signed value"
            raise AxisError(
                "vdxp.signature.altered",
                f"The header {PREFIX}{name} is {problem}.",
                header=f"{PREFIX}{name}",
            )


def parse_timestamp(text: str) -> dt.datetime:
    """Epoch milliseconds (what Java's clock gives) or seconds, or a date-time (UTC+7 when it
    names no zone: ``YYYY/MM/DD HH:MM:SS`` as the SDKs write times, or ISO 8601)."""
    value = text.strip()
    if value.isascii() and value.isdigit():
        number = int(value)
        seconds = number / 1000 if number >= 10**11 else float(number)
        try:
            return dt.datetime.fromtimestamp(seconds, dt.UTC)
        except (OverflowError, OSError, ValueError):
            raise AxisError("vdxp.timestamp.invalid", f"The timestamp {value!r} is out of range.") from None
    for pattern in _TIME_FORMATS:
        try:
            return dt.datetime.strptime(value, pattern).replace(tzinfo=VN_TZ)
        except ValueError:
            continue
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise AxisError("vdxp.timestamp.invalid", f"The timestamp {value!r} is not a time.", timestamp=value) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=VN_TZ)


def check_time(envelope: Envelope, now: dt.datetime, window: float) -> dt.datetime:
    """The signed timestamp, within ``window`` seconds of ``now`` either way."""
    at = parse_timestamp(envelope.timestamp)
    skew = (now - at).total_seconds()
    if abs(skew) > window:
        raise AxisError(
            "vdxp.timestamp.invalid",
            f"The timestamp is {abs(skew):.0f} s {'old' if skew > 0 else 'ahead'}; the axis accepts {window:g} s.",
            timestamp=envelope.timestamp,
            window_seconds=window,
        )
    return at
