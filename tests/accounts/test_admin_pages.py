"""Admins' pages (issue 11, part 5): the review page keeps the admin's navigation, admins
see every ticket of the organization and close tickets (so does the asker, nobody
else), and admins correct a student's profile fields, audited, with the student emailed
what changed, the verification state untouched."""

import re

import pytest
from auditlog.models import LogEntry
from django_scopes import scopes_disabled

from accounts.models import ProfileReview, StudentProfile, SupportTicket
from notifications.models import OutboundEmail

pytestmark = pytest.mark.django_db


def main_nav(response) -> str:
    page = response.content.decode()
    match = re.search(r'<nav aria-label="Main"[^>]*>(.*?)</nav>', page, re.S)
    assert match, "the page has no main navigation"
    return match.group(1)


def profile_of(membership) -> StudentProfile:
    with scopes_disabled():
        return StudentProfile.objects.select_related("membership").get(membership=membership)


def ticket_for(membership, **fields) -> SupportTicket:
    fields = {"category": "general", "subject": "Housing?", "message": "Any tips?", **fields}
    with scopes_disabled():
        return SupportTicket.objects.create(
            organization=membership.organization, author=membership, **fields
        )


def reload(ticket: SupportTicket) -> SupportTicket:
    with scopes_disabled():
        return SupportTicket.objects.get(pk=ticket.pk)


def emails(template: str) -> list[OutboundEmail]:
    with scopes_disabled():
        return list(OutboundEmail.objects.filter(template=template).order_by("pk"))


# --- The navigation on the review page ------------------------------------------------


@pytest.mark.parametrize("student_key", ["pending", "student"])
def test_the_review_page_shows_the_admins_navigation_not_the_students(
    demo, client_for, student_key
):
    profile = profile_of(demo[student_key])

    response = client_for(demo["admin"]).get(f"/manage/verification/{profile.pk}/")

    assert response.status_code == 200
    nav = main_nav(response)
    assert "My profile" not in nav
    assert "/profile/" not in nav
    for admin_link in ("Verification queue", "Attendings and NPI checks", "/manage/attendings/"):
        assert admin_link in nav
    # The student's status is still shown, read from the renamed context variable.
    assert demo[student_key].get_verification_status_display() in response.content.decode()


def test_attendings_and_npi_checks_is_in_the_navigation_for_admins_only(demo, client_for):
    assert "/manage/attendings/" in main_nav(client_for(demo["admin"]).get("/dashboard/"))
    for role in ("student", "attending"):
        assert "/manage/attendings/" not in main_nav(client_for(demo[role]).get("/dashboard/"))


# --- Support: the admins' list --------------------------------------------------------


def test_admins_see_every_ticket_open_first_with_who_asked(
    demo, northside, client_for, django_assert_max_num_queries
):
    closed = ticket_for(demo["student"], subject="Closed one", status="closed")
    answered = ticket_for(demo["attending"], subject="Answered one", status="answered")
    opened = ticket_for(demo["pending"], subject="Open one")
    ticket_for(northside["student"], subject="Another organization's")
    for number in range(5):
        ticket_for(demo["student"], subject=f"More {number}", status="closed")

    client = client_for(demo["admin"])
    client.get("/support/")  # warm the session and the content types
    with django_assert_max_num_queries(12):
        response = client.get("/support/")

    page = response.content.decode()
    assert response.status_code == 200
    positions = [page.index(subject) for subject in ("Open one", "Answered one", "Closed one")]
    assert positions == sorted(positions)
    assert "Another organization's" not in page
    assert demo["pending"].user.email in page  # who asked
    assert demo["attending"].user.email in page
    # No student buttons, no student wording.
    assert "Change my login email" not in page
    assert "Open a ticket" not in page
    for ticket in (opened, answered, closed):
        assert f"/support/{ticket.pk}/" in page


def test_students_see_only_their_own_tickets_and_their_buttons(demo, client_for):
    ticket_for(demo["student"], subject="Mine")
    ticket_for(demo["pending"], subject="Not mine")

    page = client_for(demo["student"]).get("/support/").content.decode()

    assert "Mine" in page and "Not mine" not in page
    assert "Change my login email" in page


# --- Support: closing ---------------------------------------------------------------


