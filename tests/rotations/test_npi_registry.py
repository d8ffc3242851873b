"""§15: attendings' NPIs are checked against the NPPES registry — here a fake registry
on 127.0.0.1 (tests/fakes/nppes_server.py) that our real client talks to over HTTP."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from rotations import npi_checks, nppes, tasks
from rotations.choices import NpiCheckStatus
from rotations.models import AttendingProfile, NpiCheck
from tests import factories
from tests.fakes.nppes_server import FakeNppes

NPI = "1234567893"
OTHER_NPI = "1245319599"
VERIFIED_REGISTRY = "NPI verified against the NPPES registry on"
VERIFIED_MANUALLY = "NPI verified manually by an admin on"


@pytest.fixture
def registry(settings, monkeypatch):
    """The fake registry, started, with Dr. Jane Q. Smith (internal medicine) on NPI;
    our client points at it and retries without real waiting."""
    server = FakeNppes().start()
    server.add_provider(NPI, first_name="Jane", last_name="Smith")
    settings.NPPES_BASE_URL = server.url
    monkeypatch.setattr(nppes, "RETRY_DELAY", 0.01)
    yield server
    server.stop()
    assert not server.errors, "the fake registry itself failed:\n" + "\n".join(server.errors)


@pytest.fixture
def eager_celery():
    """``.delay()`` runs the task here and now, so an on-commit check happens in the test."""
    conf = tasks.run_npi_checks.app.conf
    before = conf.task_always_eager, conf.task_eager_propagates
    conf.task_always_eager, conf.task_eager_propagates = True, True
    yield
    conf.task_always_eager, conf.task_eager_propagates = before


@pytest.fixture
def doctor(demo):
    with scopes_disabled():
        return factories.AttendingProfileFactory(
            organization=demo["org"],
            membership=demo["attending"],
            display_name="Dr. Jane Q. Smith",
            npi=NPI,
            specialty="internal_medicine",
        )


def reload(attending) -> AttendingProfile:
    with scopes_disabled():
        return AttendingProfile.objects.get(pk=attending.pk)


def checks_of(attending) -> list[NpiCheck]:
    with scopes_disabled():
        return list(NpiCheck.objects.filter(attending=attending).order_by("pk"))


def check_from_page(client, attending, capture):
    """The admin presses "Check in registry"; the task runs after commit."""
    with capture(execute=True):
        response = client.post(f"/manage/attendings/{attending.pk}/check-npi/", follow=True)
    assert response.status_code == 200
    return client.get("/manage/attendings/").content.decode()


# --- The registry's verdict -------------------------------------------------------------


@pytest.mark.django_db
def test_a_matching_npi_is_verified_against_the_registry(
    demo, doctor, registry, client_for, eager_celery, django_capture_on_commit_callbacks
):
    page = check_from_page(client_for(demo["admin"]), doctor, django_capture_on_commit_callbacks)

    doctor = reload(doctor)
    assert doctor.npi_verified and doctor.npi_verified_by == "registry"
    assert doctor.npi_checked_at == doctor.npi_verified_at
    (check,) = checks_of(doctor)
    assert check.status == NpiCheckStatus.VERIFIED and check.reasons == []
    assert check.answer["results"][0]["basic"]["last_name"] == "SMITH"  # the answer is kept
    (request,) = registry.requests_received
    assert request.query == {"version": ["2.1"], "number": [NPI]}
    assert f"{VERIFIED_REGISTRY} {timezone.localdate():%b} " in page
    for path in ("/attendings/", f"/attendings/{doctor.pk}/"):
        html = client_for(demo["student"]).get(path).content.decode()
        assert VERIFIED_REGISTRY in html and VERIFIED_MANUALLY not in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("provider", "reason"),
    [
        (
            {"first_name": "John", "last_name": "Smith"},
            "The name differs: the registry has “John Smith”",
        ),
        (
            {
                "first_name": "Jane",
                "last_name": "Smith",
                "taxonomies": [("2084P0800X", "Psychiatry")],
            },
            "The specialty differs: the profile says Internal medicine, the registry lists "
            "Psychiatry (2084P0800X).",
        ),
        (
            {"first_name": "Jane", "last_name": "Smith", "enumeration_type": "NPI-2"},
            "The NPI belongs to an organization",
        ),
        (None, f"The registry has no provider with NPI {NPI}."),
    ],
    ids=["name", "taxonomy", "organization", "unknown"],
)
def test_a_mismatch_is_not_verified_and_says_why(
    demo, doctor, registry, client_for, eager_celery, django_capture_on_commit_callbacks,
    provider, reason,
):  # fmt: skip
    registry.providers.clear()
    if provider:
        registry.add_provider(NPI, **provider)
    with scopes_disabled():  # an earlier mark: the registry's "no" takes it off
        AttendingProfile.objects.filter(pk=doctor.pk).update(
            npi_verified_at=timezone.now() - timedelta(days=400),
            npi_checked_at=timezone.now() - timedelta(days=400),
            npi_verified_by="registry",
        )

    page = check_from_page(client_for(demo["admin"]), doctor, django_capture_on_commit_callbacks)

    assert not reload(doctor).npi_verified
    (check,) = checks_of(doctor)
    assert check.status == NpiCheckStatus.MISMATCH
    assert any(reason in said for said in check.reasons)
    assert "Does not match" in page and reason.replace("“", "&ldquo;")[:20] in page.replace(
        "“", "&ldquo;"
    )
    student_view = client_for(demo["student"]).get(f"/attendings/{doctor.pk}/").content.decode()
    assert "NPI not verified yet" in student_view and VERIFIED_REGISTRY not in student_view


@pytest.mark.django_db
def test_names_compare_without_case_accents_titles_or_credentials(demo):
    with scopes_disabled():
        doctor = factories.AttendingProfileFactory(
            organization=demo["org"], display_name="Dr. José María O'Neil-Ruiz, MD", npi=NPI
        )
    record = {
        "result_count": 1,
        "results": [
            {
                "enumeration_type": "NPI-1",
                "basic": {"first_name": "JOSE", "last_name": "ONEIL-RUIZ", "status": "A"},
                "taxonomies": [{"code": "207RC0000X", "desc": "Cardiovascular Disease"}],
            }
        ],
    }
    assert npi_checks.judge(doctor, record) == []  # an internist listing a subspecialty
    record["results"][0]["basic"]["first_name"] = "JOAN"
    assert npi_checks.judge(doctor, record)[0].startswith("The name differs")


# --- The registry is down ---------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("outage", ["stopped", "503"])
def test_when_the_registry_is_down_nobody_is_shown_as_verified(
    demo, doctor, registry, client_for, eager_celery, django_capture_on_commit_callbacks, outage
):
    if outage == "stopped":
        registry.stop()
    else:
        registry.fail_next(503, times=nppes.ATTEMPTS)

    page = check_from_page(client_for(demo["admin"]), doctor, django_capture_on_commit_callbacks)

    assert not reload(doctor).npi_verified
    (check,) = checks_of(doctor)
    assert check.status == NpiCheckStatus.UNREACHABLE and check.answer is None
    assert "Registry unreachable" in page
    assert "could not be reached" in page
    for path in ("/attendings/", f"/attendings/{doctor.pk}/"):
        html = client_for(demo["student"]).get(path).content.decode()
        assert "NPI not verified yet" in html
        assert VERIFIED_REGISTRY not in html and VERIFIED_MANUALLY not in html
    if outage == "503":
        assert len(registry.requests_received) == nppes.ATTEMPTS  # retried, then gave up


@pytest.mark.django_db
def test_a_manual_mark_stays_when_the_registry_is_unreachable_and_says_it_is_manual(
    demo, doctor, registry, client_for, eager_celery, django_capture_on_commit_callbacks
):
    admin = client_for(demo["admin"])
    admin.post(f"/manage/attendings/{doctor.pk}/verify-npi/", {"registry_checked": "yes"})
    registry.stop()

    page = check_from_page(admin, doctor, django_capture_on_commit_callbacks)

    doctor = reload(doctor)
    assert doctor.npi_verified and doctor.npi_verified_by == "manual"
    assert "Registry unreachable" in page and VERIFIED_MANUALLY in page
    for path in ("/attendings/", f"/attendings/{doctor.pk}/"):
        html = client_for(demo["student"]).get(path).content.decode()
        assert VERIFIED_MANUALLY in html and VERIFIED_REGISTRY not in html
    body = client_for(demo["student"]).get(f"/api/v1/attendings/{doctor.pk}").json()
    assert body["npi_verified_by"] == "manual" and body["npi_verified"] is True


# --- Asking: who, once, after commit -------------------------------------------------------


@pytest.mark.django_db
def test_a_check_is_answered_once(demo, doctor, registry, django_capture_on_commit_callbacks):
    with scope(organization=demo["org"]):
        with django_capture_on_commit_callbacks() as sent:
            first = npi_checks.request_check(doctor, by=demo["admin"])
            again = npi_checks.request_check(doctor, by=demo["admin"])
        assert first.pk == again.pk  # one pending check per attending
        assert len(sent) == 2
        assert npi_checks.run_check(first.pk) == NpiCheckStatus.VERIFIED
        assert npi_checks.run_check(first.pk) == NpiCheckStatus.VERIFIED  # a retried task
    assert len(registry.requests_received) == 1


@pytest.mark.django_db
def test_the_client_never_calls_the_registry_inside_a_transaction(registry):
    with transaction.atomic(), pytest.raises(RuntimeError, match="after commit"):
        nppes.lookup(NPI)
    assert registry.requests_received == []


@pytest.mark.django_db
def test_an_answer_about_an_npi_since_changed_does_not_mark_the_new_one(
    demo, doctor, registry, django_capture_on_commit_callbacks
):
    with scope(organization=demo["org"]):
        with django_capture_on_commit_callbacks():
            check = npi_checks.request_check(doctor, by=demo["admin"])
        AttendingProfile.objects.filter(pk=doctor.pk).update(npi=OTHER_NPI)
        assert npi_checks.run_check(check.pk) == NpiCheckStatus.VERIFIED
    assert not reload(doctor).npi_verified


@pytest.mark.django_db
def test_only_the_organizations_admins_check_and_an_npi_is_needed(
    demo, northside, doctor, registry, client_for
):
    path = f"/manage/attendings/{doctor.pk}/check-npi/"
    assert client_for(demo["student"]).post(path).status_code == 403
    assert client_for(demo["attending"]).post(path).status_code == 403
    assert client_for(northside["admin"]).post(path).status_code == 404
    assert client_for(demo["admin"]).get(path).status_code == 405
    with scopes_disabled():
        bare = factories.AttendingProfileFactory(organization=demo["org"], npi="")
    response = client_for(demo["admin"]).post(f"/manage/attendings/{bare.pk}/check-npi/")
    assert response.status_code == 409
    assert "has not entered an NPI" in response.content.decode()
    assert checks_of(doctor) == [] and checks_of(bare) == []
    assert registry.requests_received == []


@pytest.mark.django_db
def test_the_admin_page_offers_the_registry_check(demo, doctor, client_for):
    page = client_for(demo["admin"]).get("/manage/attendings/").content.decode()
    assert f'action="/manage/attendings/{doctor.pk}/check-npi/"' in page
    assert "Check in registry" in page
    assert "Mark NPI verified manually" in page


# --- The yearly re-check --------------------------------------------------------------------


@pytest.mark.django_db
def test_the_yearly_recheck_picks_only_npis_settled_over_a_year_ago(
    demo, northside, registry, eager_celery, django_capture_on_commit_callbacks
):
    now = timezone.now()
    with scopes_disabled():

        def attending(org, name, npi, checked_days_ago, **fields):
            checked = now - timedelta(days=checked_days_ago) if checked_days_ago else None
            return factories.AttendingProfileFactory(
                organization=org, display_name=name, npi=npi, npi_checked_at=checked, **fields
            )

        stale = attending(demo["org"], "Dr. Jane Smith", NPI, 400, npi_verified_at=now)
        fresh = attending(demo["org"], "Dr. Fresh One", OTHER_NPI, 100)
        never = attending(demo["org"], "Dr. Never Checked", OTHER_NPI, None)
        no_npi = attending(demo["org"], "Dr. No Number", "", 400)
        elsewhere = attending(northside["org"], "Dr. Other Org", OTHER_NPI, 400)

    with scope(organization=demo["org"]):
        with django_capture_on_commit_callbacks(execute=True):
            assert npi_checks.queue_stale_checks(demo["org"], now=now) == 1
    assert [c.status for c in checks_of(stale)] == [NpiCheckStatus.VERIFIED]
    for other in (fresh, never, no_npi, elsewhere):
        assert checks_of(other) == []
    assert reload(stale).npi_checked_at > now  # settled again: next year's turn
    assert len(registry.requests_received) == 1

    with scope(organization=demo["org"]):
        with django_capture_on_commit_callbacks(execute=True):
            assert npi_checks.queue_stale_checks(demo["org"], now=timezone.now()) == 0
    assert len(registry.requests_received) == 1


@pytest.mark.django_db
def test_the_recheck_retries_what_the_registry_could_not_answer(
    demo, registry, eager_celery, django_capture_on_commit_callbacks
):
    with scopes_disabled():
        stale = factories.AttendingProfileFactory(
            organization=demo["org"],
            display_name="Dr. Jane Smith",
            npi=NPI,
            npi_verified_at=timezone.now() - timedelta(days=400),
            npi_verified_by="manual",
            npi_checked_at=timezone.now() - timedelta(days=400),
        )
    registry.fail_next(503, times=nppes.ATTEMPTS)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.recheck_stale_npis() == 1
    assert reload(stale).npi_verified_by == "manual"  # the manual mark stays
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.recheck_stale_npis() == 1  # still stale: asked again
    stale = reload(stale)
    assert stale.npi_verified_by == "registry"
    assert [c.status for c in checks_of(stale)] == ["unreachable", "verified"]


@pytest.mark.django_db
def test_a_lost_pending_check_is_sent_again(demo, doctor, registry, eager_celery,
                                            django_capture_on_commit_callbacks):  # fmt: skip
    with scope(organization=demo["org"]):
        with django_capture_on_commit_callbacks(execute=False):  # the broker lost it
            check = npi_checks.request_check(doctor, by=demo["admin"])
        later = timezone.now() + npi_checks.LOST_AFTER + timedelta(minutes=1)
        with django_capture_on_commit_callbacks(execute=True):
            assert npi_checks.queue_stale_checks(demo["org"], now=later) == 1
        check.refresh_from_db()
    assert check.status == NpiCheckStatus.VERIFIED


@pytest.mark.django_db
def test_the_admin_page_costs_the_same_however_many_attendings_and_checks(
    demo, client_for, django_assert_max_num_queries
):
    def add(count):
        with scopes_disabled():
            for _ in range(count):
                attending = factories.AttendingProfileFactory(organization=demo["org"], npi=NPI)
                for status in ("unreachable", "mismatch"):
                    NpiCheck.objects.create(
                        organization=demo["org"],
                        attending=attending,
                        npi=NPI,
                        status=status,
                        reasons=["The name differs."],
                    )

    admin = client_for(demo["admin"])
    add(2)
    admin.get("/manage/attendings/")  # warm the session
    with django_assert_max_num_queries(9) as few:
        admin.get("/manage/attendings/")
    add(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = admin.get("/manage/attendings/").content.decode()
    assert page.count("Does not match") == 22
