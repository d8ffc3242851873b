"""Every response under /api/ is JSON ``{"detail", "code"}`` with a fitting status, bad
input is a 4xx and never a 500 (DESIGN §12, hardening)."""

from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_scopes import scopes_disabled

from accounts.api import views as account_api_views
from rotations.models import AvailabilityWeek, Rotation
from tests import factories
from tests.conftest import host_of

NESTED = "[" * 1000 + "]" * 1000


def assert_json_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) >= {"detail", "code"}
    assert isinstance(body["detail"], str) and body["detail"]
    if code:
        assert body["code"] == code
    return body


@pytest.fixture
def anonymous(org):
    return Client(HTTP_HOST=host_of(org), raise_request_exception=False)


# --- Django's own errors answer JSON under /api/ ---------------------------------------


def test_an_api_path_that_matches_no_route_is_a_json_404(demo, client_for):
    response = client_for(demo["student"]).get("/api/v1/no-such-thing")
    assert_json_error(response, 404, "not_found")


def test_an_api_path_on_an_unknown_organization_is_a_json_404(db):
    response = Client(HTTP_HOST="nobody.localhost").get("/api/v1/me")
    assert_json_error(response, 404)


def test_the_site_keeps_its_html_404_page(demo, client_for):
    response = client_for(demo["student"]).get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_method_the_call_does_not_take_is_a_json_405(demo, client_for):
    response = client_for(demo["student"]).delete("/api/v1/me")
    assert_json_error(response, 405, "method_not_allowed")


def test_an_unsupported_media_type_is_a_json_415(demo, client_for):
    response = client_for(demo["student"]).post(
        "/api/v1/tickets", "category=other", content_type="text/plain"
    )
    assert_json_error(response, 415, "unsupported_media_type")


def test_a_body_over_the_upload_limit_is_a_json_413_and_saves_nothing(demo, client_for, settings):
    from accounts.models import SupportTicket

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    client = client_for(demo["student"])
    response = client.post(
        "/api/v1/tickets",
        {"category": "general", "subject": "Big", "message": "x" * 2048},
        content_type="application/json",
    )
    assert_json_error(response, 413, "request_too_large")
    with scopes_disabled():
        assert not SupportTicket.objects.exists()


def test_a_page_body_over_the_upload_limit_is_a_413_page(demo, client_for, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = client_for(demo["student"]).post(
        "/support/new/", {"category": "general", "subject": "Big", "message": "x" * 2048}
    )
    assert response.status_code == 413
    assert "at most 10 MB" in response.content.decode()


def test_an_unhandled_error_is_a_json_500(demo, client_for, monkeypatch):
    def explode(self, request):
        raise RuntimeError("boom")

    monkeypatch.setattr(account_api_views.MeView, "get", explode)
    client = client_for(demo["student"])
    client.raise_request_exception = False
    body = assert_json_error(client.get("/api/v1/me"), 500, "server_error")
    assert "boom" not in body["detail"]


# --- 401 with WWW-Authenticate ----------------------------------------------------------


def test_no_credentials_is_a_401_that_says_how_to_authenticate(anonymous):
    response = anonymous.get("/api/v1/me")
    assert_json_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"


def test_a_bad_token_is_a_401(anonymous):
    response = anonymous.get("/api/v1/rotations", HTTP_AUTHORIZATION="Token not-a-real-token")
    assert_json_error(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"] == "Token"


# --- Bad input is a 400, never a 500 -----------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/auth/token", "/api/v1/tickets"])
def test_a_deeply_nested_json_body_is_a_400(anonymous, demo, client_for, path):
    client = anonymous if path.endswith("token") else client_for(demo["student"])
    client.raise_request_exception = False
    response = client.post(path, NESTED, content_type="application/json")
    body = assert_json_error(response, 400, "parse_error")
    assert "nested too deeply" in body["detail"]


FAR_DATES = ["9999-12-31", "0001-01-01"]


@pytest.mark.parametrize("value", FAR_DATES)
@pytest.mark.parametrize("field", ["start_from", "start_to"])
def test_search_dates_outside_a_sane_window_are_a_400_naming_the_field(
    demo, client_for, field, value
):
    client = client_for(demo["student"])
    body = assert_json_error(client.get("/api/v1/attendings", {field: value}), 400, "invalid")
    assert field in body["errors"]
    assert "Choose a date between" in body["errors"][field][0]

    page = client.get("/attendings/", {field: value})
    assert page.status_code == 400
    assert "Choose a date between" in page.content.decode()


def test_the_sane_window_is_one_year_back_to_three_years_ahead(demo, client_for):
    today = timezone.localdate()
    client = client_for(demo["student"])
    inside = {
        "start_from": str(today - timedelta(days=364)),
        "start_to": str(today.replace(year=today.year + 2)),
    }
    assert client.get("/api/v1/attendings", inside).status_code == 200
    outside = {"start_to": str(today + timedelta(days=3 * 365 + 2))}
    assert client.get("/api/v1/attendings", outside).status_code == 400


@pytest.fixture
def attending(demo):
    with scopes_disabled():
        profile = factories.AttendingProfileFactory(
            organization=demo["org"], membership=demo["attending"]
        )
        factories.publish(profile, factories.next_monday(4), 4)
    return profile


def far_monday() -> str:
    return str(date(9999, 12, 27))  # a Monday


def test_a_request_starting_in_year_9999_is_a_400_and_saves_nothing(demo, client_for, attending):
    response = client_for(demo["student"]).post(
        "/api/v1/rotations",
        {
            "attending": attending.pk,
            "rotation_type": "observership",
            "mode": "in_person",
            "start": far_monday(),
            "weeks": 4,
            "payer": "self",
            "plan": "full",
            "payment_method": "zelle",
        },
        content_type="application/json",
    )
    body = assert_json_error(response, 400, "invalid")
    assert "start" in body["errors"]
    with scopes_disabled():
        assert not Rotation.objects.filter(student=demo["student"]).exists()


def test_publishing_weeks_in_year_9999_is_a_400_and_publishes_nothing(demo, client_for, attending):
    with scopes_disabled():
        before = AvailabilityWeek.objects.count()
    response = client_for(demo["attending"]).post(
        "/api/v1/availability",
        {"first_week": far_monday(), "last_week": far_monday(), "capacity": 1},
        content_type="application/json",
    )
    body = assert_json_error(response, 400, "invalid")
    assert "first_week" in body["errors"]
    with scopes_disabled():
        assert AvailabilityWeek.objects.count() == before
