"""Signed PDFs made on the spot, for the stories of `axis.files` and for anyone needing a signed document.

No real signed decision can live in the repository (it names real people and chains to a real CA),
and each hostile case needs a file made wrong in exactly one way. So every file here is written by
pyHanko's own writer and signed by pyHanko's own signer, with certificates of the development CA
(`axis.pki`): a person's certificate (a title, no agency code) and an agency's (its code as UID), as
Decree 30/2020 puts both signatures on a document, the person's first.

Shared by the suites (``from pdfs import ...``, as ``builders`` and ``world`` are): the file check's
own stories (tests/files), the exchange's, the clerk's page and the benchmark.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import functools
import io
import re
import socket
import struct
import threading
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web
from asn1crypto import keys as asn1_keys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import NameObject
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.writer import PdfFileWriter
from pyhanko.sign.timestamps import DummyTimeStamper, TimeStamper

from axis import pki
from axis.edxml import model as m
from axis.files.pdf import DocumentTrust
from axis.files.signing import asn1_certificate, blank_pdf, run, sign, signer_of, text_operators

AGENCY_CODE = "000.00.00.H41"
AGENCY_NAME = "UBND tỉnh Thử Nghiệm"
PERSON_NAME = "Nguyễn Văn An"
PERSON_TITLE = "Chủ tịch"

T = TypeVar("T")

#: What one signature adds to a file, about: the CMS (with its certificates, reserved at twice the
#: size in hex), the field and the incremental update's cross-reference section.
_SIGNATURE_BYTES = 5_600


# --- identities -------------------------------------------------------------------------------------


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


@dataclass(frozen=True)
class Cast:
    """A CA and the two signers of a decision: the person who signs it and the agency that issues it."""

    ca: pki.Identity
    person: pki.Identity
    agency: pki.Identity

    def trust(
        self,
        *,
        crls: Sequence[bytes] = (),
        fetch: bool = False,
        fetch_timeout: float = 5.0,
        cache_seconds: float = 300.0,
    ) -> DocumentTrust:
        """The document trust of an axis that trusts this CA (fetching nothing unless told)."""
        return DocumentTrust(
            anchors=(der(self.ca.certificate),),
            crls=tuple(crls),
            fetch=fetch,
            fetch_timeout=fetch_timeout,
            cache_seconds=cache_seconds,
        )


def person(ca: pki.Identity, **certificate: Any) -> pki.Identity:
    """An individual signer: a person with a title, working for the agency, carrying no agency code.
    ``certificate``: what else ``pki.issue`` takes (``not_before``, ``days``, ``ocsp_url``, ``crl_url``)."""
    return pki.issue(ca, None, PERSON_NAME, title=PERSON_TITLE, organisation=AGENCY_NAME, **certificate)


def agency(ca: pki.Identity, **certificate: Any) -> pki.Identity:
    """The issuing agency's own certificate: its code as UID, no title (``certificate`` as for ``person``)."""
    return pki.issue(ca, AGENCY_CODE, AGENCY_NAME, **certificate)


def new_cast(ca: pki.Identity | None = None) -> Cast:
    ca = ca or pki.new_ca("Test Document CA")
    return Cast(ca, person(ca), agency(ca))


def cast_for(ca: pki.Identity, code: str, agency_name: str, person_name: str = PERSON_NAME) -> Cast:
    """The signers of another agency's decisions (a world's north, a benchmark's systems)."""
    return Cast(
        ca,
        pki.issue(ca, None, person_name, title=PERSON_TITLE, organisation=agency_name),
        pki.issue(ca, code, agency_name),
    )


@functools.cache
def default_cast() -> Cast:
    """One cast per process, for material that only needs to be validly signed (benchmarks)."""
    return new_cast()


# --- PDFs -------------------------------------------------------------------------------------------


