"""Sending installments through the organization's gateway (issue 7 items 5-6, DESIGN
§6): after the approval commits, never inside a transaction, with PayPal-Request-Id =
our row, so a retry never makes a second invoice; failures are stored, never raised into
the approval. And the simulated gateway end to end: invoice email → pay page → paid."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from notifications.models import OutboundEmail
from payments import gateways, sending, tasks
from payments.models import Installment, Invoice, Payment
from payments.paypal import PayPalUnreachable
from rotations import services as rotation_services
from tests import factories
from tests.conftest import host_of
from tests.payments.gateway_helpers import (
    INVOICES,
    card_installment,
    reload,
    send,
    use_paypal,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager_celery():
    """``.delay()`` runs the task here and now (errors stay in its result, as a worker's
    would), so the approval's on-commit send happens inside the test."""
    conf = tasks.send_installment.app.conf
    before = conf.task_always_eager, conf.task_eager_propagates
    conf.task_always_eager, conf.task_eager_propagates = True, False
    yield
    conf.task_always_eager, conf.task_eager_propagates = before


def approved_rotation(organization, django_capture_on_commit_callbacks):
    """A self-paid 2-week rotation at $300 a week, paid in full by card, approved by its
    attending: $600.00 + 2.99% card fee = $617.94 (the worked example)."""
    with scopes_disabled():
        attending = factories.AttendingProfileFactory(
            organization=organization, weekly_rate=Decimal("300.00")
        )
        start = factories.next_monday(3)
        factories.publish(attending, start, 2)
        rotation = factories.RotationFactory(
            attending=attending, start=start, weeks=2, plan="full", payment_method="paypal"
        )
    with scope(organization=organization):
        with django_capture_on_commit_callbacks(execute=True):
            rotation_services.approve_rotation(rotation, by=attending.membership)
    with scopes_disabled():
        return Installment.objects.get(invoice__rotation=rotation)


def test_approval_sends_the_installment_as_a_paypal_invoice(
    demo, paypal_setup, eager_celery, django_capture_on_commit_callbacks
):
    fake = paypal_setup
    use_paypal(demo["org"], fake)

    installment = approved_rotation(demo["org"], django_capture_on_commit_callbacks)

    assert installment.status == "sent"
    invoice = fake.invoices[installment.gateway_invoice_id]
    assert invoice["status"] == "UNPAID"
    assert invoice["items"][0]["unit_amount"]["value"] == "600.00"
    assert invoice["amount"]["breakdown"]["custom"]["amount"]["value"] == "17.94"
    assert invoice["amount"]["breakdown"]["custom"]["label"]
    assert invoice["amount"]["value"] == "617.94"
    assert invoice["detail"]["invoice_date"] == installment.due_on.isoformat()
    recipient = invoice["primary_recipients"][0]["billing_info"]["email_address"]
    assert recipient == installment.invoice.student.user.email
    [create] = fake.requests_to(INVOICES, "POST")
    [send_call] = fake.requests_to(f"{INVOICES}/{installment.gateway_invoice_id}/send")
    assert create.headers["PayPal-Request-Id"] == f"installment-{installment.pk}"
    assert send_call.headers["PayPal-Request-Id"] == f"installment-{installment.pk}-send"
    # What PayPal answered is stored; the invoice is issued.
    assert installment.gateway_answer["create"]["id"] == installment.gateway_invoice_id
    assert installment.gateway_answer["status"] == "UNPAID"
    with scopes_disabled():
        assert Invoice.objects.get(pk=installment.invoice_id).status == "issued"


def test_a_later_installment_is_scheduled_by_paypal(demo, paypal_setup):
    use_paypal(demo["org"], paypal_setup)
    later = card_installment(demo["org"], due_on=timezone.localdate() + timedelta(days=20))

    assert send(later) == "sent"

    later = reload(later)
    assert later.gateway_answer["status"] == "SCHEDULED"
    assert paypal_setup.invoices[later.gateway_invoice_id]["status"] == "SCHEDULED"


def test_when_paypal_times_out_once_the_retry_creates_no_second_invoice(demo, paypal_setup):
    """The create reaches PayPal but its answer is lost; the client retries with the
    same PayPal-Request-Id and gets the first invoice back."""
    fake = paypal_setup
    use_paypal(demo["org"], fake)
    installment = card_installment(demo["org"])
    fake.fail_next(INVOICES, "timeout", method="POST")

    assert send(installment) == "sent"

    assert len(fake.invoices) == 1
    creates = fake.requests_to(INVOICES, "POST")
    assert len(creates) == 2 and creates[0].dropped
    assert {c.headers["PayPal-Request-Id"] for c in creates} == {f"installment-{installment.pk}"}
    assert reload(installment).gateway_invoice_id == next(iter(fake.invoices))


def test_a_retried_task_after_a_timeout_creates_no_second_invoice(demo, paypal_setup, monkeypatch):
    """The task itself fails (one attempt per run) and Celery runs it again."""
    fake = paypal_setup
    use_paypal(demo["org"], fake)
    monkeypatch.setitem(gateways.CLIENT_OPTIONS, "max_attempts", 1)
    installment = card_installment(demo["org"])
    fake.fail_next(INVOICES, "timeout", method="POST")

    with pytest.raises(PayPalUnreachable):
        tasks.send_installment(demo["org"].pk, installment.pk)
    assert reload(installment).status == "pending"
    assert reload(installment).gateway_answer["error"]["name"]

    assert tasks.send_installment(demo["org"].pk, installment.pk) == "sent"
    assert len(fake.invoices) == 1
    assert reload(installment).gateway_invoice_id == next(iter(fake.invoices))
    # Already sent: a third run (Redis redelivering) does nothing.
    assert tasks.send_installment(demo["org"].pk, installment.pk) == "skipped"
    assert len(fake.requests_to(INVOICES, "POST")) == 2


