"""The axis verifies a package on the tree it parsed, without signxml's whole-document copies
(that is what keeps a 50 MB package's peak memory down). These tests hold it to the promise that
the shortcut changes memory only: for every shape of package, the decision and the canonical bytes
that were digested are those of stock signxml, and what the axis reads is what was signed.
"""

from __future__ import annotations

import datetime as dt

import builders
import pytest
from lxml import etree
from signxml import SignatureConfiguration, XMLVerifier
from signxml.algorithms import CanonicalizationMethod

from axis import pki
from axis.edxml import build, sign, verify, xmlsafe
from axis.edxml import model as m
from axis.edxml.signature import _Verifier, trusted_leaf, verify_tree
from axis.edxml.trust import TrustAnchors
from axis.errors import AxisError

INCLUSIVE = CanonicalizationMethod.CANONICAL_XML_1_0


def package(north: pki.Identity, *, c14n: CanonicalizationMethod | None = None) -> bytes:
    data = build(builders.document(recipients=("000.00.00.H99",)))
    if c14n is None:
        return sign(data, north.key, north.cert_chain)
    return sign(data, north.key, north.cert_chain, c14n=c14n)


def around_root(data: bytes, before: bytes, after: bytes = b"") -> bytes:
    """Comments and processing instructions next to the root: outside what URI="" signs."""
    declaration, _, rest = data.partition(b"?>")
    return declaration + b"?>" + before + rest.strip() + after


def stock_digested_bytes(data: bytes, north: pki.Identity) -> bytes:
    """What unmodified signxml canonicalises and digests for this package."""
    result = XMLVerifier().verify(
        data, x509_cert=north.certificate, expect_config=SignatureConfiguration(expect_references=1)
    )
    assert not isinstance(result, list)
    return bytes(result.signed_data)


@pytest.mark.parametrize(
    "shape",
    [
        "plain",
        "comment in signed text",
        "comment and PI around the root",
        "PI inside the header",
        "inclusive c14n",
    ],
)
def test_the_axis_digests_and_reads_exactly_what_stock_signxml_does(
    shape: str, north: pki.Identity, trust: TrustAnchors
) -> None:
    data = package(north, c14n=INCLUSIVE if shape == "inclusive c14n" else None)
    if shape == "comment in signed text":
        data = data.replace(b">000.00.00.H99<", b">000.00.00.H9<!-- -->9<", 1)
    elif shape == "comment and PI around the root":
        data = around_root(data, b"<!-- before --><?before x?>\n", b"\n<!-- after -->")
    elif shape == "PI inside the header":
        data = data.replace(b"<edXMLHeader>", b"<edXMLHeader><?inside y?>", 1)

    leaf = trusted_leaf(trust, north.cert_chain, dt.datetime.now(dt.UTC))
    ours = _Verifier().verify(
        xmlsafe.parse(data), x509_cert=leaf, expect_config=SignatureConfiguration(expect_references=1)
    )
    assert bytes(ours.signed_data) == stock_digested_bytes(data, north)
    # The tree the axis reads canonicalises to the bytes that were digested: nothing unsigned in it.
    assert etree.tostring(ours.signed_xml, method="c14n", exclusive=True, with_comments=False) == (
        etree.tostring(etree.fromstring(bytes(ours.signed_data)), method="c14n", exclusive=True, with_comments=False)
    )
    read = verify(data, trust).package
    assert isinstance(read, m.DocumentPackage)
    assert read.recipients[0].organ_id == "000.00.00.H99"


def test_a_change_after_signing_is_still_found_without_the_copies(north: pki.Identity, trust: TrustAnchors) -> None:
    data = package(north).replace(b">000.00.00.H99<", b">000.00.00.H97<", 1)
    with pytest.raises(AxisError) as refused:
        verify(data, trust)
    assert refused.value.code == "signature.digest_mismatch"


def test_verifying_takes_the_signature_out_of_the_tree_it_was_given(north: pki.Identity, trust: TrustAnchors) -> None:
    """The shortcut works on the caller's tree: what comes back is that tree, minus the enveloped
    signature (callers needing the signature read it before; ``codec.verify`` does)."""
    root = xmlsafe.parse(package(north))
    check = verify_tree(root, trust)
    assert check.signed_root is root
    assert root.find(".//{http://www.w3.org/2000/09/xmldsig#}Signature") is None