def signed_pdf(
    size: int = 0,
    *,
    by: Sequence[pki.Identity] | None = None,
    timestamper: TimeStamper | None = None,
    text: str = "QUYET DINH so 01/QD-UBND",
) -> bytes:
    """A one-page PDF of about ``size`` bytes (within a few KB; ``0``: as small as it comes), signed
    by each of ``by`` in turn (by default the person, then the agency, of `default_cast`: a
    decree-style document, whose trust is ``default_cast().trust()``)."""
    if by is None:
        cast = default_cast()
        by = (cast.person, cast.agency)
    data = blank_pdf(max(0, size - _SIGNATURE_BYTES * len(by)), text=text)
    for index, identity in enumerate(by, start=1):
        data = sign(data, identity, field=f"Signature{index}", timestamper=timestamper)
    return data


def decree(cast: Cast, size: int = 0, *, timestamper: TimeStamper | None = None) -> bytes:
    """A decision as Decree 30/2020 has it signed: the person's signature, then the agency's."""
    return signed_pdf(size, by=(cast.person, cast.agency), timestamper=timestamper)


# --- what is done to a signed PDF --------------------------------------------------------------------


def altered_after_signing(data: bytes, text: str = "QUYET DINH so 99/QD-UBND") -> bytes:
    """A real incremental update after the signatures that replaces the page's content: what a
    forger does to change a signed decision while keeping its signatures in the file."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    page[NameObject("/Contents")] = writer.add_object(generic.StreamObject(stream_data=text_operators(text)))
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def junk_appended(data: bytes, junk: bytes = b"\n%% added after signing\n" + b"0123456789" * 50) -> bytes:
    """Bytes after the last signature's revision that are no PDF revision at all."""
    return data + junk


_BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")


def partially_signed(data: bytes, identity: pki.Identity, *, field: str = "Signature1", left_out: int = 0) -> bytes:
    """``data`` signed by ``identity``, but with a ByteRange that stops ``left_out`` bytes before the
    end of its revision (by default, where the revision's cross-reference section starts): the
    signature is intact over what it covers, and what it leaves out is anyone's to write."""
    signed = sign(data, identity, field=field)
    ranges = list(_BYTE_RANGE.finditer(signed))[-1]
    start1, length1, start2, length2 = (int(g) for g in ranges.groups())
    end = start2 + length2
    if not left_out:  # from the revision's cross-reference section, which its startxref points at
        xref_at = int(signed[signed.rindex(b"startxref", start2, end) + len(b"startxref") :].split()[0])
        if not start2 < xref_at < end:
            raise ValueError("the signing revision's cross-reference section is not after the signature")
        left_out = end - xref_at
    new_ranges = f"/ByteRange [{start1} {length1} {start2} {length2 - left_out}]".encode()
    span = ranges.end() - ranges.start()
    if len(new_ranges) > span:
        raise ValueError("no room for the shorter ByteRange")
    patched = signed[: ranges.start()] + new_ranges + b" " * (span - len(new_ranges)) + signed[ranges.end() :]
    covered = patched[start1 : start1 + length1] + patched[start2 : start2 + length2 - left_out]
    digest = hashes.Hash(hashes.SHA256())
    digest.update(covered)
    cms = run(signer_of(identity).async_sign(digest.finalize(), "sha256"))
    if patched[length1 : length1 + 1] != b"<" or patched[start2 - 1 : start2] != b">":
        raise ValueError("the ByteRange's gap is not the signature's /Contents")
    hex_start, room = length1 + 1, start2 - length1 - 2
    encoded = cms.dump().hex().encode()
    if len(encoded) > room:
        raise ValueError("the new signature does not fit in the room reserved for the old one")
    return patched[:hex_start] + encoded + b"0" * (room - len(encoded)) + patched[hex_start + room :]


