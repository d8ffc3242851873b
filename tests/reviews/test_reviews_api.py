"""Reviews (DESIGN §15) through the API and the services: only the student of a
completed rotation reviews its attending, once, within 30 days; the review and the
attending's evaluation are revealed together (both in, or 14 days after completion);
the attending answers once; admins hide with a kept reason, and a hidden review stops
counting in the attending's summary. Every refusal is a clear 4xx with nothing saved;
another organization's ids answer 404."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from notifications.models import OutboundEmail
from reviews import services
from reviews.models import Review
from rotations.models import AttendingProfile
from tests import factories
from usdoctors.errors import NotAllowed

pytestmark = pytest.mark.django_db

NO_SUCH_ID = 987_654_321
REVIEW = {
    "teaching": 4,
    "would_recommend": True,
    "patient_contact": "some",
    "care_setting": "inpatient",
    "wrote_notes": True,
    "hours_per_week": 50,
    "letter": "promised",
    "text": "Rounds every morning; I presented two patients a day.",
}
EVALUATION_COMMENTS = "Reliable, kind with patients, presents clearly."


def reviews_path(attending) -> str:
    return f"/api/v1/attendings/{getattr(attending, 'pk', attending)}/reviews"


def everything() -> dict:
    """Every row a review call could change, to show nothing did."""
    with scopes_disabled():
        return {
            "reviews": sorted(
                Review.objects.values_list("pk", "teaching", "answer", "hidden_at", "hidden_reason")
            ),
            "summaries": sorted(
                AttendingProfile.objects.values_list(
                    "pk",
                    "review_count",
                    "review_average",
                    "review_recommend_count",
                    "review_no_contact_count",
                )
            ),
            "emails": OutboundEmail.objects.count(),
        }


def assert_refused(response, status: int, code: str, message: str, before: dict):
    body = response.json()
    assert response.status_code == status, body
    assert body["code"] == code
    assert message in body["detail"]
    assert everything() == before


@pytest.fixture
def reviewed_world(world):
    """In both organizations: the attending's profile and a clerkship the student
    completed with them 3 days ago (the evaluation written at completion)."""
    with scopes_disabled():
        for members in world.values():
            members["profile"] = factories.AttendingProfileFactory(
                organization=members["org"], membership=members["attending"]
            )
            members["rotation"] = factories.completed_rotation(
                attending=members["profile"],
                student=members["student"],
                completed_at=timezone.now() - timedelta(days=3),
            )
    return world


@pytest.fixture
def demo_r(reviewed_world):
    return reviewed_world["demo"]


@pytest.fixture
def northside_r(reviewed_world):
    return reviewed_world["northside"]


def post_review(api, members, rotation=None, **changes):
    rotation = rotation or members["rotation"]
    body = {"rotation": rotation.pk, **REVIEW, **changes}
    return api(members["student"]).post(reviews_path(rotation.attending_id), body)


def write(members, rotation=None, student=None, **changes) -> Review:
    """A review through the service, as the call would write it."""
    rotation = rotation or members["rotation"]
    with scope(organization=members["org"]):
        return services.write_review(
            rotation, by=student or rotation.student, **{**REVIEW, **changes}
        )


# --- Writing: who, when, once ---------------------------------------------------------


def test_the_student_of_a_completed_rotation_reviews_it(demo_r, api):
    response = post_review(api, demo_r)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert {key: body[key] for key in REVIEW} == REVIEW
    assert body["rotation"] == demo_r["rotation"].pk and body["revealed"] is True
    assert body["student_name"] == demo_r["student"].display_name
    with scopes_disabled():
        profile = AttendingProfile.objects.get(pk=demo_r["profile"].pk)
        assert [e.recipient for e in OutboundEmail.objects.filter(template="review_revealed")] == [
            demo_r["attending"].user.email
        ]
    assert (profile.review_count, profile.review_average) == (1, Decimal("4.00"))
    assert profile.review_recommend_count == 1


@pytest.mark.parametrize("status", ["approved", "in_progress", "cancelled", "requested"])
def test_a_rotation_that_is_not_completed_cannot_be_reviewed(demo_r, api, status):
    with scopes_disabled():
        rotation = factories.RotationFactory(
            attending=demo_r["profile"], student=demo_r["student"], status=status
        )
    before = everything()

    response = post_review(api, demo_r, rotation)

    assert_refused(
        response,
        409,
        "rotation_not_completed",
        "You can review a rotation once the attending has marked it completed.",
        before,
    )


def test_a_second_review_of_the_same_rotation_is_refused(demo_r, api):
    assert post_review(api, demo_r).status_code == 201
    before = everything()

    response = post_review(api, demo_r, teaching=1, text="Changed my mind.")

    assert_refused(
        response, 409, "already_reviewed", "You have already reviewed this rotation.", before
    )


def test_a_review_after_30_days_is_refused(demo_r, api):
    completed_at = demo_r["rotation"].completed_at
    with time_machine.travel(completed_at + timedelta(days=30, seconds=1), tick=False):
        before = everything()
        response = post_review(api, demo_r)

    assert_refused(
        response,
        409,
        "review_window_closed",
        "Reviews are open for 30 days after completion",
        before,
    )


def test_a_review_on_the_30th_day_is_accepted(demo_r, api):
    completed_at = demo_r["rotation"].completed_at
    with time_machine.travel(completed_at + timedelta(days=30, minutes=-1), tick=False):
        assert post_review(api, demo_r).status_code == 201


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("teaching", 0),
        ("teaching", 6),
        ("patient_contact", "lots"),
        ("hours_per_week", 0),
        ("hours_per_week", 121),
        ("letter", "maybe"),
        ("would_recommend", None),
    ],
)
def test_a_bad_field_is_refused_and_nothing_is_saved(demo_r, api, field, value):
    before = everything()

    response = post_review(api, demo_r, **{field: value})

    body = response.json()
    assert response.status_code == 400, body
    assert field in body["errors"]
    assert everything() == before


def test_only_the_rotations_student_reviews_it(demo_r, api):
    """Another student of the organization finds no such rotation (404); the attending
    and admins may not review (403); nothing is saved."""
    with scopes_disabled():
        other = factories.StudentFactory(organization=demo_r["org"])
    before = everything()
    body = {"rotation": demo_r["rotation"].pk, **REVIEW}
    path = reviews_path(demo_r["profile"])

    assert api(other).post(path, body).status_code == 404
    assert api(demo_r["attending"]).post(path, body).status_code == 403
    assert api(demo_r["admin"]).post(path, body).status_code == 403
    assert everything() == before
    with scope(organization=demo_r["org"]), pytest.raises(NotAllowed):
        services.write_review(demo_r["rotation"], by=other, **REVIEW)
    assert everything() == before


def test_another_organizations_attending_or_rotation_is_404(demo_r, northside_r, api):
    before = everything()
    # Northside's attending, from demo's site.
    response = api(demo_r["student"]).post(
        reviews_path(northside_r["profile"]), {"rotation": demo_r["rotation"].pk, **REVIEW}
    )
    assert response.status_code == 404
    # Demo's attending with northside's rotation id.
    response = api(demo_r["student"]).post(
        reviews_path(demo_r["profile"]), {"rotation": northside_r["rotation"].pk, **REVIEW}
    )
    assert response.status_code == 404
    assert api(demo_r["student"]).get(reviews_path(NO_SUCH_ID)).status_code == 404
    assert everything() == before


# --- Double-blind ---------------------------------------------------------------------


def unevaluated_completed_rotation(members, days_ago: int = 2):
    """A completed rotation whose evaluation is not in (say, written by an admin's data
    fix): the review waits for it, or for day 14."""
    with scopes_disabled():
        return factories.RotationFactory(
            attending=members["profile"],
            student=members["student"],
            status="completed",
            start=factories.next_monday(-4),
            completed_at=timezone.now() - timedelta(days=days_ago),
        )


def test_the_student_does_not_see_the_evaluation_before_reviewing(demo_r, api, client_for):
    rotation = demo_r["rotation"]

    body = api(demo_r["student"]).get(f"/api/v1/rotations/{rotation.pk}").json()
    assert body["evaluation"] is None
    assert body["experience_entry"]["activities"] == ""
    page = client_for(demo_r["student"]).get(f"/rotations/{rotation.pk}/").content.decode()
    assert EVALUATION_COMMENTS not in page
    assert 'data-testid="evaluation-sealed"' in page
    # The attending and admins read it meanwhile.
    for who in ("attending", "admin"):
        body = api(demo_r[who]).get(f"/api/v1/rotations/{rotation.pk}").json()
        assert body["evaluation"]["comments"] == EVALUATION_COMMENTS

    # Both in: both revealed at once.
    assert post_review(api, demo_r).status_code == 201
    body = api(demo_r["student"]).get(f"/api/v1/rotations/{rotation.pk}").json()
    assert body["evaluation"]["comments"] == EVALUATION_COMMENTS
    assert body["experience_entry"]["activities"].startswith("Took histories")
    seen = api(demo_r["attending"]).get(reviews_path(demo_r["profile"])).json()["results"]
    assert [review["text"] for review in seen] == [REVIEW["text"]]


def test_the_evaluation_shows_to_the_student_14_days_after_completion(demo_r, api):
    completed_at = demo_r["rotation"].completed_at
    path = f"/api/v1/rotations/{demo_r['rotation'].pk}"
    with time_machine.travel(completed_at + timedelta(days=14, minutes=-1), tick=False):
        assert api(demo_r["student"]).get(path).json()["evaluation"] is None
    with time_machine.travel(completed_at + timedelta(days=14), tick=False):
        body = api(demo_r["student"]).get(path).json()
    assert body["evaluation"]["comments"] == EVALUATION_COMMENTS


def test_the_attending_does_not_see_a_review_before_both_are_in_or_day_14(demo_r, api, client_for):
    rotation = unevaluated_completed_rotation(demo_r)
    review = write(demo_r, rotation)
    assert review.revealed_at == rotation.completed_at + timedelta(days=14)
    attending, student = demo_r["attending"], demo_r["student"]

    # Not the attending, not another student: neither the list, nor the rotation page,
    # nor the answer call (404, as for a review that does not exist).
    with scopes_disabled():
        other = factories.StudentFactory(organization=demo_r["org"])
    for who in (attending, other):
        assert api(who).get(reviews_path(demo_r["profile"])).json()["results"] == []
    page = client_for(attending).get(f"/rotations/{rotation.pk}/").content.decode()
    assert REVIEW["text"] not in page
    assert "Reviews are double-blind: you read it from" in page
    before = everything()
    response = api(attending).post(f"/api/v1/reviews/{review.pk}/answer", {"answer": "Thanks"})
    assert response.status_code == 404
    assert everything() == before
    # The author and admins read it.
    page = client_for(student).get(f"/rotations/{rotation.pk}/").content.decode()
    assert REVIEW["text"] in page
    admin_view = api(demo_r["admin"]).get(reviews_path(demo_r["profile"])).json()["results"]
    assert [(r["id"], r["revealed"]) for r in admin_view] == [(review.pk, False)]

    # Day 14: revealed to everyone.
    with time_machine.travel(review.revealed_at, tick=False):
        for who in (attending, other):
            seen = api(who).get(reviews_path(demo_r["profile"])).json()["results"]
            assert [r["text"] for r in seen] == [REVIEW["text"]]
        page = client_for(attending).get(f"/rotations/{rotation.pk}/").content.decode()
        assert REVIEW["text"] in page


def test_other_students_read_reviews_without_the_authors_name(demo_r, api):
    write(demo_r)
    with scopes_disabled():
        other = factories.StudentFactory(organization=demo_r["org"])

    [seen] = api(other).get(reviews_path(demo_r["profile"])).json()["results"]

    assert seen["student_name"] is None and seen["hidden_reason"] is None
    assert seen["rotation_type"] == "clerkship" and seen["patient_contact"] == "some"


# --- Answer ---------------------------------------------------------------------------


def test_the_attending_answers_once(demo_r, api):
    review = write(demo_r)
    path = f"/api/v1/reviews/{review.pk}/answer"

    response = api(demo_r["attending"]).post(path, {"answer": "Thank you for the feedback."})
    assert response.status_code == 200, response.json()
    assert response.json()["answer"] == "Thank you for the feedback."
    before = everything()

    response = api(demo_r["attending"]).post(path, {"answer": "One more thing."})
    assert_refused(
        response, 409, "already_answered", "You have already answered this review.", before
    )


def test_only_the_attending_answers_and_not_with_nothing(demo_r, api):
    review = write(demo_r)
    path = f"/api/v1/reviews/{review.pk}/answer"
    before = everything()

    assert api(demo_r["student"]).post(path, {"answer": "Me too"}).status_code == 403
    assert api(demo_r["admin"]).post(path, {"answer": "Admin"}).status_code == 403
    response = api(demo_r["attending"]).post(path, {"answer": "   "})
    assert response.status_code == 400
    assert everything() == before


# --- Hiding and the summary -----------------------------------------------------------


def test_a_hidden_review_stops_counting_in_the_averages(demo_r, api):
    first = write(demo_r, teaching=5)
    with scopes_disabled():
        second_rotation = factories.completed_rotation(
            attending=demo_r["profile"],
            student=factories.StudentFactory(organization=demo_r["org"]),
            completed_at=timezone.now() - timedelta(days=1),
        )
    write(demo_r, second_rotation, teaching=2, would_recommend=False)
    summary = api(demo_r["student"]).get(f"/api/v1/attendings/{demo_r['profile'].pk}").json()
    assert (summary["review_count"], summary["review_average"]) == (2, "3.50")
    assert summary["recommend_percent"] == 50

    response = api(demo_r["admin"]).post(
        f"/api/v1/reviews/{first.pk}/hide", {"reason": "Names another patient."}
    )

    assert response.status_code == 200, response.json()
    assert response.json()["hidden_reason"] == "Names another patient."
    summary = api(demo_r["student"]).get(f"/api/v1/attendings/{demo_r['profile'].pk}").json()
    assert (summary["review_count"], summary["review_average"]) == (1, "2.00")
    assert summary["recommend_percent"] == 0
    # Hidden from students and the attending; admins see it with the reason, kept.
    for who in ("student", "attending"):
        seen = api(demo_r[who]).get(reviews_path(demo_r["profile"])).json()["results"]
        assert first.pk not in [r["id"] for r in seen]
    admin_view = api(demo_r["admin"]).get(reviews_path(demo_r["profile"])).json()["results"]
    hidden = next(r for r in admin_view if r["id"] == first.pk)
    assert (hidden["hidden"], hidden["hidden_reason"]) == (True, "Names another patient.")
    with scopes_disabled():
        assert Review.objects.get(pk=first.pk).hidden_by_id == demo_r["admin"].pk


def test_hiding_needs_an_admin_and_a_reason_and_happens_once(demo_r, api):
    review = write(demo_r)
    path = f"/api/v1/reviews/{review.pk}/hide"
    before = everything()

    assert api(demo_r["attending"]).post(path, {"reason": "I disagree"}).status_code == 403
    assert api(demo_r["student"]).post(path, {"reason": "Oops"}).status_code == 403
    assert api(demo_r["admin"]).post(path, {"reason": " "}).status_code == 400
    assert everything() == before
    assert api(demo_r["admin"]).post(path, {"reason": "Abusive"}).status_code == 200
    before = everything()
    response = api(demo_r["admin"]).post(path, {"reason": "Again"})
    assert_refused(response, 409, "already_hidden", "This review is already hidden.", before)


def test_two_students_reporting_no_patient_contact_on_a_hands_on_type_flag_the_listing(demo_r, api):
    profile_path = f"/api/v1/attendings/{demo_r['profile'].pk}"
    # An observership is not hands-on: "none" there does not count.
    with scopes_disabled():
        observer = factories.completed_rotation(
            attending=demo_r["profile"],
            student=factories.StudentFactory(organization=demo_r["org"]),
            rotation_type="observership",
            completed_at=timezone.now() - timedelta(days=1),
        )
        second = factories.completed_rotation(
            attending=demo_r["profile"],
            student=factories.StudentFactory(organization=demo_r["org"]),
            rotation_type="externship",
            completed_at=timezone.now() - timedelta(days=1),
        )
    write(demo_r, observer, patient_contact="none")
    write(demo_r, patient_contact="none")
    assert api(demo_r["student"]).get(profile_path).json()["no_patient_contact_flag"] is False

    write(demo_r, second, patient_contact="none")

    assert api(demo_r["student"]).get(profile_path).json()["no_patient_contact_flag"] is True
    results = api(demo_r["student"]).get("/api/v1/attendings").json()["results"]
    assert [r["no_patient_contact_flag"] for r in results] == [True]


def test_best_reviewed_sorts_search_results(demo_r, api, client_for):
    with scopes_disabled():
        better = factories.AttendingProfileFactory(organization=demo_r["org"])
        unreviewed = factories.AttendingProfileFactory(organization=demo_r["org"])
        rotation = factories.completed_rotation(
            attending=better,
            student=demo_r["student"],
            start=factories.next_monday(-12),
            completed_at=timezone.now() - timedelta(days=1),
        )
    write(demo_r, teaching=3)
    write(demo_r, rotation, teaching=5)

    results = api(demo_r["student"]).get("/api/v1/attendings", {"sort": "reviewed"}).json()
    assert [r["id"] for r in results["results"]] == [
        better.pk,
        demo_r["profile"].pk,
        unreviewed.pk,
    ]
    page = client_for(demo_r["student"]).get("/attendings/", {"sort": "reviewed"})
    assert [hit.pk for hit in page.context["page_obj"]] == [
        better.pk,
        demo_r["profile"].pk,
        unreviewed.pk,
    ]
    assert "Best reviewed first." in page.content.decode()


def test_the_reviews_list_costs_a_fixed_number_of_queries(
    demo_r, api, client_for, django_assert_max_num_queries
):
    for _ in range(6):
        with scopes_disabled():
            rotation = factories.completed_rotation(
                attending=demo_r["profile"],
                student=factories.StudentFactory(organization=demo_r["org"]),
                completed_at=timezone.now() - timedelta(days=1),
            )
        write(demo_r, rotation)
    for who in ("student", "admin"):
        caller, browser = api(demo_r[who]), client_for(demo_r[who])
        with django_assert_max_num_queries(8):
            response = caller.get(reviews_path(demo_r["profile"]))
        assert response.json()["count"] == 6
        with django_assert_max_num_queries(10):
            page = browser.get(f"/attendings/{demo_r['profile'].pk}/reviews/")
        assert page.content.decode().count('class="review"') == 6
