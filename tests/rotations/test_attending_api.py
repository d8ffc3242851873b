"""The attending's own profile, NPI verification and availability through the API
(DESIGN §4, §12)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled

from rotations.models import AttendingProfile, AvailabilityWeek
from tests import factories

pytestmark = pytest.mark.django_db

PROFILE = "/api/v1/attending/profile"
VALID_NPI = "1234567893"  # the CMS example: its check digit matches

PROFILE_BODY = {
    "display_name": "Dr. Maya Ortiz",
    "credentials": "DO",
    "npi": VALID_NPI,
    "specialty": "pediatrics",
    "practice_name": "Lakeside Pediatrics",
    "setting": "private_clinic",
    "care_setting": "outpatient",
    "city": "Orlando",
    "state": "FL",
    "has_residency_program": False,
    "rotation_types": ["clerkship", "observership"],
    "modes": ["in_person"],
    "weekly_rate": "650.00",
    "minimum_weeks": 2,
    "writes_lors": True,
    "lor_fee": "0.00",
    "contact_email": "maya.ortiz@lakeside.test",
    "bio": "Twenty years of outpatient pediatrics.",
}


def profile_of(membership):
    with scopes_disabled():
        return AttendingProfile.objects.filter(membership=membership).first()


# --- Profile --------------------------------------------------------------------------------


def test_before_the_first_put_there_is_no_profile(demo, api):
    for response in (api(demo["attending"]).get(PROFILE), api(demo["attending"]).patch(PROFILE)):
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
        assert "create it with PUT /api/v1/attending/profile" in response.json()["detail"]
    assert profile_of(demo["attending"]) is None


def test_put_creates_the_profile_then_replaces_it(demo, northside, api):
    created = api(demo["attending"]).put(PROFILE, PROFILE_BODY)

    assert created.status_code == 201, created.json()
    profile = profile_of(demo["attending"])
    assert profile.organization == demo["org"]
    assert created.json()["id"] == profile.pk
    assert created.json()["rotation_types"] == ["clerkship", "observership"]
    assert created.json()["npi_verified"] is False

    replaced = api(demo["attending"]).put(PROFILE, {**PROFILE_BODY, "weekly_rate": "700.00"})

    assert replaced.status_code == 200, replaced.json()
    assert replaced.json()["id"] == profile.pk
    assert profile_of(demo["attending"]).weekly_rate == 700
    with scopes_disabled():
        assert AttendingProfile.objects.filter(membership=demo["attending"]).count() == 1
    assert profile_of(northside["attending"]) is None


def test_put_needs_every_required_field(demo, api):
    body = {key: value for key, value in PROFILE_BODY.items() if key != "specialty"}

    response = api(demo["attending"]).put(PROFILE, body)

    assert response.status_code == 400
    assert "specialty" in response.json()["errors"]
    assert profile_of(demo["attending"]) is None


def test_patch_changes_some_fields(demo, attending, api):
    response = api(demo["attending"]).patch(PROFILE, {"city": "Austin", "modes": ["tele"]})

    assert response.status_code == 200, response.json()
    fresh = profile_of(demo["attending"])
    assert (fresh.city, fresh.modes, fresh.display_name) == (
        "Austin",
        ["tele"],
        attending.display_name,
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("npi", "1234567890"),
        ("rotation_types", ["residency"]),
        ("specialty", "astrology"),
        ("state", "ZZ"),
        ("weekly_rate", "-1.00"),
    ],
)
def test_bad_profile_input_is_refused(demo, attending, api, field, value):
    response = api(demo["attending"]).patch(PROFILE, {field: value})

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert getattr(profile_of(demo["attending"]), field) == getattr(attending, field)


def test_changing_the_npi_clears_its_verification(demo, attending, api):
    with scopes_disabled():
        AttendingProfile.objects.filter(pk=attending.pk).update(
            npi=VALID_NPI, npi_verified_at=timezone.now()
        )

    same = api(demo["attending"]).patch(PROFILE, {"npi": VALID_NPI, "city": "Dallas"})
    assert same.json()["npi_verified"] is True
    changed = api(demo["attending"]).patch(PROFILE, {"npi": "1245319599"})

    assert changed.status_code == 200, changed.json()
    assert changed.json()["npi_verified"] is False
    assert profile_of(demo["attending"]).npi_verified_at is None


@pytest.mark.parametrize("role", ["student", "admin"])
def test_the_attending_profile_is_for_attendings(demo, api, role):
    for response in (api(demo[role]).get(PROFILE), api(demo[role]).put(PROFILE, PROFILE_BODY)):
        assert response.status_code == 403
        assert response.json()["detail"] == "Only attendings can use this call."
    assert profile_of(demo[role]) is None


# --- NPI verification ---------------------------------------------------------------------


def verify(api, membership, profile):
    return api(membership).post(
        f"/api/v1/attendings/{profile.pk}/verify-npi", {"registry_checked": True}
    )


def test_an_admin_verifies_an_npi(demo, attending, api):
    with scopes_disabled():
        AttendingProfile.objects.filter(pk=attending.pk).update(npi=VALID_NPI)

    response = verify(api, demo["admin"], attending)

    assert response.status_code == 200, response.json()
    assert response.json()["npi_verified"] is True
    first = profile_of(demo["attending"]).npi_verified_at
    assert abs(first - timezone.now()) < timedelta(minutes=1)
    assert verify(api, demo["admin"], attending).status_code == 200
    assert profile_of(demo["attending"]).npi_verified_at == first  # the first check stands


def test_there_is_nothing_to_verify_without_an_npi(demo, attending, api):
    response = verify(api, demo["admin"], attending)

    assert response.status_code == 409
    assert response.json() == {
        "detail": "This attending has not entered an NPI yet.",
        "code": "no_npi",
    }
    assert profile_of(demo["attending"]).npi_verified_at is None


def test_only_admins_verify_npis(demo, attending, api):
    with scopes_disabled():
        AttendingProfile.objects.filter(pk=attending.pk).update(npi=VALID_NPI)

    response = verify(api, demo["attending"], attending)

    assert response.status_code == 403
    assert profile_of(demo["attending"]).npi_verified_at is None


def test_another_organizations_attending_is_not_found(demo, northside_attending, api):
    with scopes_disabled():
        AttendingProfile.objects.filter(pk=northside_attending.pk).update(npi=VALID_NPI)

    response = verify(api, demo["admin"], northside_attending)

    assert response.status_code == 404
    with scopes_disabled():
        assert AttendingProfile.objects.get(pk=northside_attending.pk).npi_verified_at is None


# --- Availability ---------------------------------------------------------------------------

AVAILABILITY = "/api/v1/availability"


def weeks_of(attending) -> dict:
    with scopes_disabled():
        return dict(
            AvailabilityWeek.objects.filter(attending=attending).values_list(
                "week_start", "capacity"
            )
        )


def test_an_attending_publishes_a_range_of_weeks(demo, attending, api):
    first = factories.next_monday(2)

    response = api(demo["attending"]).post(
        AVAILABILITY,
        {
            "first_week": first.isoformat(),
            "last_week": (first + timedelta(weeks=3)).isoformat(),
            "capacity": 3,
        },
    )

    assert response.status_code == 201, response.json()
    assert [week["week_start"] for week in response.json()] == [
        (first + timedelta(weeks=n)).isoformat() for n in range(4)
    ]
    assert all(week["free"] == 3 for week in response.json())
    assert weeks_of(attending) == {first + timedelta(weeks=n): 3 for n in range(4)}


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"first_week": "tuesday"}, "not_monday"),
        ({"capacity": 0}, "capacity_out_of_range"),
        ({"capacity": 21}, "capacity_out_of_range"),
        ({"last_week": "before"}, "range_reversed"),
    ],
)
def test_bad_availability_is_refused(demo, attending, api, change, code):
    first = factories.next_monday(2)
    body = {
        "first_week": first.isoformat(),
        "last_week": (first + timedelta(weeks=1)).isoformat(),
        "capacity": 2,
    }
    if change.get("first_week") == "tuesday":
        change = {"first_week": (first + timedelta(days=1)).isoformat()}
    if change.get("last_week") == "before":
        change = {"last_week": (first - timedelta(weeks=1)).isoformat()}
    body.update(change)

    response = api(demo["attending"]).post(AVAILABILITY, body)

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert weeks_of(attending) == {}


def test_capacity_cannot_drop_below_the_places_booked(demo, attending, api):
    week_start = factories.next_monday(2)
    with scopes_disabled():
        factories.AvailabilityWeekFactory(
            attending=attending, week_start=week_start, capacity=3, booked=2
        )

    response = api(demo["attending"]).post(
        AVAILABILITY,
        {"first_week": week_start.isoformat(), "last_week": week_start.isoformat(), "capacity": 1},
    )

    assert response.status_code == 409
    assert response.json()["code"] == "capacity_below_booked"
    assert "already has 2 students booked" in response.json()["detail"]
    assert weeks_of(attending) == {week_start: 3}


def test_publishing_needs_an_attending_profile(demo, api):
    first = factories.next_monday(2).isoformat()

    response = api(demo["attending"]).post(
        AVAILABILITY, {"first_week": first, "last_week": first, "capacity": 1}
    )

    assert response.status_code == 403
    assert response.json()["code"] == "no_attending_profile"


def test_an_attending_removes_an_unbooked_week_only(demo, attending, api):
    with scopes_disabled():
        free, taken = factories.publish(attending, factories.next_monday(2), 2)
        AvailabilityWeek.objects.filter(pk=taken.pk).update(booked=1)

    removed = api(demo["attending"]).delete(f"{AVAILABILITY}/{free.pk}")
    refused = api(demo["attending"]).delete(f"{AVAILABILITY}/{taken.pk}")

    assert removed.status_code == 204
    assert refused.status_code == 409
    assert refused.json()["code"] == "week_booked"
    assert weeks_of(attending) == {taken.week_start: 2}


def test_only_ones_own_week_can_be_removed(demo, attending, northside_attending, api):
    with scopes_disabled():
        colleague = factories.AttendingProfileFactory(organization=demo["org"])
        [theirs] = factories.publish(colleague, factories.next_monday(2), 1)
        [elsewhere] = factories.publish(northside_attending, factories.next_monday(12), 1)

    colleagues = api(demo["attending"]).delete(f"{AVAILABILITY}/{theirs.pk}")
    other_tenants = api(demo["attending"]).delete(f"{AVAILABILITY}/{elsewhere.pk}")

    assert colleagues.status_code == 403
    assert colleagues.json()["code"] == "not_your_week"
    assert other_tenants.status_code == 404
    with scopes_disabled():
        assert AvailabilityWeek.objects.filter(pk__in=[theirs.pk, elsewhere.pk]).count() == 2


def test_weeks_that_already_started_cannot_be_published(demo, attending, api, everything):
    today = timezone.localdate()
    this_monday = today - timedelta(days=today.weekday())
    before = everything()

    response = api(demo["attending"]).post(
        "/api/v1/availability",
        {
            "first_week": this_monday.isoformat(),
            "last_week": (this_monday + timedelta(weeks=2)).isoformat(),
            "capacity": 2,
        },
    )

    assert response.status_code == 400
    assert response.json()["code"] == "week_in_past"
    assert everything() == before
