"""Stories of asking whether a document signer's certificate is revoked: its OCSP responder answers
"good", "revoked", or nothing at all, and a worker asks it once for many documents.

A small real responder runs here (`pdf_material.OCSPResponder`: aiohttp in a thread, answers built
with cryptography's OCSPResponseBuilder, signed by the CA); the certificates name it in their
Authority Information Access, as a real CA's do.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from pdfs import Cast, OCSPResponder, agency, closed_address, new_cast, signed_pdf, silent_responder

from axis.files import answers, pdf
from axis.files import findings as f
from axis.files.worker import Attachment, FileChecker

TIMEOUT = 1.0


@pytest.fixture(scope="module")
def cast() -> Cast:
    return new_cast()


@pytest.fixture(scope="module")
def responder(cast: Cast) -> Iterator[OCSPResponder]:
    with OCSPResponder(cast.ca) as running:
        yield running


@pytest.fixture(autouse=True)
def nothing_kept() -> Iterator[None]:
    """The answers this process keeps are for one story only."""
    answers.forget_revocation_answers()
    yield
    answers.forget_revocation_answers()


def checked(data: bytes, trust: pdf.DocumentTrust) -> f.FileCheck:
    return pdf.check(data, trust, attachment="quyet-dinh.pdf")


def test_a_certificate_whose_ocsp_responder_never_answers_is_valid_with_revocation_unknown(cast: Cast) -> None:
    """The responder takes the request and stays silent: after ``fetch_timeout`` the signature is
    valid with a warning, and the check took about that long, not pyHanko's ten seconds."""
    with silent_responder() as url:
        document = signed_pdf(by=(agency(cast.ca, ocsp_url=url),))
        started = time.monotonic()

        found = checked(document, cast.trust(fetch=True, fetch_timeout=TIMEOUT))

        elapsed = time.monotonic() - started
    assert [s.problems for s in found.signatures] == [(f.SIGNATURE_REVOCATION_UNKNOWN,)]
    assert found.valid_signatures
    assert TIMEOUT * 0.9 < elapsed < TIMEOUT + 2.0


def test_a_certificate_whose_ocsp_responder_refuses_connections_is_valid_with_revocation_unknown(cast: Cast) -> None:
    document = signed_pdf(by=(agency(cast.ca, ocsp_url=closed_address()),))

    found = checked(document, cast.trust(fetch=True, fetch_timeout=TIMEOUT))

    assert [s.problems for s in found.signatures] == [(f.SIGNATURE_REVOCATION_UNKNOWN,)]


def test_a_certificate_the_ocsp_responder_says_is_revoked_makes_the_signature_revoked(
    cast: Cast, responder: OCSPResponder
) -> None:
    revoked = agency(cast.ca, ocsp_url=responder.url)
    responder.revoke(revoked.certificate)

    found = checked(signed_pdf(by=(revoked,)), cast.trust(fetch=True, fetch_timeout=TIMEOUT))

    assert [s.problems for s in found.signatures] == [(f.SIGNATURE_REVOKED,)]
    assert responder.times_asked(revoked.certificate) == 1


def test_a_certificate_the_ocsp_responder_says_is_good_makes_the_signature_valid(
    cast: Cast, responder: OCSPResponder
) -> None:
    good = agency(cast.ca, ocsp_url=responder.url)

    found = checked(signed_pdf(by=(good,)), cast.trust(fetch=True, fetch_timeout=TIMEOUT))

    assert [s.problems for s in found.signatures] == [()]
    assert responder.times_asked(good.certificate) == 1


def test_an_ocsp_answer_is_kept_so_that_the_next_document_of_that_signer_does_not_ask_again(
    cast: Cast, responder: OCSPResponder
) -> None:
    signer = agency(cast.ca, ocsp_url=responder.url)
    trust = cast.trust(fetch=True, fetch_timeout=TIMEOUT, cache_seconds=60)

    first = checked(signed_pdf(by=(signer,), text="QUYET DINH so 01"), trust)
    second = checked(signed_pdf(by=(signer,), text="QUYET DINH so 02"), trust)

    assert [s.problems for s in (*first.signatures, *second.signatures)] == [(), ()]
    assert responder.times_asked(signer.certificate) == 1


def test_without_keeping_answers_each_document_asks_the_responder(cast: Cast, responder: OCSPResponder) -> None:
    signer = agency(cast.ca, ocsp_url=responder.url)
    trust = cast.trust(fetch=True, fetch_timeout=TIMEOUT, cache_seconds=0)
    document = signed_pdf(by=(signer,))

    checked(document, trust)
    checked(document, trust)

    assert responder.times_asked(signer.certificate) == 2


async def test_a_worker_process_asks_the_responder_once_for_many_documents_of_one_signer(
    cast: Cast, responder: OCSPResponder
) -> None:
    """The answer is kept in the worker process, between the checks of attachments sent to it."""
    signer = agency(cast.ca, ocsp_url=responder.url)
    documents = [Attachment(f"qd-{n}.pdf", signed_pdf(by=(signer,), text=f"QUYET DINH so {n}")) for n in range(3)]
    checker = FileChecker(cast.trust(fetch=True, fetch_timeout=TIMEOUT, cache_seconds=60), workers=1)
    try:
        found = [await checker.check([document]) for document in documents]
    finally:
        checker.close()

    assert [s.problems for each in found for s in each[0].signatures] == [(), (), ()]
    assert responder.times_asked(signer.certificate) == 1
