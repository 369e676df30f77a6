"""Interop with an independent XML Signature implementation: the xmlsec1 command (libxmlsec1).

If our signatures only verified with our own code, a vendor using another library could not check
them, and we could not check theirs.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import builders
import pytest
from lxml import etree

from axis import pki
from axis.edxml import build, sign, verify
from axis.edxml import model as m
from axis.edxml.namespaces import DS_NS, ed
from axis.edxml.trust import TrustAnchors
from axis.errors import SignatureError

XMLSEC1 = shutil.which("xmlsec1")
pytestmark = pytest.mark.skipif(XMLSEC1 is None, reason="xmlsec1 is not installed (./dev test installs it)")

TEMPLATE = f"""<ds:Signature xmlns:ds="{DS_NS}">
  <ds:SignedInfo>
    <ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
    <ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>
    <ds:Reference URI="">
      <ds:Transforms>
        <ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>
        <ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
      </ds:Transforms>
      <ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
      <ds:DigestValue/>
    </ds:Reference>
  </ds:SignedInfo>
  <ds:SignatureValue/>
  <ds:KeyInfo><ds:X509Data><ds:X509Certificate/></ds:X509Data></ds:KeyInfo>
</ds:Signature>"""


@pytest.fixture
def files(tmp_path: Path, north: pki.Identity, dev_ca: pki.Identity) -> dict[str, Path]:
    key, cert = pki.save(north, tmp_path, "north")
    ca = tmp_path / "ca.pem"
    ca.write_bytes(pki.cert_pem(dev_ca.certificate))
    return {"key": key, "cert": cert, "ca": ca, "dir": tmp_path}


def xmlsec1(*args: str) -> subprocess.CompletedProcess[str]:
    assert XMLSEC1 is not None
    return subprocess.run([XMLSEC1, *args], capture_output=True, text=True, timeout=60, check=False)


def xmlsec1_sign(package: m.Package, files: dict[str, Path]) -> bytes:
    root = etree.fromstring(build(package))
    header = root.find(f"{ed('edXMLEnvelope')}/{ed('edXMLHeader')}")
    assert header is not None
    header.append(etree.fromstring(TEMPLATE))
    template = files["dir"] / "template.xml"
    template.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    out = files["dir"] / "signed-by-xmlsec1.xml"
    result = xmlsec1("--sign", "--privkey-pem", f"{files['key']},{files['cert']}", "--output", str(out), str(template))
    assert result.returncode == 0, result.stderr
    return out.read_bytes()


def xmlsec1_verifies(data: bytes, files: dict[str, Path]) -> subprocess.CompletedProcess[str]:
    path = files["dir"] / "to-verify.xml"
    path.write_bytes(data)
    return xmlsec1("--verify", "--trusted-pem", str(files["ca"]), str(path))


def test_package_signed_by_xmlsec1_verifies_in_axis(files: dict[str, Path], trust: TrustAnchors) -> None:
    document = builders.document()
    verified = verify(xmlsec1_sign(document, files), trust)
    assert verified.package == document
    assert verified.signer is not None
    assert verified.signer.agency_code == "000.00.00.H98"


def test_package_signed_by_axis_verifies_with_xmlsec1(files: dict[str, Path], north: pki.Identity) -> None:
    signed = sign(build(builders.document()), north.key, north.cert_chain)
    result = xmlsec1_verifies(signed, files)
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout + result.stderr


def test_status_signed_by_axis_with_ecdsa_verifies_with_xmlsec1(files: dict[str, Path], south_ec: pki.Identity) -> None:
    signed = sign(build(builders.status()), south_ec.key, south_ec.cert_chain)
    assert xmlsec1_verifies(signed, files).returncode == 0


def test_one_changed_byte_fails_in_both_implementations(
    files: dict[str, Path], north: pki.Identity, trust: TrustAnchors
) -> None:
    signed = sign(build(builders.document()), north.key, north.cert_chain)
    at = signed.index(b"<edXML:ContentTransferEncoded>") + len(b"<edXML:ContentTransferEncoded>") + 3
    in_attachment = signed[:at] + (b"B" if signed[at : at + 1] == b"A" else b"A") + signed[at + 1 :]
    in_content = signed.replace("Nội dung".encode(), "Nôi dung".encode(), 1)
    for tampered in (in_attachment, in_content):
        assert xmlsec1_verifies(tampered, files).returncode != 0
        with pytest.raises(SignatureError) as refused:
            verify(tampered, trust)
        assert refused.value.code == "signature.digest_mismatch"


def test_xmlsec1_signature_over_tampered_package_fails_in_axis(files: dict[str, Path], trust: TrustAnchors) -> None:
    signed = xmlsec1_sign(builders.document(), files)
    with pytest.raises(SignatureError) as refused:
        verify(signed.replace(b">000.00.00.H99<", b">000.00.00.G01<", 1), trust)
    assert refused.value.code == "signature.digest_mismatch"
