"""Requirements and eligibility through the API and the pages (DESIGN §13, §12): a
refused request leaves nothing behind, the eligibility endpoint, the attending's
settings page and API, the admins' defaults, and search saying who qualifies."""

import pytest
from django_scopes import scopes_disabled

from notifications.models import OutboundEmail
from payments.models import Invoice
from rotations.models import Requirement, Rotation
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def attending(demo, northside):
    with scopes_disabled():
        profile = factories.AttendingProfileFactory(
            organization=demo["org"], membership=demo["attending"]
        )
        factories.publish(profile, factories.next_monday(2), 4)
        Requirement.objects.create(
            organization=demo["org"],
            attending=profile,
            rotation_type="clerkship",
            toefl_minimum=100,
            step1_required=True,
        )
    return profile


@pytest.fixture
def northside_attending(northside):
    with scopes_disabled():
        return factories.AttendingProfileFactory(
            organization=northside["org"], membership=northside["attending"]
        )


def counts() -> tuple:
    with scopes_disabled():
        return (Rotation.objects.count(), Invoice.objects.count(), OutboundEmail.objects.count())


def set_profile(student, **fields):
    with scopes_disabled():
        for name, value in fields.items():
            setattr(student.profile, name, value)
        student.profile.save()


def test_a_refused_request_lists_every_unmet_item_and_leaves_nothing_behind(demo, attending, api):
    set_profile(demo["student"], toefl_score=95)
    before = counts()
    response = api(demo["student"]).post(
        "/api/v1/rotations",
        {
            "attending": attending.pk,
            "rotation_type": "clerkship",
            "mode": "in_person",
            "start": factories.next_monday(2).isoformat(),
            "weeks": 2,
            "payer": "self",
            "plan": "full",
            "payment_method": "zelle",
        },
    )
    body = response.json()
    assert response.status_code == 403, body
    assert body["code"] == "not_eligible"
    assert [item["code"] for item in body["unmet"]] == ["step1_needed", "toefl_needed"]
    assert "TOEFL 100 needed, you have 95." in body["detail"]
    assert "USMLE Step 1 pass needed" in body["detail"]
    assert counts() == before  # no rotation, invoice or email


def test_the_request_form_shows_every_unmet_item_and_sends_nothing(demo, attending, client_for):
    set_profile(demo["student"], toefl_score=95)
    before = counts()
    response = client_for(demo["student"]).post(
        f"/attendings/{attending.pk}/request/",
        {
            "rotation_type": "clerkship",
            "mode": "in_person",
            "start": factories.next_monday(2).isoformat(),
            "weeks": 2,
            "payer": "self",
            "plan": "full",
            "payment_method": "zelle",
            "confirmed_total": "1000.00",  # 2 weeks at $500, Zelle: no card fee
        },
    )
    html = response.content.decode()
    assert response.status_code == 403, html
    assert "TOEFL 100 needed, you have 95." in html
    assert "USMLE Step 1 pass needed" in html
    assert counts() == before


def test_the_eligibility_endpoint_answers_per_type(demo, attending, api):
    set_profile(demo["student"], toefl_score=95)
    response = api(demo["student"]).get(f"/api/v1/attendings/{attending.pk}/eligibility")
    body = response.json()
    assert response.status_code == 200, body
    by_type = {answer["rotation_type"]: answer for answer in body["types"]}
    assert list(by_type) == ["clerkship", "elective", "externship", "observership"]
    assert [item["message"] for item in by_type["clerkship"]["unmet"]] == [
        "USMLE Step 1 pass needed, you have not taken it.",
        "TOEFL 100 needed, you have 95.",
    ]
    assert by_type["externship"]["eligible"] and body["eligible"]
    one = api(demo["student"]).get(
        f"/api/v1/attendings/{attending.pk}/eligibility", {"rotation_type": "clerkship"}
    )
    assert [answer["rotation_type"] for answer in one.json()["types"]] == ["clerkship"]
    assert one.json()["eligible"] is False


def test_the_eligibility_endpoint_refuses_bad_input_other_tenants_and_non_students(
    demo, northside, attending, northside_attending, api
):
    student = api(demo["student"])
    assert student.get(f"/api/v1/attendings/{northside_attending.pk}/eligibility").status_code == (
        404
    )
    bad = student.get(f"/api/v1/attendings/{attending.pk}/eligibility", {"rotation_type": "x"})
    assert bad.status_code == 400 and "rotation_type" in bad.json()["errors"]
    refused = api(demo["attending"]).get(f"/api/v1/attendings/{attending.pk}/eligibility")
    assert refused.status_code == 403


