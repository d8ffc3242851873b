"""The platform staff console (/admin/, issue 11 part 6): rotations, attending profiles
and availability weeks are registered, filter by organization and stay consistent with
the booking rules (booked is read-only, capacity never below it, the free-week summary
kept); the apps have distinct names; the card surcharge is a percent; housing partners
are rows edited on the organization's page (part 9)."""

import importlib
from decimal import Decimal

import pytest
from django.test import Client
from django_scopes import scopes_disabled

from rotations.models import AttendingProfile, AvailabilityWeek, Rotation
from tests import factories
from tests.test_audit_trail import submitted_form
from usdoctors.models import HousingPartner, Organization

pytestmark = pytest.mark.django_db

CHANGELISTS = {
    "rotation": "/admin/rotations/rotation/",
    "attendingprofile": "/admin/rotations/attendingprofile/",
    "availabilityweek": "/admin/rotations/availabilityweek/",
}


@pytest.fixture
def staff_client(world):
    staff = factories.UserFactory(is_staff=True, is_superuser=True)
    client = Client(HTTP_HOST="localhost")
    client.force_login(staff)
    return client


@pytest.fixture
def rows(demo, northside):
    """One attending, a week and a rotation in each organization."""
    with scopes_disabled():
        made = {}
        for key, data in (("demo", demo), ("northside", northside)):
            attending = factories.AttendingProfileFactory(
                organization=data["org"], membership=data["attending"]
            )
            [week] = factories.publish(attending, factories.next_monday(3), 1)
            rotation = factories.RotationFactory(attending=attending, student=data["student"])
            made[key] = {
                "attendingprofile": attending,
                "availabilityweek": week,
                "rotation": rotation,
            }
        return made


def change_url(model: str, pk: int) -> str:
    return f"{CHANGELISTS[model]}{pk}/change/"


def post_form(client, path: str, **changes):
    data = submitted_form(client.get(path).content.decode())
    data.pop("csrfmiddlewaretoken", None)
    data.update(changes)
    return client.post(path, data)


# --- Changelists ----------------------------------------------------------------------


@pytest.mark.parametrize("model", sorted(CHANGELISTS))
def test_changelists_load_and_filter_by_organization(
    staff_client, rows, demo, model, django_assert_max_num_queries
):
    demo_row, northside_row = rows["demo"][model], rows["northside"][model]

    with django_assert_max_num_queries(12):
        everything = staff_client.get(CHANGELISTS[model])
    only_demo = staff_client.get(CHANGELISTS[model], {"organization__id__exact": demo["org"].pk})

    assert everything.status_code == 200 and only_demo.status_code == 200
    page = everything.content.decode()
    assert change_url(model, demo_row.pk) in page and change_url(model, northside_row.pk) in page
    page = only_demo.content.decode()
    assert change_url(model, demo_row.pk) in page
    assert change_url(model, northside_row.pk) not in page


@pytest.mark.parametrize("model", sorted(CHANGELISTS))
def test_change_pages_load(staff_client, rows, model):
    response = staff_client.get(change_url(model, rows["demo"][model].pk))

    assert response.status_code == 200


@pytest.mark.parametrize("model", sorted(CHANGELISTS))
def test_organization_admins_are_kept_out(demo, rows, client_for, model):
    response = client_for(demo["admin"], host="localhost").get(CHANGELISTS[model])

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_apps_have_distinct_names(staff_client):
    page = staff_client.get("/admin/").content.decode()

    assert "Members, profiles and support" in page
    assert "Rotations and attendings" in page
    assert page.count(">Accounts<") <= 1


# --- Availability: booked read-only, capacity kept consistent ---------------------------


