"""The eligibility check (DESIGN §13): the rules written plainly here, checked against
``check_eligibility`` over random profiles and requirements, and the SQL filter of
search checked against the Python check on random data."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django_scopes import scopes_disabled
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from accounts.models import StudentProfile
from documents.models import Document, DocumentType
from rotations import eligibility, requirements
from rotations.eligibility import StudentFacts, check_eligibility, judge
from rotations.models import AttendingProfile, Requirement
from tests import factories

pytestmark = pytest.mark.django_db

HYPOTHESIS = settings(
    max_examples=60,
    deadline=None,
    database=None,  # no .hypothesis folder in the worktree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

TYPES = ["clerkship", "elective", "externship", "observership"]
VISAS = ["", "none", "b1_b2", "j1", "f1", "h1b", "green_card_ead", "us_citizen"]
CERTIFICATES = ["bls", "acls", "hipaa", "osha"]
START = date(2027, 3, 1)  # a Monday


# --- The rules, written plainly --------------------------------------------------------


def expected_codes(facts: StudentFacts, r: Requirement, rotation_type: str, relaxed: bool):
    """What a careful reader of §13 and the check's docstring expects, in its order."""
    codes = []
    if not facts.verified:
        codes.append("profile_not_verified")
    allowed = {
        "ims": {"clerkship", "elective", "observership"},
        "img": {"clerkship", "externship", "observership"},
    }.get(facts.kind, set())
    if rotation_type not in allowed:
        codes.append("type_not_for_kind")
    # Graduates on B-1/B-2 may book observerships only, unless the organization wrote why not.
    if (
        facts.kind == "img"
        and facts.visa_status == "b1_b2"
        and rotation_type != "observership"
        and not relaxed
    ):
        codes.append("visa_not_hands_on")
    year = facts.on.year
    if facts.kind == "ims":
        if r.current_students == "none":
            codes.append("current_students_not_accepted")
        elif r.current_students == "final_year":
            # Final year: graduating by the end of the year after the start's year.
            if facts.graduation_year is None or facts.graduation_year > year + 1:
                codes.append("not_final_year")
    if facts.kind == "img":
        if r.graduates == "none":
            codes.append("graduates_not_accepted")
        elif r.graduates == "within_years":
            if facts.graduation_year is None or year - facts.graduation_year > (
                r.graduated_within_years
            ):
                codes.append("graduated_too_long_ago")
    if r.step1_required and facts.step1_result != "pass":
        codes.append("step1_needed")
    if r.step2ck_required:
        needed = max(214, r.step2ck_minimum_score or 0)
        if facts.step2ck_score is None or facts.step2ck_score < needed:
            codes.append("step2ck_needed")
    if r.toefl_minimum is not None:
        if facts.toefl_score is None or facts.toefl_score < r.toefl_minimum:
            codes.append("toefl_needed")
    for code in r.certificates:
        if code not in facts.certificates:
            codes.append("certificate_missing")
    if r.visa_statuses and facts.visa_status not in r.visa_statuses:
        codes.append("visa_not_accepted")
    return codes


facts_strategy = st.builds(
    StudentFacts,
    student_id=st.just(1),
    verified=st.booleans(),
    verification_label=st.just("Pending verification"),
    kind=st.sampled_from(["ims", "img", ""]),
    graduation_year=st.one_of(st.none(), st.integers(2010, 2032)),
    step1_result=st.sampled_from(["not_taken", "pass", "fail"]),
    step2ck_score=st.one_of(st.none(), st.integers(150, 290)),
    toefl_score=st.one_of(st.none(), st.integers(0, 120)),
    visa_status=st.sampled_from(VISAS),
    certificates=st.frozensets(st.sampled_from(CERTIFICATES)),
    on=st.sampled_from([START, date(2027, 12, 27), date(2026, 6, 1)]),
)


@st.composite
def requirement_values(draw) -> dict:
    graduates = draw(st.sampled_from(["none", "within_years", "any"]))
    step2ck_required = draw(st.booleans())
    return {
        "current_students": draw(st.sampled_from(["none", "final_year", "any"])),
        "graduates": graduates,
        "graduated_within_years": draw(st.integers(0, 12)) if graduates == "within_years" else None,
        "step1_required": draw(st.booleans()),
        "step2ck_required": step2ck_required,
        "step2ck_minimum_score": (
            draw(st.one_of(st.none(), st.integers(214, 270))) if step2ck_required else None
        ),
        "toefl_minimum": draw(st.one_of(st.none(), st.integers(60, 110))),
        "certificates": draw(st.lists(st.sampled_from(CERTIFICATES), unique=True, max_size=3)),
        "visa_statuses": draw(st.lists(st.sampled_from(VISAS[1:]), unique=True, max_size=3)),
        "application_fee": Decimal(draw(st.sampled_from(["0", "30", "1000"]))),
        "housing_included": draw(st.booleans()),
    }


