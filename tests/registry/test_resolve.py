"""Resolution over a registry snapshot: recipients, successors, senders, certificates and tokens."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from axis.errors import AxisError
from axis.registry import codes
from axis.registry.model import (
    Agency,
    AgencyStatus,
    Certificate,
    Snapshot,
    System,
    SystemStatus,
)
from axis.registry.resolve import Resolution, Resolver

# Tây Ninh as in EDXML.md §1: the People's Committee, its Department of Finance (level 2), a district
# and one of its communes (level 3), and a level-4 centre under the department.
PROVINCE = "000.00.00.H53"
FINANCE = "000.00.11.H53"
FINANCE_CENTRE = "000.05.11.H53"
PLANNING = "000.00.12.H53"
DISTRICT = "000.00.31.H53"
COMMUNE = "000.21.31.H53"
HOME_AFFAIRS = "000.00.00.G09"
UNBOUND_MINISTRY = "000.00.00.G12"

PROVINCE_SYSTEM = System("00.53.W00", "Tây Ninh eOffice")
FINANCE_SYSTEM = System("finance-h53", "Finance department software")
MINISTRY_SYSTEM = System("g09-eoffice", "Home Affairs eOffice")
DISABLED_SYSTEM = System("old-g12", "Retired ministry software", status=SystemStatus.DISABLED)

VALID_FROM = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
VALID_TO = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)


def agency(
    code: str,
    name: str = "",
    *,
    status: AgencyStatus = AgencyStatus.ACTIVE,
    successor_code: str | None = None,
    code_qd20: str | None = None,
) -> Agency:
    parent = codes.parent_of(code) if codes.is_valid(code) else None
    return Agency(code, name or f"Agency {code}", parent, status, successor_code, code_qd20)


def retired(code: str, successor: str | None) -> Agency:
    return agency(code, status=AgencyStatus.RETIRED, successor_code=successor)


def certificate(fingerprint: str, system: str, agency_code: str | None, *, revoked: bool = False) -> Certificate:
    return Certificate(fingerprint, system, f"CN={agency_code}", agency_code, VALID_FROM, VALID_TO, revoked)


def snapshot(
    agencies: list[Agency],
    bindings: dict[str, str],
    systems: tuple[System, ...] = (PROVINCE_SYSTEM, FINANCE_SYSTEM, MINISTRY_SYSTEM, DISABLED_SYSTEM),
    *,
    certificates: tuple[Certificate, ...] = (),
    tokens: dict[str, str] | None = None,
    admin_tokens: dict[str, str] | None = None,
) -> Snapshot:
    return Snapshot(
        version=1,
        agencies={a.code: a for a in agencies},
        systems={s.id: s for s in systems},
        bindings=bindings,
        certificates={c.fingerprint: c for c in certificates},
        tokens=tokens or {},
        admin_tokens=admin_tokens or {},
    )


@pytest.fixture
def resolver() -> Resolver:
    """Tây Ninh bound whole to its eOffice, its finance branch to the department's own software."""
    agencies = [
        agency(PROVINCE, "Ủy ban nhân dân Tỉnh Tây Ninh", code_qd20="H53"),
        agency(FINANCE, "Sở Tài chính", code_qd20="H53.11"),
        agency(FINANCE_CENTRE, "Trung tâm thuộc Sở Tài chính"),
        agency(PLANNING, "Sở Kế hoạch và Đầu tư"),
        agency(DISTRICT, "UBND huyện"),
        agency(COMMUNE, "UBND xã"),
        agency(HOME_AFFAIRS, "Bộ Nội vụ", code_qd20="G09"),
        agency(UNBOUND_MINISTRY, "Bộ Tài chính"),
        # Reorganisations: district abolished into the province, a chain of two renames, loops.
        retired("000.00.32.H53", PROVINCE),
        retired("000.00.41.H53", "000.00.42.H53"),
        retired("000.00.42.H53", FINANCE),
        retired("000.00.51.H53", None),
        retired("000.00.61.H53", "000.00.62.H53"),
        retired("000.00.62.H53", "000.00.61.H53"),
        retired("000.00.71.H53", "000.00.72.H53"),
        retired("000.00.81.H53", "H53.11"),
        retired("000.00.00.G97", "000.00.00.G12"),
        agency("000.00.00.G96", "Served by a system that is gone"),
    ]
    bindings = {
        PROVINCE: PROVINCE_SYSTEM.id,
        FINANCE: FINANCE_SYSTEM.id,
        HOME_AFFAIRS: MINISTRY_SYSTEM.id,
        UNBOUND_MINISTRY: DISABLED_SYSTEM.id,
        "000.00.00.G96": "no-such-system",
    }
    certificates = (
        certificate("aa" * 32, PROVINCE_SYSTEM.id, PROVINCE),
        certificate("bb" * 32, FINANCE_SYSTEM.id, FINANCE),
        certificate("cc" * 32, PROVINCE_SYSTEM.id, PROVINCE, revoked=True),
        certificate("dd" * 32, PROVINCE_SYSTEM.id, None),
        certificate("ee" * 32, PROVINCE_SYSTEM.id, FINANCE),
        certificate("ff" * 32, PROVINCE_SYSTEM.id, "H53"),
    )
    return Resolver(
        snapshot(
            agencies,
            bindings,
            certificates=certificates,
            tokens={"1" * 64: PROVINCE_SYSTEM.id, "2" * 64: DISABLED_SYSTEM.id, "3" * 64: "gone"},
            admin_tokens={"9" * 64: "ops"},
        )
    )