def full_week(demo) -> AvailabilityWeek:
    """A one-place week already booked by an approved rotation."""
    with scopes_disabled():
        attending = factories.AttendingProfileFactory(
            organization=demo["org"], membership=demo["attending"]
        )
        [week] = factories.publish(attending, factories.next_monday(3), 1, capacity=1)
        AvailabilityWeek.objects.filter(pk=week.pk).update(booked=1)
        from rotations.free_weeks import rebuild_free_weeks

        rebuild_free_weeks([attending.pk])
        return AvailabilityWeek.objects.select_related("attending").get(pk=week.pk)


def test_booked_is_read_only_and_a_capacity_change_keeps_the_search_summary(staff_client, demo):
    week = full_week(demo)
    assert week.free_run == 0 and week.attending.next_free_week is None
    path = change_url("availabilityweek", week.pk)
    page = staff_client.get(path).content.decode()
    assert 'name="booked"' not in page and 'name="capacity"' in page

    response = post_form(staff_client, path, capacity="2", booked="0")

    assert response.status_code == 302, response.content.decode()[:2000]
    with scopes_disabled():
        week = AvailabilityWeek.objects.select_related("attending").get(pk=week.pk)
    assert (week.capacity, week.booked) == (2, 1)  # "booked" typed in is ignored
    assert week.free_run == 1
    assert week.attending.next_free_week == week.week_start


def test_capacity_below_booked_is_refused_and_nothing_changes(staff_client, demo):
    week = full_week(demo)
    with scopes_disabled():
        AvailabilityWeek.objects.filter(pk=week.pk).update(capacity=3, booked=2)

    response = post_form(staff_client, change_url("availabilityweek", week.pk), capacity="1")

    assert response.status_code == 200
    assert "capacity cannot go below that" in response.content.decode()
    with scopes_disabled():
        assert AvailabilityWeek.objects.get(pk=week.pk).capacity == 3


