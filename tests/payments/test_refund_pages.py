"""Refund protection in the browser (DESIGN §15): the attending cancels and an admin
records a no-show on the rotation page; a visa refusal is uploaded by the student and
confirmed by an admin; admins complete payouts with a reference on the refunds page;
the schedule is shown with the quote and on the rotation page, and edited by staff in
/admin/. Refusals answer 4xx and change nothing."""

from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_scopes import scope, scopes_disabled

from documents.models import VisaRefusal
from payments.models import CreditEntry, Refund
from payments.refund_models import CancellationTier
from rotations.models import Rotation
from tests import factories
from tests.payments.booking import start_noon
from tests.payments.test_refunds import zelle_paid_in_two
from tests.test_audit_trail import submitted_form

pytestmark = pytest.mark.django_db


def state(rotation):
    with scopes_disabled():
        fresh = Rotation.objects.get(pk=rotation.pk)
        return fresh.status, Refund.objects.filter(rotation=rotation).count()


def test_the_attending_cancels_on_the_rotation_page_and_the_student_sees_the_refund(
    demo, client_for, django_capture_on_commit_callbacks
):
    rotation, invoice = zelle_paid_in_two(demo, django_capture_on_commit_callbacks)
    attending = rotation.attending.membership
    page = client_for(attending).get(f"/rotations/{rotation.pk}/").content.decode()
    assert f"/rotations/{rotation.pk}/attending-cancel/" in page

    # The student cannot use the attending's button: 403, nothing changes.
    refused = client_for(demo["student"]).post(
        f"/rotations/{rotation.pk}/attending-cancel/", {"attending-cancel-confirm": "on"}
    )
    assert refused.status_code == 403 and state(rotation) == ("approved", 0)
    # Without the confirmation box: 400, nothing changes.
    unconfirmed = client_for(attending).post(f"/rotations/{rotation.pk}/attending-cancel/", {})
    assert unconfirmed.status_code == 400 and state(rotation) == ("approved", 0)

    response = client_for(attending).post(
        f"/rotations/{rotation.pk}/attending-cancel/",
        {"attending-cancel-confirm": "on", "attending-cancel-reason": "Clinic closed"},
    )
    assert response.status_code == 302
    assert state(rotation) == ("cancelled", 1)
    student_page = client_for(demo["student"]).get(f"/rotations/{rotation.pk}/").content.decode()
    assert "The attending cancelled" in student_page
    assert "$1,200.00" in student_page and "Zelle payout" in student_page
    # The attending sees none of the student's money.
    assert (
        "rotation-refunds"
        not in client_for(attending).get(f"/rotations/{rotation.pk}/").content.decode()
    )


def test_a_no_show_after_the_first_week_is_refused_on_the_page(
    demo, client_for, django_capture_on_commit_callbacks
):
    rotation, invoice = zelle_paid_in_two(demo, django_capture_on_commit_callbacks)
    with time_machine.travel(start_noon(rotation) + timedelta(days=9), tick=False):
        response = client_for(demo["admin"]).post(
            f"/rotations/{rotation.pk}/no-show/", {"no-show-confirm": "on"}
        )
    assert response.status_code == 409
    assert "first week" in response.content.decode()
    assert state(rotation) == ("approved", 0)

    with time_machine.travel(start_noon(rotation) + timedelta(days=1), tick=False):
        page = client_for(demo["admin"]).get(f"/rotations/{rotation.pk}/").content.decode()
        assert f"/rotations/{rotation.pk}/no-show/" in page
        response = client_for(demo["admin"]).post(
            f"/rotations/{rotation.pk}/no-show/", {"no-show-confirm": "on"}
        )
    assert response.status_code == 302 and state(rotation) == ("cancelled", 1)


def test_visa_refusal_uploaded_and_confirmed_refunds_once(
    demo, northside, client_for, pdf, django_capture_on_commit_callbacks
):
    rotation, invoice = zelle_paid_in_two(demo, django_capture_on_commit_callbacks)
    student, admin = client_for(demo["student"]), client_for(demo["admin"])
    url = f"/rotations/{rotation.pk}/visa-refusal/"
    assert url in student.get(f"/rotations/{rotation.pk}/").content.decode()

    not_a_pdf = SimpleUploadedFile("refusal.pdf", b"hello", content_type="application/pdf")
    assert student.post(url, {"file": not_a_pdf}).status_code == 400
    with scopes_disabled():
        assert not VisaRefusal.objects.exists()

    assert student.post(url, {"file": pdf("refusal.pdf")}).status_code == 302
    with scopes_disabled():
        [refusal] = VisaRefusal.objects.all()
    assert refusal.status == "submitted"
    assert student.post(url, {"file": pdf("again.pdf")}).status_code == 409
    # Admins find it from the document review page, and read the file.
    assert "/visa-refusals/" in admin.get("/documents/review/").content.decode()
    assert f"/rotations/{rotation.pk}/" in admin.get("/visa-refusals/").content.decode()
    assert admin.get(f"/visa-refusals/{refusal.pk}/file/").status_code == 200
    assert (
        client_for(rotation.attending.membership)
        .get(f"/visa-refusals/{refusal.pk}/file/")
        .status_code
        == 404
    )
    # Another organization's admin: 404, nothing changes.
    foreign = client_for(northside["admin"]).post(f"/visa-refusals/{refusal.pk}/confirm/")
    assert foreign.status_code == 404 and state(rotation) == ("approved", 0)

    confirmed = admin.post(f"/visa-refusals/{refusal.pk}/confirm/")
    assert confirmed.status_code == 302
    assert state(rotation) == ("cancelled", 1)
    with scopes_disabled():
        rotation.refresh_from_db()
        [payout] = Refund.objects.filter(rotation=rotation)
    assert rotation.cancellation_cause == "visa_refused" and payout.cause == "visa_refused"

    twice = admin.post(f"/visa-refusals/{refusal.pk}/confirm/")
    assert twice.status_code == 409
    assert "already" in twice.content.decode()
    assert state(rotation) == ("cancelled", 1)


