"""Reviews in the browser pages (DESIGN §15): the rotation page's form refuses with the
reason and saves nothing; an admin hides a review from the attending's page with a kept
reason; the reviews list is reached from the attending's page."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from reviews import services
from reviews.models import Review
from tests import factories

pytestmark = pytest.mark.django_db

FORM = {
    "review-teaching": "3",
    "review-would_recommend": "no",
    "review-patient_contact": "none",
    "review-care_setting": "outpatient",
    "review-wrote_notes": "no",
    "review-hours_per_week": "20",
    "review-letter": "refused",
    "review-text": "Shadowing only.",
}


@pytest.fixture
def reviewed(demo):
    with scopes_disabled():
        profile = factories.AttendingProfileFactory(
            organization=demo["org"], membership=demo["attending"]
        )
        rotation = factories.completed_rotation(
            attending=profile,
            student=demo["student"],
            completed_at=timezone.now() - timedelta(days=2),
        )
    return {"profile": profile, "rotation": rotation}


def review_count() -> int:
    with scopes_disabled():
        return Review.objects.count()


def test_the_form_refuses_a_rotation_that_is_not_completed(demo, reviewed, client_for):
    with scopes_disabled():
        approved = factories.RotationFactory(
            attending=reviewed["profile"], student=demo["student"], status="approved"
        )

    response = client_for(demo["student"]).post(f"/rotations/{approved.pk}/review/", FORM)

    assert response.status_code == 409
    assert "once the attending has marked it completed" in response.content.decode()
    assert review_count() == 0


def test_the_form_shows_a_bad_field_next_to_it(demo, reviewed, client_for):
    response = client_for(demo["student"]).post(
        f"/rotations/{reviewed['rotation'].pk}/review/", {**FORM, "review-hours_per_week": "0"}
    )

    assert response.status_code == 400
    assert 'id="id_review-hours_per_week_error"' in response.content.decode()
    assert review_count() == 0


def test_a_second_review_through_the_page_is_refused(demo, reviewed, client_for):
    client = client_for(demo["student"])
    path = f"/rotations/{reviewed['rotation'].pk}/review/"
    assert client.post(path, FORM).status_code == 302

    response = client.post(path, {**FORM, "review-teaching": "5"})

    assert response.status_code == 409
    assert "You have already reviewed this rotation." in response.content.decode()
    with scopes_disabled():
        assert list(Review.objects.values_list("teaching", flat=True)) == [3]


def test_an_admin_hides_a_review_from_the_attendings_page(demo, reviewed, client_for):
    with scope(organization=demo["org"]):
        review = services.write_review(
            reviewed["rotation"],
            by=demo["student"],
            teaching=2,
            would_recommend=False,
            patient_contact="none",
            care_setting="outpatient",
            wrote_notes=False,
            hours_per_week=10,
            letter="refused",
            text="Shadowing only, never touched a chart.",
        )
    attending_page = f"/attendings/{reviewed['profile'].pk}/"
    admin = client_for(demo["admin"])
    page = admin.get(attending_page).content.decode()
    assert "Shadowing only, never touched a chart." in page
    assert f'action="/reviews/{review.pk}/hide/"' in page
    assert f'href="/attendings/{reviewed["profile"].pk}/reviews/"' in page
    # Not to students or the attending.
    for who in ("student", "attending"):
        assert "hide/" not in client_for(demo[who]).get(attending_page).content.decode()

    refused = admin.post(f"/reviews/{review.pk}/hide/", {"hide-reason": "", "next": attending_page})
    assert refused.status_code == 400
    response = admin.post(
        f"/reviews/{review.pk}/hide/",
        {"hide-reason": "Names the patient.", "next": attending_page},
    )

    assert response.status_code == 302
    assert response["Location"] == f"{attending_page}#review-{review.pk}"
    other = client_for(factories.StudentFactory(organization=demo["org"]))
    assert "Shadowing only" not in other.get(attending_page).content.decode()
    listing = admin.get(f"/attendings/{reviewed['profile'].pk}/reviews/").content.decode()
    assert "Names the patient." in listing and "Hidden by admins" in listing
    with scopes_disabled():
        reviewed["profile"].refresh_from_db()
    assert reviewed["profile"].review_count == 0


def test_a_student_may_not_hide_and_another_tenant_gets_404(demo, northside, reviewed, client_for):
    with scope(organization=demo["org"]):
        review = services.write_review(
            reviewed["rotation"],
            by=demo["student"],
            teaching=4,
            would_recommend=True,
            patient_contact="some",
            care_setting="both",
            wrote_notes=True,
            hours_per_week=40,
            letter="not_asked",
        )
    path = f"/reviews/{review.pk}/hide/"
    assert client_for(demo["student"]).post(path, {"hide-reason": "x"}).status_code == 403
    assert client_for(northside["admin"]).post(path, {"hide-reason": "x"}).status_code == 404
    with scopes_disabled():
        assert Review.objects.get(pk=review.pk).hidden_at is None


def test_seed_demo_gives_two_reviews_once_with_kept_summaries():
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())  # a second run adds nothing
    with scopes_disabled():
        reviews = Review.objects.filter(
            organization__slug="demo", student__user__email="student.verified@demo.test"
        ).select_related("attending")
        assert sorted((r.teaching, r.answer != "") for r in reviews) == [(2, False), (5, True)]
        for review in reviews:
            assert (review.attending.review_count, review.attending.review_average) == (
                1,
                review.teaching,
            )
