"""Payments pages (issue 7 item 14): students see their schedule, what is due, how to pay,
receipts and credit; admins see what is due and overdue, oldest first, with a link to
record a receipt, and a student's ledger; the rotation page shows paid, due and overdue.
Another organization's money never shows, and each list costs the same queries at any
length. Also the request form's price summary (htmx fragment and the no-JS review)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled

from rotations.models import Rotation
from tests import factories

pytestmark = pytest.mark.django_db

MAX_QUERIES = 12  # session, user, membership … plus a fixed handful per page (7–11 today)


def days(n: int):
    return timezone.localdate() + timedelta(days=n)


def invoice_for(student, *, method="paypal", installments=(), rotation=None):
    """An issued invoice with ``installments``: (days from today, amount, card fee, paid)."""
    rotation = rotation or factories.RotationFactory(
        organization=student.organization,
        student=student,
        status="approved",
        payment_method=method,
        plan="two_payment",
    )
    invoice = factories.InvoiceFactory(rotation=rotation, status="issued")
    rows = []
    for sequence, (offset, amount, fee, paid) in enumerate(installments, start=1):
        row = factories.InstallmentFactory(
            invoice=invoice,
            sequence=sequence,
            due_on=days(offset),
            amount=Decimal(amount),
            card_fee=Decimal(fee),
            status="paid" if paid else "sent",
            paid_at=timezone.now() if paid else None,
        )
        if paid:
            factories.PaymentFactory(installment=row, reference=f"ZELLE-{row.pk}")
        rows.append(row)
    return invoice, rows


@pytest.fixture
def money(demo, northside):
    """Demo's student: a card invoice with one paid, one overdue and one due installment,
    and $75 of credit. Northside's student: an overdue installment of $999.99."""
    with scopes_disabled():
        invoice, rows = invoice_for(
            demo["student"],
            installments=[
                (-10, "600.00", "17.94", True),
                (-2, "300.00", "8.97", False),
                (5, "300.00", "8.97", False),
            ],
        )
        factories.CreditEntryFactory(student=demo["student"], amount=Decimal("75.00"))
        other, other_rows = invoice_for(
            northside["student"], method="zelle", installments=[(-3, "999.99", "0.00", False)]
        )
    return {"invoice": invoice, "rows": rows, "other": other, "other_rows": other_rows}


# --- Students ------------------------------------------------------------------------------


def test_student_sees_schedule_standing_receipts_and_credit(demo, money, client_for):
    html = client_for(demo["student"]).get("/payments/").content.decode()
    paid, overdue, due = money["rows"]
    assert 'data-testid="credit-balance">$75.00' in html
    for row, standing in ((paid, "Paid"), (overdue, "Overdue"), (due, "Due")):
        assert f'data-testid="installment-{row.pk}"' in html
        chunk = html.split(f'data-testid="installment-{row.pk}"')[1].split("</tr>")[0]
        assert standing in chunk
    assert "$617.94" in html and "$308.97" in html
    # No gateway link stored yet: the student is told where the PayPal invoice is.
    assert "Check your email for the PayPal invoice." in html
    assert f"ZELLE-{paid.pk}" in html  # the receipt
    assert money["invoice"].reference_code in html
    assert money["other"].reference_code not in html and "999.99" not in html


def test_pay_link_when_the_gateway_gave_one(demo, money, client_for):
    _paid, overdue, _due = money["rows"]
    with scopes_disabled():
        overdue.gateway_answer = {
            "detail": {
                "metadata": {"recipient_view_url": "https://www.paypal.com/invoice/p/#INV2-X"}
            }
        }
        overdue.save()
    html = client_for(demo["student"]).get("/payments/").content.decode()
    assert 'href="https://www.paypal.com/invoice/p/#INV2-X"' in html
    assert "Pay $308.97" in html


def test_simulated_gateway_pay_page_link(demo, money, client_for):
    _paid, _overdue, due = money["rows"]
    with scopes_disabled():
        due.gateway_answer = {"gateway": "simulated", "payer_url": "http://demo.localhost/p/x/"}
        due.save()
        _paid.gateway_answer = {"payer_url": "javascript:alert(1)"}
        _paid.save()
    html = client_for(demo["student"]).get("/payments/").content.decode()
    assert 'href="http://demo.localhost/p/x/"' in html
    assert "javascript:" not in html


