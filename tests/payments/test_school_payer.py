"""School payers (DESIGN §5, §6; issue 7 item 10): a card on file before approval, the
school's signed confirm/refuse link, and the card charged in full with the surcharge
when the school refuses or does not answer by the Friday before the start."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django_scopes import scope, scopes_disabled

from payments import school
from payments.models import CardOnFile, Installment, Payment
from payments.school_tasks import charge_unanswered_schools
from rotations.models import Rotation
from tests import factories
from tests.conftest import host_of
from tests.payments.school_helpers import (
    TOTAL,
    WITH_SURCHARGE,
    emails,
    link_path,
    rotation_invoice,
    school_payment,
    school_rotation,
    use_paypal,
    vault_a_card,
)

pytestmark = pytest.mark.django_db

ORDERS = "/v2/checkout/orders"


def status_of(rotation) -> str:
    with scopes_disabled():
        return Rotation.objects.get(pk=rotation.pk).status


def payments_of(rotation) -> list:
    with scopes_disabled():
        return list(Payment.objects.filter(installment__invoice__rotation=rotation))


# --- A card on file before approval ---------------------------------------------------


def test_approval_is_refused_until_the_student_puts_a_card_on_file(demo, client_for):
    rotation = school_rotation(demo["org"], card=False, approve=False)

    response = client_for(rotation.attending.membership).post(
        f"/api/v1/rotations/{rotation.pk}/approve", content_type="application/json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "card_on_file_required"
    assert "The student must put a card on file first" in response.json()["detail"]
    assert status_of(rotation) == "requested"
    with scopes_disabled():
        assert not rotation.invoices.exists()
        assert not rotation.school_payments.exists()
    assert emails("school_payment_confirmation") == []


def test_the_attending_sees_the_card_refusal_on_the_rotation_page(demo, client_for):
    rotation = school_rotation(demo["org"], card=False, approve=False)

    response = client_for(rotation.attending.membership).post(f"/rotations/{rotation.pk}/approve/")

    assert response.status_code == 409
    assert "The student must put a card on file first" in response.content.decode()
    assert status_of(rotation) == "requested"


def test_a_self_paid_rotation_needs_no_card(demo):
    rotation = school_rotation(demo["org"], payer="self", card=False)

    assert status_of(rotation) == "approved"
    with scopes_disabled():
        assert not rotation.school_payments.exists()


def test_the_student_puts_a_simulated_card_on_file_through_the_api(demo, client_for):
    student = demo["student"]

    response = client_for(student).post(
        "/api/v1/payment-methods/card", {}, content_type="application/json"
    )

    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "active"
    with scopes_disabled():
        assert CardOnFile.objects.filter(student=student, status="active").count() == 1


def test_the_card_page_saves_a_simulated_card(demo, client_for):
    client = client_for(demo["student"])
    assert client.get("/payments/card/").status_code == 200

    response = client.post("/payments/card/")

    assert response.status_code == 302
    with scopes_disabled():
        assert CardOnFile.objects.filter(student=demo["student"], status="active").exists()


def test_the_student_vaults_a_card_with_paypal(demo, fake_paypal, settings, client_for):
    use_paypal(demo["org"], fake_paypal, settings)
    client = client_for(demo["student"])
    started = client.post("/api/v1/payment-methods/card/setup-token")
    assert started.status_code == 201, started.json()
    setup_token = started.json()["setup_token_id"]
    fake_paypal.approve_setup_token(setup_token, number="4000000000001234")

    response = client.post(
        "/api/v1/payment-methods/card",
        {"setup_token_id": setup_token},
        content_type="application/json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["last4"] == "1234"
    with scopes_disabled():
        card = CardOnFile.objects.get(student=demo["student"], status="active")
    assert card.payment_token_id in fake_paypal.payment_tokens


def test_an_unapproved_or_unknown_setup_token_is_refused(demo, fake_paypal, settings, client_for):
    use_paypal(demo["org"], fake_paypal, settings)

    response = client_for(demo["student"]).post(
        "/api/v1/payment-methods/card", {"setup_token_id": "nope"}, content_type="application/json"
    )

    assert response.status_code == 409
    with scopes_disabled():
        assert not CardOnFile.objects.filter(student=demo["student"], status="active").exists()


# --- The school's link ----------------------------------------------------------------------


def test_approval_emails_the_school_its_link_expiring_the_friday_before_the_start(demo):
    rotation = school_rotation(demo["org"])

    [email] = emails("school_payment_confirmation")
    assert email.recipient == "registrar@school.test"
    assert "/school/payment/" in email.context["confirmation_url"]
    assert email.context["amount"] == "1,000.00"
    record = school_payment(rotation)
    assert record.deadline == rotation.start - timedelta(days=3)  # the Friday before
    assert record.deadline.weekday() == 4
    assert record.decision == "awaiting"


def test_the_school_confirms_and_nothing_is_charged(
    client, demo, fake_paypal, settings, django_capture_on_commit_callbacks
):
    use_paypal(demo["org"], fake_paypal, settings)
    rotation = school_rotation(demo["org"])

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            link_path(rotation), {"decision": "confirm"}, HTTP_HOST=host_of(demo["org"])
        )
    with time_machine.travel(school.link_expiry(rotation) + timedelta(hours=9)):
        charge_unanswered_schools()

    assert response.status_code == 200
    assert callbacks == []
    assert school_payment(rotation).decision == "confirmed"
    assert fake_paypal.requests_to(ORDERS) == []
    assert payments_of(rotation) == []
    with scope(organization=demo["org"]):
        assert school.school_confirmed(rotation)


def charged_amounts(fake_paypal) -> list[str]:
    return [
        request.json["purchase_units"][0]["amount"]["value"]
        for request in fake_paypal.requests_to(ORDERS, "POST")
    ]


def test_the_school_refuses_and_the_card_is_charged_in_full_with_the_surcharge(
    client, demo, fake_paypal, settings, django_capture_on_commit_callbacks
):
    use_paypal(demo["org"], fake_paypal, settings)
    rotation = school_rotation(demo["org"], approve=False)
    vault_a_card(demo["org"], rotation.student, fake_paypal)
    with scope(organization=demo["org"]):
        from rotations.services import approve_rotation

        approve_rotation(rotation, by=rotation.attending.membership)

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            link_path(rotation), {"decision": "refuse"}, HTTP_HOST=host_of(demo["org"])
        )
    assert response.status_code == 200
    assert len(callbacks) == 1  # the charge task, after commit
    with scope(organization=demo["org"]):
        assert school.charge_school_payment(school_payment(rotation).pk) == "charged"

    assert charged_amounts(fake_paypal) == [str(WITH_SURCHARGE)]
    [order] = fake_paypal.requests_to(ORDERS, "POST")
    invoice = rotation_invoice(rotation)
    assert order.headers["PayPal-Request-Id"] == f"school-charge-{invoice.pk}"
    assert (
        order.json["payment_source"]["card"]["stored_credential"]["payment_initiator"] == "MERCHANT"
    )
    [payment] = payments_of(rotation)
    assert payment.amount == WITH_SURCHARGE
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    with scopes_disabled():
        fee_lines = list(invoice.lines.filter(kind="card_fee").values_list("amount", flat=True))
    assert fee_lines == [Decimal("29.90")]
    record = school_payment(rotation)
    assert (record.decision, record.charge_status) == ("refused", "charged")
    [told] = emails("school_refused_card_charged")
    assert told.recipient == rotation.student.user.email
    assert told.context["amount"] == "1,029.90"
    assert "declined to pay" in told.context["reason"]

    # The task delivered again (or the sweep) charges nothing more.
    with scope(organization=demo["org"]):
        assert school.charge_school_payment(school_payment(rotation).pk) == "skipped"
    charge_unanswered_schools()
    assert len(fake_paypal.requests_to(ORDERS, "POST")) == 1
    assert len(payments_of(rotation)) == 1


def test_no_answer_by_the_friday_before_the_start_charges_the_card_once(
    demo, northside, fake_paypal, settings, eager_celery, django_capture_on_commit_callbacks
):
    use_paypal(demo["org"], fake_paypal, settings)
    rotation = school_rotation(demo["org"], approve=False)
    vault_a_card(demo["org"], rotation.student, fake_paypal)
    with scope(organization=demo["org"]):
        from rotations.services import approve_rotation

        approve_rotation(rotation, by=rotation.attending.membership)
    other = school_rotation(northside["org"])  # simulated gateway; not yet due either
    thursday = school.link_expiry(rotation) - timedelta(hours=1)
    friday = school.link_expiry(rotation) + timedelta(hours=9)

    with time_machine.travel(thursday):
        charge_unanswered_schools()
    assert fake_paypal.requests_to(ORDERS) == []
    assert school_payment(rotation).decision == "awaiting"

    # The sweep lapses the school and, after commit, a task charges the card.
    with time_machine.travel(friday), django_capture_on_commit_callbacks(execute=True):
        charge_unanswered_schools()
        charge_unanswered_schools()

    assert charged_amounts(fake_paypal) == [str(WITH_SURCHARGE)]
    record = school_payment(rotation)
    assert (record.decision, record.charge_status) == ("lapsed", "charged")
    assert [p.amount for p in payments_of(rotation)] == [WITH_SURCHARGE]
    told = {e.recipient: e for e in emails("school_refused_card_charged")}
    assert set(told) == {rotation.student.user.email, other.student.user.email}
    assert "did not confirm" in told[rotation.student.user.email].context["reason"]
    # Northside's rotation starts the same Monday: its simulated card was charged, once.
    assert school_payment(other).charge_status == "charged"
    assert [p.amount for p in payments_of(other)] == [WITH_SURCHARGE]


def test_a_declined_card_tells_the_student_and_admins_and_nothing_is_paid(
    client, demo, fake_paypal, settings
):
    use_paypal(demo["org"], fake_paypal, settings)
    rotation = school_rotation(demo["org"], approve=False)
    vault_a_card(demo["org"], rotation.student, fake_paypal)
    with scope(organization=demo["org"]):
        from rotations.services import approve_rotation

        approve_rotation(rotation, by=rotation.attending.membership)
    client.post(link_path(rotation), {"decision": "refuse"}, HTTP_HOST=host_of(demo["org"]))
    fake_paypal.decline_cards = True

    with scope(organization=demo["org"]):
        assert school.charge_school_payment(school_payment(rotation).pk) == "declined"

    assert school_payment(rotation).charge_status == "declined"
    assert payments_of(rotation) == []
    with scopes_disabled():
        assert not Installment.objects.filter(invoice__rotation=rotation, status="paid").exists()
    assert rotation_invoice(rotation).status != "paid"
    [student_email] = emails("school_charge_declined")
    assert student_email.recipient == rotation.student.user.email
    assert [e.recipient for e in emails("school_charge_declined_admin")] == [
        demo["admin"].user.email
    ]
    assert emails("school_refused_card_charged") == []
    # A later sweep does not try the declined card again.
    with time_machine.travel(school.link_expiry(rotation) + timedelta(hours=9)):
        charge_unanswered_schools()
    assert len(fake_paypal.requests_to(ORDERS, "POST")) == 1


def test_paypal_unreachable_leaves_the_charge_pending_and_a_retry_uses_the_same_request_id(
    client, demo, fake_paypal, settings
):
    from payments import gateways

    settings_options = dict(gateways.CLIENT_OPTIONS)
    gateways.CLIENT_OPTIONS.update(max_attempts=1)
    try:
        use_paypal(demo["org"], fake_paypal, settings)
        rotation = school_rotation(demo["org"], approve=False)
        vault_a_card(demo["org"], rotation.student, fake_paypal)
        with scope(organization=demo["org"]):
            from rotations.services import approve_rotation

            approve_rotation(rotation, by=rotation.attending.membership)
        client.post(link_path(rotation), {"decision": "refuse"}, HTTP_HOST=host_of(demo["org"]))
        fake_paypal.fail_next(ORDERS, 500)

        with scope(organization=demo["org"]):
            assert school.charge_school_payment(school_payment(rotation).pk) == "retry"
            assert school_payment(rotation).charge_status == "pending"
            assert school.charge_school_payment(school_payment(rotation).pk) == "charged"
    finally:
        gateways.CLIENT_OPTIONS.clear()
        gateways.CLIENT_OPTIONS.update(settings_options)

    ids = {r.headers["PayPal-Request-Id"] for r in fake_paypal.requests_to(ORDERS, "POST")}
    assert ids == {f"school-charge-{rotation_invoice(rotation).pk}"}
    assert [p.amount for p in payments_of(rotation)] == [WITH_SURCHARGE]
    assert TOTAL + Decimal("29.90") == WITH_SURCHARGE
    json.dumps(school_payment(rotation).charge_answer)  # stored as JSON


def test_another_organizations_student_cannot_use_the_card_api_here(northside, client_for, demo):
    response = client_for(northside["student"], host=host_of(demo["org"])).post(
        "/api/v1/payment-methods/card", {}, content_type="application/json"
    )

    assert response.status_code == 404
    with scopes_disabled():
        assert not CardOnFile.objects.filter(student=northside["student"]).exists()
    assert factories  # the module's second organization has data (conftest world)


def test_a_postponed_rotation_gives_the_school_the_new_deadline_and_link(demo):
    from rotations.date_changes import postpone_rotation

    rotation = school_rotation(demo["org"])
    new_start = rotation.start + timedelta(weeks=2)
    with scopes_disabled():
        factories.publish(rotation.attending, new_start, rotation.weeks)
    with scope(organization=demo["org"]):
        postpone_rotation(rotation, by=demo["admin"], new_start=new_start, reason="Illness")

    assert school_payment(rotation).deadline == new_start - timedelta(days=3)
    links = emails("school_payment_confirmation")
    assert len(links) == 2
    assert links[1].context["confirm_by"].startswith("Friday")
