"""The email outbox (DESIGN §9): every email is first a row written in the transaction of
the event that causes it; a Celery task sends it after commit; a periodic sweep retries
unsent rows, so a broker outage loses no email and nothing is sent twice."""

import time
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.test import Client
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from kombu.exceptions import OperationalError

from accounts.models import Membership, User
from notifications.models import OutboundEmail
from notifications.services import MAX_ATTEMPTS, deliver, notify, notify_many, retry_unsent
from notifications.tasks import deliver_email, retry_unsent_emails
from tests.factories import PASSWORD

TICKET_CONTEXT = {
    "ticket_id": 7,
    "subject": "Visa letter for my rotation",
    "category": "General question",
    "author_name": "Asha Rao",
    "ticket_url": "http://demo.localhost/support/7/",
}


class CallerGaveUp(Exception):
    """The caller's own error, after it queued an email."""


@pytest.mark.django_db
def test_notify_row_disappears_when_the_callers_transaction_rolls_back(
    org, other_org, django_capture_on_commit_callbacks
):
    with scope(organization=org), django_capture_on_commit_callbacks() as enqueued:
        with pytest.raises(CallerGaveUp), transaction.atomic():
            email = notify(org, "asha@example.test", "ticket_opened", TICKET_CONTEXT)
            # Written inside the caller's transaction: visible to it before it ends...
            assert OutboundEmail.objects.filter(pk=email.pk).exists()
            raise CallerGaveUp
    # ...and gone with it, along with the delivery that was waiting for the commit.
    with scopes_disabled():
        assert not OutboundEmail.objects.exists()
    assert enqueued == []


@pytest.mark.django_db
def test_notify_enqueues_delivery_only_once_the_caller_commits(
    org, django_capture_on_commit_callbacks
):
    with scope(organization=org):
        with django_capture_on_commit_callbacks() as enqueued, transaction.atomic():
            email = notify(org, "asha@example.test", "ticket_opened", TICKET_CONTEXT)
        email.refresh_from_db()
        assert email.status == OutboundEmail.Status.PENDING
        assert email.attempts == 0
    assert len(enqueued) == 1


@pytest.mark.django_db
def test_deliver_sends_the_rendered_email_once_and_marks_it_sent(org, settings):
    with scope(organization=org):
        email = notify(org, "admin@demo.test", "ticket_opened", TICKET_CONTEXT)

        assert deliver(email.pk) is True
        assert deliver(email.pk) is False  # a retried task finds it sent and stops

        email.refresh_from_db()
    assert email.status == OutboundEmail.Status.SENT
    assert email.attempts == 1
    assert email.sent_at is not None
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["admin@demo.test"]
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    assert message.subject == "Support ticket #7: Visa letter for my rotation"
    assert message.extra_headers["X-USDoctors-Email-Id"] == str(email.pk)
    # Text part from ticket_opened.txt, with the organization added to the context.
    assert "Asha Rao opened a ticket (General question): Visa letter" in message.body
    assert "http://demo.localhost/support/7/" in message.body
    assert "Demo Rotations on USDoctors · http://demo.localhost/" in message.body
    # HTML part from ticket_opened.html inside emails/base.html.
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    assert '<a href="http://demo.localhost/support/7/">Open the ticket</a>' in html
    assert "USDoctors · Demo Rotations" in html


@pytest.mark.django_db
def test_the_same_dedupe_key_queues_one_row_per_organization(org, other_org):
    with scope(organization=org):
        first = notify(org, "a@example.test", "ticket_opened", TICKET_CONTEXT, dedupe_key="k:1")
        again = notify(org, "a@example.test", "ticket_opened", TICKET_CONTEXT, dedupe_key="k:1")
        other_key = notify(org, "a@example.test", "ticket_opened", TICKET_CONTEXT, dedupe_key="k:2")
    with scope(organization=other_org):
        elsewhere = notify(
            other_org, "b@example.test", "ticket_opened", TICKET_CONTEXT, dedupe_key="k:1"
        )

    assert again.pk == first.pk
    assert other_key.pk != first.pk
    assert elsewhere.pk != first.pk  # keys are per organization, like every unique rule
    with scopes_disabled():
        assert OutboundEmail.objects.filter(organization=org, dedupe_key="k:1").count() == 1
        assert OutboundEmail.objects.count() == 3


@pytest.mark.django_db
def test_a_failed_delivery_is_kept_for_retry_and_given_up_after_max_attempts(org, settings):
    settings.OUTBOX_RETRY_AFTER_SECONDS = 0
    with scope(organization=org):
        email = OutboundEmail.objects.create(
            organization=org, recipient="asha@example.test", template="no_such_template"
        )

        assert deliver(email.pk) is False
        email.refresh_from_db()
        assert email.status == OutboundEmail.Status.PENDING
        assert email.attempts == 1
        assert "TemplateDoesNotExist" in email.last_error

        for _ in range(MAX_ATTEMPTS - 2):
            retry_unsent(org)  # the periodic sweep picks it up again each time
        email.refresh_from_db()
        assert (email.status, email.attempts) == (OutboundEmail.Status.PENDING, MAX_ATTEMPTS - 1)

        assert retry_unsent(org) == 0
        email.refresh_from_db()
        assert (email.status, email.attempts) == (OutboundEmail.Status.FAILED, MAX_ATTEMPTS)

        # Given up means given up: neither a late task nor the sweep tries again.
        assert deliver(email.pk) is False
        retry_unsent(org)
        email.refresh_from_db()
        assert (email.status, email.attempts) == (OutboundEmail.Status.FAILED, MAX_ATTEMPTS)
    assert mail.outbox == []