def refusal(call: object, *args: str) -> AxisError:
    assert callable(call)
    with pytest.raises(AxisError) as caught:
        call(*args)
    return caught.value


# --- Recipients ------------------------------------------------------------------------------------


def test_provincial_committee_resolves_to_the_provincial_system(resolver: Resolver) -> None:
    resolution = resolver.resolve(PROVINCE)
    assert resolution == Resolution(PROVINCE, resolver.agency(PROVINCE), PROVINCE_SYSTEM, ())


def test_department_with_its_own_binding_goes_to_its_own_software(resolver: Resolver) -> None:
    assert resolver.resolve(FINANCE).system == FINANCE_SYSTEM


def test_unit_below_the_department_follows_the_most_specific_binding(resolver: Resolver) -> None:
    assert resolver.resolve(FINANCE_CENTRE).system == FINANCE_SYSTEM


def test_sibling_department_falls_back_to_the_provincial_binding(resolver: Resolver) -> None:
    assert resolver.resolve(PLANNING).system == PROVINCE_SYSTEM
    assert resolver.resolve(COMMUNE).system == PROVINCE_SYSTEM


def test_agency_outside_every_bound_subtree_is_unserved(resolver: Resolver) -> None:
    resolver = Resolver(snapshot([agency(PROVINCE), agency(FINANCE)], {FINANCE: FINANCE_SYSTEM.id}))
    error = refusal(resolver.resolve, PROVINCE)
    assert error.code == "registry.agency.unserved"
    assert error.details["agency_code"] == PROVINCE
    assert error.details["reason"] == "unbound"


def test_agency_served_by_a_disabled_system_is_unserved(resolver: Resolver) -> None:
    error = refusal(resolver.resolve, UNBOUND_MINISTRY)
    assert error.code == "registry.agency.unserved"
    assert error.details["system"] == DISABLED_SYSTEM.id
    assert error.details["reason"] == "disabled"


def test_binding_to_a_missing_system_does_not_fall_back_to_a_wider_binding(resolver: Resolver) -> None:
    error = refusal(resolver.resolve, "000.00.00.G96")
    assert error.code == "registry.agency.unserved"
    assert error.details["reason"] == "system_missing"


def test_retired_district_resolves_to_its_successor(resolver: Resolver) -> None:
    resolution = resolver.resolve("000.00.32.H53")
    assert resolution.agency.code == PROVINCE
    assert resolution.system == PROVINCE_SYSTEM
    assert resolution.redirects == ("000.00.32.H53",)


def test_successor_chain_of_two_records_every_redirect_in_order(resolver: Resolver) -> None:
    resolution = resolver.resolve("000.00.41.H53")
    assert resolution.requested == "000.00.41.H53"
    assert resolution.agency.code == FINANCE
    assert resolution.system == FINANCE_SYSTEM
    assert resolution.redirects == ("000.00.41.H53", "000.00.42.H53")


def test_successor_named_in_decision_20_form_is_followed(resolver: Resolver) -> None:
    resolution = resolver.resolve("000.00.81.H53")
    assert resolution.agency.code == FINANCE
    assert resolution.redirects == ("000.00.81.H53",)


def test_retired_agency_without_successor_is_refused(resolver: Resolver) -> None:
    error = refusal(resolver.resolve, "000.00.51.H53")
    assert error.code == "registry.agency.retired_without_successor"
    assert error.details["agency_code"] == "000.00.51.H53"