def test_a_failing_paypal_leaves_the_installment_unsent_and_the_approval_done(
    demo, paypal_setup, eager_celery, django_capture_on_commit_callbacks
):
    fake = paypal_setup
    use_paypal(demo["org"], fake)
    fake.fail_next(INVOICES, 500, times=10_000, method="POST")

    installment = approved_rotation(demo["org"], django_capture_on_commit_callbacks)

    assert installment.invoice.rotation.status == "approved"
    assert installment.status == "pending" and not installment.gateway_invoice_id
    assert installment.gateway_answer["error"]["status"] == 500
    assert installment.gateway_answer["error"]["body"]["name"] == "INTERNAL_SERVER_ERROR"
    assert fake.invoices == {}


def test_the_sweep_sends_installments_that_have_come_due(demo, northside, paypal_setup):
    use_paypal(demo["org"], paypal_setup)
    due = card_installment(demo["org"], due_on=timezone.localdate())
    later = card_installment(demo["org"], due_on=timezone.localdate() + timedelta(days=5))
    elsewhere = card_installment(northside["org"])  # northside: simulated gateway

    with scopes_disabled():
        orgs = {o.pk: o for o in (demo["org"], northside["org"])}
    with scope(organization=orgs[demo["org"].pk]):
        assert sending.pending_due_installments(demo["org"]) == [due.pk]
    for installment in (due, elsewhere):
        tasks.send_installment(installment.organization_id, installment.pk)

    assert reload(due).status == "sent" and reload(due).gateway_invoice_id.startswith("INV2-")
    assert reload(later).status == "pending"
    assert reload(elsewhere).gateway_invoice_id.startswith("SIM-")
    with scope(organization=orgs[demo["org"].pk]):
        assert sending.pending_due_installments(demo["org"]) == []


def test_the_sweep_task_enqueues_what_is_due(demo, monkeypatch):
    installment = card_installment(demo["org"])
    queued = []
    monkeypatch.setattr(tasks.send_installments, "delay", lambda *args: queued.append(args))
    assert tasks.send_due_installments() == 1
    assert queued == [(demo["org"].pk, [installment.pk])]  # one task per batch


def test_an_organization_without_credentials_uses_the_simulated_gateway(demo):
    with scopes_disabled():
        demo["org"].payment_gateway = "paypal"  # chosen, but no credentials yet
        demo["org"].save()
    assert isinstance(gateways.gateway_for(demo["org"]), gateways.SimulatedGateway)


# --- Simulated gateway, end to end ------------------------------------------------------


def test_simulated_invoice_email_pay_page_and_payment(
    demo, northside, eager_celery, django_capture_on_commit_callbacks
):
    installment = approved_rotation(demo["org"], django_capture_on_commit_callbacks)
    assert installment.status == "sent" and installment.gateway_invoice_id.startswith("SIM-")
    with scopes_disabled():
        email = OutboundEmail.objects.get(template="installment_invoice")
    assert email.recipient == installment.invoice.student.user.email
    assert email.context["total"] == "617.94" and email.context["card_fee"] == "17.94"
    pay_url = email.context["pay_url"]
    path = pay_url[pay_url.index("/payments/simulated/") :]
    assert pay_url.startswith(f"http://{host_of(demo['org'])}")

    browser = Client(HTTP_HOST=host_of(demo["org"]))
    page = browser.get(path)
    assert page.status_code == 200
    for amount in ("600.00", "17.94", "617.94"):
        assert amount in page.content.decode()

    # The same link on another organization's host is no link at all.
    assert Client(HTTP_HOST=host_of(northside["org"])).post(path).status_code == 404
    assert reload(installment).status == "sent"

    paid = browser.post(path)
    assert paid.status_code == 302
    installment = reload(installment)
    assert installment.status == "paid"
    with scopes_disabled():
        payment = Payment.objects.get(installment=installment)
        assert payment.amount == Decimal("617.94")
        assert OutboundEmail.objects.filter(template="payment_received").exists()
    assert "Paid" in browser.get(path).content.decode()

    # Paying again changes nothing.
    browser.post(path)
    with scopes_disabled():
        assert Payment.objects.filter(installment=installment).count() == 1


def test_a_tampered_pay_link_gets_a_clear_page(demo):
    response = Client(HTTP_HOST=host_of(demo["org"])).get("/payments/simulated/not-a-token/")
    assert response.status_code == 404
    assert "does not work" in response.content.decode()


def test_a_forged_simulated_event_is_refused(demo, eager_celery):
    """The simulated gateway's events are signed with our secret and this organization:
    one signed for another organization does not verify here."""
    installment = card_installment(demo["org"])
    send(installment)
    installment = reload(installment)
    with scopes_disabled():
        other = factories.OrganizationFactory(slug="elsewhere")
    with scope(organization=demo["org"]):
        raw, headers = gateways.SimulatedGateway(other).paid_event(installment)
        assert not gateways.SimulatedGateway(demo["org"]).verify_webhook(headers, raw)
        raw, headers = gateways.SimulatedGateway(demo["org"]).paid_event(installment)
        assert gateways.SimulatedGateway(demo["org"]).verify_webhook(headers, raw)
        assert not gateways.SimulatedGateway(demo["org"]).verify_webhook(headers, raw + b" ")
