"""The whole path from untrusted bytes to a package the axis can act on.

``parse`` is for tools that only read (``axis package inspect``); ``verify`` is what intake uses:
the model it returns is read from the tree signxml verified, so nothing unsigned can reach routing.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import BinaryIO

from lxml import etree

from axis.edxml import reader, signature, xmlsafe
from axis.edxml.model import Kind, Package
from axis.edxml.reader import Quirk
from axis.edxml.schema import Schemas
from axis.edxml.trust import STRICT, SignaturePolicy, Signer, TrustAnchors


@dataclass(frozen=True, slots=True)
class Parsed:
    """A package read without verifying its signature: fit to show, not to route."""

    package: Package
    quirks: tuple[Quirk, ...]
    root: etree._Element

    @property
    def kind(self) -> Kind:
        return self.package.kind


@dataclass(frozen=True, slots=True)
class Verified:
    """A package whose content is what its signer signed (or, under a legacy policy, unsigned)."""

    package: Package
    quirks: tuple[Quirk, ...]
    signer: Signer | None
    policy: str
    signature_method: str
    digest_method: str

    @property
    def kind(self) -> Kind:
        return self.package.kind


@functools.cache
def default_schemas() -> Schemas:
    """The bundled schemas, loaded once per process (loading costs about a hundred milliseconds)."""
    return Schemas.load()


def parse(
    data: bytes | BinaryIO,
    *,
    limits: xmlsafe.Limits = xmlsafe.Limits(),
    schemas: Schemas | None = None,
    attachment_content: reader.Keep = True,
) -> Parsed:
    """Hardened parse, schema validation and model, without signature verification (``data`` and
    ``attachment_content`` as for ``verify``)."""
    root = _checked_tree(data, limits, schemas)
    package, quirks = reader.read(root, attachment_content=attachment_content)
    return Parsed(package, (*reader.signature_quirks(root), *quirks), root)


def verify(
    data: bytes | BinaryIO,
    trust: TrustAnchors,
    *,
    policy: SignaturePolicy = STRICT,
    at: dt.datetime | None = None,
    limits: xmlsafe.Limits = xmlsafe.Limits(),
    schemas: Schemas | None = None,
    attachment_content: reader.Keep = True,
) -> Verified:
    """Parse, validate and verify; the model comes from what the signature covers.

    ``attachment_content=False``: attachments are checked but their base64 is not kept (intake).
    ``data`` may be a file (a large package spooled as it arrived): it is read a chunk at a time.
    """
    root = _checked_tree(data, limits, schemas)
    # Quirks of the signature slot are visible only in the tree as received (verifying takes the
    # signature out of it).
    signature_quirks = reader.signature_quirks(root)
    check = signature.verify_tree(root, trust, policy=policy, at=at)
    tree = check.signed_root if check.signed_root is not None else root
    del root  # for a signed package, the tree as received is no longer needed: free it before reading
    package, quirks = reader.read(tree, attachment_content=attachment_content)
    quirks = (*signature_quirks, *quirks)
    return Verified(package, quirks, check.signer, check.policy, check.signature_method, check.digest_method)


def _checked_tree(data: bytes | BinaryIO, limits: xmlsafe.Limits, schemas: Schemas | None) -> etree._Element:
    root = xmlsafe.parse(data, limits) if isinstance(data, bytes) else xmlsafe.parse_file(data, limits)
    kind = reader.detect_kind(root)
    # Signature count and place first: a wrapping attempt then gets its own code rather than a
    # schema complaint about an element where no element belongs.
    signature.locate(root)
    (schemas or default_schemas()).validate(root, kind)
    return root
