"""Support tickets and the login-email change they carry (DESIGN §3): any member opens a
ticket and the organization's admins are emailed; replies flip the status between
answered and open; an ``email_change`` ticket, once an admin approves it, sends a
confirmation link to the new address, which becomes the login only when confirmed."""

from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.test import Client
from django_scopes import scopes_disabled

from accounts.models import SupportTicket, TicketReply, User
from notifications.models import OutboundEmail
from tests import factories
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

TAKEN = "That email address already belongs to another account."
GENERAL = {"category": "general", "subject": "Housing near the hospital", "message": "Any tips?"}


def email_change(new_email: str) -> dict:
    return {
        "category": "email_change",
        "subject": "Please change my login email",
        "message": "I no longer use my university address.",
        "new_email": new_email,
    }


def outbox(template: str) -> list[OutboundEmail]:
    with scopes_disabled():
        return list(OutboundEmail.objects.filter(template=template).order_by("pk"))


def open_ticket_for(membership, **fields) -> SupportTicket:
    """A ticket written straight to the database, for tests about what happens next."""
    with scopes_disabled():
        return SupportTicket.objects.create(
            organization=membership.organization, author=membership, **fields
        )


def reload(ticket: SupportTicket) -> SupportTicket:
    with scopes_disabled():
        return SupportTicket.objects.get(pk=ticket.pk)


def logs_in(email: str, host: str = "demo.localhost") -> bool:
    client = Client(HTTP_HOST=host)
    response = client.post("/accounts/login/", {"login": email, "password": PASSWORD})
    return response.status_code == 302 and "_auth_user_id" in client.session


@pytest.fixture
def demo(world):
    """The demo organization with a second admin, so "every admin" means more than one."""
    with scopes_disabled():
        second_admin = factories.MembershipFactory(organization=world["demo"]["org"], role="admin")
    return {**world["demo"], "admins": [world["demo"]["admin"], second_admin]}


# --- Opening a ticket ---------------------------------------------------------------