@HYPOTHESIS
@given(
    facts=facts_strategy,
    values=requirement_values(),
    rotation_type=st.sampled_from(TYPES),
    relaxed=st.booleans(),
)
def test_the_check_agrees_with_the_rules_written_plainly(facts, values, rotation_type, relaxed):
    requirement = Requirement(rotation_type=rotation_type, **values)
    reason = "Our counsel confirmed B-1 allows this." if relaxed else ""
    answer = judge(facts, requirement, rotation_type, reason)
    assert [item.code for item in answer.unmet] == expected_codes(
        facts, requirement, rotation_type, relaxed
    )
    assert answer.eligible == (not answer.unmet)
    assert all(item.message and item.needed and item.have for item in answer.unmet)


def graduate(**changes) -> StudentFacts:
    fields = {
        "student_id": 1,
        "verified": True,
        "verification_label": "Verified",
        "kind": "img",
        "graduation_year": 2024,
        "step1_result": "not_taken",
        "step2ck_score": None,
        "toefl_score": None,
        "visa_status": "b1_b2",
        "certificates": frozenset(),
        "on": START,
    }
    return StudentFacts(**{**fields, **changes})


def test_toefl_95_against_100_names_both_numbers():
    facts = graduate(visa_status="j1", toefl_score=95)
    answer = judge(facts, Requirement(toefl_minimum=100), "clerkship", "")
    assert [item.message for item in answer.unmet] == ["TOEFL 100 needed, you have 95."]
    assert (answer.unmet[0].needed, answer.unmet[0].have) == ("TOEFL iBT 100", "95")


# --- Against the database --------------------------------------------------------------


@pytest.fixture
def b1_graduate(demo):
    """A verified graduate on B-1/B-2 without Step 1 (the demo's second student)."""
    with scopes_disabled():
        return factories.StudentFactory(
            organization=demo["org"], profile__visa_status="b1_b2", profile__kind="img"
        )


@pytest.fixture
def hands_on_attending(demo):
    """Offers every type; Step 1 required for each hands-on type (organization default)."""
    with scopes_disabled():
        attending = factories.AttendingProfileFactory(
            organization=demo["org"], membership=demo["attending"]
        )
        for rotation_type in ("clerkship", "elective", "externship"):
            Requirement.objects.create(
                organization=demo["org"], rotation_type=rotation_type, step1_required=True
            )
    return attending


def test_a_b1_graduate_without_step1_is_refused_every_hands_on_type_and_offered_observerships(
    b1_graduate, hands_on_attending
):
    with scopes_disabled():
        answers = {
            kind: check_eligibility(b1_graduate, hands_on_attending, kind, on=START)
            for kind in TYPES
        }
    for kind in ("clerkship", "externship"):
        codes = [item.code for item in answers[kind].unmet]
        assert codes == ["visa_not_hands_on", "step1_needed"], kind
        assert "Graduates on a B-1/B-2 visa may book observerships only" in (
            answers[kind].unmet[0].message
        )
        assert answers[kind].unmet[1].message == "USMLE Step 1 pass needed, you have not taken it."
    assert [item.code for item in answers["elective"].unmet][0] == "type_not_for_kind"
    assert answers["observership"].eligible


def test_a_written_reason_relaxes_the_b1_rule_and_nothing_else(b1_graduate, hands_on_attending):
    with scopes_disabled():
        organization = hands_on_attending.organization
        requirements.set_b1_b2_relaxation(
            organization, "Our counsel's opinion of 2026-11-02.", by=_admin(organization)
        )
        hands_on_attending.organization.refresh_from_db()
        answer = check_eligibility(b1_graduate, hands_on_attending, "clerkship", on=START)
    assert [item.code for item in answer.unmet] == ["step1_needed"]


def _admin(organization):
    from accounts.models import Membership

    return Membership.objects.get(organization=organization, role="admin")


