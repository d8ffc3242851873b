"""Housing partners (issue 11, part 9; DESIGN §2): the organization's list is shown to
the student of an approved in-person rotation, on its page and in the approval email;
never for tele rotations, requests still waiting, or another organization's list."""

import pytest
from django_scopes import scope, scopes_disabled

from notifications.models import OutboundEmail
from notifications.services import render
from rotations import services
from tests import factories
from usdoctors.models import HousingPartner

pytestmark = pytest.mark.django_db


@pytest.fixture
def partners(demo, northside):
    with scopes_disabled():
        for organization, name, order in (
            (demo["org"], "Campus Suites", 1),
            (demo["org"], "MedStay Residences", 0),
            (northside["org"], "Northside Lodge", 0),
        ):
            HousingPartner.objects.create(
                organization=organization,
                name=name,
                url=f"https://{name.split()[0].lower()}.example.test/",
                notes=f"Ask for the {name} student rate.",
                order=order,
            )


def booked_rotation(demo, attending, *, mode="in_person", status="requested"):
    with scopes_disabled():
        factories.publish(attending, factories.next_monday(2), 2)
        return factories.RotationFactory(
            attending=attending, student=demo["student"], mode=mode, status=status
        )


def approve(demo, rotation):
    with scope(organization=demo["org"]):
        return services.approve_rotation(rotation, by=demo["attending"])


def approval_email() -> OutboundEmail:
    with scopes_disabled():
        return OutboundEmail.objects.select_related("organization").get(
            template="rotation_approved"
        )


def test_the_approval_email_of_an_in_person_rotation_lists_the_housing_partners(
    demo, attending, partners
):
    rotation = booked_rotation(demo, attending)

    approve(demo, rotation)

    email = approval_email()
    assert [p["name"] for p in email.context["housing_partners"]] == [
        "MedStay Residences",
        "Campus Suites",
    ]
    message = render(email)
    html = message.alternatives[0][0]
    for part in (message.body, html):
        assert "Where to stay" in part
        assert "https://medstay.example.test/" in part
        assert "Ask for the Campus Suites student rate." in part
        assert "Northside Lodge" not in part


def test_the_approval_email_of_a_tele_rotation_has_no_housing(demo, attending, partners):
    rotation = booked_rotation(demo, attending, mode="tele")

    approve(demo, rotation)

    email = approval_email()
    assert email.context["housing_partners"] == []
    message = render(email)
    assert "Where to stay" not in message.body
    assert "MedStay" not in message.alternatives[0][0]


def test_the_student_sees_the_partners_on_an_approved_in_person_rotation(
    demo, attending, partners, client_for
):
    rotation = booked_rotation(demo, attending)
    approve(demo, rotation)

    page = client_for(demo["student"]).get(f"/rotations/{rotation.pk}/").content.decode()

    assert 'data-testid="housing-partners"' in page
    assert page.index("MedStay Residences") < page.index("Campus Suites")
    assert 'href="https://campus.example.test/"' in page
    assert "Northside Lodge" not in page


@pytest.mark.parametrize(
    ("mode", "status"),
    [("tele", "approved"), ("in_person", "requested"), ("in_person", "cancelled")],
)
def test_no_housing_on_tele_waiting_or_called_off_rotations(
    demo, attending, partners, client_for, mode, status
):
    rotation = booked_rotation(demo, attending, mode=mode, status=status)

    page = client_for(demo["student"]).get(f"/rotations/{rotation.pk}/").content.decode()

    assert "Where to stay" not in page
    assert "MedStay" not in page


def test_the_housing_section_is_the_students(demo, attending, partners, client_for):
    rotation = booked_rotation(demo, attending)
    approve(demo, rotation)

    page = client_for(demo["attending"]).get(f"/rotations/{rotation.pk}/").content.decode()

    assert "Where to stay" not in page


def test_an_organization_without_partners_shows_no_section(demo, attending, client_for):
    rotation = booked_rotation(demo, attending)
    approve(demo, rotation)

    page = client_for(demo["student"]).get(f"/rotations/{rotation.pk}/").content.decode()

    assert "Where to stay" not in page
    assert approval_email().context["housing_partners"] == []