def test_staff_add_a_week_and_search_sees_it(staff_client, demo):
    with scopes_disabled():
        attending = factories.AttendingProfileFactory(
            organization=demo["org"], membership=demo["attending"]
        )
    monday = factories.next_monday(4)

    response = staff_client.post(
        "/admin/rotations/availabilityweek/add/",
        {"attending": attending.pk, "week_start": monday.isoformat(), "capacity": "2"},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    with scopes_disabled():
        week = AvailabilityWeek.objects.get(attending=attending, week_start=monday)
        assert week.organization_id == demo["org"].pk
        assert week.free_run == 1
        assert AttendingProfile.objects.get(pk=attending.pk).next_free_week == monday


def test_a_booked_week_cannot_be_deleted(staff_client, demo):
    week = full_week(demo)

    response = staff_client.post(
        f"/admin/rotations/availabilityweek/{week.pk}/delete/", {"post": "yes"}
    )

    assert response.status_code == 403
    with scopes_disabled():
        assert AvailabilityWeek.objects.filter(pk=week.pk).exists()


def test_an_attending_cannot_be_tied_to_another_organizations_member(staff_client, rows, northside):
    attending = rows["demo"]["attendingprofile"]

    response = post_form(
        staff_client,
        change_url("attendingprofile", attending.pk),
        membership=str(northside["attending"].pk),
    )

    assert response.status_code == 200
    assert "Choose a member of the same organization" in response.content.decode()
    with scopes_disabled():
        assert (
            AttendingProfile.objects.get(pk=attending.pk).membership_id != northside["attending"].pk
        )


def test_a_rotations_booking_fields_are_read_only(staff_client, rows):
    rotation = rows["demo"]["rotation"]
    path = change_url("rotation", rotation.pk)
    page = staff_client.get(path).content.decode()

    for name in ("start", "weeks", "status", "attending", "student"):
        assert f'name="{name}"' not in page
    assert 'name="decision_note"' in page
    assert "Status history" in page

    response = post_form(staff_client, path, status="approved", decision_note="Checked by staff.")

    assert response.status_code == 302
    with scopes_disabled():
        rotation = Rotation.objects.get(pk=rotation.pk)
    assert (rotation.status, rotation.decision_note) == ("requested", "Checked by staff.")


# --- The organization's settings ---------------------------------------------------------


def organization_path(organization) -> str:
    return f"/admin/usdoctors/organization/{organization.pk}/change/"


def test_the_surcharge_is_shown_and_typed_as_a_percent(staff_client, demo):
    path = organization_path(demo["org"])
    page = staff_client.get(path).content.decode()
    assert 'name="card_surcharge_rate"' in page and 'value="2.99"' in page
    assert "Card surcharge (%)" in page

    response = post_form(staff_client, path, card_surcharge_rate="2.50")

    assert response.status_code == 302, response.content.decode()[:2000]
    assert Organization.objects.get(pk=demo["org"].pk).card_surcharge_rate == Decimal("0.0250")
    assert 'value="2.50"' in staff_client.get(path).content.decode()


@pytest.mark.parametrize("typed", ["3.5", "-1", "2.999", "0.0299x"])
def test_a_surcharge_outside_0_to_3_percent_is_refused(staff_client, demo, typed):
    response = post_form(staff_client, organization_path(demo["org"]), card_surcharge_rate=typed)

    assert response.status_code == 200
    assert "errornote" in response.content.decode()
    assert Organization.objects.get(pk=demo["org"].pk).card_surcharge_rate == Decimal("0.0299")


def test_the_slug_help_text_says_what_the_slug_is(staff_client, demo):
    page = staff_client.get(organization_path(demo["org"])).content.decode()

    assert "The subdomain: .." not in page and "The subdomain:" not in page
    assert "The organization's site address: slug.localhost, e.g. demo.localhost" in page.replace(
        "&#x27;", "'"
    )


def test_staff_edit_housing_partners_as_rows(staff_client, demo):
    path = organization_path(demo["org"])
    page = staff_client.get(path).content.decode()
    assert 'name="housing_partners"' not in page  # the JSON box is gone
    assert 'name="housing_partners-TOTAL_FORMS"' in page

    response = post_form(
        staff_client,
        path,
        **{
            "housing_partners-TOTAL_FORMS": "1",
            "housing_partners-0-order": "0",
            "housing_partners-0-name": "MedStay Residences",
            "housing_partners-0-url": "https://medstay.example.test/",
            "housing_partners-0-notes": "10% off for students.",
        },
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    with scopes_disabled():
        [partner] = HousingPartner.objects.filter(organization=demo["org"])
    assert (partner.name, partner.url) == ("MedStay Residences", "https://medstay.example.test/")


def test_the_migration_reads_each_json_entry_shape():
    migration = importlib.import_module("usdoctors.migrations.0005_housing_partners")

    assert migration._partner({"name": "MedStay", "url": "https://m.test/", "notes": "Near"}) == (
        "MedStay",
        "https://m.test/",
        "Near",
    )
    assert migration._partner({"title": "Lodge", "link": "https://l.test/"}) == (
        "Lodge",
        "https://l.test/",
        "",
    )
    assert migration._partner("Campus Guest House") == ("Campus Guest House", "", "")
    assert migration._partner("https://g.test/") == ("https://g.test/", "https://g.test/", "")
    assert migration._partner(42) == ("", "", "")


def test_registry_checks_and_credentials_are_listed_read_only(staff_client, rows):
    from rotations.models import NpiCheck

    attending = rows["demo"]["attendingprofile"]
    with scopes_disabled():
        check = NpiCheck.objects.create(
            organization=attending.organization, attending=attending, npi="1234567893"
        )
    checks = staff_client.get("/admin/rotations/npicheck/")
    assert checks.status_code == 200
    assert "1234567893" in checks.content.decode()
    assert staff_client.get(f"/admin/rotations/npicheck/{check.pk}/change/").status_code == 200
    assert staff_client.get("/admin/rotations/npicheck/add/").status_code == 403
    assert staff_client.get("/admin/documents/attendingcredential/").status_code == 200
    assert staff_client.get("/admin/documents/attendingcredential/add/").status_code == 403
