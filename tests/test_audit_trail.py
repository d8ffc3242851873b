"""The audit trail (issue 10): organization settings, roles, verification decisions and
NPI marks each leave an entry with who, when, and the old and new values, and platform
staff read them in /admin/."""

from decimal import Decimal
from html.parser import HTMLParser

import pytest
from allauth.mfa.models import Authenticator
from auditlog.models import LogEntry
from django.test import Client
from django_scopes import scopes_disabled
from rest_framework.authtoken.models import Token

from accounts.models import Membership
from rotations.models import AttendingProfile
from tests import factories
from tests.conftest import host_of
from usdoctors.models import Organization

pytestmark = pytest.mark.django_db


class _FormFields(HTMLParser):
    """The values a browser would submit from the page's forms (enough for Django's admin
    change forms: inputs, checkboxes, selects and textareas)."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, object] = {}
        self._select = None
        self._textarea = None

    def _put(self, name, value):
        if name not in self.data:
            self.data[name] = value
        elif isinstance(self.data[name], list):
            self.data[name].append(value)
        else:
            self.data[name] = [self.data[name], value]

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and "disabled" not in attrs:
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self._put(name, attrs.get("value", "on"))
            elif kind not in ("submit", "button", "file", "image"):
                self._put(name, attrs.get("value", ""))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self._put(self._select, attrs.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            if not self.data[self._textarea]:
                data = data.removeprefix("\n")  # browsers drop the newline after <textarea>
            self.data[self._textarea] += data


def submitted_form(html: str) -> dict:
    parser = _FormFields()
    parser.feed(html)
    return parser.data


@pytest.fixture
def staff_client(world):
    """Platform staff, signed in on the console (with their authenticator app)."""
    staff = factories.UserFactory(is_staff=True, is_superuser=True)
    client = Client(HTTP_HOST="localhost")
    client.force_login(staff)
    client.staff = staff
    return client


def change_in_admin(client: Client, path: str, **changes) -> None:
    page = client.get(path)
    assert page.status_code == 200
    data = submitted_form(page.content.decode())
    data.update(changes)
    data.pop("csrfmiddlewaretoken", None)
    response = client.post(path, data)
    assert response.status_code == 302, response.content.decode()[:2000]


def entries_for(instance) -> list[LogEntry]:
    return list(LogEntry.objects.get_for_object(instance).order_by("timestamp", "pk"))


def only_update(instance) -> LogEntry:
    updates = [e for e in entries_for(instance) if e.action == LogEntry.Action.UPDATE]
    assert len(updates) == 1, [e.changes_dict for e in updates]
    return updates[0]


# --- Organization settings ----------------------------------------------------------


def test_a_staff_change_to_the_surcharge_is_in_the_trail_with_both_values(demo, staff_client):
    organization = demo["org"]

    change_in_admin(
        staff_client,
        f"/admin/usdoctors/organization/{organization.pk}/change/",
        card_surcharge_rate="1.50",  # a percent: stored as 0.0150
    )

    organization.refresh_from_db()
    assert organization.card_surcharge_rate == Decimal("0.0150")
    entry = only_update(organization)
    assert entry.changes_dict == {"card_surcharge_rate": ["0.0299", "0.0150"]}
    assert entry.actor == staff_client.staff
    assert entry.timestamp is not None


def test_staff_read_the_trail_in_the_console(demo, staff_client):
    organization = demo["org"]
    change_in_admin(
        staff_client,
        f"/admin/usdoctors/organization/{organization.pk}/change/",
        card_surcharge_rate="1.50",  # a percent: stored as 0.0150
        immigration_letter_fee="175.00",
    )
    entry = only_update(organization)

    listing = staff_client.get("/admin/auditlog/logentry/")
    detail = staff_client.get(f"/admin/auditlog/logentry/{entry.pk}/change/")

    assert listing.status_code == 200
    text = listing.content.decode()
    assert "Demo Rotations" in text
    assert "card_surcharge_rate" in text
    assert staff_client.staff.email in text
    assert detail.status_code == 200
    page = detail.content.decode()
    for value in ("0.0299", "0.0150", "150.00", "175.00"):
        assert value in page


def test_an_organization_admin_cannot_read_the_trail(demo, client_for):
    response = client_for(demo["admin"]).get("/admin/auditlog/logentry/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


# --- Roles --------------------------------------------------------------------------


def test_a_role_change_leaves_an_entry(demo, staff_client):
    attending = demo["attending"]

    change_in_admin(
        staff_client, f"/admin/accounts/membership/{attending.pk}/change/", role="admin"
    )

    with scopes_disabled():
        assert Membership.objects.get(pk=attending.pk).role == "admin"
    entry = only_update(attending)
    assert entry.changes_dict["role"] == ["attending", "admin"]
    assert entry.actor == staff_client.staff


# --- Verification decisions ---------------------------------------------------------


def test_a_verification_decision_leaves_an_entry_naming_the_admin(demo, client_for):
    pending, admin = demo["pending"], demo["admin"]
    with scopes_disabled():
        profile_id = pending.profile.pk

    response = client_for(admin).post(
        f"/manage/verification/{profile_id}/reject/", {"reject-message": "Not a real school."}
    )

    assert response.status_code == 302
    entry = only_update(pending)
    assert entry.changes_dict == {
        "verification_status": ["pending", "rejected"],
        "status_message": ["", "Not a real school."],
    }
    assert entry.actor == admin.user


def test_a_decision_through_the_api_with_a_token_names_the_admin(demo):
    pending, admin = demo["pending"], demo["admin"]
    with scopes_disabled():
        profile_id = pending.profile.pk
    token = Token.objects.create(user=admin.user)
    client = Client(HTTP_HOST=host_of(demo["org"]), HTTP_AUTHORIZATION=f"Token {token.key}")

    response = client.post(f"/api/v1/admin/profiles/{profile_id}/verify")

    assert response.status_code == 200
    entry = only_update(pending)
    assert entry.changes_dict == {"verification_status": ["pending", "verified"]}
    assert entry.actor == admin.user


def test_the_trail_records_the_client_address_a_client_cannot_forge(demo):
    pending, admin = demo["pending"], demo["admin"]
    with scopes_disabled():
        profile_id = pending.profile.pk
    token = Token.objects.create(user=admin.user)
    client = Client(
        HTTP_HOST=host_of(demo["org"]),
        HTTP_AUTHORIZATION=f"Token {token.key}",
        REMOTE_ADDR="203.0.113.7",
        HTTP_X_FORWARDED_FOR="198.51.100.66",  # written by the client, no proxy of ours
    )

    assert client.post(f"/api/v1/admin/profiles/{profile_id}/verify").status_code == 200
    assert only_update(pending).remote_addr == "203.0.113.7"


# --- NPI marks ----------------------------------------------------------------------


def test_an_npi_mark_leaves_an_entry(demo, client_for):
    admin = demo["admin"]
    with scopes_disabled():
        attending = factories.AttendingProfileFactory(organization=demo["org"], npi="1234567893")

    response = client_for(admin).post(
        f"/manage/attendings/{attending.pk}/verify-npi/", {"registry_checked": "yes"}
    )

    assert response.status_code == 302
    entry = only_update(attending)
    assert set(entry.changes_dict) == {"npi_verified_at"}
    old, new = entry.changes_dict["npi_verified_at"]
    assert old == "None" and new != "None"
    assert entry.actor == admin.user


def test_an_attending_changing_the_npi_records_old_and_new_number_and_the_lost_mark(
    demo, client_for
):
    with scopes_disabled():
        attending = factories.AttendingProfileFactory(organization=demo["org"], npi="1234567893")
        AttendingProfile.objects.filter(pk=attending.pk).update(
            npi_verified_at="2026-01-05T12:00:00Z"
        )
    token = Token.objects.create(user=attending.membership.user)
    client = Client(HTTP_HOST=host_of(demo["org"]), HTTP_AUTHORIZATION=f"Token {token.key}")

    response = client.patch(
        "/api/v1/attending/profile", {"npi": "1245319599"}, content_type="application/json"
    )

    assert response.status_code == 200, response.content.decode()
    entry = only_update(attending)
    assert entry.changes_dict["npi"] == ["1234567893", "1245319599"]
    assert entry.changes_dict["npi_verified_at"][1] == "None"
    assert entry.actor == attending.membership.user


# --- Second factors ---------------------------------------------------------------


def test_staff_removing_an_admins_authenticator_leaves_an_entry_without_the_secret(
    demo, staff_client
):
    """How an admin who lost their phone gets back in; it must not happen unseen."""
    authenticator = Authenticator.objects.get(user=demo["admin"].user, type="totp")

    page = staff_client.get(f"/admin/mfa/authenticator/{authenticator.pk}/delete/")
    response = staff_client.post(
        f"/admin/mfa/authenticator/{authenticator.pk}/delete/", {"post": "yes"}
    )

    assert page.status_code == 200 and response.status_code == 302
    assert not Authenticator.objects.filter(pk=authenticator.pk).exists()
    (entry,) = LogEntry.objects.filter(
        content_type__model="authenticator",
        object_pk=str(authenticator.pk),
        action=LogEntry.Action.DELETE,
    )
    assert entry.actor == staff_client.staff
    assert entry.changes_dict["user"][0] == str(demo["admin"].user.pk)
    assert factories.TOTP_SECRET not in str(entry.changes)


# --- Scopes -------------------------------------------------------------------------


def test_auditing_a_tenant_row_needs_no_scope(demo):
    """auditlog reads the old row with the base manager, so a save outside any scope
    (a migration, a shell) is audited instead of raising ScopeError."""
    membership = demo["student"]
    membership.role = "attending"

    membership.save(update_fields=["role"])

    assert only_update(membership).changes_dict == {"role": ["student", "attending"]}


def test_settings_saved_in_a_shell_are_audited_without_an_actor(demo):
    organization = Organization.objects.get(pk=demo["org"].pk)
    organization.weekly_plan_min_lead_days = 14

    organization.save()

    entry = only_update(organization)
    assert entry.changes_dict == {"weekly_plan_min_lead_days": ["21", "14"]}
    assert entry.actor is None