def malformed_pdf() -> bytes:
    """A file that says it is a PDF and is not one: the header, then a signed PDF's middle."""
    whole = signed_pdf()
    return whole[:9] + whole[len(whole) // 3 : len(whole) // 2]


def unsigned_pdf() -> bytes:
    return blank_pdf()


def zipped(members: Sequence[tuple[str, bytes]], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=method) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return out.getvalue()


def zip_bomb(expanded: int = 1 << 30, *, name: str = "phu-luc.pdf") -> bytes:
    """A zip of one entry inflating ~1000 times: ``expanded`` bytes of zeros (1 GiB by default, at
    most 4 GiB) in ~1/1000 of that. Assembled here (headers by APPNOTE 4.3) from Deflate blocks that
    repeat, as `deflated_zeros` does, since writing a gigabyte through zipfile takes seconds."""
    if expanded >= 1 << 32:
        raise ValueError("one entry of a zip without ZIP64 holds less than 4 GiB")
    squeezer = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw Deflate, as zip wants it
    chunk = 1 << 24
    block = squeezer.compress(bytes(chunk)) + squeezer.flush(zlib.Z_FULL_FLUSH)
    whole, rest = divmod(expanded, chunk)
    body = block * whole + squeezer.compress(bytes(rest)) + squeezer.flush()
    crc = 0
    zeros = bytes(chunk)
    for _ in range(whole):
        crc = zlib.crc32(zeros, crc)
    crc = zlib.crc32(bytes(rest), crc)
    encoded = name.encode()
    common = struct.pack("<HHHHHIII", 20, 0, zipfile.ZIP_DEFLATED, 0, 0x21, crc, len(body), expanded)
    local = b"PK\x03\x04" + common + struct.pack("<HH", len(encoded), 0) + encoded
    central = (
        b"PK\x01\x02"
        + struct.pack("<H", 20)
        + common
        + struct.pack("<HHHHHII", len(encoded), 0, 0, 0, 0, 0, 0)
        + encoded
    )
    end = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, 1, 1, len(central), len(local) + len(body), 0)
    return local + body + central + end


# --- bombs ------------------------------------------------------------------------------------------


def _empty_page(*, stream_xrefs: bool, extra: dict[str, generic.PdfObject] | None = None) -> bytes:
    """A writer-made PDF of one empty page, with ``extra`` entries in its catalog."""
    writer = PdfFileWriter(stream_xrefs=stream_xrefs)
    for key, value in (extra or {}).items():
        writer.root[NameObject(key)] = value
    writer.insert_page(
        generic.DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Page"),
                NameObject("/MediaBox"): generic.ArrayObject(map(generic.NumberObject, (0, 0, 595, 842))),
            }
        )
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def deeply_nested_pdf(depth: int = 200_000) -> bytes:
    """A writer-made PDF whose catalog holds an array nested ``depth`` deep (``[[[[...]]]]``). The
    nesting replaces, byte for byte, a string the writer wrote there, so every offset stays true."""
    placeholder = b"N" * depth
    data = _empty_page(stream_xrefs=False, extra={"/Nested": generic.ByteStringObject(placeholder)})
    written = b"<" + placeholder.hex().encode() + b">"  # how the writer writes a byte string
    at = data.index(written)
    half = len(written) // 2
    return data[:at] + b"[" * half + b"]" * half + data[at + len(written) :]


def _minimal_pdf_with_xref_stream() -> tuple[bytes, int, bytes, bytes]:
    """A writer-made one-page PDF with a cross-reference stream: the file, the stream object's
    offset, its dictionary (up to ``stream``) and its decoded table."""
    data = _empty_page(stream_xrefs=True)
    xref_at = int(data[data.rindex(b"startxref") + len(b"startxref") :].split()[0])
    head_end = data.index(b"stream", xref_at) + len(b"stream")
    body_start = head_end + (2 if data[head_end : head_end + 2] == b"\r\n" else 1)
    body_end = data.index(b"endstream", body_start)
    table = zlib.decompress(data[body_start:body_end])
    return data, xref_at, data[xref_at:head_end], table


def _with_xref_stream(data: bytes, xref_at: int, head: bytes, body: bytes) -> bytes:
    """``data`` with its last object, the cross-reference stream, rewritten: ``startxref`` still
    points at it, and nothing follows it, so no other offset moves."""
    head = re.sub(rb"/Length \d+", b"/Length %d" % len(body), head)
    return data[:xref_at] + head + b"\n" + body + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref_at


