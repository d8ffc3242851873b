"""Profile verification, DESIGN §3: incomplete → pending → verified | needs_info | rejected,
through the API and the browser pages, with the admins' queue and its outbox emails."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from accounts import services
from accounts.models import Membership, ProfileReview
from notifications.models import OutboundEmail
from tests import factories
from usdoctors.errors import NotAllowed

pytestmark = pytest.mark.django_db

PROFILE_FORM = {
    "full_name": "Asha Karki",
    "kind": "img",
    "medical_school": "Manipal College of Medical Sciences",
    "country": "NP",
    "graduation_year": "2024",
    "school_contact_email": "registrar@school.test",
    "step1_result": "pass",
    "step1_date": "2024-06-01",
    "step2ck_score": "245",
    "step2ck_date": "2025-01-15",
    "toefl_score": "",
    "visa_status": "b1_b2",
    "specialty_interests": ["internal_medicine"],
    "phone": "+977 98 1234 5678",
}

ADMIN_ONLY_API_CALLS = [
    ("get", "/api/v1/admin/verification-queue", None),
    ("get", "/api/v1/admin/profiles/{profile_id}", None),
    ("post", "/api/v1/admin/profiles/{profile_id}/verify", {}),
    ("post", "/api/v1/admin/profiles/{profile_id}/request-info", {"message": "More please."}),
    ("post", "/api/v1/admin/profiles/{profile_id}/reject", {"reason": "Not a real school."}),
]

ADMIN_ONLY_PAGES = [
    ("get", "/manage/verification/", None),
    ("get", "/manage/verification/{profile_id}/", None),
    ("post", "/manage/verification/{profile_id}/verify/", {}),
    ("post", "/manage/verification/{profile_id}/request-info/", {"info-message": "More please."}),
    ("post", "/manage/verification/{profile_id}/reject/", {"reject-message": "Not real."}),
]


# --- helpers ------------------------------------------------------------------------


def reload(membership) -> Membership:
    with scopes_disabled():
        return Membership.objects.select_related("organization").get(pk=membership.pk)


def profile_id(membership) -> int:
    with scopes_disabled():
        return membership.profile.pk


def state(membership) -> dict:
    """Everything a verification decision may change, to prove a refusal changed nothing."""
    with scopes_disabled():
        fresh = Membership.objects.get(pk=membership.pk)
        return {
            "verification_status": fresh.verification_status,
            "submitted_at": fresh.submitted_at,
            "decided_at": fresh.decided_at,
            "status_message": fresh.status_message,
            "reviews": list(fresh.reviews.values_list("action", "message")),
            "emails": sorted(OutboundEmail.objects.values_list("pk", flat=True)),
        }


def emails(template: str, organization=None) -> list[OutboundEmail]:
    with scopes_disabled():
        rows = OutboundEmail.objects.filter(template=template).order_by("pk")
        if organization is not None:
            rows = rows.filter(organization=organization)
        return list(rows)


def email_of(membership) -> str:
    with scopes_disabled():
        return membership.user.email


def api_post(client, path: str, data=None):
    return client.post(path, data or {}, content_type="application/json")


def api_patch(client, data: dict):
    return client.patch("/api/v1/profile", data, content_type="application/json")


def page_text(response) -> str:
    return response.content.decode()


@pytest.fixture
def half_done_student(demo):
    """Signed up, filled part of the profile: no school contact email, no CV."""
    with scopes_disabled():
        return factories.StudentFactory(
            organization=demo["org"],
            verification_status="incomplete",
            profile__school_contact_email="",
            profile__cv="",
        )


@pytest.fixture
def ready_student(demo):
    """Every required field filled, not submitted yet."""
    with scopes_disabled():
        return factories.StudentFactory(organization=demo["org"], verification_status="incomplete")


@pytest.fixture
def second_admin(demo):
    with scopes_disabled():
        return factories.MembershipFactory(organization=demo["org"], role="admin")


@pytest.fixture
def needs_info_student(demo, client_for):
    """A pending student an admin asked for more information."""
    response = api_post(
        client_for(demo["admin"]),
        f"/api/v1/admin/profiles/{profile_id(demo['pending'])}/request-info",
        {"message": "Your CV is missing your clerkships."},
    )
    assert response.status_code == 200
    return demo["pending"]


# --- Submitting (API) ---------------------------------------------------------------


def test_submit_with_missing_fields_names_them_and_changes_nothing(half_done_student, client_for):
    before = state(half_done_student)

    response = api_post(client_for(half_done_student), "/api/v1/profile/submit")

    assert response.status_code == 400
    assert response.json() == {
        "detail": "Fill these fields before submitting: school contact email, CV.",
        "code": "profile_incomplete",
    }
    assert state(half_done_student) == before
    assert before["verification_status"] == "incomplete"
    assert before["submitted_at"] is None


def test_submit_of_an_empty_profile_names_every_required_field(demo, client_for):
    with scopes_disabled():
        student = factories.StudentFactory(
            organization=demo["org"], verification_status="incomplete", profile=False
        )

    response = api_post(client_for(student), "/api/v1/profile/submit")

    assert response.status_code == 400
    assert response.json()["detail"] == (
        "Fill these fields before submitting: full name, current student or graduate, "
        "medical school, country, graduation year, school contact email, visa status, CV."
    )
    assert reload(student).verification_status == "incomplete"


def test_submit_complete_profile_makes_it_pending_and_queues_email_to_each_admin(
    ready_student, second_admin, demo, northside, client_for
):
    with time_machine.travel(timezone.now(), tick=False):
        now = timezone.now()
        response = api_post(client_for(ready_student), "/api/v1/profile/submit")

    assert response.status_code == 200
    assert response.json()["verification_status"] == "pending"
    membership = reload(ready_student)
    assert membership.verification_status == "pending"
    assert membership.submitted_at == now
    awaiting = emails("profile_awaiting_verification")
    assert sorted(row.recipient for row in awaiting) == sorted(
        [email_of(demo["admin"]), email_of(second_admin)]
    )
    assert email_of(northside["admin"]) not in [row.recipient for row in awaiting]
    assert {row.context["student_email"] for row in awaiting} == {email_of(ready_student)}
    assert all(row.organization_id == demo["org"].pk for row in awaiting)
    with scopes_disabled():
        assert list(membership.reviews.values_list("action", flat=True)) == ["submitted"]


def test_submit_while_pending_is_a_conflict(demo, client_for):
    before = state(demo["pending"])

    response = api_post(client_for(demo["pending"]), "/api/v1/profile/submit")

    assert response.status_code == 409
    assert response.json()["code"] == "profile_locked"
    assert state(demo["pending"]) == before


# --- Editing locks while under review (API) -----------------------------------------


def test_profile_patch_while_pending_is_locked(demo, client_for):
    with scopes_disabled():
        name_before = demo["pending"].profile.full_name
    before = state(demo["pending"])

    response = api_patch(client_for(demo["pending"]), {"full_name": "Someone Else"})

    assert response.status_code == 409
    assert response.json() == {
        "detail": "Your profile is being reviewed and cannot change until an admin decides.",
        "code": "profile_locked",
    }
    with scopes_disabled():
        demo["pending"].profile.refresh_from_db()
        assert demo["pending"].profile.full_name == name_before
    assert state(demo["pending"]) == before


def test_profile_patch_once_verified_is_locked_and_points_to_support(demo, client_for):
    response = api_patch(client_for(demo["student"]), {"full_name": "Someone Else"})

    assert response.status_code == 409
    assert response.json() == {
        "detail": "Your profile is verified; open a support ticket to change it.",
        "code": "profile_locked",
    }


def test_profile_get_shows_own_status(demo, client_for):
    response = client_for(demo["pending"]).get("/api/v1/profile")

    assert response.status_code == 200
    body = response.json()
    assert body["verification_status"] == "pending"
    assert body["email"] == email_of(demo["pending"])
    assert body["missing_fields"] == []


# --- Admin decisions (API) ----------------------------------------------------------


def test_admin_verify_makes_profile_verified_and_emails_the_student(demo, client_for):
    response = api_post(
        client_for(demo["admin"]), f"/api/v1/admin/profiles/{profile_id(demo['pending'])}/verify"
    )

    assert response.status_code == 200
    assert response.json()["verification_status"] == "verified"
    membership = reload(demo["pending"])
    assert membership.verification_status == "verified"
    assert membership.decided_at is not None
    assert [row.recipient for row in emails("profile_verified")] == [email_of(demo["pending"])]
    with scopes_disabled():
        review = membership.reviews.get(action="verified")
        assert review.by_id == demo["admin"].pk


def test_request_info_makes_profile_needs_info_and_emails_the_message(demo, client_for):
    text = "Please upload a CV that lists your clerkships."

    response = api_post(
        client_for(demo["admin"]),
        f"/api/v1/admin/profiles/{profile_id(demo['pending'])}/request-info",
        {"message": text},
    )

    assert response.status_code == 200
    assert response.json()["verification_status"] == "needs_info"
    assert response.json()["status_message"] == text
    assert reload(demo["pending"]).verification_status == "needs_info"
    [row] = emails("profile_needs_info")
    assert row.recipient == email_of(demo["pending"])
    assert row.context["message"] == text


def test_request_info_without_a_message_changes_nothing(demo, client_for):
    before = state(demo["pending"])

    response = api_post(
        client_for(demo["admin"]),
        f"/api/v1/admin/profiles/{profile_id(demo['pending'])}/request-info",
        {"message": ""},
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["detail"] == "message: This field may not be blank."
    assert state(demo["pending"]) == before


def test_needs_info_student_can_edit_and_resubmit_to_pending(needs_info_student, client_for):
    client = client_for(needs_info_student)
    first_submission = reload(needs_info_student).submitted_at

    edited = api_patch(client, {"full_name": "Asha K. Karki"})
    with time_machine.travel(timezone.now() + timedelta(hours=2), tick=False):
        resubmitted = api_post(client, "/api/v1/profile/submit")

    assert edited.status_code == 200
    assert resubmitted.status_code == 200
    membership = reload(needs_info_student)
    assert membership.verification_status == "pending"
    assert membership.submitted_at > first_submission
    assert membership.status_message == ""
    assert len(emails("profile_awaiting_verification")) == 1


def test_reject_without_reason_changes_nothing(demo, client_for):
    before = state(demo["pending"])
    client = client_for(demo["admin"])
    path = f"/api/v1/admin/profiles/{profile_id(demo['pending'])}/reject"

    missing = api_post(client, path, {})
    blank = api_post(client, path, {"reason": "   "})

    assert missing.status_code == 400
    assert missing.json() == {
        "detail": "reason: This field is required.",
        "code": "invalid",
        "errors": {"reason": ["This field is required."]},
    }
    assert blank.status_code == 400
    assert blank.json()["detail"] == "reason: This field may not be blank."
    assert state(demo["pending"]) == before


def test_reject_with_reason_makes_profile_rejected_and_tells_the_student_why(demo, client_for):
    reason = "The medical school is not listed in the World Directory."

    response = api_post(
        client_for(demo["admin"]),
        f"/api/v1/admin/profiles/{profile_id(demo['pending'])}/reject",
        {"reason": reason},
    )

    assert response.status_code == 200
    membership = reload(demo["pending"])
    assert membership.verification_status == "rejected"
    assert membership.status_message == reason
    [row] = emails("profile_rejected")
    assert row.recipient == email_of(demo["pending"])
    assert row.context["message"] == reason


@pytest.mark.parametrize(
    ("decision", "body"),
    [("verify", {}), ("request-info", {"message": "More."}), ("reject", {"reason": "No."})],
)
@pytest.mark.parametrize("status", ["incomplete", "needs_info", "verified", "rejected"])
def test_deciding_a_profile_that_is_not_pending_is_a_conflict(
    demo, client_for, decision, body, status
):
    with scopes_disabled():
        student = factories.StudentFactory(organization=demo["org"], verification_status=status)
    before = state(student)

    response = api_post(
        client_for(demo["admin"]),
        f"/api/v1/admin/profiles/{profile_id(student)}/{decision}",
        body,
    )

    assert response.status_code == 409
    assert response.json() == {
        "detail": "This profile is not awaiting verification "
        f"(it is {reload(student).get_verification_status_display().lower()}).",
        "code": "not_pending",
    }
    assert state(student) == before


@pytest.mark.parametrize("role", ["student", "attending"])
@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ONLY_API_CALLS)
def test_only_admins_may_use_admin_api_calls(demo, client_for, role, method, path, body):
    before = state(demo["pending"])
    client = client_for(demo[role])
    url = path.format(profile_id=profile_id(demo["pending"]))

    if method == "get":
        response = client.get(url)
    else:
        response = api_post(client, url, body)

    assert response.status_code == 403
    assert response.json() == {
        "detail": "Only this organization's admins can use this call.",
        "code": "permission_denied",
    }
    assert state(demo["pending"]) == before


@pytest.mark.parametrize("decision", ["verify", "request-info", "reject"])
def test_admin_deciding_another_organizations_profile_gets_404(
    demo, northside, client_for, decision
):
    before = state(northside["pending"])

    response = api_post(
        client_for(demo["admin"]),
        f"/api/v1/admin/profiles/{profile_id(northside['pending'])}/{decision}",
        {"message": "x", "reason": "x"},
    )

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}
    assert state(northside["pending"]) == before


# --- The queue (API) ----------------------------------------------------------------


def test_queue_lists_pending_profiles_oldest_first_with_age_and_target(demo, northside, client_for):
    now = timezone.now()
    with scopes_disabled():
        made = {
            hours: factories.StudentFactory(
                organization=demo["org"],
                pending=True,
                submitted_at=now - timedelta(hours=hours),
                profile__cv="",
            )
            for hours in (2, 30, 10)
        }
        factories.StudentFactory(organization=demo["org"], verification_status="needs_info")
        factories.StudentFactory(organization=demo["org"], verification_status="incomplete")

    with time_machine.travel(now, tick=False):
        response = client_for(demo["admin"]).get("/api/v1/admin/verification-queue")

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["email"] for row in rows] == [
        email_of(made[30]),
        email_of(made[10]),
        email_of(made[2]),
        email_of(demo["pending"]),  # submitted just before the clock stopped
    ]
    assert [row["age_hours"] for row in rows[:3]] == [30.0, 10.0, 2.0]
    assert [row["overdue"] for row in rows] == [True, False, False, False]
    assert {row["target_hours"] for row in rows} == {24}
    assert rows[0]["profile_id"] == profile_id(made[30])
    assert email_of(northside["pending"]) not in [row["email"] for row in rows]


def test_queue_target_follows_the_organization_setting(demo, client_for):
    now = timezone.now()
    with scopes_disabled():
        demo["org"].verification_target_hours = 8
        demo["org"].save(update_fields=["verification_target_hours"])
        factories.StudentFactory(
            organization=demo["org"], pending=True, submitted_at=now - timedelta(hours=10)
        )

    with time_machine.travel(now, tick=False):
        rows = client_for(demo["admin"]).get("/api/v1/admin/verification-queue").json()["results"]

    assert [(row["target_hours"], row["overdue"]) for row in rows] == [(8, True), (8, False)]


def add_pending_students(organization, count: int) -> None:
    with scopes_disabled():
        start = timezone.now() - timedelta(hours=count)
        for index in range(count):
            factories.StudentFactory(
                organization=organization,
                pending=True,
                submitted_at=start + timedelta(hours=index),
                profile__cv="",
            )


QUEUE_QUERY_LIMIT = 12


def test_queue_api_query_count_does_not_grow_with_rows(
    demo, client_for, django_assert_max_num_queries
):
    client = client_for(demo["admin"])
    with CaptureQueriesContext(connection) as one_row:
        assert len(client.get("/api/v1/admin/verification-queue").json()["results"]) == 1

    add_pending_students(demo["org"], 30)
    with django_assert_max_num_queries(QUEUE_QUERY_LIMIT) as many_rows:
        response = client.get("/api/v1/admin/verification-queue")

    assert len(response.json()["results"]) == 31
    assert len(many_rows.captured_queries) == len(one_row.captured_queries)


def test_queue_page_query_count_does_not_grow_with_rows(
    demo, client_for, django_assert_max_num_queries
):
    client = client_for(demo["admin"])
    with CaptureQueriesContext(connection) as one_row:
        assert client.get("/manage/verification/").status_code == 200

    add_pending_students(demo["org"], 30)
    with django_assert_max_num_queries(QUEUE_QUERY_LIMIT) as many_rows:
        response = client.get("/manage/verification/")

    assert page_text(response).count("Review<span") == 31
    assert len(many_rows.captured_queries) == len(one_row.captured_queries)


# --- Who may request rotations ------------------------------------------------------


def test_require_verified_student_refuses_a_pending_student_with_why_and_what_to_do(demo):
    with scopes_disabled():
        pending = Membership.objects.select_related("organization").get(pk=demo["pending"].pk)

    with scope(organization=demo["org"]), pytest.raises(NotAllowed) as refused:
        services.require_verified_student(pending)

    assert refused.value.status_code == 403
    assert refused.value.message == "Your profile is pending verification; allow up to 24 hours."
    assert refused.value.code == "profile_pending"


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("incomplete", "Your profile is incomplete; finish and submit it for verification first."),
        (
            "needs_info",
            "An admin asked for more information; update your profile and submit it again.",
        ),
        (
            "rejected",
            "Your profile was not verified; open a support ticket if you think this is a mistake.",
        ),
    ],
)
def test_require_verified_student_refuses_other_unverified_states(demo, status, message):
    with scopes_disabled():
        student = factories.StudentFactory(organization=demo["org"], verification_status=status)

    with scope(organization=demo["org"]), pytest.raises(NotAllowed) as refused:
        services.require_verified_student(student)

    assert refused.value.message == message


def test_require_verified_student_lets_a_verified_student_through_and_no_one_else(demo):
    with scope(organization=demo["org"]):
        assert services.require_verified_student(demo["student"]) == demo["student"]
        for other in (demo["attending"], demo["admin"], None):
            with pytest.raises(NotAllowed) as refused:
                services.require_verified_student(other)
            assert refused.value.code == "not_a_student"


# --- The same rules through the browser pages ---------------------------------------


def test_profile_form_submit_button_moves_a_complete_profile_to_pending(
    ready_student, demo, client_for
):
    response = client_for(ready_student).post("/profile/", {**PROFILE_FORM, "submit": ""})

    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    membership = reload(ready_student)
    assert membership.verification_status == "pending"
    assert membership.submitted_at is not None
    assert [row.recipient for row in emails("profile_awaiting_verification")] == [
        email_of(demo["admin"])
    ]
    with scopes_disabled():
        assert membership.profile.full_name == "Asha Karki"


def test_profile_form_submit_with_missing_fields_saves_a_draft_and_says_what_is_missing(
    half_done_student, client_for
):
    client = client_for(half_done_student)
    data = {**PROFILE_FORM, "school_contact_email": "", "submit": ""}

    response = client.post("/profile/", data, follow=True)

    assert response.redirect_chain == [("/profile/", 302)]
    assert (
        "Saved, not submitted yet. Fill these fields before submitting: "
        "school contact email, CV." in page_text(response)
    )
    membership = reload(half_done_student)
    assert membership.verification_status == "incomplete"
    assert membership.submitted_at is None
    assert emails("profile_awaiting_verification") == []
    with scopes_disabled():
        assert membership.profile.full_name == "Asha Karki"  # the draft itself is kept


def test_profile_form_while_pending_changes_nothing(demo, client_for):
    with scopes_disabled():
        name_before = demo["pending"].profile.full_name
    before = state(demo["pending"])

    response = client_for(demo["pending"]).post(
        "/profile/", {**PROFILE_FORM, "save": ""}, follow=True
    )

    assert response.status_code == 200
    assert "cannot change until an admin decides" in page_text(response)
    assert state(demo["pending"]) == before
    with scopes_disabled():
        demo["pending"].profile.refresh_from_db()
        assert demo["pending"].profile.full_name == name_before


def test_needs_info_student_sees_the_message_and_resubmits_through_the_form(
    needs_info_student, client_for
):
    client = client_for(needs_info_student)

    page = client.get("/profile/")
    response = client.post("/profile/", {**PROFILE_FORM, "submit": ""})

    assert "Your CV is missing your clerkships." in page_text(page)
    assert 'name="submit"' in page_text(page)
    assert response.status_code == 302
    assert reload(needs_info_student).verification_status == "pending"


def test_queue_page_lists_pending_profiles_oldest_first(demo, northside, client_for):
    now = timezone.now()
    with scopes_disabled():
        older = factories.StudentFactory(
            organization=demo["org"],
            pending=True,
            submitted_at=now - timedelta(hours=30),
            profile__full_name="Oldest Waiting",
        )

    response = client_for(demo["admin"]).get("/manage/verification/")

    text = page_text(response)
    assert response.status_code == 200
    assert "decide within 24 hours" in text
    assert text.index("Oldest Waiting") < text.index(email_of(demo["pending"]))
    assert "past 24 h" in text  # the overdue one is marked
    assert text.count("past 24 h") == 1
    assert f"/manage/verification/{profile_id(older)}/" in text
    assert email_of(northside["pending"]) not in text


def test_review_page_offers_decisions_only_while_pending(demo, client_for):
    client = client_for(demo["admin"])

    pending = client.get(f"/manage/verification/{profile_id(demo['pending'])}/")
    verified = client.get(f"/manage/verification/{profile_id(demo['student'])}/")

    assert pending.status_code == 200
    assert "Verify profile" in page_text(pending)
    assert verified.status_code == 200
    assert "Verify profile" not in page_text(verified)


def test_admin_verifies_through_the_review_page(demo, client_for):
    response = client_for(demo["admin"]).post(
        f"/manage/verification/{profile_id(demo['pending'])}/verify/"
    )

    assert response.status_code == 302
    assert response["Location"] == "/manage/verification/"
    assert reload(demo["pending"]).verification_status == "verified"
    assert [row.recipient for row in emails("profile_verified")] == [email_of(demo["pending"])]


def test_admin_requests_info_through_the_review_page(demo, client_for):
    text = "Add the date you passed Step 1."

    response = client_for(demo["admin"]).post(
        f"/manage/verification/{profile_id(demo['pending'])}/request-info/",
        {"info-message": text},
    )

    assert response.status_code == 302
    membership = reload(demo["pending"])
    assert membership.verification_status == "needs_info"
    assert membership.status_message == text
    [row] = emails("profile_needs_info")
    assert row.recipient == email_of(demo["pending"])
    assert row.context["message"] == text


def test_reject_page_without_reason_changes_nothing(demo, client_for):
    before = state(demo["pending"])
    review_url = f"/manage/verification/{profile_id(demo['pending'])}/"

    response = client_for(demo["admin"]).post(
        f"{review_url}reject/", {"reject-message": "  "}, follow=True
    )

    assert response.redirect_chain == [(review_url, 302)]
    assert "Give the student a reason." in page_text(response)
    assert state(demo["pending"]) == before


def test_admin_rejects_with_reason_through_the_review_page(demo, client_for):
    response = client_for(demo["admin"]).post(
        f"/manage/verification/{profile_id(demo['pending'])}/reject/",
        {"reject-message": "We could not confirm your enrolment."},
    )

    assert response.status_code == 302
    membership = reload(demo["pending"])
    assert membership.verification_status == "rejected"
    assert membership.status_message == "We could not confirm your enrolment."
    assert [row.context["message"] for row in emails("profile_rejected")] == [
        "We could not confirm your enrolment."
    ]


@pytest.mark.parametrize("decision", ["verify", "request-info", "reject"])
def test_deciding_a_verified_profile_through_the_page_changes_nothing(demo, client_for, decision):
    before = state(demo["student"])
    review_url = f"/manage/verification/{profile_id(demo['student'])}/"

    response = client_for(demo["admin"]).post(
        f"{review_url}{decision}/",
        {"info-message": "More.", "reject-message": "No."},
        follow=True,
    )

    assert response.redirect_chain == [(review_url, 302)]
    assert "This profile is not awaiting verification (it is verified)." in page_text(response)
    assert state(demo["student"]) == before


@pytest.mark.parametrize("role", ["student", "attending"])
@pytest.mark.parametrize(("method", "path", "data"), ADMIN_ONLY_PAGES)
def test_only_admins_may_open_verification_pages(demo, client_for, role, method, path, data):
    before = state(demo["pending"])
    client = client_for(demo[role])
    url = path.format(profile_id=profile_id(demo["pending"]))

    response = client.get(url) if method == "get" else client.post(url, data)

    assert response.status_code == 403
    assert "This page is for admins." in page_text(response)
    assert state(demo["pending"]) == before


def test_admin_page_for_another_organizations_profile_is_404(demo, northside, client_for):
    before = state(northside["pending"])
    client = client_for(demo["admin"])
    other = profile_id(northside["pending"])

    review = client.get(f"/manage/verification/{other}/")
    decide = client.post(f"/manage/verification/{other}/verify/")

    assert review.status_code == 404
    assert decide.status_code == 404
    assert state(northside["pending"]) == before


def test_decision_history_is_recorded_in_order(needs_info_student, demo, client_for):
    api_post(client_for(needs_info_student), "/api/v1/profile/submit")
    api_post(
        client_for(demo["admin"]),
        f"/api/v1/admin/profiles/{profile_id(needs_info_student)}/verify",
    )

    with scopes_disabled():
        history = list(
            ProfileReview.objects.filter(membership=needs_info_student).values_list(
                "action", flat=True
            )
        )
    assert history == ["info_requested", "submitted", "verified"]


def test_review_page_keeps_the_admins_navigation_not_the_students(demo, client_for):
    """The reviewed student's membership must not stand in for the viewer's: the menu
    once showed the student's links (My profile, Documents, Payments), each a 403."""
    response = client_for(demo["admin"]).get(f"/manage/verification/{profile_id(demo['pending'])}/")

    text = page_text(response)
    assert response.status_code == 200
    assert 'href="/manage/verification/">Verification queue</a>' in text
    assert 'href="/profile/"' not in text
    assert 'href="/payments/"' not in text
    assert "Pending" in text  # the student's own status is still shown
