"""§3 privacy, with real rotations: an attending sees a student's profile (and CV) while
they share an approved or in-progress rotation, or while the student's request to them
is ``requested`` (§3's narrow addition: they decide knowing who asks); other attendings
and tenants get 404."""

from datetime import timedelta

import pytest
import time_machine
from django_scopes import scope, scopes_disabled

from accounts.privacy import can_view_student
from tests import factories


@pytest.fixture
def rotation_with(demo):
    def make(status):
        with scopes_disabled():
            return factories.RotationFactory(
                organization=demo["org"], student=demo["student"], status=status
            )

    return make


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "visible"),
    [
        ("requested", True),  # the requested attending decides knowing who asks (§3)
        ("approved", True),
        ("in_progress", True),
        ("on_hold", False),
        ("completed", False),
        ("declined", False),
        ("cancelled", False),
    ],
)
def test_attending_sees_the_student_only_during_a_request_or_an_approved_or_in_progress_rotation(
    status, visible, demo, rotation_with, client_for
):
    rotation = rotation_with(status)
    attending = rotation.attending.membership
    with scopes_disabled():
        profile_id = demo["student"].profile.pk
    assert can_view_student(attending, demo["student"]) is visible
    expected = 200 if visible else 404
    client = client_for(attending)
    assert client.get(f"/api/v1/students/{profile_id}").status_code == expected
    assert client.get(f"/students/{profile_id}/").status_code == expected
    assert client.get(f"/students/{profile_id}/cv/").status_code == expected


@pytest.mark.django_db
def test_other_attendings_and_other_tenants_get_404(demo, northside, rotation_with, client_for):
    rotation_with("approved")
    with scopes_disabled():
        profile_id = demo["student"].profile.pk
    for outsider in (demo["attending"], northside["attending"], northside["admin"]):
        client = client_for(outsider)
        assert client.get(f"/api/v1/students/{profile_id}").status_code == 404
        assert client.get(f"/students/{profile_id}/").status_code == 404


# --- §3's narrow addition, through the real transitions (issue 11) ----------------------


def profile_pages(profile_id: int) -> tuple[str, str, str]:
    return (
        f"/api/v1/students/{profile_id}",
        f"/students/{profile_id}/",
        f"/students/{profile_id}/cv/",
    )


def answers(client, profile_id: int) -> list[int]:
    return [client.get(path).status_code for path in profile_pages(profile_id)]


@pytest.fixture
def waiting_request(demo, pdf):
    """The demo student (with a CV) asked the demo attending for a rotation."""
    from accounts.models import StudentProfile

    with scopes_disabled():
        profile = StudentProfile.objects.get(membership=demo["student"])
        profile.cv = pdf()
        profile.save()
        attending = factories.AttendingProfileFactory(
            organization=demo["org"], membership=demo["attending"]
        )
        rotation = factories.RotationFactory(attending=attending, student=demo["student"])
    return {"rotation": rotation, "profile_id": profile.pk}


def end_request(rotation, how: str, demo) -> None:
    """Decline (the attending), withdraw (the student) or expire (the sweep, a day after
    the window), each through its service."""
    from rotations import services
    from rotations.tasks import remind_and_expire_requests

    with scope(organization=demo["org"].pk):
        if how == "declined":
            services.decline_rotation(rotation, by=demo["attending"], reason="Full that month.")
        elif how == "withdrawn":
            services.withdraw_rotation(rotation, by=demo["student"])
    if how == "expired":
        with time_machine.travel(rotation.respond_by + timedelta(hours=1), tick=False):
            remind_and_expire_requests()
    with scopes_disabled():
        rotation.refresh_from_db()
    assert rotation.status == how


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["declined", "withdrawn", "expired"])
def test_the_requested_attending_sees_profile_and_cv_while_waiting_and_404_after(
    how, demo, waiting_request, client_for
):
    attending = client_for(demo["attending"])
    profile_id = waiting_request["profile_id"]

    assert answers(attending, profile_id) == [200, 200, 200]
    # The rotation page links to the profile, so the attending finds it in the browser.
    page = attending.get(f"/rotations/{waiting_request['rotation'].pk}/").content.decode()
    assert f'href="/students/{profile_id}/"' in page

    end_request(waiting_request["rotation"], how, demo)

    assert answers(attending, profile_id) == [404, 404, 404]


@pytest.mark.django_db
def test_another_attending_never_sees_a_waiting_requests_student(
    demo, northside, waiting_request, client_for
):
    with scopes_disabled():
        colleague = factories.MembershipFactory(organization=demo["org"], role="attending")
        factories.AttendingProfileFactory(organization=demo["org"], membership=colleague)
    profile_id = waiting_request["profile_id"]
    for outsider in (colleague, northside["attending"]):
        assert answers(client_for(outsider), profile_id) == [404, 404, 404]


@pytest.mark.django_db
def test_an_ended_request_leaves_access_that_another_rotation_gives(
    demo, waiting_request, client_for
):
    """A declined request ends its own view only: an approved rotation with the same
    attending still shows the profile (§3)."""
    with scopes_disabled():
        factories.RotationFactory(
            attending=waiting_request["rotation"].attending,
            student=demo["student"],
            status="approved",
            start=factories.next_monday(8),
        )
    end_request(waiting_request["rotation"], "declined", demo)
    assert answers(client_for(demo["attending"]), waiting_request["profile_id"]) == [200, 200, 200]