@pytest.mark.parametrize("closer", ["admin", "student"])
def test_the_admin_or_the_asker_closes_a_ticket(demo, client_for, closer):
    ticket = ticket_for(demo["student"])
    client = client_for(demo[closer])

    response = client.post(f"/support/{ticket.pk}/close/")

    assert response.status_code == 302
    ticket = reload(ticket)
    assert ticket.status == "closed"
    assert ticket.closed_at is not None
    assert ticket.closed_by_id == demo[closer].pk
    page = client.get(f"/support/{ticket.pk}/").content.decode()
    assert 'data-testid="ticket-closed"' in page
    assert "Close ticket" not in page
    assert "Send reply" not in page


@pytest.mark.parametrize("outsider", ["pending", "attending"])
def test_another_member_cannot_close_a_ticket_nor_learn_it_exists(demo, client_for, outsider):
    ticket = ticket_for(demo["student"])

    response = client_for(demo[outsider]).post(f"/support/{ticket.pk}/close/")

    assert response.status_code == 404
    ticket = reload(ticket)
    assert ticket.status == "open" and ticket.closed_at is None


def test_another_organizations_admin_cannot_close_a_ticket(demo, northside, client_for):
    ticket = ticket_for(demo["student"])

    response = client_for(northside["admin"], host="northside.localhost").post(
        f"/support/{ticket.pk}/close/"
    )

    assert response.status_code == 404
    assert reload(ticket).status == "open"


def test_closing_a_closed_ticket_is_refused_and_changes_nothing(demo, client_for):
    ticket = ticket_for(demo["student"])
    client = client_for(demo["admin"])
    client.post(f"/support/{ticket.pk}/close/")
    first = reload(ticket)

    response = client.post(f"/support/{ticket.pk}/close/")

    assert response.status_code == 409
    assert "already closed" in response.content.decode()
    again = reload(ticket)
    assert (again.closed_at, again.closed_by_id) == (first.closed_at, first.closed_by_id)


def test_an_approved_email_change_is_not_closed_by_hand(demo, client_for):
    ticket = ticket_for(
        demo["student"], category="email_change", new_email="new@example.test", status="approved"
    )

    response = client_for(demo["admin"]).post(f"/support/{ticket.pk}/close/")

    assert response.status_code == 409
    assert "closes once the new address is confirmed" in response.content.decode()
    assert reload(ticket).status == "approved"


def test_a_closed_ticket_takes_no_reply(demo, client_for):
    ticket = ticket_for(demo["student"])
    client_for(demo["student"]).post(f"/support/{ticket.pk}/close/")

    response = client_for(demo["admin"]).post(f"/support/{ticket.pk}/", {"message": "Hello?"})

    assert response.status_code == 200
    assert "This ticket is closed" in response.content.decode()
    with scopes_disabled():
        assert not reload(ticket).replies.exists()


def test_the_api_closes_a_ticket_for_the_asker_and_hides_it_from_others(demo, api):
    ticket = ticket_for(demo["student"])

    refused = api(demo["pending"]).post(f"/api/v1/tickets/{ticket.pk}/close")
    closed = api(demo["student"]).post(f"/api/v1/tickets/{ticket.pk}/close")
    again = api(demo["admin"]).post(f"/api/v1/tickets/{ticket.pk}/close")

    assert refused.status_code == 404
    assert closed.status_code == 200, closed.content
    assert closed.json()["status"] == "closed" and closed.json()["closed_at"]
    assert again.status_code == 409


# --- Correcting a profile -----------------------------------------------------------


def correction_data(profile: StudentProfile, **changes) -> dict:
    """The correction form as the page fills it, with ``changes`` typed in."""
    data = {
        "full_name": profile.full_name,
        "kind": profile.kind,
        "medical_school": profile.medical_school,
        "country": str(profile.country),
        "graduation_year": str(profile.graduation_year),
        "school_contact_email": profile.school_contact_email,
        "step1_result": profile.step1_result,
        "visa_status": profile.visa_status,
        "phone": profile.phone,
    }
    data.update(changes)
    return {f"correct-{name}": value for name, value in data.items()}