def test_admin_completes_a_payout_on_the_refunds_page(
    demo, northside, client_for, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    rotation, invoice = zelle_paid_in_two(demo, django_capture_on_commit_callbacks)
    with scope(organization=demo["org"]):
        from rotations.cancellations import cancel_by_attending

        cancel_by_attending(rotation, by=rotation.attending.membership)
        payout = Refund.objects.get(rotation=rotation)
    admin = client_for(demo["admin"])
    assert "/payments/refunds/" in admin.get("/payments/due/").content.decode()
    with django_assert_max_num_queries(12):
        page = admin.get("/payments/refunds/")
    assert f"payout-{payout.pk}" in page.content.decode()
    url = f"/payments/refunds/{payout.pk}/payout/"

    missing = admin.post(url, {f"payout-{payout.pk}-reference": ""})
    assert missing.status_code == 400
    assert "reference" in missing.content.decode()
    assert (
        client_for(demo["student"]).post(url, {f"payout-{payout.pk}-reference": "X"}).status_code
        == 403
    )
    assert (
        client_for(northside["admin"]).post(url, {f"payout-{payout.pk}-reference": "X"}).status_code
        == 404
    )
    with scopes_disabled():
        assert Refund.objects.get(pk=payout.pk).status == "pending"

    assert admin.post(url, {f"payout-{payout.pk}-reference": "ZL-77"}).status_code == 302
    assert admin.post(url, {f"payout-{payout.pk}-reference": "ZL-77"}).status_code == 302
    assert admin.post(url, {f"payout-{payout.pk}-reference": "ZL-78"}).status_code == 409
    with scopes_disabled():
        done = Refund.objects.get(pk=payout.pk)
    assert (done.status, done.reference) == ("completed", "ZL-77")
    ledger = admin.get(f"/payments/students/{demo['student'].pk}/").content.decode()
    assert "ZL-77" in ledger and "Zelle payout" in ledger


def test_the_quote_and_the_rotation_page_show_the_schedule(
    demo, client_for, django_capture_on_commit_callbacks
):
    with scopes_disabled():
        CancellationTier.objects.create(
            organization=demo["org"], days_before_start=14, refund_percent=50, credit_percent=50
        )
        attending = factories.AttendingProfileFactory(organization=demo["org"])
    start = factories.next_monday(5)
    summary = client_for(demo["student"]).get(
        f"/attendings/{attending.pk}/quote/",
        {"start": start.isoformat(), "weeks": 2, "plan": "full", "payment_method": "paypal"},
        headers={"HX-Request": "true"},
    )
    text = summary.content.decode()
    assert summary.status_code == 200, text
    assert (
        "14 days or more before the start: 50% refunded to how you paid and 50% as credit" in text
    )
    assert "Fewer than 14 days before the start: nothing back" in text
    assert "Refund protection" in text

    rotation, invoice = zelle_paid_in_two(demo, django_capture_on_commit_callbacks)
    page = client_for(demo["student"]).get(f"/rotations/{rotation.pk}/").content.decode()
    assert "Cancelling today: 50% refunded to how you paid and 50% as credit" in page


def test_without_a_schedule_the_default_is_credit(
    demo, client_for, django_capture_on_commit_callbacks
):
    rotation, invoice = zelle_paid_in_two(demo, django_capture_on_commit_callbacks)
    page = client_for(demo["student"]).get(f"/rotations/{rotation.pk}/").content.decode()
    assert "Up to the start: 100% as credit toward your next rotation" in page
    response = client_for(demo["student"]).post(
        f"/rotations/{rotation.pk}/cancel/", {"cancel-confirm": "on"}
    )
    assert response.status_code == 302
    with scopes_disabled():
        assert not Refund.objects.filter(rotation=rotation).exists()
        assert (
            CreditEntry.objects.get(student=demo["student"]).amount
            == invoice.lines.get(kind="price").amount
        )


def test_staff_edit_the_cancellation_schedule_in_admin(world, demo):
    staff = factories.UserFactory(is_staff=True, is_superuser=True)
    client = Client(HTTP_HOST="localhost")
    client.force_login(staff)
    path = f"/admin/usdoctors/organization/{demo['org'].pk}/change/"
    data = submitted_form(client.get(path).content.decode())
    data.pop("csrfmiddlewaretoken", None)
    assert "cancellation_tiers-TOTAL_FORMS" in data
    too_much = {
        **data,
        "cancellation_tiers-TOTAL_FORMS": "1",
        "cancellation_tiers-0-days_before_start": "30",
        "cancellation_tiers-0-refund_percent": "80",
        "cancellation_tiers-0-credit_percent": "40",
    }
    assert client.post(path, too_much).status_code == 200  # the form again, with the error
    with scopes_disabled():
        assert not CancellationTier.objects.exists()
    response = client.post(path, {**too_much, "cancellation_tiers-0-credit_percent": "20"})
    assert response.status_code == 302
    with scopes_disabled():
        [tier] = CancellationTier.objects.filter(organization=demo["org"])
    assert (tier.days_before_start, tier.refund_percent, tier.credit_percent) == (30, 80, 20)
