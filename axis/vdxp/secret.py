"""A system's SDK secret: made once, shown once, kept sealed.

The SDK signs each request with HMAC-SHA256 keyed with a secret it shares with the axis, so the
axis has to compute that HMAC itself: unlike a Bearer token, the secret cannot be kept as a
one-way hash. It is kept sealed with AES-256-GCM under a key that lives outside the database
(a file, like the axis's receipt key), with the system id as associated data. A copy of the
database alone therefore reveals no secret, and a sealed secret copied onto another system's row
does not open. Whoever holds both the database and the key file holds the secrets: that is the
same exposure as the receipt key, and the reason the key file is created readable by its owner
only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from axis.errors import AxisError

_VERSION = b"\x01"
_NONCE_BYTES = 12
_AAD = b"axis.vdxp.sdk-secret/v1\x00"


class SecretBox:
    """Seals and opens SDK secrets with one AES-256-GCM key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise AxisError("config.invalid", "The key that seals SDK secrets must be 32 bytes (256 bits).")
        self._aead = AESGCM(key)
        #: Names the key on each sealed row (so a wrong key file is told apart from a tampered row).
        self.key_id = hashlib.sha256(b"axis.vdxp.key-id\x00" + key).hexdigest()[:16]

    @classmethod
    def load(cls, path: Path) -> SecretBox:
        """The key from its file (base64 of 32 bytes); ``vdxp.key.missing`` when there is none."""
        try:
            text = path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            raise AxisError(
                "vdxp.key.missing",
                f"No key to open SDK secrets at {path}: issue a secret with `axis systems secret SYSTEM` "
                "(it creates the key), or set AXIS_VDXP_SECRET_KEY_FILE to the key every axis process shares.",
                path=str(path),
            ) from None
        except UnicodeDecodeError:
            text = ""
        try:
            key = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if len(key) != 32:
            raise AxisError("config.invalid", f"{path} does not hold a base64 256-bit key.", path=str(path))
        return cls(key)

    @classmethod
    def load_or_create(cls, path: Path) -> tuple[SecretBox, bool]:
        """The key from its file, made first (readable by its owner only) when there is none.
        Returns the box and whether the file was created now."""
        if path.exists():
            return cls.load(path), False
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it meanwhile: use that one
            return cls.load(path), False
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(base64.b64encode(os.urandom(32)).decode("ascii") + "\n")
        return cls.load(path), True

    def seal(self, system_id: str, secret: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, secret.encode("utf-8"), _AAD + system_id.encode("utf-8"))
        return _VERSION + nonce + sealed

    def open(self, system_id: str, sealed: bytes) -> bytes | None:
        """The secret as the HMAC key (its UTF-8 bytes), or None when this key cannot open it
        (another key file, another system's row, or a changed row)."""
        if len(sealed) < 1 + _NONCE_BYTES + 16 or sealed[:1] != _VERSION:
            return None
        nonce, ciphertext = sealed[1 : 1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, ciphertext, _AAD + system_id.encode("utf-8"))
        except InvalidTag:
            return None
