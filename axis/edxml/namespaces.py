"""Namespace URIs and the Clark-notation tags used across the edXML code."""

from __future__ import annotations

EDXML_NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
XLINK_NS = "http://www.w3.org/1999/xlink"

#: The prefix the standard and the national SDKs write.
EDXML_PREFIX = "edXML"


def ed(local: str) -> str:
    """``{edXML namespace}local``: the tag lxml uses for an edXML element."""
    return f"{{{EDXML_NS}}}{local}"


def ds(local: str) -> str:
    """``{xmldsig namespace}local``."""
    return f"{{{DS_NS}}}{local}"