def test_the_attendings_own_requirements_replace_the_organizations_default(demo, northside):
    with scopes_disabled():
        attending = factories.AttendingProfileFactory(
            organization=demo["org"], membership=demo["attending"]
        )
        assert requirements.applied_for(attending, "clerkship").source == "built_in"
        Requirement.objects.create(
            organization=demo["org"], rotation_type="clerkship", toefl_minimum=100
        )
        # Northside's default of the same type must not reach demo's attending.
        Requirement.objects.create(
            organization=northside["org"], rotation_type="clerkship", toefl_minimum=120
        )
        applied = requirements.applied_for(attending, "clerkship")
        assert (applied.source, applied.requirement.toefl_minimum) == ("organization", 100)
        requirements.set_attending_requirements(
            attending, "clerkship", {"toefl_minimum": 80}, by=demo["attending"]
        )
        applied = requirements.applied_for(attending, "clerkship")
        assert (applied.source, applied.requirement.toefl_minimum) == ("attending", 80)
        requirements.reset_to_default(attending, "clerkship", by=demo["attending"])
        assert requirements.applied_for(attending, "clerkship").source == "organization"


# --- The SQL filter equals the Python check -------------------------------------------


@pytest.fixture
def search_world(demo, northside):
    """Four demo attendings offering different types, a northside one with its own rows,
    and the demo student whose profile and documents each example rewrites."""
    with scopes_disabled():
        offers = [TYPES, ["clerkship", "observership"], ["externship"], ["elective", "clerkship"]]
        attendings = [
            factories.AttendingProfileFactory(organization=demo["org"], rotation_types=types)
            for types in offers
        ]
        other = factories.AttendingProfileFactory(organization=northside["org"])
        Requirement.objects.create(
            organization=northside["org"], attending=other, rotation_type="clerkship"
        )
        types = {t.code: t for t in DocumentType.objects.filter(code__in=CERTIFICATES)}
    return {
        "org": demo["org"],
        "attendings": attendings,
        "types": types,
        "student": demo["student"],
    }


profile_strategy = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["ims", "img"]),
        "graduation_year": st.one_of(st.none(), st.integers(2012, 2030)),
        "step1_result": st.sampled_from(["not_taken", "pass", "fail"]),
        "step2ck_score": st.one_of(st.none(), st.integers(200, 260)),
        "toefl_score": st.one_of(st.none(), st.integers(70, 110)),
        "visa_status": st.sampled_from(VISAS),
    }
)
# A certificate document: status, issued (days before the start), valid for (days, or None).
documents_strategy = st.dictionaries(
    st.sampled_from(CERTIFICATES),
    st.tuples(
        st.sampled_from(["approved", "submitted"]),
        st.integers(-10, 500),
        st.one_of(st.none(), st.integers(0, 900)),
    ),
)
# Rows: (attending index or None for the default, rotation type) -> values.
rows_strategy = st.dictionaries(
    st.tuples(st.one_of(st.none(), st.integers(0, 3)), st.sampled_from(TYPES)),
    requirement_values(),
    min_size=2,
    max_size=14,
)