def test_successor_cycle_is_refused_rather_than_followed_forever(resolver: Resolver) -> None:
    error = refusal(resolver.resolve, "000.00.61.H53")
    assert error.code == "registry.agency.successor_cycle"
    assert error.details["chain"] == ["000.00.61.H53", "000.00.62.H53", "000.00.61.H53"]


def test_agency_that_names_itself_as_successor_is_a_cycle() -> None:
    resolver = Resolver(snapshot([retired(PROVINCE, PROVINCE)], {PROVINCE: PROVINCE_SYSTEM.id}))
    assert refusal(resolver.resolve, PROVINCE).code == "registry.agency.successor_cycle"


def test_successor_missing_from_the_registry_is_unknown_with_the_chain(resolver: Resolver) -> None:
    error = refusal(resolver.resolve, "000.00.71.H53")
    assert error.code == "registry.agency.unknown"
    assert error.details["agency_code"] == "000.00.72.H53"
    assert error.details["chain"] == ["000.00.71.H53", "000.00.72.H53"]


def test_redirect_to_an_unserved_successor_says_where_it_ended(resolver: Resolver) -> None:
    error = refusal(resolver.resolve, "000.00.00.G97")
    assert error.code == "registry.agency.unserved"
    assert error.details["requested"] == "000.00.00.G97"
    assert error.details["chain"] == ["000.00.00.G97", UNBOUND_MINISTRY]


def test_unregistered_code_is_unknown(resolver: Resolver) -> None:
    error = refusal(resolver.resolve, "777.77.04.D77")
    assert error.code == "registry.agency.unknown"
    assert error.details == {"agency_code": "777.77.04.D77"}


@pytest.mark.parametrize("text", ["", "   ", "000.00.00.h53", "H53 11", "tây ninh", "001.00.05.g01"])
def test_text_in_neither_code_form_is_malformed(resolver: Resolver, text: str) -> None:
    assert refusal(resolver.resolve, text).code == "agency_code.malformed"
    assert refusal(resolver.agency, text).code == "agency_code.malformed"


def test_well_formed_decision_20_code_nobody_registered_is_unknown(resolver: Resolver) -> None:
    assert refusal(resolver.resolve, "H53.99").code == "registry.agency.unknown"


def test_agency_is_found_by_its_decision_20_code(resolver: Resolver) -> None:
    assert resolver.agency("H53.11").code == FINANCE
    assert resolver.agency(" G09 ").code == HOME_AFFAIRS


def test_recipient_addressed_in_decision_20_form_resolves(resolver: Resolver) -> None:
    resolution = resolver.resolve("H53.11")
    assert resolution.requested == "H53.11"
    assert resolution.agency.code == FINANCE
    assert resolution.system == FINANCE_SYSTEM


def test_surrounding_whitespace_is_ignored(resolver: Resolver) -> None:
    resolution = resolver.resolve(f"  {FINANCE}\n")
    assert resolution.requested == FINANCE
    assert resolution == resolver.resolve(FINANCE)


def test_memoized_resolutions_equal_the_first_ones(resolver: Resolver) -> None:
    first = resolver.resolve("000.00.41.H53")
    again = resolver.resolve("000.00.41.H53")
    assert again == first
    assert again is first


def test_memoized_refusals_are_raised_afresh_and_equal(resolver: Resolver) -> None:
    first = refusal(resolver.resolve, "000.00.61.H53")
    first.details["chain"].append("tampered")
    again = refusal(resolver.resolve, "000.00.61.H53")
    assert again is not first
    assert again.code == first.code
    assert again.details["chain"] == ["000.00.61.H53", "000.00.62.H53", "000.00.61.H53"]


def test_serving_system_does_not_follow_successors(resolver: Resolver) -> None:
    # The abolished district's code still lies in the province's subtree.
    assert resolver.serving_system("000.00.32.H53") == PROVINCE_SYSTEM
    assert resolver.serving_system("000.00.41.H53") == PROVINCE_SYSTEM


def test_serving_system_places_an_unregistered_code_by_its_ancestors(resolver: Resolver) -> None:
    assert resolver.serving_system("001.07.11.H53") == FINANCE_SYSTEM
    assert resolver.serving_system("000.00.00.H41") is None
    assert resolver.serving_system("H53.11") == FINANCE_SYSTEM
    assert resolver.serving_system("H53.99") is None
    assert refusal(resolver.serving_system, "h53").code == "agency_code.malformed"