def deflated_zeros(prefix: bytes, zeros: int) -> bytes:
    """A zlib stream of ``prefix`` then ``zeros`` zero bytes, made without ever holding them: after a
    full flush, Deflate encodes each 16 MiB of zeros to the same ~16 KB, so that block is repeated,
    and the Adler-32 of the whole is computed (zeros leave its first sum alone)."""
    squeezer = zlib.compressobj(9)
    chunk = 1 << 24
    head = squeezer.compress(prefix) + squeezer.flush(zlib.Z_FULL_FLUSH)
    block = squeezer.compress(bytes(chunk)) + squeezer.flush(zlib.Z_FULL_FLUSH)
    whole, rest = divmod(zeros, chunk)
    tail = squeezer.compress(bytes(rest)) + squeezer.flush(zlib.Z_FULL_FLUSH)
    check = zlib.adler32(prefix)
    low, high = check & 0xFFFF, check >> 16
    high = (high + zeros * low) % 65521
    return head + block * whole + tail + b"\x03\x00" + ((high << 16) | low).to_bytes(4, "big")


def inflation_bomb(expanded: int = 4 << 30) -> bytes:
    """A writer-made PDF whose cross-reference stream inflates to ``expanded`` bytes (4 GiB by
    default: its table, then zeros) from ~1/1000 of that: reading the file at all means inflating it."""
    data, xref_at, head, table = _minimal_pdf_with_xref_stream()
    return _with_xref_stream(data, xref_at, head, deflated_zeros(table, expanded - len(table)))


