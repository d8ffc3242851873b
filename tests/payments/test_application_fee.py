"""The application fee (DESIGN §6, §13): the requirement's non-refundable fee is its own
line on the first installment, part of that installment's amount, with the card
surcharge on it like on anything paid by card; fixed when the student asks; in the quote
(page and API) and the confirmed total; left out of what a student's own cancellation
returns, refunded by refund protection (§15 "everything paid"); its own item on the
PayPal invoice.

The worked example: $300 a week × 4 weeks in two payments = $600.00 + $600.00, and an
application fee of $75.00 on the first: $675.00. By card (2.99% on each payment) the
first is $675.00 + $20.18 (675 × 0.0299 = 20.1825, half up to the cent) = $695.18 and
the second $600.00 + $17.94 = $617.94: $1,313.12 in all. By Zelle: $675.00 + $600.00.
"""

from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from notifications.models import OutboundEmail
from payments import receipts
from payments.credits import add_credit
from payments.models import CreditEntry, Installment, InvoiceLine, Payment, Refund
from payments.refund_models import CancellationTier
from payments.schedule import friday_before
from rotations import cancellations
from rotations import services as rotation_services
from rotations.models import Requirement, Rotation
from tests import factories
from tests.payments.booking import book, start_noon
from tests.payments.gateway_helpers import reload, send, use_paypal
from tests.payments.test_refunds import pay_at_paypal
from usdoctors.errors import Conflict

pytestmark = pytest.mark.django_db

QUOTE = "/api/v1/quote"
FEE = Decimal("75.00")
LABEL = "Application fee (non-refundable)"


@pytest.fixture
def attending(demo):
    """$300 a week; their clerkship asks a $75.00 application fee and includes housing;
    their observership asks nothing."""
    with scopes_disabled():
        profile = factories.AttendingProfileFactory(
            organization=demo["org"], membership=demo["attending"], weekly_rate=Decimal("300.00")
        )
        Requirement.objects.create(
            organization=demo["org"],
            attending=profile,
            rotation_type="clerkship",
            application_fee=FEE,
            housing_included=True,
        )
    return profile


def installments_of(invoice):
    with scopes_disabled():
        return list(Installment.objects.filter(invoice=invoice).order_by("sequence"))


def lines_of(invoice):
    with scopes_disabled():
        return [
            (line.kind, line.label, line.amount, line.installment_id)
            for line in InvoiceLine.objects.filter(invoice=invoice).order_by("pk")
        ]


# --- The invoice ---------------------------------------------------------------------------


def test_first_card_installment_carries_the_fee_line_and_its_surcharge(demo, attending):
    rotation, invoice = book(demo["student"], attending=attending, method="paypal")
    first, second = installments_of(invoice)
    assert rotation.application_fee == FEE
    assert (first.amount, first.application_fee, first.card_fee, first.charged) == (
        Decimal("675.00"),
        FEE,
        Decimal("20.18"),
        Decimal("695.18"),
    )
    assert (second.amount, second.application_fee, second.card_fee, second.charged) == (
        Decimal("600.00"),
        Decimal("0.00"),
        Decimal("17.94"),
        Decimal("617.94"),
    )
    assert first.charged + second.charged == Decimal("1313.12")
    assert lines_of(invoice) == [
        ("price", "4 weeks × $300.00 a week", Decimal("1200.00"), None),
        ("application_fee", LABEL, FEE, first.pk),
        ("card_fee", "Card fee on payment 1 of 2", Decimal("20.18"), first.pk),
        ("card_fee", "Card fee on payment 2 of 2", Decimal("17.94"), second.pk),
    ]


