"""Header values the SDK's HTTP stack cut to 8 bits, and the texts they may have been. Pure.

The SDK signs the UTF-8 bytes of its header JSON, but on its Apache path with an endpoint that
names its port (``http://host:8080/vdxp``) the connection writes each character's low 8 bits
only: ``Văn bản`` leaves as ``V\\x03n b\\xa3n``. The HMAC then covers a text that never reached
the axis. A value that is ASCII (system ids, codes, docIds, the usual case) is unaffected.

What the axis can do is what any verifier could: guess. The characters that get cut are, in
practice, Vietnamese letters (in a Windows ``filePath`` such as ``C:\\vxp\\Văn bản``), so each
byte that cannot be what gson wrote (a control character, which gson escapes, or a byte that
is not UTF-8) is replaced in turn by the Vietnamese letters and combining tone marks whose low 8
bits it is, and by itself when it is a Latin-1 letter. Each candidate is one more HMAC to try: a
forger gains nothing from a few thousand guesses against HMAC-SHA256, and the axis gives up
beyond ``LIMIT`` candidates. Letters whose low byte is printable ASCII (``ĩ`` → ``)``, ``ũ`` →
``i``, ``Ĩ``, ``Ũ`` and a combining dot below → ``#``) are indistinguishable from what they
became and are not guessed: such a value cannot be verified, and the refusal says why.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Iterator

#: The most candidate texts tried for one request.
LIMIT = 4096

_VOWELS = "aăâeêioôơuưy"
_TONES = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")


def _vietnamese() -> dict[int, tuple[str, ...]]:
    letters = {unicodedata.normalize("NFC", v + t) for v in _VOWELS + _VOWELS.upper() for t in _TONES}
    letters |= {"đ", "Đ", *(t for t in _TONES if t)}
    by_byte: dict[int, list[str]] = {}
    for letter in sorted(letters):
        if ord(letter) > 0x7F:
            by_byte.setdefault(ord(letter) & 0xFF, []).append(letter)
    return {byte: tuple(found) for byte, found in by_byte.items()}


_BY_LOW_BYTE = _vietnamese()


def possible(raw: bytes) -> bool:
    """Whether ``raw`` may have been cut: it is not UTF-8, or carries a control character that a
    JSON writer would have escaped."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return any(byte < 0x20 for byte in raw)


def candidates(raw: bytes) -> Iterator[bytes]:
    """The UTF-8 texts ``raw`` may have been before each character was cut to its low 8 bits
    (``raw`` itself, read as Latin-1, first); at most ``LIMIT``. None when ``raw`` has a byte no
    guess explains."""
    choices: list[tuple[str, ...]] = []
    for byte in raw:
        if byte < 0x20:
            found = _BY_LOW_BYTE.get(byte, ())
            if not found:
                return
            choices.append(found)
        elif byte >= 0x80:
            choices.append(tuple(dict.fromkeys((chr(byte), *_BY_LOW_BYTE.get(byte, ())))))
        else:
            choices.append((chr(byte),))
    for guess in itertools.islice(itertools.product(*choices), LIMIT):
        yield "".join(guess).encode("utf-8")


def cut(text: str) -> bytes:
    """What the SDK's HTTP stack puts on the wire for ``text`` when it cuts characters to 8 bits."""
    return bytes(ord(character) & 0xFF for character in text)
