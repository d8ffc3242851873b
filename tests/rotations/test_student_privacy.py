"""§3 privacy, with real rotations: an attending sees a student's profile (and CV) while
they share an approved or in-progress rotation, or while the student's request to them
is ``requested`` (§3's narrow addition: they decide knowing who asks); other attendings
and tenants get 404."""

import pytest
from django_scopes import scopes_disabled

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
