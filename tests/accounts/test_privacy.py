"""Privacy, DESIGN §3: a student's profile and CV are visible only to the student, the
organization's admins, and attendings with an approved or in-progress rotation with
them (a check the rotations app registers). Everyone else gets 404, never 403."""

import pytest
from django.http import Http404
from django_scopes import scope, scopes_disabled

from accounts import privacy
from accounts.privacy import (
    can_view_student,
    register_attending_relationship,
    visible_student_or_404,
)
from tests import factories
from tests.conftest import MINIMAL_PDF

pytestmark = pytest.mark.django_db


@pytest.fixture
def relationships():
    """Register attending relationship checks for one test only, then restore the list."""
    saved = list(privacy._attending_relationships)
    yield register_attending_relationship
    privacy._attending_relationships[:] = saved


@pytest.fixture
def other_student(demo):
    with scopes_disabled():
        return factories.StudentFactory(organization=demo["org"])


@pytest.fixture
def attending_of_student(demo, relationships):
    """The demo attending has a rotation with the demo student, and with no one else."""
    student, attending = demo["student"], demo["attending"]

    def has_rotation_with(viewer, target) -> bool:
        return viewer.pk == attending.pk and target.pk == student.pk

    relationships(has_rotation_with)
    return attending


def profile_id(membership) -> int:
    with scopes_disabled():
        return membership.profile.pk


def all_doors(client, membership):
    """The API, the page and the CV download for one student's profile."""
    pk = profile_id(membership)
    return {
        "api": client.get(f"/api/v1/students/{pk}"),
        "page": client.get(f"/students/{pk}/"),
        "cv": client.get(f"/students/{pk}/cv/"),
    }


def assert_all_404(responses: dict) -> None:
    assert {door: response.status_code for door, response in responses.items()} == {
        "api": 404,
        "page": 404,
        "cv": 404,
    }
    assert responses["api"].json() == {"detail": "Not found.", "code": "not_found"}
    for response in responses.values():
        assert MINIMAL_PDF not in response.content
        assert b"registrar@school.test" not in response.content


def assert_all_visible(responses: dict, student) -> None:
    assert {door: response.status_code for door, response in responses.items()} == {
        "api": 200,
        "page": 200,
        "cv": 200,
    }
    with scopes_disabled():
        email = student.user.email
    assert responses["api"].json()["email"] == email
    assert email in responses["page"].content.decode()
    assert responses["cv"]["Content-Type"] == "application/pdf"
    assert b"".join(responses["cv"].streaming_content) == MINIMAL_PDF


# --- The rule itself ----------------------------------------------------------------


def test_student_may_view_own_profile(demo):
    assert can_view_student(demo["student"], demo["student"]) is True


def test_student_may_not_view_another_student(demo, other_student):
    assert can_view_student(other_student, demo["student"]) is False


def test_admin_of_the_organization_may_view_its_students(demo):
    assert can_view_student(demo["admin"], demo["student"]) is True
    assert can_view_student(demo["admin"], demo["pending"]) is True


def test_attending_without_a_rotation_may_not_view_a_student(demo):
    assert can_view_student(demo["attending"], demo["student"]) is False


def test_attending_with_a_registered_relationship_may_view_that_student_only(
    demo, other_student, attending_of_student
):
    assert can_view_student(attending_of_student, demo["student"]) is True
    assert can_view_student(attending_of_student, other_student) is False


def test_relationship_checks_only_open_doors_for_attendings(demo, other_student, relationships):
    relationships(lambda viewer, target: True)

    assert can_view_student(demo["attending"], demo["student"]) is True
    assert can_view_student(other_student, demo["student"]) is False  # students never
    assert can_view_student(None, demo["student"]) is False


def test_another_organizations_admin_may_not_view_a_student(demo, northside, relationships):
    relationships(lambda viewer, target: True)  # even a relationship cannot cross tenants

    assert can_view_student(northside["admin"], demo["student"]) is False
    assert can_view_student(northside["attending"], demo["student"]) is False


def test_nobody_signed_in_may_view_a_student(demo):
    assert can_view_student(None, demo["student"]) is False


def test_visible_student_or_404_hides_students_from_those_who_may_not_see_them(
    demo, northside, other_student
):
    with scope(organization=demo["org"]):
        assert visible_student_or_404(demo["student"], demo["student"]) == demo["student"]
        assert visible_student_or_404(demo["admin"], demo["student"]) == demo["student"]
        for viewer in (other_student, demo["attending"], northside["admin"], None):
            with pytest.raises(Http404):
                visible_student_or_404(viewer, demo["student"])


def test_visible_student_or_404_is_only_for_students(demo):
    with scope(organization=demo["org"]), pytest.raises(Http404):
        visible_student_or_404(demo["admin"], demo["attending"])


def test_relationship_fixture_starts_from_what_the_apps_registered(relationships):
    """Guard for the fixture: no test's check leaks into the next test."""
    assert all(
        getattr(check, "__module__", "") != __name__ for check in privacy._attending_relationships
    )


# --- Through the API, the page and the CV download ----------------------------------


def test_student_sees_own_profile_and_cv(demo, client_for):
    assert_all_visible(all_doors(client_for(demo["student"]), demo["student"]), demo["student"])


def test_admin_sees_a_students_profile_and_cv(demo, client_for):
    assert_all_visible(all_doors(client_for(demo["admin"]), demo["student"]), demo["student"])


def test_another_student_gets_404_everywhere(demo, other_student, client_for):
    assert_all_404(all_doors(client_for(other_student), demo["student"]))


def test_attending_without_a_rotation_gets_404_everywhere(demo, client_for):
    assert_all_404(all_doors(client_for(demo["attending"]), demo["student"]))


def test_attending_with_a_rotation_sees_that_students_profile_and_cv(
    demo, other_student, attending_of_student, client_for
):
    client = client_for(attending_of_student)

    assert_all_visible(all_doors(client, demo["student"]), demo["student"])
    assert_all_404(all_doors(client, other_student))


def test_another_organizations_admin_gets_404_everywhere(demo, northside, client_for):
    assert_all_404(all_doors(client_for(northside["admin"]), demo["student"]))


def test_another_organizations_admin_sees_own_students(northside, client_for):
    assert_all_visible(
        all_doors(client_for(northside["admin"]), northside["student"]), northside["student"]
    )


def test_cv_of_a_student_without_one_is_404_even_for_admins(demo, client_for):
    with scopes_disabled():
        student = factories.StudentFactory(organization=demo["org"], profile__cv="")

    response = client_for(demo["admin"]).get(f"/students/{profile_id(student)}/cv/")

    assert response.status_code == 404


def test_a_cv_is_a_private_download_never_sniffed_or_cached(demo, client_for):
    """As every other upload (usdoctors.uploads.private_download): an attachment under
    our name, ``nosniff``, ``private, no-store``."""
    response = client_for(demo["admin"]).get(f"/students/{profile_id(demo['student'])}/cv/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert f'filename="cv-{profile_id(demo["student"])}.pdf"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