def test_serving_system_reports_a_disabled_system(resolver: Resolver) -> None:
    assert resolver.serving_system(UNBOUND_MINISTRY) == DISABLED_SYSTEM


def test_legacy_code_breaking_the_pattern_is_served_through_its_registered_parent() -> None:
    legacy = Agency("000.1137.H53", "Legacy unit", parent_code=FINANCE)
    resolver = Resolver(snapshot([agency(PROVINCE), agency(FINANCE), legacy], {PROVINCE: PROVINCE_SYSTEM.id}))
    assert resolver.resolve("000.1137.H53").system == PROVINCE_SYSTEM


# --- Senders ---------------------------------------------------------------------------------------


def test_system_may_send_for_an_agency_it_serves(resolver: Resolver) -> None:
    assert resolver.check_sender(PROVINCE_SYSTEM.id, COMMUNE).code == COMMUNE
    assert resolver.check_sender(FINANCE_SYSTEM.id, FINANCE_CENTRE).code == FINANCE_CENTRE


def test_system_may_not_send_for_a_branch_bound_to_other_software(resolver: Resolver) -> None:
    error = refusal(resolver.check_sender, PROVINCE_SYSTEM.id, FINANCE)
    assert error.code == "registry.sender.not_served"
    assert error.details == {"system": PROVINCE_SYSTEM.id, "sender": FINANCE}


def test_system_may_not_send_for_another_province(resolver: Resolver) -> None:
    assert refusal(resolver.check_sender, MINISTRY_SYSTEM.id, PROVINCE).code == "registry.sender.not_served"


def test_retired_agency_may_not_send(resolver: Resolver) -> None:
    error = refusal(resolver.check_sender, PROVINCE_SYSTEM.id, "000.00.32.H53")
    assert error.code == "registry.agency.retired"
    assert error.details["successor_code"] == PROVINCE


def test_unknown_sender_is_refused(resolver: Resolver) -> None:
    assert refusal(resolver.check_sender, PROVINCE_SYSTEM.id, "000.00.99.H53").code == "registry.agency.unknown"


def test_disabled_system_may_not_send(resolver: Resolver) -> None:
    error = refusal(resolver.check_sender, DISABLED_SYSTEM.id, UNBOUND_MINISTRY)
    assert error.code == "registry.system.disabled"
    assert error.details == {"system": DISABLED_SYSTEM.id}


def test_unknown_system_may_not_send(resolver: Resolver) -> None:
    assert refusal(resolver.check_sender, "nobody", PROVINCE).code == "registry.system.unknown"


# --- Certificates ----------------------------------------------------------------------------------


def test_certificate_bound_to_the_system_and_naming_the_sender_is_accepted(resolver: Resolver) -> None:
    assert resolver.check_certificate(PROVINCE_SYSTEM.id, "aa" * 32, PROVINCE).fingerprint == "aa" * 32


def test_provincial_certificate_may_sign_for_a_commune_below_it(resolver: Resolver) -> None:
    assert resolver.check_certificate(PROVINCE_SYSTEM.id, "aa" * 32, COMMUNE).agency_code == PROVINCE


def test_certificate_naming_an_ancestor_in_decision_20_form_is_accepted(resolver: Resolver) -> None:
    assert resolver.check_certificate(PROVINCE_SYSTEM.id, "ff" * 32, DISTRICT).agency_code == "H53"


def test_certificate_naming_no_agency_is_accepted_for_any_sender(resolver: Resolver) -> None:
    assert resolver.check_certificate(PROVINCE_SYSTEM.id, "dd" * 32, PLANNING).agency_code is None


def test_fingerprint_is_matched_whatever_its_spelling(resolver: Resolver) -> None:
    spelled = ":".join(["AA"] * 32)
    assert resolver.check_certificate(PROVINCE_SYSTEM.id, spelled, PROVINCE).fingerprint == "aa" * 32


def test_unregistered_certificate_is_not_bound(resolver: Resolver) -> None:
    error = refusal(resolver.check_certificate, PROVINCE_SYSTEM.id, "00" * 32, PROVINCE)
    assert error.code == "registry.certificate.not_bound"


def test_certificate_of_another_system_is_not_bound(resolver: Resolver) -> None:
    error = refusal(resolver.check_certificate, PROVINCE_SYSTEM.id, "bb" * 32, FINANCE)
    assert error.code == "registry.certificate.not_bound"
    assert FINANCE_SYSTEM.id not in str(error.details)


def test_revoked_certificate_is_refused(resolver: Resolver) -> None:
    error = refusal(resolver.check_certificate, PROVINCE_SYSTEM.id, "cc" * 32, PROVINCE)
    assert error.code == "registry.certificate.revoked"