def test_an_admin_corrects_a_verified_profile_audited_and_the_student_told(demo, client_for):
    student, admin = demo["student"], demo["admin"]
    profile = profile_of(student)
    old_school = profile.medical_school
    client = client_for(admin)

    response = client.post(
        f"/manage/students/{profile.pk}/correct/",
        correction_data(profile, medical_school="Kathmandu University", phone="+977 1 555 0100"),
    )

    assert response.status_code == 302
    profile = profile_of(student)
    assert profile.medical_school == "Kathmandu University"
    assert profile.phone == "+977 1 555 0100"
    assert profile.membership.verification_status == "verified"  # untouched
    # The audit trail names the admin, with the old and the new value.
    with scopes_disabled():
        [entry] = LogEntry.objects.get_for_object(profile).filter(action=LogEntry.Action.UPDATE)
    assert entry.actor == admin.user
    assert entry.changes_dict["medical_school"] == [old_school, "Kathmandu University"]
    assert set(entry.changes_dict) == {"medical_school", "phone"}
    # The student is emailed what changed.
    [email] = emails("profile_corrected")
    assert email.recipient == student.user.email
    assert {"field": "Medical school", "old": old_school, "new": "Kathmandu University"} in (
        email.context["changes"]
    )
    # The history and the page show it.
    with scopes_disabled():
        review = ProfileReview.objects.get(membership=student, action="corrected")
    assert review.by_id == admin.pk
    page = client.get(f"/manage/verification/{profile.pk}/").content.decode()
    assert "Kathmandu University" in page
    assert "Corrected by an admin" in page


def test_a_correction_without_changes_writes_nothing(demo, client_for):
    profile = profile_of(demo["student"])

    response = client_for(demo["admin"]).post(
        f"/manage/students/{profile.pk}/correct/", correction_data(profile)
    )

    assert response.status_code == 302
    assert emails("profile_corrected") == []
    with scopes_disabled():
        assert not ProfileReview.objects.filter(action="corrected").exists()


def test_a_bad_correction_is_refused_next_to_its_field_and_changes_nothing(demo, client_for):
    profile = profile_of(demo["student"])
    before = profile.phone, profile.medical_school

    response = client_for(demo["admin"]).post(
        f"/manage/students/{profile.pk}/correct/",
        correction_data(profile, phone="call me", medical_school="Somewhere else"),
    )

    assert response.status_code == 400
    assert "Enter a phone number with country code" in response.content.decode()
    after = profile_of(demo["student"])
    assert (after.phone, after.medical_school) == before
    assert emails("profile_corrected") == []


def test_the_verification_state_cannot_be_corrected(demo, client_for):
    profile = profile_of(demo["pending"])
    data = correction_data(profile, full_name="Asha K.")
    data["correct-verification_status"] = "verified"

    client_for(demo["admin"]).post(f"/manage/students/{profile.pk}/correct/", data)

    after = profile_of(demo["pending"])
    assert after.full_name == "Asha K."
    assert after.membership.verification_status == "pending"


@pytest.mark.parametrize("role", ["student", "attending"])
def test_only_admins_correct_profiles(demo, client_for, role):
    profile = profile_of(demo["student"])

    response = client_for(demo[role]).post(
        f"/manage/students/{profile.pk}/correct/", correction_data(profile, full_name="Hacked")
    )

    assert response.status_code == 403
    assert profile_of(demo["student"]).full_name != "Hacked"


def test_another_organizations_admin_gets_404(demo, northside, client_for):
    profile = profile_of(demo["student"])

    response = client_for(northside["admin"], host="northside.localhost").post(
        f"/manage/students/{profile.pk}/correct/", correction_data(profile, full_name="Hacked")
    )

    assert response.status_code == 404
    assert profile_of(demo["student"]).full_name != "Hacked"


def test_admins_reach_the_correction_from_a_ticket_and_the_students_page(demo, client_for):
    profile = profile_of(demo["student"])
    ticket = ticket_for(demo["student"], subject="My school name is wrong")
    client = client_for(demo["admin"])
    review_url = f"/manage/verification/{profile.pk}/"

    assert review_url in client.get(f"/support/{ticket.pk}/").content.decode()
    assert review_url in client.get(f"/students/{profile.pk}/").content.decode()
    as_student = client_for(demo["student"]).get(f"/support/{ticket.pk}/").content.decode()
    assert review_url not in as_student