def test_zelle_student_is_told_the_reference(demo, client_for):
    with scopes_disabled():
        invoice, _ = invoice_for(
            demo["student"], method="zelle", installments=[(3, "500.00", "0.00", False)]
        )
    html = client_for(demo["student"]).get("/payments/").content.decode()
    assert f"Send it by Zelle with reference {invoice.reference_code}" in html


def test_payments_page_is_for_students(demo, client_for):
    assert client_for(demo["attending"]).get("/payments/").status_code == 403


def test_student_page_queries_do_not_grow_with_invoices(
    demo, money, client_for, django_assert_max_num_queries
):
    client = client_for(demo["student"])
    with django_assert_max_num_queries(MAX_QUERIES):
        client.get("/payments/")
    with scopes_disabled():
        for _ in range(5):
            invoice_for(
                demo["student"],
                installments=[(1, "10.00", "0.30", True), (9, "10.00", "0.30", False)],
            )
    with django_assert_max_num_queries(MAX_QUERIES):
        assert client.get("/payments/").status_code == 200


# --- Admins -----------------------------------------------------------------------------


def test_admin_sees_due_and_overdue_oldest_first_with_record_links(demo, money, client_for):
    _paid, overdue, due = money["rows"]
    html = client_for(demo["admin"]).get("/payments/due/").content.decode()
    assert html.index(f'data-testid="due-{overdue.pk}"') < html.index(f'data-testid="due-{due.pk}"')
    assert f'href="/payments/installments/{overdue.pk}/record/"' in html
    assert f'data-testid="due-{money["rows"][0].pk}"' not in html  # paid: not due
    assert money["other"].reference_code not in html  # another organization's
    assert demo["student"].display_name in html


def test_only_admins_see_the_due_list_and_ledgers(demo, money, client_for):
    for member in (demo["student"], demo["attending"]):
        client = client_for(member)
        assert client.get("/payments/due/").status_code == 403
        assert client.get(f"/payments/students/{demo['student'].pk}/").status_code == 403


def test_admin_sees_a_students_ledger(demo, money, client_for):
    paid, overdue, _due = money["rows"]
    html = client_for(demo["admin"]).get(f"/payments/students/{demo['student'].pk}/").content
    html = html.decode()
    assert money["invoice"].reference_code in html
    assert f"ZELLE-{paid.pk}" in html
    assert "Paid for a cancelled rotation" in html and 'credit-balance">$75.00' in html
    assert f'href="/payments/installments/{overdue.pk}/record/"' in html


def test_another_organizations_student_ledger_is_not_found(demo, northside, money, client_for):
    response = client_for(demo["admin"]).get(f"/payments/students/{northside['student'].pk}/")
    assert response.status_code == 404


def test_admin_lists_do_not_grow_in_queries(demo, money, client_for, django_assert_max_num_queries):
    client = client_for(demo["admin"])
    ledger = f"/payments/students/{demo['student'].pk}/"
    with scopes_disabled():
        for _ in range(6):
            student = factories.StudentFactory(organization=demo["org"])
            invoice_for(student, installments=[(-1, "10.00", "0.00", False)])
            invoice_for(demo["student"], installments=[(2, "10.00", "0.00", True)])
    with django_assert_max_num_queries(MAX_QUERIES):
        assert client.get("/payments/due/").status_code == 200
    with django_assert_max_num_queries(MAX_QUERIES):
        assert client.get(ledger).status_code == 200


# --- The rotation page -------------------------------------------------------------------


def test_rotation_page_shows_paid_due_and_overdue(demo, money, client_for):
    rotation = money["invoice"].rotation
    html = client_for(demo["student"]).get(f"/rotations/{rotation.pk}/").content.decode()
    assert 'data-testid="payments-paid">$617.94' in html
    assert 'data-testid="payments-due">$308.97' in html
    assert 'data-testid="payments-overdue" class="overdue">$308.97' in html
    admin = client_for(demo["admin"]).get(f"/rotations/{rotation.pk}/").content.decode()
    assert 'data-testid="payments-overdue" class="overdue">$308.97' in admin
    assert f"/payments/students/{demo['student'].pk}/" in admin


def test_attending_does_not_see_the_students_payments(demo, money, client_for):
    rotation = money["invoice"].rotation
    with scopes_disabled():
        rotation.attending.membership = demo["attending"]
        rotation.attending.save()
    response = client_for(demo["attending"]).get(f"/rotations/{rotation.pk}/")
    assert response.status_code == 200
    assert 'data-testid="rotation-payments"' not in response.content.decode()