def test_department_certificate_may_not_sign_for_the_province(resolver: Resolver) -> None:
    error = refusal(resolver.check_certificate, PROVINCE_SYSTEM.id, "ee" * 32, PROVINCE)
    assert error.code == "registry.certificate.agency_mismatch"
    assert error.details["certificate_agency"] == FINANCE
    assert error.details["sender"] == PROVINCE


def test_certificate_may_not_sign_for_a_sibling_department(resolver: Resolver) -> None:
    error = refusal(resolver.check_certificate, PROVINCE_SYSTEM.id, "ee" * 32, PLANNING)
    assert error.code == "registry.certificate.agency_mismatch"


# --- Tokens ----------------------------------------------------------------------------------------


def test_token_of_an_active_system_names_the_system(resolver: Resolver) -> None:
    assert resolver.system_for_token("1" * 64) == PROVINCE_SYSTEM


def test_token_of_a_disabled_or_missing_system_names_nobody(resolver: Resolver) -> None:
    assert resolver.system_for_token("2" * 64) is None
    assert resolver.system_for_token("3" * 64) is None
    assert resolver.system_for_token("4" * 64) is None


def test_admin_token_names_its_holder(resolver: Resolver) -> None:
    assert resolver.admin_for_token("9" * 64) == "ops"
    assert resolver.admin_for_token("1" * 64) is None


def test_empty_snapshot_resolves_nothing_and_authenticates_nobody() -> None:
    resolver = Resolver(Snapshot())
    assert refusal(resolver.resolve, PROVINCE).code == "registry.agency.unknown"
    assert resolver.system_for_token("1" * 64) is None
    assert resolver.serving_system(PROVINCE) is None


# --- Property: the most specific binding is the nearest bound ancestor ------------------------------

_LEVEL1 = st.sampled_from(["H53", "H41", "G09"])


def lineage(level1: str, bb: int, cc: int, ddd: int) -> tuple[str, ...]:
    """A well-formed code (levels only set below set levels) and its ancestors."""
    cc = cc if bb else 0
    ddd = ddd if cc else 0
    code = codes.parse(f"{ddd:03d}.{cc:02d}.{bb:02d}.{level1}")
    return (code.text, *(a.text for a in code.ancestors()))


random_codes = st.builds(lineage, _LEVEL1, st.integers(0, 3), st.integers(0, 3), st.integers(0, 3))


@st.composite
def trees(draw: st.DrawFn) -> tuple[list[str], dict[str, str], list[str]]:
    """Random agency trees (every ancestor registered), random bindings, and unregistered codes."""
    registered = sorted({text for code in draw(st.lists(random_codes, min_size=1, max_size=25)) for text in code})
    roots = draw(st.lists(st.sampled_from(registered), unique=True, max_size=len(registered)))
    bindings = {root: draw(st.sampled_from(["sys-a", "sys-b", "sys-c"])) for root in roots}
    strangers = [code[0] for code in draw(st.lists(random_codes, max_size=10)) if code[0] not in registered]
    return registered, bindings, strangers


def nearest_bound_ancestor(code: str, bindings: dict[str, str]) -> str | None:
    """Brute force: among every binding whose subtree holds the code, the deepest one."""
    parsed = codes.parse(code)
    holding = [codes.parse(root) for root in bindings if parsed.is_within(codes.parse(root))]
    if not holding:
        return None
    return bindings[max(holding, key=lambda root: root.level).text]


@settings(max_examples=200, deadline=None)
@given(trees())
def test_resolved_system_is_the_binding_of_the_nearest_bound_ancestor(
    tree: tuple[list[str], dict[str, str], list[str]],
) -> None:
    registered, bindings, strangers = tree
    systems = tuple(System(name, name) for name in ("sys-a", "sys-b", "sys-c"))
    resolver = Resolver(snapshot([agency(code) for code in registered], bindings, systems))
    for code in strangers:
        served = resolver.serving_system(code)
        assert (served.id if served else None) == nearest_bound_ancestor(code, bindings)
    for code in registered:
        expected = nearest_bound_ancestor(code, bindings)
        served = resolver.serving_system(code)
        assert (served.id if served else None) == expected
        if expected is None:
            assert refusal(resolver.resolve, code).code == "registry.agency.unserved"
        else:
            assert resolver.resolve(code).system.id == expected
            assert resolver.resolve(code).system.id == expected  # memoized
