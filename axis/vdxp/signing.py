"""The SDK's request signature, checked the way the SDK makes it (sdk-wire README §2–§3, §8).

Every parameter travels as a header ``XroadVnpt-<name>``; ``XroadVnpt-sign-header-key`` lists
the signed names joined by ``;``; ``XroadVnpt-sign-header`` carries gson's JSON object of those
headers (``{"XroadVnpt-systemid":"…",…}``); ``XroadVnpt-hash-header`` is the lower-case hex
HMAC-SHA256 of that JSON's bytes **as received**, keyed with the UTF-8 bytes of the system's
secret. The method, the URL and the body are not signed (sendEdoc's body is bound by the signed
``hash-file``). The parsed JSON is then held against the headers actually sent: a value that
differs, or a signed header that is missing, means the request was altered.

The SDK keeps one parameter map per service instance and never clears it, nor its timestamp:
names from earlier calls arrive too, signed like the others (checked, then not used), and an
instance sends byte-identical requests for as long as it lives. What that means for replays is
decided in ``axis.vdxp.sightings``, not here. Names are compared without regard to case (HTTP
header names have none); which spelling a signed value belongs to (``docId`` or ``docid``) is
taken from the signed JSON.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from axis.edxml.model import VN_TZ
from axis.errors import AxisError
from axis.vdxp import narrowed

PREFIX = "XroadVnpt-"
SIGN_KEYS = "sign-header-key"
SIGN_JSON = "sign-header"
HASH = "hash-header"
_CONTROL = frozenset({SIGN_KEYS, SIGN_JSON, HASH})
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
#: ``ddMMyyyy'T'HHmmss+SSSS``: the SDK's own form, JVM local time, ``+SSSS`` the milliseconds.
_SDK_TIME = re.compile(r"^(\d{2})(\d{2})(\d{4})T(\d{2})(\d{2})(\d{2})\+(\d{1,4})$")
_TIME_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M:%S")


def bare(name: str) -> str:
    """A parameter name without the ``XroadVnpt-`` prefix (if it has one, in any case)."""
    return name[len(PREFIX) :] if name.lower().startswith(PREFIX.lower()) else name


@dataclass(frozen=True, slots=True)
class Envelope:
    """What a request's ``XroadVnpt-*`` headers say: read by ``read``, trusted after ``verify``."""

    names: tuple[str, ...]
    """The signed names as listed in ``XroadVnpt-sign-header-key`` (without prefix), in order."""
    values: Mapping[str, Any]
    """The signed JSON object: name (without prefix) → value (a string or an integer)."""
    text: bytes
    """``XroadVnpt-sign-header`` exactly as received."""
    signature: str
    """``XroadVnpt-hash-header``, lower-case."""
    headers: Mapping[str, tuple[bytes, ...]]
    """Every ``XroadVnpt-<name>`` header sent, by lower-case name (control headers excluded), raw."""
    narrowed: bool = False
    """The signed text was recovered from values the SDK's HTTP stack cut to 8 bits (§8)."""

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

    def names_lower(self) -> frozenset[str]:
        return frozenset(name.lower() for name in self.values)

    def param(self, name: str, *, spelling: str | None = None) -> str | None:
        """The signed value of a parameter, whatever the case of its name; None when not sent.

        A parameter sent but not signed is refused (``vdxp.param.unsigned``): whoever could alter
        the request could have set it. When several spellings carry different values (``docId``
        in one call, ``docid`` in another, both kept by the never-cleared map), the value of
        ``spelling`` is taken; without one the request is refused, never guessed.
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
    headers: dict[str, list[bytes]] = {}
    for raw_name, raw_value in raw_headers:
        name = raw_name.decode("latin-1")
        if name.lower().startswith(PREFIX.lower()):
            headers.setdefault(bare(name).lower(), []).append(raw_value.strip(b" \t"))
    control: dict[str, bytes] = {}
    for name in (SIGN_KEYS, SIGN_JSON, HASH):
        sent = headers.pop(name, [])
        if not sent:
            raise AxisError("vdxp.auth.missing", f"The header {PREFIX}{name} is missing.", header=f"{PREFIX}{name}")
        if len(sent) > 1:
            raise _malformed(f"The header {PREFIX}{name} is sent {len(sent)} times.", header=f"{PREFIX}{name}")
        control[name] = sent[0]
    listed = control[SIGN_KEYS].decode("latin-1")
    names = tuple(bare(n.strip()) for n in listed.split(";") if n.strip())
    if len(set(names)) != len(names):
        raise _malformed(f"{PREFIX}{SIGN_KEYS} lists a name twice.", names=list(names))
    if _CONTROL & {n.lower() for n in names}:
        raise _malformed(f"{PREFIX}{SIGN_KEYS} lists a control header.", names=list(names))
    text = control[SIGN_JSON]
    values = _signed_object(_readable(text))
    if set(values) != set(names):
        raise _malformed(
            f"{PREFIX}{SIGN_JSON} and {PREFIX}{SIGN_KEYS} name different parameters.",
            listed=sorted(names),
            signed=sorted(values),
        )
    envelope = Envelope(
        names=names,
        values=values,
        text=text,
        signature=control[HASH].decode("latin-1").lower(),
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


def _readable(text: bytes) -> str:
    """The sign-header as text: UTF-8, or byte by byte when the SDK's stack cut it to 8 bits."""
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError:
        return text.decode("latin-1")