def slow_bomb(entries: int = 2_000_000) -> bytes:
    """A writer-made PDF whose cross-reference stream claims ``entries`` objects (12 bytes each
    decoded, within pyHanko's decoding limits for untrusted input) with a PNG predictor, which
    pyHanko undoes in pure Python, row by row, before reading each entry: by default ~9 s and
    ~430 MB to read 24 KB; with 20 million entries, minutes and gigabytes from 230 KB."""
    data, xref_at, head, table = _minimal_pdf_with_xref_stream()
    width = sum(int(w) for w in re.search(rb"/W \[([^\]]*)\]", head).group(1).split())  # type: ignore[union-attr]
    rows = b"".join(b"\x00" + table[i : i + width] for i in range(0, len(table), width))
    body = deflated_zeros(rows, (entries - len(table) // width) * (width + 1))
    head = re.sub(rb"/Size \d+", b"/Size %d" % entries, head)
    head = re.sub(rb"/Index \[[^\]]*\]", b"/Index [ 0 %d ]" % entries, head)
    head = head.replace(b"/Type /XRef", b"/Type /XRef\n/DecodeParms << /Predictor 12 /Columns %d >>" % width, 1)
    return _with_xref_stream(data, xref_at, head, body)


# --- the time-stamping authority, revocation -----------------------------------------------------------


def time_stamper(ca: pki.Identity, *, at: dt.datetime | None = None) -> DummyTimeStamper:
    """pyHanko's test TSA with a certificate of ``ca`` (critical timeStamping EKU, as RFC 3161
    asks), stamping the time ``at`` (now by default)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # pyHanko's test TSA signs with RSA only
    start = min(at or dt.datetime.now(dt.UTC), dt.datetime.now(dt.UTC)) - dt.timedelta(days=1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA")]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    tsa_key = asn1_keys.PrivateKeyInfo.load(
        key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return DummyTimeStamper(tsa_cert=asn1_certificate(cert), tsa_key=tsa_key, fixed_dt=at)


def crl(ca: pki.Identity, revoked: Sequence[x509.Certificate], *, at: dt.datetime | None = None) -> bytes:
    """A DER CRL of ``ca`` listing ``revoked`` as revoked at ``at`` (an hour ago by default)."""
    now = dt.datetime.now(dt.UTC)
    when = at or now - dt.timedelta(hours=1)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.certificate.subject)
        .last_update(now - dt.timedelta(minutes=5))
        .next_update(now + dt.timedelta(days=7))
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)
        .add_extension(x509.CRLNumber(1), critical=False)
    )
    for cert in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(cert.serial_number)
            .revocation_date(when)
            .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
            .build()
        )
    return builder.sign(ca.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


# --- an OCSP responder ----------------------------------------------------------------------------------


class OCSPResponder:
    """A CA's OCSP responder on 127.0.0.1 (aiohttp, in a thread of its own so that synchronous
    checks, and worker processes, can ask it): "good" for every certificate but those `revoke`
    names, answers signed by the CA itself (RFC 6960 allows the issuer to answer), the request's
    nonce echoed. ``asked`` counts the requests, by serial number."""

    def __init__(self, ca: pki.Identity) -> None:
        self.ca = ca
        self.revoked: dict[int, dt.datetime] = {}
        self.asked: list[int] = []
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="ocsp-responder", daemon=True)
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/ocsp"

    def revoke(self, cert: x509.Certificate, at: dt.datetime | None = None) -> None:
        self.revoked[cert.serial_number] = at or dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)

    def times_asked(self, cert: x509.Certificate) -> int:
        return self.asked.count(cert.serial_number)

    def __enter__(self) -> OCSPResponder:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/ocsp", self._answer)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        listening = socket.create_server(("127.0.0.1", 0))
        self.port = listening.getsockname()[1]
        await web.SockSite(self._runner, listening).start()

    async def _answer(self, request: web.Request) -> web.Response:
        asked = ocsp.load_der_ocsp_request(await request.read())
        self.asked.append(asked.serial_number)
        now = dt.datetime.now(dt.UTC)
        revoked_at = self.revoked.get(asked.serial_number)
        builder = (
            ocsp.OCSPResponseBuilder()
            .add_response_by_hash(
                issuer_name_hash=asked.issuer_name_hash,
                issuer_key_hash=asked.issuer_key_hash,
                serial_number=asked.serial_number,
                algorithm=asked.hash_algorithm,
                cert_status=ocsp.OCSPCertStatus.GOOD if revoked_at is None else ocsp.OCSPCertStatus.REVOKED,
                this_update=now - dt.timedelta(minutes=1),
                next_update=now + dt.timedelta(hours=1),
                revocation_time=revoked_at,
                revocation_reason=None if revoked_at is None else x509.ReasonFlags.key_compromise,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, self.ca.certificate)
        )
        for extension in asked.extensions:
            if isinstance(extension.value, x509.OCSPNonce):
                builder = builder.add_extension(extension.value, critical=False)
        answer = builder.sign(self.ca.key, hashes.SHA256())  # type: ignore[arg-type]
        return web.Response(
            body=answer.public_bytes(serialization.Encoding.DER), content_type="application/ocsp-response"
        )


@contextlib.contextmanager
def silent_responder() -> Iterator[str]:
    """An address that takes the connection and the request, and never answers (the kernel
    completes the handshake on the listening socket; nobody accepts)."""
    with socket.create_server(("127.0.0.1", 0), backlog=64) as listening:
        yield f"http://127.0.0.1:{listening.getsockname()[1]}/ocsp"


def closed_address() -> str:
    """An address where nothing listens: the connection is refused at once."""
    with socket.create_server(("127.0.0.1", 0)) as listening:
        port = listening.getsockname()[1]
    return f"http://127.0.0.1:{port}/ocsp"


# --- documents carrying them -------------------------------------------------------------------------


def carrying(
    document: m.DocumentPackage, data: bytes, *, signer: str = PERSON_NAME, name: str = "quyet-dinh.pdf"
) -> m.DocumentPackage:
    """``document`` with ``data`` as its decision, and the header naming ``signer`` as who signed it."""
    return dataclasses.replace(
        document,
        signer_info=m.SignerInfo(competence="TM. UBND", position=PERSON_TITLE, full_name=signer),
        attachments=(m.Attachment.from_bytes("1", name, "application/pdf", data),),
    )


def north_cast(world: Any) -> Cast:
    """North's chairman and north's agency, on the world's CA (which the world's axis trusts)."""
    return cast_for(world.ca, world["north"].code, "UBND Tỉnh Thử Nghiệm Bắc")


def north_decree(world: Any) -> bytes:
    return decree(north_cast(world))


def with_file(
    world: Any, data: bytes, *, signer: str = PERSON_NAME, name: str = "quyet-dinh.pdf", number: str = "125"
) -> bytes:
    """A document from north to south carrying ``data`` as its decision, signed by north's system."""
    document = world.document(to=("000.00.00.H99",), subject="Quyết định về việc thử nghiệm chữ ký số", number=number)
    return world.signed(carrying(document, data, signer=signer, name=name))
