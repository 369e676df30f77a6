"""The edXML package format (QCVN 102:2016): model, hardened parsing, schema, build, sign, verify.

Pure: no network, database or broker. The functions below are the public surface; the modules
behind them are free to change.
"""

from axis.edxml.codec import Parsed, Verified, default_schemas, parse, verify
from axis.edxml.model import DocumentPackage, Kind, Package, StatusPackage
from axis.edxml.reader import Quirk
from axis.edxml.signature import sign
from axis.edxml.trust import LEGACY_SHA1, STRICT, SignaturePolicy, Signer, TrustAnchors
from axis.edxml.writer import build
from axis.edxml.xmlsafe import Limits

__all__ = [
    "LEGACY_SHA1",
    "STRICT",
    "DocumentPackage",
    "Kind",
    "Limits",
    "Package",
    "Parsed",
    "Quirk",
    "SignaturePolicy",
    "Signer",
    "StatusPackage",
    "TrustAnchors",
    "Verified",
    "build",
    "default_schemas",
    "parse",
    "sign",
    "verify",
]