def _signed_object(text: str) -> dict[str, Any]:
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in items]
        if len(set(keys)) != len(keys):
            raise _malformed(f"{PREFIX}{SIGN_JSON} names a parameter twice.")
        return dict(items)

    try:
        # strict=False: a value cut to 8 bits may hold what was a letter and is now a control byte.
        parsed = json.loads(text, object_pairs_hook=pairs, strict=False)
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


def mac(text: bytes, key: bytes) -> str:
    """Hex HMAC-SHA256, as ``XroadVnpt-hash-header`` carries it."""
    return hmac.new(key, text, hashlib.sha256).hexdigest()


def verify(envelope: Envelope, keys: Sequence[bytes]) -> Envelope:
    """The HMAC must be that of one of the system's current secrets (compared in constant time),
    over the sign-header as received or, when the SDK's stack cut its values to 8 bits, over one
    text it may have been (``axis.vdxp.narrowed``). Returns the envelope with the values of the
    text that verified. An unknown system, or one without a secret, gets the same answer as a
    wrong secret."""
    signature = envelope.signature if _HEX64.match(envelope.signature) else "0" * 64
    if _matches(envelope.text, keys, signature):
        return envelope
    if keys and narrowed.possible(envelope.text):
        for text in narrowed.candidates(envelope.text):
            if _matches(text, keys, signature):
                values = _signed_object(text.decode("utf-8"))
                return replace(envelope, values=values, narrowed=True)
        raise AxisError(
            "vdxp.signature.invalid",
            f"{PREFIX}{HASH} does not verify, and {PREFIX}{SIGN_JSON} arrived with characters cut to 8 bits "
            "(the SDK does that on an endpoint that names its port): remove the port from the endpoint, or "
            "keep header values such as filePath in ASCII.",
        )
    raise AxisError(
        "vdxp.signature.invalid",
        f"{PREFIX}{HASH} is not the HMAC-SHA256 of {PREFIX}{SIGN_JSON} with the secret of this systemid.",
    )


def _matches(text: bytes, keys: Sequence[bytes], signature: str) -> bool:
    matched = False
    for key in keys or (b"\x00" * 32,):  # the same work whether or not the system has a secret
        matched |= hmac.compare_digest(mac(text, key), signature)
    return matched and bool(keys)


def check_headers(envelope: Envelope) -> None:
    """Each signed name's values must be exactly the headers sent under that name (any case):
    none changed, none removed, none added. A value is sent as its UTF-8 bytes, or cut to 8
    bits (§8): either matches.

    One exception, the SDK's own: its sendEdoc sets its headers through ``HttpURLConnection``,
    which keeps one header per name in any case, under the first spelling with the last value.
    An instance that called getEdoc (``docId``) and updateStatus (``docid``) before signs both and
    sends one (capture 29). A single header holding the last signed value of its name is that;
    the operations read their parameters from the signed text, never from these headers."""
    signed: dict[str, list[str]] = {}
    for name, value in envelope.values.items():
        signed.setdefault(name.lower(), []).append(_text(value).strip())
    for name, values in signed.items():
        sent = list(envelope.headers.get(name, ()))
        if len(values) > 1 and len(sent) == 1 and _take(sent, values[-1]):
            continue
        unmatched = [value for value in values if not _take(sent, value)]
        if unmatched or sent:
            problem = "missing" if name not in envelope.headers else "different from its signed value"
            raise AxisError(
                "vdxp.signature.altered",
                f"The header {PREFIX}{name} is {problem}.",
                header=f"{PREFIX}{name}",
            )


def _take(sent: list[bytes], value: str) -> bool:
    for form in (value.encode("utf-8"), narrowed.cut(value)):
        if form in sent:
            sent.remove(form)
            return True
    return False


def parse_timestamp(text: str) -> dt.datetime:
    """The SDK's ``ddMMyyyy'T'HHmmss+SSSS`` (Vietnamese time: the SDK writes the JVM's local
    time without a zone), or what a caller may put in its place: epoch milliseconds or seconds,
    ``YYYY/MM/DD HH:MM:SS`` (UTC+7) or ISO 8601."""
    value = text.strip()
    sdk = _SDK_TIME.match(value)
    if sdk:
        day, month, year, hour, minute, second, millis = (int(g) for g in sdk.groups())
        try:
            return dt.datetime(year, month, day, hour, minute, second, min(millis, 999) * 1000, tzinfo=VN_TZ)
        except ValueError:
            raise AxisError("vdxp.timestamp.invalid", f"The timestamp {value!r} is not a date.") from None
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
