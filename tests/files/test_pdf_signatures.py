"""Stories of the signatures inside a document's PDF: what the axis finds, one way of being wrong at a time.

Each file is made here (`pdf_material`): a decision signed as Decree 30/2020 has it (the person who
signs it, then the issuing agency), and that decision spoilt in exactly one way. The checks are the
pure ones (`axis.files.pdf.check`, in this process); the worker processes and their limits have
their own stories (test_file_checker.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import builders
import pytest
from pdfs import (
    AGENCY_CODE,
    AGENCY_NAME,
    PERSON_NAME,
    PERSON_TITLE,
    Cast,
    agency,
    altered_after_signing,
    closed_address,
    crl,
    decree,
    junk_appended,
    malformed_pdf,
    new_cast,
    partially_signed,
    signed_pdf,
    time_stamper,
    unsigned_pdf,
)

from axis import pki
from axis.edxml import model as m
from axis.files import findings as f
from axis.files import judge, pdf

NOW = dt.datetime.now(dt.UTC)


@pytest.fixture(scope="module")
def cast() -> Cast:
    # Dated back, so that a certificate of it can have signed, and expired, in the past.
    return new_cast(pki.new_ca("Test Document CA", not_before=NOW - dt.timedelta(days=90)))


@pytest.fixture(scope="module")
def decision(cast: Cast) -> bytes:
    return decree(cast)


def check(data: bytes, trust: pdf.DocumentTrust) -> f.FileCheck:
    return pdf.check(data, trust, attachment="quyet-dinh.pdf")


def problems(found: f.FileCheck) -> list[tuple[str, ...]]:
    return [s.problems for s in found.signatures]


def test_a_decision_signed_by_its_chairman_then_its_agency_carries_two_valid_signatures(
    cast: Cast, decision: bytes
) -> None:
    found = check(decision, cast.trust())

    assert found.problems == ()
    assert problems(found) == [(), ()]
    person, issuer = (s.signer for s in found.signatures)
    assert person == dataclasses.replace(
        person,
        name=PERSON_NAME,
        title=PERSON_TITLE,
        organisation=AGENCY_NAME,
        agency_code=None,
        role="individual",
    )
    assert issuer == dataclasses.replace(issuer, name=AGENCY_NAME, title="", agency_code=AGENCY_CODE, role="agency")
    assert [s.whole_file for s in found.signatures] == [False, True]  # the agency's signature is the last
    # Signed during this run: after this module was imported (the whole suite may have run for
    # many minutes since), and not in the future.
    signed = [s.signed_at for s in found.signatures]
    slack = dt.timedelta(minutes=1)
    assert all(t is not None and NOW - slack <= t <= dt.datetime.now(dt.UTC) + slack for t in signed), signed


def test_a_decision_signed_by_its_chairman_and_its_agency_is_judged_valid_for_that_agency(
    cast: Cast, decision: bytes
) -> None:
    package = dataclasses.replace(
        builders.document(sender=AGENCY_CODE), signer_info=m.SignerInfo("CHỦ TỊCH", PERSON_TITLE, PERSON_NAME)
    )

    verdict = judge.judge([check(decision, cast.trust())], package)

    assert verdict.verdict is f.Verdict.VALID, verdict.codes
    assert verdict.problems == ()


def test_a_decision_altered_after_signing_is_reported_as_modified(cast: Cast, decision: bytes) -> None:
    """A real incremental update after both signatures, replacing the page's text: the signatures
    still verify over what they cover, and the change after them is what gives it away."""
    found = check(altered_after_signing(decision), cast.trust())

    assert problems(found) == [(f.SIGNATURE_MODIFIED,), (f.SIGNATURE_MODIFIED,)]
    assert not found.valid_signatures


def test_bytes_appended_after_the_last_signature_are_reported_as_modified(cast: Cast, decision: bytes) -> None:
    """Junk after the last revision is no update pyHanko analyses, yet a lenient viewer may read it:
    every signature is reported as modified."""
    found = check(junk_appended(decision), cast.trust())

    assert problems(found) == [(f.SIGNATURE_MODIFIED,), (f.SIGNATURE_MODIFIED,)]


def test_a_line_break_after_the_last_signature_changes_nothing(cast: Cast, decision: bytes) -> None:
    found = check(decision + b"\r\n", cast.trust())

    assert problems(found) == [(), ()]


def test_a_decision_whose_signed_bytes_were_changed_in_place_is_broken(cast: Cast, decision: bytes) -> None:
    forged = decision.replace(b"QUYET DINH so 01", b"QUYET DINH so 02", 1)
    assert forged != decision

    found = check(forged, cast.trust())

    assert problems(found) == [(f.SIGNATURE_BROKEN,), (f.SIGNATURE_BROKEN,)]


def test_a_signature_by_a_certificate_of_another_ca_is_untrusted(cast: Cast) -> None:
    stranger = agency(pki.new_ca("Somebody Else's CA"))

    found = check(signed_pdf(by=(stranger,)), cast.trust())

    assert problems(found) == [(f.SIGNATURE_UNTRUSTED,)]
    signer = found.signatures[0].signer
    assert signer is not None
    assert signer.agency_code == AGENCY_CODE


def test_a_certificate_expired_when_it_signed_makes_the_signature_expired(cast: Cast) -> None:
    lapsed = agency(cast.ca, not_before=NOW - dt.timedelta(days=30), days=10)

    found = check(signed_pdf(by=(lapsed,)), cast.trust())

    assert problems(found) == [(f.SIGNATURE_EXPIRED,)]


def test_a_certificate_revoked_in_a_configured_crl_makes_the_signature_revoked(cast: Cast) -> None:
    """The certificate names no CRL address (pyHanko's soft-fail mode would not look): a CRL the
    axis was given counts for every certificate of its issuer."""
    revoked = agency(cast.ca)
    document = signed_pdf(by=(revoked,))

    found = check(document, cast.trust(crls=[crl(cast.ca, [revoked.certificate])]))
    untouched = check(document, cast.trust(crls=[crl(cast.ca, [])]))

    assert problems(found) == [(f.SIGNATURE_REVOKED,)]
    assert problems(untouched) == [()]


def test_a_configured_crl_answers_when_the_crl_address_a_certificate_names_cannot_be_reached(cast: Cast) -> None:
    revoked = agency(cast.ca, crl_url=closed_address())
    document = signed_pdf(by=(revoked,))
    trust = cast.trust(crls=[crl(cast.ca, [revoked.certificate])], fetch=True, fetch_timeout=2.0)

    assert problems(check(document, trust)) == [(f.SIGNATURE_REVOKED,)]
    unknown = check(document, cast.trust(fetch=True, fetch_timeout=2.0))
    assert problems(unknown) == [(f.SIGNATURE_REVOCATION_UNKNOWN,)]
    assert unknown.valid_signatures  # a warning: nothing says it is revoked


def test_a_signature_covering_only_part_of_its_revision_is_partial(cast: Cast) -> None:
    """The ByteRange stops before the revision's cross-reference section: the signature verifies
    over what it covers, and what it leaves out is anyone's to write."""
    found = check(partially_signed(unsigned_pdf(), cast.agency), cast.trust())

    assert problems(found) == [(f.SIGNATURE_PARTIAL,)]
    assert not found.valid_signatures


def test_a_file_that_only_starts_like_a_pdf_is_malformed(cast: Cast) -> None:
    found = check(malformed_pdf(), cast.trust())

    assert found.problems == (f.FILE_MALFORMED,)
    assert found.detail
    assert found.signatures == ()


def test_a_pdf_without_signatures_is_unsigned(cast: Cast) -> None:
    found = check(unsigned_pdf(), cast.trust())

    assert found.problems == (f.FILE_UNSIGNED,)


def test_a_signature_timestamped_before_its_certificate_expired_is_still_valid(cast: Cast) -> None:
    """Validity at signing time: the timestamp proves the signature existed 20 days ago, when the
    certificate (expired 10 days ago) was valid; the chain is checked at that time."""
    lapsed = agency(cast.ca, not_before=NOW - dt.timedelta(days=40), days=30)
    then = NOW - dt.timedelta(days=20)

    stamped = check(signed_pdf(by=(lapsed,), timestamper=time_stamper(cast.ca, at=then)), cast.trust())
    bare = check(signed_pdf(by=(lapsed,)), cast.trust())

    assert problems(stamped) == [()]
    assert stamped.signatures[0].timestamped
    signed_at = stamped.signatures[0].signed_at
    assert signed_at is not None
    assert abs(signed_at - then) < dt.timedelta(seconds=1)
    assert problems(bare) == [(f.SIGNATURE_EXPIRED,)]


def test_a_timestamp_after_the_certificate_expired_does_not_save_the_signature(cast: Cast) -> None:
    lapsed = agency(cast.ca, not_before=NOW - dt.timedelta(days=40), days=30)
    stamper = time_stamper(cast.ca, at=NOW - dt.timedelta(days=5))

    found = check(signed_pdf(by=(lapsed,), timestamper=stamper), cast.trust())

    assert problems(found) == [(f.SIGNATURE_EXPIRED,)]
    assert found.signatures[0].timestamped


def test_a_certificate_revoked_after_a_timestamped_signature_still_vouches_for_it(cast: Cast) -> None:
    signer = agency(cast.ca, not_before=NOW - dt.timedelta(days=40))
    document = signed_pdf(by=(signer,), timestamper=time_stamper(cast.ca, at=NOW - dt.timedelta(days=20)))
    revoked_since = crl(cast.ca, [signer.certificate], at=NOW - dt.timedelta(days=10))

    assert problems(check(document, cast.trust(crls=[revoked_since]))) == [()]
    assert problems(check(signed_pdf(by=(signer,)), cast.trust(crls=[revoked_since]))) == [(f.SIGNATURE_REVOKED,)]


def test_what_is_found_survives_its_json_form(cast: Cast, decision: bytes) -> None:
    files = [check(decision, cast.trust()), check(junk_appended(decision), cast.trust())]
    found = judge.judge(files, builders.document(sender=AGENCY_CODE))

    assert f.DocumentCheck.from_json(found.to_json()) == found