def test_the_attending_puts_their_requirements_and_only_theirs(demo, attending, api):
    url = f"/api/v1/attendings/{attending.pk}/requirements/observership"
    response = api(demo["attending"]).put(
        url, {"certificates": ["bls"], "application_fee": "75.00", "housing_included": True}
    )
    body = response.json()
    assert response.status_code == 200, body
    assert (body["source"], body["certificates"], body["application_fee"]) == (
        "attending",
        ["bls"],
        "75.00",
    )
    listed = api(demo["student"]).get(f"/api/v1/attendings/{attending.pk}/requirements").json()
    assert {row["rotation_type"]: row["source"] for row in listed}["observership"] == "attending"
    with scopes_disabled():
        other = factories.AttendingProfileFactory(organization=demo["org"])
    assert api(other.membership).put(url, {"housing_included": False}).status_code == 403
    assert api(demo["student"]).put(url, {"housing_included": False}).status_code == 403
    with scopes_disabled():
        assert Requirement.objects.get(
            attending=attending, rotation_type="observership"
        ).housing_included


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"toefl_minimum": 121}, "toefl_minimum"),
        ({"application_fee": "-1"}, "application_fee"),
        ({"certificates": ["cpr"]}, "certificates"),
        ({"graduates": "within_years"}, "graduated_within_years"),
        ({"step2ck_minimum_score": 240}, "step2ck_minimum_score"),
    ],
)
def test_bad_requirements_answer_400_with_the_field_and_save_nothing(
    demo, attending, api, body, field
):
    response = api(demo["attending"]).put(
        f"/api/v1/attendings/{attending.pk}/requirements/observership", body
    )
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    with scopes_disabled():
        assert not Requirement.objects.filter(rotation_type="observership").exists()


def test_admins_set_the_defaults_attendings_start_from(demo, attending, api):
    response = api(demo["admin"]).put(
        "/api/v1/requirements/defaults/externship", {"toefl_minimum": 90}
    )
    assert response.status_code == 200, response.json()
    listed = api(demo["student"]).get(f"/api/v1/attendings/{attending.pk}/requirements").json()
    externship = {row["rotation_type"]: row for row in listed}["externship"]
    assert (externship["source"], externship["toefl_minimum"]) == ("organization", 90)
    assert (
        api(demo["attending"]).put("/api/v1/requirements/defaults/externship", {}).status_code
        == 403
    )


# --- Pages ----------------------------------------------------------------------------


def test_the_settings_page_saves_one_types_requirements(demo, attending, client_for):
    client = client_for(demo["attending"])
    page = client.get("/attending/requirements/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'href="/attending/requirements/"' in html  # in the navigation
    assert "Observership" in html and "Clerkship" in html
    response = client.post(
        "/attending/requirements/observership/",
        {
            "observership-current_students": "final_year",
            "observership-graduates": "within_years",
            "observership-graduated_within_years": "5",
            "observership-toefl_minimum": "80",
            "observership-certificates": ["bls", "acls"],
            "observership-application_fee": "30.00",
            "observership-housing_included": "on",
        },
    )
    assert response.status_code == 302
    with scopes_disabled():
        row = Requirement.objects.get(attending=attending, rotation_type="observership")
    assert (row.current_students, row.graduated_within_years, row.certificates) == (
        "final_year",
        5,
        ["bls", "acls"],
    )
    assert row.housing_included and str(row.application_fee) == "30.00"


def test_bad_input_on_the_settings_page_is_400_with_field_errors_and_saves_nothing(
    demo, attending, client_for
):
    response = client_for(demo["attending"]).post(
        "/attending/requirements/observership/",
        {
            "observership-current_students": "any",
            "observership-graduates": "within_years",  # without a number of years
            "observership-toefl_minimum": "150",
            "observership-application_fee": "-5",
        },
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Nothing was saved" in html
    assert "Ensure this value is less than or equal to 120." in html
    assert "Ensure this value is greater than or equal to 0" in html
    with scopes_disabled():
        assert not Requirement.objects.filter(rotation_type="observership").exists()


def test_admins_write_the_b1_b2_reason_on_the_defaults_page(demo, client_for):
    client = client_for(demo["admin"])
    page = client.get("/requirements/defaults/")
    assert page.status_code == 200
    assert 'href="/requirements/defaults/"' in page.content.decode()  # in the navigation
    assert client_for(demo["attending"]).get("/requirements/defaults/").status_code == 403
    response = client.post(
        "/requirements/defaults/b1-b2-rule/",
        {"b1_b2_relaxation_reason": "Counsel's opinion of 2026-11-02."},
    )
    assert response.status_code == 302
    too_long = client.post(
        "/requirements/defaults/b1-b2-rule/", {"b1_b2_relaxation_reason": "x" * 4001}
    )
    assert too_long.status_code == 400
    demo["org"].refresh_from_db()
    assert demo["org"].b1_b2_relaxation_reason == "Counsel's opinion of 2026-11-02."


def test_search_says_who_qualifies_and_can_keep_only_them(
    demo, attending, client_for, api, django_assert_max_num_queries
):
    set_profile(demo["student"], toefl_score=95)
    with scopes_disabled():
        open_to_all = factories.AttendingProfileFactory(
            organization=demo["org"], rotation_types=["clerkship"]
        )
        factories.publish(open_to_all, factories.next_monday(2), 2)
    client = client_for(demo["student"])
    html = client.get("/attendings/", {"rotation_type": "clerkship"}).content.decode()
    assert "You qualify" in html
    assert "TOEFL 100 needed, you have 95." in html
    with django_assert_max_num_queries(8):
        only = client.get("/attendings/", {"rotation_type": "clerkship", "eligible_only": "on"})
    assert [hit.pk for hit in only.context["page_obj"]] == [open_to_all.pk]
    rows = api(demo["student"]).get(
        "/api/v1/attendings", {"rotation_type": "clerkship", "eligible_only": "true"}
    )
    assert [row["id"] for row in rows.json()["results"]] == [open_to_all.pk]
    assert rows.json()["results"][0]["eligibility"][0]["eligible"] is True
    refused = api(demo["attending"]).get("/api/v1/attendings", {"eligible_only": "true"})
    assert refused.status_code == 400
    assert refused.json()["code"] == "eligible_only_for_students"