@HYPOTHESIS
@given(
    profile=profile_strategy,
    documents=documents_strategy,
    rows=rows_strategy,
    relaxed=st.booleans(),
    on=st.sampled_from([START, date(2028, 1, 3)]),
)
def test_the_search_filter_gives_the_python_checks_answers(
    search_world, profile, documents, rows, relaxed, on
):
    """For each rotation type searched for (and for none: any type offered)."""
    note(f"profile={profile!r}\ndocuments={documents!r}\nrows={rows!r}")
    world = search_world
    organization, attendings, student = world["org"], world["attendings"], world["student"]
    with scopes_disabled(), transaction.atomic():
        StudentProfile.objects.filter(membership=student).update(**profile)
        student.refresh_from_db()
        student.profile.refresh_from_db()
        for code, (status, issued_before, valid_days) in documents.items():
            issued = on - timedelta(days=issued_before)
            Document.objects.create(
                organization=organization,
                student=student,
                document_type=world["types"][code],
                file=f"org/{code}.pdf",
                content_type="application/pdf",
                size=10,
                issued_on=issued,
                expires_on=issued + timedelta(days=valid_days) if valid_days is not None else None,
                status=status,
            )
        for (index, kind), values in rows.items():
            Requirement.objects.create(
                organization=organization,
                attending=attendings[index] if index is not None else None,
                rotation_type=kind,
                **values,
            )
        organization.b1_b2_relaxation_reason = "Counsel's opinion." if relaxed else ""
        organization.save(update_fields=["b1_b2_relaxation_reason"])

        facts = eligibility.student_facts(student, on=on)
        # The SQL reads the certificates itself: give it facts without them.
        sql_facts = eligibility.facts_from(student, on=on, held=())
        for rotation_type in ["", *TYPES]:
            found = set(
                eligibility.only_qualifying(
                    AttendingProfile.objects.filter(organization=organization),
                    sql_facts,
                    organization,
                    rotation_type,
                ).values_list("pk", flat=True)
            )
            expected = set()
            for attending in attendings:
                attending.organization = organization
                kinds = [rotation_type] if rotation_type else list(attending.rotation_types)
                kinds = [kind for kind in kinds if kind in attending.rotation_types]
                if any(
                    check_eligibility(student, attending, kind, on=on, facts=facts).eligible
                    for kind in kinds
                ):
                    expected.add(attending.pk)
            assert found == expected, rotation_type
        # The certificates the SQL sees are the ones the Python check holds.
        annotated = AttendingProfile.objects.annotate(
            **eligibility.held_annotations(sql_facts)
        ).get(pk=attendings[0].pk)
        assert eligibility.with_held_from(sql_facts, annotated).certificates == facts.certificates
        transaction.set_rollback(True)


@pytest.mark.parametrize(
    ("code", "issued_before", "valid_days", "held"),
    [
        ("hipaa", 365, None, True),  # issued exactly one year before the start (2026-03-01)
        ("hipaa", 366, None, False),
        ("bls", 10, 10, True),  # expires on the start day
        ("bls", 10, 9, False),
        ("bls", 10, None, False),  # a card valid through the end needs an expiry
    ],
)
def test_a_certificate_is_held_on_the_day_by_its_types_rule_in_python_and_sql(
    demo, code, issued_before, valid_days, held
):
    student = demo["student"]
    with scopes_disabled():
        issued = START - timedelta(days=issued_before)
        Document.objects.create(
            organization=demo["org"],
            student=student,
            document_type=DocumentType.objects.get(code=code),
            file=f"org/{code}.pdf",
            content_type="application/pdf",
            size=10,
            issued_on=issued,
            expires_on=issued + timedelta(days=valid_days) if valid_days is not None else None,
            status="approved",
        )
        facts = eligibility.student_facts(student, on=START)
        sql_facts = eligibility.facts_from(student, on=START, held=())
        row = AttendingProfile.objects.annotate(**eligibility.held_annotations(sql_facts))
        row = row.get(pk=factories.AttendingProfileFactory(organization=demo["org"]).pk)
    assert (code in facts.certificates) == held
    assert eligibility.with_held_from(sql_facts, row).certificates == facts.certificates


def test_seed_demo_gives_the_three_demo_students_different_searches(db):
    """The B-1/B-2 graduate without Step 1 qualifies for observerships only; the final-year
    student (TOEFL 95) and the H-1B graduate with Step 1 each see their own set."""
    import io

    from django.core.management import call_command

    from accounts.models import Membership
    from rotations import search
    from usdoctors.models import Organization

    call_command("seed_demo", stdout=io.StringIO())
    with scopes_disabled():
        organization = Organization.objects.get(slug="demo")
        rows = Requirement.objects.filter(organization=organization)
        assert {row.toefl_minimum for row in rows} >= {80, 100}
        assert {"bls", "acls"} <= {code for row in rows for code in row.certificates}
        assert rows.filter(housing_included=True).exists()
        assert rows.filter(application_fee=1000).exists() and rows.filter(application_fee=30)
        found = {}
        for label in ("verified", "finalyear", "h1b"):
            student = Membership.objects.select_related("profile").get(
                organization=organization, user__email=f"student.{label}@demo.test"
            )
            results = search.search_attendings(
                organization, {"eligible_only": True}, student=student
            )
            found[label] = set(results.ids)
            hits = list(results[0 : len(results)])
            if label == "verified":
                assert all(
                    {answer.rotation_type for answer in hit.search.eligible_types}
                    == {"observership"}
                    for hit in hits
                )
    assert len({frozenset(ids) for ids in found.values()}) == 3
    assert all(found.values())