def test_requested_rotation_shows_what_the_student_agreed_to(demo, client_for):
    with scopes_disabled():
        rotation = factories.RotationFactory(
            organization=demo["org"], student=demo["student"], confirmed_total=Decimal("1035.88")
        )
    html = client_for(demo["student"]).get(f"/rotations/{rotation.pk}/").content.decode()
    assert "Nothing is owed yet" in html and "You agreed to pay $1,035.88" in html


# --- The request form's price summary -----------------------------------------------------


@pytest.fixture
def attending(demo):
    with scopes_disabled():
        profile = factories.AttendingProfileFactory(
            organization=demo["org"], membership=demo["attending"], weekly_rate=Decimal("300.00")
        )
        factories.publish(profile, factories.next_monday(2), 8)
    return profile


def summary_query(**overrides):
    return {
        "start": factories.next_monday(3).isoformat(),
        "weeks": "4",
        "plan": "two_payment",
        "payment_method": "paypal",
        **overrides,
    }


def test_htmx_summary_shows_the_total_each_payment_and_the_agreement(demo, attending, client_for):
    response = client_for(demo["student"]).get(
        f"/attendings/{attending.pk}/quote/", summary_query(), HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert 'data-testid="quote-total">$1,235.88' in html
    assert html.count("$617.94") == 2
    key = f"confirm-two_payment-paypal-{factories.next_monday(3):%Y%m%d}-4-123588"
    assert f'name="confirmed_total" id="{key}" value="1235.88" hx-preserve' in html
    assert "I agree to pay $1,235.88 as scheduled" in html


def test_htmx_summary_explains_a_refusal_and_offers_no_agreement(demo, attending, client_for):
    html = (
        client_for(demo["student"])
        .get(
            f"/attendings/{attending.pk}/quote/",
            summary_query(plan="weekly", start=factories.next_monday(2).isoformat()),
            HTTP_HX_REQUEST="true",
        )
        .content.decode()
    )
    assert "at least 21 days" in html and "confirmed_total" not in html
    incomplete = client_for(demo["student"]).get(
        f"/attendings/{attending.pk}/quote/", {"plan": "full"}, HTTP_HX_REQUEST="true"
    )
    assert 'data-testid="quote-incomplete"' in incomplete.content.decode()


def test_review_without_javascript_then_send(demo, attending, client_for):
    client = client_for(demo["student"])
    form = {
        **summary_query(payment_method="zelle"),
        "rotation_type": "clerkship",
        "mode": "in_person",
        "payer": "self",
        "message": 'Hello "doctor" <b>',
    }
    review = client.post(f"/attendings/{attending.pk}/quote/", form)
    html = review.content.decode()
    assert review.status_code == 200
    assert f'action="/attendings/{attending.pk}/request/"' in html
    assert 'name="message" value="Hello &quot;doctor&quot; &lt;b&gt;"' in html
    assert "I agree to pay $1,200.00 as scheduled" in html

    # Sent without ticking the box: refused, nothing written.
    refused = client.post(f"/attendings/{attending.pk}/request/", form)
    assert refused.status_code == 400
    assert "tick the box to agree" in refused.content.decode()
    with scopes_disabled():
        assert not Rotation.objects.exists()

    sent = client.post(
        f"/attendings/{attending.pk}/request/", {**form, "confirmed_total": "1200.00"}
    )
    assert sent.status_code == 302
    with scopes_disabled():
        assert Rotation.objects.get().confirmed_total == Decimal("1200.00")


def test_a_stale_summary_is_refused_on_the_form(demo, attending, client_for):
    form = {
        **summary_query(),
        "rotation_type": "clerkship",
        "mode": "in_person",
        "payer": "self",
        "confirmed_total": "1235.88",
    }
    with scopes_disabled():
        attending.weekly_rate = Decimal("310.00")
        attending.save()
    response = client_for(demo["student"]).post(f"/attendings/{attending.pk}/request/", form)
    assert response.status_code == 409
    assert "The price changed; review it again" in response.content.decode()
    with scopes_disabled():
        assert not Rotation.objects.exists()


def test_another_organizations_attending_has_no_summary(demo, northside, client_for):
    with scopes_disabled():
        theirs = factories.AttendingProfileFactory(
            organization=northside["org"], membership=northside["attending"]
        )
    response = client_for(demo["student"]).get(
        f"/attendings/{theirs.pk}/quote/", summary_query(), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 404
