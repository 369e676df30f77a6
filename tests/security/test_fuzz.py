"""Fuzzing the parser and intake: whatever the bytes, the answer is a package or a stable refusal.

Hypothesis feeds random bytes and mutations of a valid signed package (byte flips, insertions of
XML-significant fragments, deletions, truncations, duplicated elements) to the pure parser and
verifier, and mutated signed packages to intake over HTTP. Every outcome must be a model or an
``AxisError`` (never another exception), and every HTTP answer 200/202 or a JSON error body with
a catalogued code and that code's status (never a 500).

Budget: ``AXIS_FUZZ_EXAMPLES`` examples per pure property (default 150, a few seconds); intake
over HTTP runs a third of that. CI runs the default; a longer local run:
``AXIS_FUZZ_EXAMPLES=5000 .venv/bin/pytest tests/security/test_fuzz.py``. A libFuzzer harness
(atheris) for long runs is ``scripts/fuzz_atheris.py``.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import functools
import os
import re
from collections.abc import Callable
from typing import Any

import builders
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from security_world import sent_now
from world import World

from axis import pki
from axis.edxml import Limits, Parsed, build, parse, sign, verify, xmlsafe
from axis.edxml.trust import TrustAnchors
from axis.errors import CATALOGUE, AxisError

EXAMPLES = int(os.environ.get("AXIS_FUZZ_EXAMPLES", "150"))
PURE = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
OVER_HTTP = settings(
    max_examples=max(EXAMPLES // 3, 10),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
#: Small limits, so that mutations can also reach the depth and element-count refusals.
LIMITS = Limits(max_bytes=256 * 1024, max_depth=24, max_elements=2_000)

FRAGMENTS = (
    b"<",
    b">",
    b"&",
    b"&amp;",
    b"&x;",
    b"</",
    b"/>",
    b'"',
    b"'",
    b"=",
    b"<!DOCTYPE edXML [<!ENTITY x 'y'>]>",
    b"<![CDATA[",
    b"]]>",
    b"<!--",
    b"-->",
    b"<?xml version='1.0'?>",
    b"<?pi x?>",
    b"\x00",
    b"\xff\xfe",
    b"\xc3",
    b"\xe2\x80\xae",
    b"<ds:Signature xmlns:ds='http://www.w3.org/2000/09/xmldsig#'/>",
    b"xmlns:edXML='urn:other'",
    b"<edXML:To><edXML:OrganId>000.00.00.G98</edXML:OrganId></edXML:To>",
    b"9" * 40,
    b" ",
    b"\n",
)


@functools.cache
def keys() -> tuple[pki.Identity, TrustAnchors]:
    ca = pki.new_ca("Fuzz CA")
    return pki.issue(ca, builders.NORTH, "UBND Tỉnh Thử Nghiệm Bắc"), TrustAnchors((ca.certificate,))


@functools.cache
def signed_package() -> bytes:
    north, _ = keys()
    return sign(build(builders.document()), north.key, north.cert_chain)


@functools.cache
def signed_status() -> bytes:
    north, _ = keys()
    return sign(build(builders.status(sender=builders.NORTH)), north.key, north.cert_chain)


TREE_EDITS = ("duplicate", "remove", "swap", "text", "rename", "attribute", "move")


def edit_tree(data: bytes, edits: list[tuple[str, int, int, str]]) -> bytes:
    """The package with element-level edits that keep it well-formed, so that the fuzzing reaches
    the schema, the signature and the reader: ``(edit, element index, other index, text)``."""
    root = etree.fromstring(data)
    for edit, index, other, text in edits:
        elements = [el for el in root.iter() if el is not root and isinstance(el.tag, str)]
        if not elements:
            break
        chosen, second = elements[index % len(elements)], elements[other % len(elements)]
        parent = chosen.getparent()
        assert parent is not None
        if edit == "duplicate":
            parent.insert(parent.index(chosen) + 1, copy.deepcopy(chosen))
        elif edit == "remove":
            parent.remove(chosen)
        elif edit == "swap" and second.getparent() is parent:
            a, b = sorted((parent.index(chosen), parent.index(second)))
            if a != b:
                first, last = parent[a], parent[b]
                parent.insert(b, first)
                parent.insert(a, last)
        elif edit == "text":
            chosen.text = text
        elif edit == "rename":
            local = text if text.isascii() and text.isalpha() else "X"
            namespace = etree.QName(chosen).namespace
            chosen.tag = f"{{{namespace}}}{local}" if namespace else local
        elif edit == "attribute":
            chosen.set("Id" if not text else "URI", text)
        elif edit == "move" and chosen not in second.iterancestors() and chosen is not second:
            parent.remove(chosen)
            second.append(chosen)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


names = st.text(st.characters(min_codepoint=0x41, max_codepoint=0x7A, categories=("Lu", "Ll")), max_size=12)
texts = names | st.sampled_from(("", "000.00.00.G98", "2026/02/30", "#", "01", "99", "&", "\u202e", "Ặ" * 3))


@st.composite
def mutations(draw: st.DrawFn, base: bytes) -> bytes:
    """``base`` changed by one to six edits, the way a hostile or broken sender would: element
    edits that keep it well-formed, then byte edits that may not."""
    tree_edits = draw(
        st.lists(
            st.tuples(st.sampled_from(TREE_EDITS), st.integers(0, 10_000), st.integers(0, 10_000), texts), max_size=2
        )
    )
    data = edit_tree(base, tree_edits) if tree_edits else base
    for _ in range(draw(st.integers(0 if tree_edits else 1, 4))):
        op = draw(st.sampled_from(("flip", "insert", "delete", "truncate")))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip":
            data = data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
        elif op == "insert":
            piece = draw(st.sampled_from(FRAGMENTS) | st.binary(min_size=1, max_size=16))
            data = data[:at] + piece + data[at:]
        elif op == "delete":
            data = data[:at] + data[at + draw(st.integers(1, 64)) :]
        else:
            data = data[:at]
    return data


packages = st.one_of(
    st.binary(max_size=2048),
    st.builds(lambda: signed_package()).flatmap(mutations),
    st.builds(lambda: signed_status()).flatmap(mutations),
)


def outcome(function: Any, *args: Any, **kwargs: Any) -> Any:
    """Call ``function``: its result, or the AxisError it raised. Anything else fails the test."""
    try:
        return function(*args, **kwargs)
    except AxisError as exc:
        refusal = exc
    assert refusal.code in CATALOGUE
    return refusal


@PURE
@given(st.binary(max_size=4096))
def test_random_bytes_are_parsed_or_refused_with_a_code(data: bytes) -> None:
    assert isinstance(outcome(xmlsafe.parse, data, LIMITS), AxisError | etree._Element)
    assert isinstance(outcome(parse, data, limits=LIMITS), AxisError | Parsed)


@PURE
@given(packages)
def test_mutated_signed_packages_are_read_or_refused_with_a_code(data: bytes) -> None:
    _, trust = keys()
    parsed = outcome(parse, data, limits=LIMITS)
    verified = outcome(verify, data, trust, limits=LIMITS)
    if not isinstance(verified, AxisError):
        # What verifies was signed: it parses too, and says the same.
        assert not isinstance(parsed, AxisError)
        assert verified.package.document_id == parsed.package.document_id


def test_the_unmutated_packages_verify() -> None:
    _, trust = keys()
    assert verify(signed_package(), trust).signer is not None
    assert verify(signed_status(), trust).signer is not None


@pytest.fixture
def base_packages(world: World) -> list[bytes]:
    return [world.signed(sent_now(world.document())), world.signed(sent_now(builders.status(sender=builders.NORTH)))]


@OVER_HTTP
@given(choice=st.integers(0, 1), seed=st.data())
async def test_intake_answers_mutated_packages_without_a_server_error(
    world: World, base_packages: list[bytes], choice: int, seed: st.DataObject
) -> None:
    data = seed.draw(mutations(base_packages[choice]))
    response = await world.client.post("/api/v1/packages", data=data, headers=world["north"].headers)
    assert response.status != 500, await response.text()
    if response.status in (200, 202):
        assert "package_id" in await response.json()
        return
    body = await response.json()
    code = body["error"]["code"]
    assert code in CATALOGUE, body
    assert CATALOGUE[code][0] == response.status, body


def with_certificate(data: bytes, change: Callable[[bytearray], None]) -> bytes:
    """The package with its certificate's DER changed in place (the signature is left as it was)."""
    found = re.search(rb"<ds:X509Certificate>(.*?)</ds:X509Certificate>", data, re.DOTALL)
    assert found is not None
    der = bytearray(base64.b64decode(b"".join(found.group(1).split())))
    change(der)
    return data[: found.start(1)] + base64.b64encode(bytes(der)) + data[found.end(1) :]