def test_a_student_opens_a_ticket_through_the_api_and_every_admin_is_emailed(
    demo, world, client_for
):
    student = demo["student"]

    response = client_for(student).post("/api/v1/tickets", GENERAL, content_type="application/json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "open"
    assert body["author_email"] == student.user.email
    with scopes_disabled():
        ticket = SupportTicket.objects.get(pk=body["id"])
    assert ticket.organization == demo["org"]
    assert ticket.author == student
    assert (ticket.category, ticket.subject) == ("general", "Housing near the hospital")
    emails = outbox("ticket_opened")
    assert sorted(email.recipient for email in emails) == sorted(
        admin.user.email for admin in demo["admins"]
    )  # the demo admins, not northside's
    assert {email.organization_id for email in emails} == {demo["org"].pk}
    assert emails[0].context["ticket_url"] == f"http://demo.localhost/support/{ticket.pk}/"


def test_a_student_opens_a_ticket_in_the_browser_and_every_admin_is_emailed(demo, client_for):
    student = demo["student"]

    response = client_for(student).post("/support/new/", {**GENERAL, "new_email": ""})

    with scopes_disabled():
        ticket = SupportTicket.objects.get(author=student)
    assert response.status_code == 302
    assert response["Location"] == f"/support/{ticket.pk}/"
    assert ticket.status == "open"
    assert sorted(email.recipient for email in outbox("ticket_opened")) == sorted(
        admin.user.email for admin in demo["admins"]
    )


# --- Replies ------------------------------------------------------------------------


def test_an_admin_reply_answers_the_ticket_and_a_student_reply_reopens_it(demo, client_for):
    student, admin = demo["student"], demo["admin"]
    ticket = open_ticket_for(student, **GENERAL)

    response = client_for(admin).post(
        f"/api/v1/tickets/{ticket.pk}/replies",
        {"message": "Try the partner housing list."},
        content_type="application/json",
    )

    assert response.status_code == 201, response.json()
    assert reload(ticket).status == "answered"
    [to_student] = outbox("ticket_reply")
    assert to_student.recipient == student.user.email
    assert to_student.context["reply"] == "Try the partner housing list."

    response = client_for(student).post(
        f"/support/{ticket.pk}/", {"message": "Thanks, one more question."}
    )

    assert response.status_code == 302
    assert reload(ticket).status == "open"
    to_admins = outbox("ticket_reply")[1:]
    assert sorted(email.recipient for email in to_admins) == sorted(
        admin.user.email for admin in demo["admins"]
    )
    detail = client_for(student).get(f"/api/v1/tickets/{ticket.pk}").json()
    assert [reply["message"] for reply in detail["replies"]] == [
        "Try the partner housing list.",
        "Thanks, one more question.",
    ]


def test_a_closed_ticket_takes_no_replies(demo, client_for):
    ticket = open_ticket_for(demo["student"], status="closed", **GENERAL)

    response = client_for(demo["student"]).post(
        f"/api/v1/tickets/{ticket.pk}/replies",
        {"message": "Hello?"},
        content_type="application/json",
    )

    assert response.status_code == 409
    assert response.json() == {
        "detail": "This ticket is closed; open a new one.",
        "code": "ticket_closed",
    }
    with scopes_disabled():
        assert not TicketReply.objects.exists()


def test_a_student_cannot_see_or_answer_another_students_ticket(demo, client_for):
    ticket = open_ticket_for(demo["student"], **GENERAL)
    with scopes_disabled():
        classmate = factories.StudentFactory(organization=demo["org"])
    client = client_for(classmate)

    assert client.get(f"/api/v1/tickets/{ticket.pk}").status_code == 404
    assert client.get(f"/support/{ticket.pk}/").status_code == 404
    assert (
        client.post(
            f"/api/v1/tickets/{ticket.pk}/replies",
            {"message": "hi"},
            content_type="application/json",
        ).status_code
        == 404
    )
    assert client.post(f"/support/{ticket.pk}/", {"message": "hi"}).status_code == 404
    assert client.get("/api/v1/tickets").json()["results"] == []
    assert "Housing near the hospital" not in client.get("/support/").content.decode()
    with scopes_disabled():
        assert not TicketReply.objects.exists()
    # The organization's admins do see it.
    assert client_for(demo["admin"]).get(f"/api/v1/tickets/{ticket.pk}").status_code == 200


# --- Changing the login email -------------------------------------------------------


def confirmation_link_for(address: str) -> str:
    [email] = [email for email in outbox("allauth_message") if email.recipient == address]
    assert email.status == "pending"
    return email.context["link"]


def test_an_approved_email_change_becomes_the_login_once_the_new_address_is_confirmed(
    demo, client_for, django_capture_on_commit_callbacks
):
    student, admin = demo["student"], demo["admin"]
    user = student.user
    old_email, new_email = user.email, "asha.new@example.test"
    response = client_for(student).post(
        "/api/v1/tickets", email_change(new_email), content_type="application/json"
    )
    assert response.status_code == 201, response.json()
    ticket_id = response.json()["id"]
    assert response.json()["new_email"] == new_email

    with django_capture_on_commit_callbacks() as enqueued:
        response = client_for(admin).post(f"/api/v1/tickets/{ticket_id}/approve")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "approved"
    # The confirmation is an outbox row of the approval's transaction, delivered after it.
    assert len(enqueued) == 1
    link = confirmation_link_for(new_email)
    assert link.startswith("http://demo.localhost/accounts/confirm-email/")
    # Not yet: the old address is still the login, the new one is unverified.
    user.refresh_from_db()
    assert user.email == old_email
    assert EmailAddress.objects.get(email=new_email).verified is False
    assert logs_in(old_email)
    assert not logs_in(new_email)

    visitor = Client(HTTP_HOST=urlsplit(link).netloc)
    confirm_page = visitor.get(urlsplit(link).path)
    assert confirm_page.status_code == 200
    assert new_email in confirm_page.content.decode()
    assert EmailAddress.objects.get(email=new_email).verified is False  # GET changes nothing

    assert visitor.post(urlsplit(link).path).status_code == 302

    user.refresh_from_db()
    assert user.email == new_email
    assert list(EmailAddress.objects.filter(user=user).values_list("email", "verified")) == [
        (new_email, True)
    ]
    with scopes_disabled():
        assert SupportTicket.objects.get(pk=ticket_id).status == "closed"
    assert logs_in(new_email)
    assert not logs_in(old_email)


def test_an_admin_approves_an_email_change_in_the_browser(
    demo, client_for, django_capture_on_commit_callbacks
):
    new_email = "asha.browser@example.test"
    ticket = open_ticket_for(demo["student"], **email_change(new_email))

    with django_capture_on_commit_callbacks() as enqueued:
        response = client_for(demo["admin"]).post(f"/support/{ticket.pk}/approve/")

    assert response.status_code == 302
    assert response["Location"] == f"/support/{ticket.pk}/"
    assert reload(ticket).status == "approved"
    assert len(enqueued) == 1
    assert confirmation_link_for(new_email).startswith(
        "http://demo.localhost/accounts/confirm-email/"
    )
    with scopes_disabled():
        [note] = TicketReply.objects.filter(ticket=ticket)
    assert new_email in note.message


@pytest.mark.parametrize(
    ("new_email", "code", "detail"),
    [
        ("", "new_email_required", "Give the new email address."),
        ("{other_org_user}", "email_taken", TAKEN),
        ("{demo_admin}", "email_taken", TAKEN),
        ("{own_upper}", "same_email", "That is already your login email."),
    ],
    ids=["missing", "taken-in-another-organization", "taken-here", "same-address"],
)
def test_an_email_change_ticket_needs_a_new_free_address(
    world, client_for, new_email, code, detail
):
    student = world["demo"]["student"]
    new_email = new_email.format(
        other_org_user=world["northside"]["student"].user.email,  # logins are global
        demo_admin=world["demo"]["admin"].user.email,
        own_upper=student.user.email.upper(),
    )

    response = client_for(student).post(
        "/api/v1/tickets", email_change(new_email), content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert response.json()["detail"] == detail
    assert response.json()["errors"] == {"new_email": [detail]}
    with scopes_disabled():
        assert not SupportTicket.objects.exists()
    assert outbox("ticket_opened") == []


def test_the_browser_form_shows_why_an_email_change_is_refused(world, client_for):
    student = world["demo"]["student"]

    response = client_for(student).post("/support/new/", email_change(student.user.email))

    assert response.status_code == 200
    assert "That is already your login email." in response.content.decode()
    with scopes_disabled():
        assert not SupportTicket.objects.exists()


@pytest.mark.parametrize("role", ["student", "attending"])
def test_only_admins_approve_email_changes(demo, client_for, role):
    new_email = "asha.approve@example.test"
    ticket = open_ticket_for(demo["student"], **email_change(new_email))
    member = demo[role]

    api = client_for(member).post(f"/api/v1/tickets/{ticket.pk}/approve")
    page = client_for(member).post(f"/support/{ticket.pk}/approve/")

    assert api.status_code == 403
    assert api.json() == {
        "detail": "Only this organization's admins can use this call.",
        "code": "permission_denied",
    }
    assert page.status_code == 403
    assert "This page is for admins." in page.content.decode()
    assert reload(ticket).status == "open"
    assert not EmailAddress.objects.filter(email=new_email).exists()
    assert outbox("allauth_message") == []


def test_a_general_ticket_is_not_approved(demo, client_for):
    ticket = open_ticket_for(demo["student"], **GENERAL)

    response = client_for(demo["admin"]).post(f"/api/v1/tickets/{ticket.pk}/approve")

    assert response.status_code == 409
    assert response.json() == {
        "detail": "Only email-change tickets need approval.",
        "code": "not_email_change",
    }
    assert reload(ticket).status == "open"
    with scopes_disabled():
        assert not TicketReply.objects.exists()


def test_an_email_change_is_approved_once(demo, client_for, django_capture_on_commit_callbacks):
    new_email = "asha.once@example.test"
    ticket = open_ticket_for(demo["student"], **email_change(new_email))
    admin = client_for(demo["admin"])
    assert admin.post(f"/api/v1/tickets/{ticket.pk}/approve").status_code == 200

    with django_capture_on_commit_callbacks() as enqueued:
        again = admin.post(f"/api/v1/tickets/{ticket.pk}/approve")

    assert again.status_code == 409
    assert enqueued == []
    assert again.json()["code"] == "ticket_decided"
    assert len([e for e in outbox("allauth_message") if e.recipient == new_email]) == 1


def test_an_address_taken_after_the_ticket_was_opened_is_refused_at_approval(
    demo, client_for, django_capture_on_commit_callbacks
):
    new_email = "asha.late@example.test"
    ticket = open_ticket_for(demo["student"], **email_change(new_email))
    with scopes_disabled():
        factories.UserFactory(email=new_email)

    with django_capture_on_commit_callbacks() as enqueued:
        response = client_for(demo["admin"]).post(f"/api/v1/tickets/{ticket.pk}/approve")

    assert response.status_code == 400
    assert response.json()["code"] == "email_taken"
    assert reload(ticket).status == "open"
    assert not EmailAddress.objects.filter(email=new_email, user=demo["student"].user).exists()
    assert outbox("allauth_message") == []
    assert enqueued == []
    assert User.objects.get(pk=demo["student"].user.pk).email != new_email
