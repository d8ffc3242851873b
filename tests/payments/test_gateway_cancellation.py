"""A cancelled rotation's unpaid installments are withdrawn at the gateway too (DESIGN
§6): after the cancellation commits, outside any transaction, once. PayPal cancels a
sent invoice and deletes a scheduled one; "already cancelled" counts as done."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scope

from payments import tasks
from payments.cancellation import credit_cancelled_rotation
from payments.paypal import PayPalClient
from rotations import services as rotation_services
from tests.payments.gateway_helpers import INVOICES, card_installment, reload, send, use_paypal
from tests.payments.test_gateway_flow import approved_rotation

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager_celery():
    """``.delay()`` runs the task here and now, so the on-commit cancel happens inside
    the test (errors stay in its result, as a worker's would)."""
    conf = tasks.cancel_installment_invoice.app.conf
    before = conf.task_always_eager, conf.task_eager_propagates
    conf.task_always_eager, conf.task_eager_propagates = True, False
    yield
    conf.task_always_eager, conf.task_eager_propagates = before


def cancel_invoice_of(installment, django_capture_on_commit_callbacks):
    """The ``cancelled`` subscriber, as the rotation's cancellation runs it."""
    rotation = installment.invoice.rotation
    with scope(organization=installment.organization):
        with django_capture_on_commit_callbacks(execute=True):
            credit_cancelled_rotation(rotation, by=rotation.student, reason="")


def test_cancelling_a_rotation_cancels_its_sent_paypal_invoice(
    demo, paypal_setup, eager_celery, django_capture_on_commit_callbacks
):
    fake = paypal_setup
    use_paypal(demo["org"], fake)
    installment = approved_rotation(demo["org"], django_capture_on_commit_callbacks)
    assert fake.invoices[installment.gateway_invoice_id]["status"] == "UNPAID"
    rotation = installment.invoice.rotation

    with scope(organization=demo["org"]):
        with django_capture_on_commit_callbacks(execute=True):
            rotation_services.cancel_rotation(rotation, by=rotation.student)

    installment = reload(installment)
    assert installment.status == "cancelled"
    assert fake.invoices[installment.gateway_invoice_id]["status"] == "CANCELLED"
    [cancel] = fake.requests_to(f"{INVOICES}/{installment.gateway_invoice_id}/cancel")
    assert cancel.headers["PayPal-Request-Id"] == f"installment-{installment.pk}-cancel"
    assert installment.gateway_answer["cancellation"]["cancelled"] is True
    # Run again (a redelivered task): nothing more is asked of PayPal.
    assert tasks.cancel_installment_invoice(demo["org"].pk, installment.pk) == "skipped"
    assert len(fake.requests_to(f"{INVOICES}/{installment.gateway_invoice_id}/cancel")) == 1


def test_a_scheduled_invoice_is_deleted(
    demo, paypal_setup, eager_celery, django_capture_on_commit_callbacks
):
    fake = paypal_setup
    use_paypal(demo["org"], fake)
    later = card_installment(demo["org"], due_on=timezone.localdate() + timedelta(days=20))
    assert send(later) == "sent"
    invoice_id = reload(later).gateway_invoice_id
    assert fake.invoices[invoice_id]["status"] == "SCHEDULED"

    cancel_invoice_of(reload(later), django_capture_on_commit_callbacks)

    assert invoice_id not in fake.invoices and invoice_id in fake.deleted_invoices
    assert reload(later).gateway_answer["cancellation"]["deleted"] is True


def test_paypal_saying_already_cancelled_counts_as_done(
    demo, paypal_setup, eager_celery, django_capture_on_commit_callbacks, monkeypatch
):
    fake = paypal_setup
    use_paypal(demo["org"], fake)
    installment = card_installment(demo["org"])
    assert send(installment) == "sent"
    invoice_id = reload(installment).gateway_invoice_id
    # Cancelled at PayPal between our read and our cancel: the cancel answers 422
    # INVOICE_CANCELED_ALREADY.
    fake.invoices[invoice_id]["status"] = "CANCELLED"
    monkeypatch.setattr(PayPalClient, "get_invoice", lambda self, _id: {"status": "UNPAID"})

    cancel_invoice_of(reload(installment), django_capture_on_commit_callbacks)

    installment = reload(installment)
    assert installment.status == "cancelled"
    assert installment.gateway_answer["cancellation"]["already_cancelled"] is True
    assert len(fake.requests_to(f"{INVOICES}/{invoice_id}/cancel")) == 1


def test_an_installment_never_sent_asks_nothing_of_the_gateway(
    demo, paypal_setup, eager_celery, django_capture_on_commit_callbacks
):
    use_paypal(demo["org"], paypal_setup)
    installment = card_installment(demo["org"])

    cancel_invoice_of(installment, django_capture_on_commit_callbacks)

    assert reload(installment).status == "cancelled"
    assert paypal_setup.requests_to(INVOICES, "POST") == []
