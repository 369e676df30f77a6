"""Making and signing a PDF as a document's signer and its agency would: for the demo, the tests and
vendors trying the axis with the development CA (``axis.pki``). Never a replacement for an agency's
own signing software. Written by pyHanko's own writer and signed by its signer (PAdES), so that the
files are what real signing software makes: one signature per incremental update.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
import os
from collections.abc import Coroutine
from typing import Any, TypeVar

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import NameObject
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.writer import PdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.timestamps import TimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

from axis import pki

T = TypeVar("T")


def blank_pdf(size: int = 0, *, text: str = "QUYET DINH so 01/QD-UBND") -> bytes:
    """A one-page PDF saying ``text``; with ``size``, padded to about that many bytes by an unused
    image of random (incompressible) pixels, as a scanned page would weigh."""
    writer = PdfFileWriter()
    font = writer.add_object(
        generic.DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
            }
        )
    )
    content = writer.add_object(generic.StreamObject(stream_data=text_operators(text)))
    resources = generic.DictionaryObject({NameObject("/Font"): generic.DictionaryObject({NameObject("/F1"): font})})
    page = generic.DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Page"),
            NameObject("/MediaBox"): generic.ArrayObject(map(generic.NumberObject, (0, 0, 595, 842))),
            NameObject("/Resources"): resources,
            NameObject("/Contents"): content,
        }
    )
    writer.insert_page(page)
    out = io.BytesIO()
    writer.write(out)
    missing = size - len(out.getvalue()) - 200
    if missing <= 0:
        return out.getvalue()
    width = 1024
    height = -(-missing // width)
    scan = generic.StreamObject(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Image"),
            NameObject("/Width"): generic.NumberObject(width),
            NameObject("/Height"): generic.NumberObject(height),
            NameObject("/ColorSpace"): NameObject("/DeviceGray"),
            NameObject("/BitsPerComponent"): generic.NumberObject(8),
        },
        stream_data=os.urandom(width * height),
    )
    resources[NameObject("/XObject")] = generic.DictionaryObject({NameObject("/Scan1"): writer.add_object(scan)})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def text_operators(text: str) -> bytes:
    escaped = text.encode("latin-1", "replace").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    return b"BT /F1 14 Tf 72 760 Td (" + escaped + b") Tj ET"


def asn1_certificate(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def signer_of(identity: pki.Identity) -> signers.SimpleSigner:
    key = asn1_keys.PrivateKeyInfo.load(
        identity.key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return signers.SimpleSigner(
        signing_cert=asn1_certificate(identity.certificate),
        signing_key=key,
        cert_registry=SimpleCertificateStore.from_certs([asn1_certificate(c) for c in identity.chain]),
    )


def sign(data: bytes, identity: pki.Identity, *, field: str, timestamper: TimeStamper | None = None) -> bytes:
    """``data`` with one more signature, in a new signature field, as an incremental update."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    meta = signers.PdfSignatureMetadata(field_name=field, md_algorithm="sha256")
    out = run(signers.async_sign_pdf(writer, meta, signer=signer_of(identity), timestamper=timestamper))
    return bytes(out.getvalue())


def run(work: Coroutine[Any, Any, T]) -> T:
    """pyHanko's signing is asynchronous; this material is not, and may be made inside a running
    event loop (an async test, a benchmark): there, in a thread with a loop of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(work)
    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, work).result()