def unreadable_subject(der: bytearray) -> None:
    """A byte of the subject made invalid UTF-8: cryptography decodes names lazily, and the
    expired-certificate message read the subject (found by atheris: a 500 at intake)."""
    der[der.index("UBND Tỉnh Thử Nghiệm Bắc".encode()) + 1] = 0x81


def unknown_version(der: bytearray) -> None:
    """X.509 version 11 (found by atheris: ``InvalidVersion`` is no ValueError, so it was a 500)."""
    der[der.index(bytes.fromhex("a003020102")) + 4] = 0x0A


@pytest.mark.parametrize("change", [unreadable_subject, unknown_version])
def test_a_malformed_certificate_is_refused_not_a_crash(change: Callable[[bytearray], None]) -> None:
    _, trust = keys()
    bad = with_certificate(signed_package(), change)
    for at in (None, dt.datetime(2000, 1, 1, tzinfo=dt.UTC)):  # valid now, and outside its validity
        with pytest.raises(AxisError) as refused:
            verify(bad, trust, at=at)
        assert refused.value.code == "signature.certificate.malformed"


async def test_intake_refuses_an_expired_certificate_with_an_unreadable_subject(world: World) -> None:
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=800)
    expired = pki.issue(world.ca, builders.NORTH, "UBND Tỉnh Thử Nghiệm Bắc", not_before=long_ago)
    signed = sign(build(sent_now(world.document())), expired.key, expired.cert_chain)
    answer = await world.post(with_certificate(signed, unreadable_subject), expect=400)
    assert answer["error"]["code"] == "signature.certificate.malformed"