def test_first_zelle_installment_carries_the_fee_line_without_surcharge(
    demo, attending, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        rotation, invoice = book(demo["student"], attending=attending, method="zelle")
    first, second = installments_of(invoice)
    assert [(i.amount, i.application_fee, i.card_fee) for i in (first, second)] == [
        (Decimal("675.00"), FEE, Decimal("0.00")),
        (Decimal("600.00"), Decimal("0.00"), Decimal("0.00")),
    ]
    assert [kind for kind, *_ in lines_of(invoice)] == ["price", "application_fee"]
    with scopes_disabled():
        email = OutboundEmail.objects.get(template="payment_instructions")
    assert email.context["schedule"][0].startswith("Payment 1 of 2: $675.00")


def test_a_type_without_a_fee_has_no_fee_line(demo, attending):
    with scopes_disabled():
        Requirement.objects.filter(attending=attending).update(application_fee=0)
    rotation, invoice = book(demo["student"], attending=attending, method="paypal")
    assert [i.amount for i in installments_of(invoice)] == [Decimal("600.00")] * 2
    assert "application_fee" not in [kind for kind, *_ in lines_of(invoice)]


def test_credit_pays_the_price_but_not_the_fee(demo, attending):
    """Credit applies to the price before installments; the fee is still the first
    payment's: credit covering the whole price leaves one installment of the fee alone,
    due on approval, with its card fee (75 × 0.0299 = 2.2425 → 2.24)."""
    with scope(organization=demo["org"]):
        add_credit(demo["student"], Decimal("2000.00"), "adjustment")
    rotation, invoice = book(demo["student"], attending=attending, method="paypal")
    [only] = installments_of(invoice)
    assert (only.due_on, only.amount, only.application_fee, only.card_fee) == (
        timezone.localdate(),
        FEE,
        FEE,
        Decimal("2.24"),
    )
    assert [(kind, amount) for kind, _, amount, _ in lines_of(invoice)] == [
        ("price", Decimal("1200.00")),
        ("credit", Decimal("-1200.00")),
        ("application_fee", FEE),
        ("card_fee", Decimal("2.24")),
    ]


def test_the_fee_is_fixed_when_the_student_asks(demo, attending):
    """A change of the requirement after the request changes neither the request nor
    the invoice written when it is approved."""
    start = factories.next_monday(5)
    with scopes_disabled():
        factories.publish(attending, start, 4)
    with scope(organization=demo["org"]):
        rotation = rotation_services.request_rotation(
            demo["student"],
            attending=attending,
            rotation_type="clerkship",
            mode="in_person",
            start=start,
            weeks=4,
            plan="two_payment",
            payment_method="zelle",
        )
        Requirement.objects.filter(attending=attending).update(application_fee=Decimal("500"))
        rotation_services.approve_rotation(rotation, by=attending.membership)
        rotation.refresh_from_db()
        first = Installment.objects.get(invoice__rotation=rotation, sequence=1)
    assert rotation.application_fee == FEE
    assert (first.amount, first.application_fee) == (Decimal("675.00"), FEE)


# --- The quote -----------------------------------------------------------------------------


def quote_params(attending, **overrides):
    return {
        "attending": attending.pk,
        "start": factories.next_monday(5).isoformat(),
        "weeks": 4,
        "plan": "two_payment",
        "method": "paypal",
        "rotation_type": "clerkship",
        **overrides,
    }


def test_the_quote_shows_the_fee_and_equals_the_invoice(demo, attending, api):
    body = api(demo["student"]).get(QUOTE, quote_params(attending)).json()
    assert (body["application_fee"], body["application_fee_refundable"]) == ("75.00", False)
    assert body["housing_included"] is True
    assert (body["price"], body["subtotal"], body["amount_due"]) == (
        "1200.00",
        "1275.00",
        "1275.00",
    )
    assert (body["card_fees"], body["total_charged"]) == ("38.12", "1313.12")
    start = factories.next_monday(5)
    assert [
        (i["due_on"], i["amount"], i["application_fee"], i["card_fee"], i["charged"])
        for i in body["installments"]
    ] == [
        (timezone.localdate().isoformat(), "675.00", "75.00", "20.18", "695.18"),
        (friday_before(start).isoformat(), "600.00", "0.00", "17.94", "617.94"),
    ]

    # The student confirms that total; the request keeps it and approval invoices it.
    with scopes_disabled():
        factories.publish(attending, start, 4)
    with scope(organization=demo["org"]):
        rotation = rotation_services.request_rotation(
            demo["student"],
            attending=attending,
            rotation_type="clerkship",
            mode="in_person",
            start=start,
            weeks=4,
            plan="two_payment",
            payment_method="paypal",
            confirmed_total=Decimal(body["total_charged"]),
        )
        rotation_services.approve_rotation(rotation, by=attending.membership)
        installments = list(
            Installment.objects.filter(invoice__rotation=rotation).order_by("sequence")
        )
    assert [
        (i.due_on.isoformat(), f"{i.amount}", f"{i.application_fee}", f"{i.card_fee}")
        for i in installments
    ] == [
        (i["due_on"], i["amount"], i["application_fee"], i["card_fee"])
        for i in body["installments"]
    ]


def test_a_confirmed_total_without_the_fee_is_refused_and_nothing_is_written(demo, attending):
    """``refuse_a_changed_price`` holds the request to the total with the fee: the
    student who saw $1,235.88 (the price before the fee existed) is told to look again."""
    start = factories.next_monday(5)
    with scopes_disabled():
        factories.publish(attending, start, 4)
    with scope(organization=demo["org"]), pytest.raises(Conflict) as refused:
        rotation_services.request_rotation(
            demo["student"],
            attending=attending,
            rotation_type="clerkship",
            mode="in_person",
            start=start,
            weeks=4,
            plan="two_payment",
            payment_method="paypal",
            confirmed_total=Decimal("1235.88"),
        )
    assert refused.value.code == "price_changed"
    with scopes_disabled():
        assert not Rotation.objects.filter(student=demo["student"]).exists()


def test_quote_of_a_type_without_fee_or_housing(demo, attending, api):
    body = (
        api(demo["student"])
        .get(QUOTE, quote_params(attending, rotation_type="observership"))
        .json()
    )
    assert (body["application_fee"], body["housing_included"], body["total_charged"]) == (
        "0.00",
        False,
        "1235.88",
    )


@pytest.mark.parametrize(
    "overrides, code",
    [
        ({"rotation_type": "surgery"}, "not a valid choice"),
        ({"rotation_type": None}, "type_required"),  # left out: the types' fees differ
    ],
)
def test_a_quote_without_a_clear_type_is_a_400_naming_it(demo, attending, api, overrides, code):
    params = {k: v for k, v in {**quote_params(attending), **overrides}.items() if v is not None}
    response = api(demo["student"]).get(QUOTE, params)
    assert response.status_code == 400, response.content
    assert "rotation_type" in response.content.decode()
    assert code in response.content.decode()


def test_a_type_the_attending_does_not_offer_is_a_400(demo, attending, api):
    with scopes_disabled():
        attending.rotation_types = ["clerkship"]
        attending.save()
    response = api(demo["student"]).get(QUOTE, quote_params(attending, rotation_type="elective"))
    assert response.status_code == 400
    assert "type_not_offered" in response.content.decode()


def test_the_price_summary_shows_the_fee_non_refundable_and_housing(demo, attending, client_for):
    page = client_for(demo["student"]).get(
        f"/attendings/{attending.pk}/quote/",
        {k: v for k, v in quote_params(attending).items() if k not in ("attending", "method")}
        | {"payment_method": "paypal"},
        HTTP_HX_REQUEST="true",
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="quote-application-fee">$75.00' in html
    assert "non-refundable" in html
    assert 'data-testid="quote-housing">Housing included' in html
    assert 'data-testid="quote-total">$1,313.12' in html
    assert 'value="1313.12"' in html  # the confirmation sends the total with the fee
    other = (
        client_for(demo["student"])
        .get(
            f"/attendings/{attending.pk}/quote/",
            {"rotation_type": "observership", "start": factories.next_monday(5).isoformat()}
            | {"weeks": 4, "plan": "two_payment", "payment_method": "paypal"},
            HTTP_HX_REQUEST="true",
        )
        .content.decode()
    )
    assert "quote-application-fee" not in other
    assert 'data-testid="quote-housing">Not included' in other


def test_the_request_form_sends_the_type_to_the_summary(demo, attending, client_for):
    html = client_for(demo["student"]).get(f"/attendings/{attending.pk}/").content.decode()
    assert 'hx-include="#id_rotation_type, #id_start' in html


# --- Cancellation: the fee is not returned, except by refund protection --------------------


def zelle_paid(demo, attending, capture):
    with capture(execute=True):
        rotation, invoice = book(demo["student"], attending=attending, method="zelle")
    with scope(organization=demo["org"]):
        for installment in installments_of(invoice):
            receipts.record_receipt(
                installment,
                amount=installment.charged,
                received_on=timezone.localdate(),
                reference=f"Z-{installment.sequence}",
                by=demo["admin"],
            )
    with scopes_disabled():
        assert sum(p.amount for p in Payment.objects.filter(installment__invoice=invoice)) == (
            Decimal("1275.00")
        )
    return rotation, invoice


def test_student_cancellation_credits_the_price_but_not_the_fee(
    demo, attending, django_capture_on_commit_callbacks
):
    rotation, invoice = zelle_paid(demo, attending, django_capture_on_commit_callbacks)
    with scope(organization=demo["org"]):
        rotation_services.cancel_rotation(rotation, by=demo["student"])
        [entry] = CreditEntry.objects.filter(student=demo["student"])
        assert not Refund.objects.filter(rotation=rotation).exists()
    assert entry.amount == Decimal("1200.00")


def test_student_cancellation_with_a_full_refund_line_refunds_the_price_not_the_fee(
    demo, attending, django_capture_on_commit_callbacks
):
    with scopes_disabled():
        CancellationTier.objects.create(
            organization=demo["org"], days_before_start=0, refund_percent=100, credit_percent=0
        )
    rotation, invoice = zelle_paid(demo, attending, django_capture_on_commit_callbacks)
    with scope(organization=demo["org"]):
        rotation_services.cancel_rotation(rotation, by=demo["student"])
        [payout] = Refund.objects.filter(rotation=rotation)
        assert not CreditEntry.objects.filter(student=demo["student"]).exists()
    assert payout.amount == Decimal("1200.00")


@pytest.mark.parametrize("cause", ["attending", "no_show"])
def test_refund_protection_refunds_everything_the_fee_included(
    demo, attending, django_capture_on_commit_callbacks, cause
):
    """§15: "everything paid" — the application fee too, since the student did not
    change their mind (payments.refunds)."""
    rotation, invoice = zelle_paid(demo, attending, django_capture_on_commit_callbacks)
    with scope(organization=demo["org"]):
        if cause == "attending":
            cancellations.cancel_by_attending(rotation, by=attending.membership)
        else:
            with time_machine.travel(start_noon(rotation), tick=False):
                cancellations.record_no_show(rotation, by=demo["admin"])
        [payout] = Refund.objects.filter(rotation=rotation)
    assert payout.amount == Decimal("1275.00")


def test_refund_protection_by_card_refunds_the_fee_and_the_card_fees(
    demo, attending, paypal_setup, eager_celery, django_capture_on_commit_callbacks
):
    fake = paypal_setup
    use_paypal(demo["org"], fake)
    with django_capture_on_commit_callbacks(execute=True):
        rotation, invoice = book(demo["student"], attending=attending, method="paypal")
    first, second = installments_of(invoice)
    send(first)
    pay_at_paypal(fake, demo["org"], first)
    with scope(organization=demo["org"]):
        with django_capture_on_commit_callbacks(execute=True):
            cancellations.cancel_by_attending(rotation, by=attending.membership)
        [refund] = Refund.objects.filter(rotation=rotation)
    assert (refund.amount, refund.card_fee) == (Decimal("695.18"), Decimal("20.18"))


# --- PayPal ---------------------------------------------------------------------------------


def test_paypal_receives_the_fee_as_its_own_item(
    demo, attending, paypal_setup, eager_celery, django_capture_on_commit_callbacks
):
    fake = paypal_setup
    use_paypal(demo["org"], fake)
    with django_capture_on_commit_callbacks(execute=True):
        rotation, invoice = book(demo["student"], attending=attending, method="paypal")
    first, second = installments_of(invoice)
    send(first)
    sent = fake.invoices[reload(first).gateway_invoice_id]
    assert [(item["name"], item["unit_amount"]["value"]) for item in sent["items"]] == [
        ("Rotation — installment 1 of 2", "600.00"),
        (LABEL, "75.00"),
    ]
    assert sent["amount"]["breakdown"]["custom"]["amount"]["value"] == "20.18"
    assert sent["amount"]["value"] == "695.18"

    assert send(second) == "sent"
    later = fake.invoices[reload(second).gateway_invoice_id]
    assert [(item["name"], item["unit_amount"]["value"]) for item in later["items"]] == [
        ("Rotation — installment 2 of 2", "600.00"),
    ]