@pytest.mark.django_db
def test_the_sweep_leaves_fresh_rows_to_the_task_enqueued_at_commit(org, settings):
    settings.OUTBOX_RETRY_AFTER_SECONDS = 60
    with scope(organization=org):
        email = notify(org, "asha@example.test", "ticket_opened", TICKET_CONTEXT)

        with time_machine.travel(email.created_at + timedelta(seconds=30)):
            assert retry_unsent(org) == 0
        with time_machine.travel(email.created_at + timedelta(seconds=61)):
            assert retry_unsent(org) == 1

        email.refresh_from_db()
    assert email.status == OutboundEmail.Status.SENT
    assert len(mail.outbox) == 1


def test_publishing_fails_fast_while_the_broker_is_down(broker_outage):
    """The web request that wrote the row must not hang on a dead broker (settings:
    "Publishing must fail fast"); the row simply waits for the sweep."""
    with broker_outage():
        started = time.monotonic()
        with pytest.raises(OperationalError):
            deliver_email.delay(1, 1)
        assert time.monotonic() - started < 2.0


@pytest.mark.django_db(transaction=True)
def test_a_broker_outage_loses_no_email_and_the_sweep_sends_it_once(
    org, other_org, settings, broker_outage, celery_worker
):
    settings.OUTBOX_RETRY_AFTER_SECONDS = 0
    with broker_outage():
        response = Client(HTTP_HOST="demo.localhost").post(
            "/accounts/signup/",
            {"email": "new.student@example.test", "password1": PASSWORD, "password2": PASSWORD},
        )
        with scope(organization=other_org):
            notify(other_org, "admin@northside.test", "ticket_opened", TICKET_CONTEXT)

    # The sign-up went through; its confirmation email waits in the outbox.
    assert response.status_code == 302
    with scopes_disabled():
        student = User.objects.get(email="new.student@example.test")
        assert Membership.objects.get(user=student).organization == org
        confirmation = OutboundEmail.objects.get(recipient="new.student@example.test")
    assert confirmation.organization_id == org.pk
    assert confirmation.template == "allauth_message"
    assert confirmation.status == OutboundEmail.Status.PENDING
    assert confirmation.attempts == 0
    assert confirmation.context["link"].startswith("http://demo.localhost/accounts/confirm-email/")
    assert mail.outbox == []

    # The broker answers again: a real worker runs the periodic sweep, twice.
    with celery_worker() as wait_for:
        retry_unsent_emails.delay()
        retry_unsent_emails.delay()
        wait_for("notifications.tasks.retry_unsent_emails", 2)

    to_student = [message for message in mail.outbox if message.to == [student.email]]
    assert len(to_student) == 1
    assert confirmation.context["link"] in to_student[0].body
    assert len(mail.outbox) == 2  # and the other organization's pending email, also once
    with scopes_disabled():
        confirmation.refresh_from_db()
        assert set(OutboundEmail.objects.values_list("status", flat=True)) == {"sent"}
    assert confirmation.status == OutboundEmail.Status.SENT
    assert confirmation.attempts == 1
    assert confirmation.sent_at <= timezone.now()


@pytest.mark.django_db
def test_notify_many_writes_new_keys_once_and_delivers_what_is_still_pending(
    org, other_org, django_capture_on_commit_callbacks
):
    """A sweep's batch: new keys are written and delivered; a key queued before is not
    written again, and is delivered again only while still pending (a lost task, a
    repeated run); a key sent already is left alone. Keys are per organization."""

    def rows(*keys):
        return [("a@example.test", "ticket_opened", TICKET_CONTEXT, key) for key in keys]

    with scope(organization=other_org):
        notify_many(other_org, rows("k:1"))
    with scope(organization=org):
        with django_capture_on_commit_callbacks(execute=False) as first, transaction.atomic():
            ids = notify_many(org, rows("k:1", "k:2", "k:3"))
        assert len(first) == 1  # one delivery task for the batch, after commit
        by_key = dict(
            OutboundEmail.objects.filter(organization=org).values_list("dedupe_key", "pk")
        )
        assert sorted(ids) == sorted(by_key.values())
        assert set(by_key) == {"k:1", "k:2", "k:3"}
        OutboundEmail.objects.filter(pk=by_key["k:2"]).update(status=OutboundEmail.Status.SENT)

        with django_capture_on_commit_callbacks(execute=False) as again, transaction.atomic():
            repeated = notify_many(org, rows("k:1", "k:2", "k:3", "k:4", "k:4"))

        assert OutboundEmail.objects.filter(organization=org).count() == 4
        new = OutboundEmail.objects.get(organization=org, dedupe_key="k:4").pk
        assert sorted(repeated) == sorted([by_key["k:1"], by_key["k:3"], new])
        assert len(again) == 1
    with scopes_disabled():
        assert OutboundEmail.objects.filter(organization=other_org).count() == 1
