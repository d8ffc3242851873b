"""The immigration letter add-on (DESIGN §6; issue 7 item 13): rotations of 4 weeks or
more, invoiced at the organization's fee, a PDF naming the rotation once paid."""

import io
from decimal import Decimal

import pytest
from django.test import Client
from django_scopes import scope, scopes_disabled
from pypdf import PdfReader

from notifications.models import OutboundEmail
from notifications.services import render
from payments import immigration_letter, sending
from payments.models import Installment, Invoice
from payments.settlement import mark_installment_paid
from tests import factories
from tests.conftest import host_of
from tests.payments.gateway_helpers import use_paypal
from tests.payments.school_helpers import rotation_invoice, school_rotation

pytestmark = pytest.mark.django_db


def letter_invoices(rotation) -> list:
    with scopes_disabled():
        return list(Invoice.objects.filter(rotation=rotation, kind="immigration_letter"))


def ask(client_for, rotation, membership=None):
    return client_for(membership or rotation.student).post(
        f"/api/v1/rotations/{rotation.pk}/immigration-letter", content_type="application/json"
    )


def pay(rotation):
    [invoice] = letter_invoices(rotation)
    with scope(organization=rotation.organization):
        installment = invoice.installments.get()
        mark_installment_paid(
            installment,
            amount=installment.charged,
            method="paypal",
            received_on=installment.due_on,
        )


def test_the_letter_is_refused_for_a_rotation_under_4_weeks(demo, client_for):
    rotation = school_rotation(demo["org"], weeks=3, payer="self")

    response = ask(client_for, rotation)

    assert response.status_code == 400
    assert response.json()["code"] == "rotation_too_short"
    assert "4 weeks or more" in response.json()["detail"]
    assert "3 weeks" in response.json()["detail"]
    assert letter_invoices(rotation) == []


def test_the_letter_is_invoiced_at_the_organizations_fee(demo, client_for):
    with scopes_disabled():
        demo["org"].immigration_letter_fee = Decimal("175.00")
        demo["org"].save()
    rotation = school_rotation(demo["org"], weeks=4, payer="self")

    response = ask(client_for, rotation)
    again = ask(client_for, rotation)

    assert response.status_code == 201, response.json()
    assert again.json()["invoice"] == response.json()["invoice"]
    [invoice] = letter_invoices(rotation)
    with scopes_disabled():
        installment = invoice.installments.get()
        lines = sorted(invoice.lines.values_list("kind", "amount"))
    assert installment.amount == Decimal("175.00")
    assert installment.card_fee == Decimal("5.23")  # by card: 2.99% as its own line
    assert lines == [("add_on", Decimal("175.00")), ("card_fee", Decimal("5.23"))]
    assert response.json()["amount"] == "180.23"
    assert response.json()["paid"] is False


def test_only_the_rotations_student_asks_and_other_tenants_get_404(demo, northside, client_for):
    rotation = school_rotation(demo["org"], weeks=4, payer="self")
    with scopes_disabled():
        other_student = factories.StudentFactory(organization=demo["org"])

    assert ask(client_for, rotation, other_student).status_code == 404
    assert (
        client_for(northside["student"], host=host_of(demo["org"]))
        .post(f"/api/v1/rotations/{rotation.pk}/immigration-letter")
        .status_code
        == 404
    )
    assert letter_invoices(rotation) == []


def test_the_letter_downloads_only_once_paid_and_names_the_rotation(demo, client_for):
    rotation = school_rotation(demo["org"], weeks=4, payer="self")
    assert ask(client_for, rotation).status_code == 201
    url = f"/rotations/{rotation.pk}/immigration-letter/letter.pdf"
    student = client_for(rotation.student)
    assert student.get(url).status_code == 404  # not paid yet
    page = student.get(f"/rotations/{rotation.pk}/immigration-letter/")
    assert page.status_code == 200 and "letter.pdf" not in page.content.decode()

    pay(rotation)
    response = student.get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    content = b"".join(response.streaming_content) if response.streaming else response.content
    assert content.startswith(b"%PDF")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    text = " ".join(text.split())
    with scopes_disabled():
        attending = rotation.attending
        student_name = rotation.student.display_name
    for expected in (
        student_name,
        "clerkship rotation",
        attending.display_name,
        attending.practice_name,
        "Houston, TX",
        f"{rotation.start:%B} {rotation.start.day}, {rotation.start.year}",
        f"{rotation.end:%B} {rotation.end.day}, {rotation.end.year}",
        "4 weeks",
    ):
        assert expected in text, expected
    assert (
        "letter.pdf"
        in student.get(f"/rotations/{rotation.pk}/immigration-letter/").content.decode()
    )
    # Admins may download it; the attending and other students may not.
    assert client_for(demo["admin"]).get(url).status_code == 200
    assert client_for(rotation.attending.membership).get(url).status_code == 404
    with scopes_disabled():
        other_student = factories.StudentFactory(organization=demo["org"])
    assert client_for(other_student).get(url).status_code == 404


def test_the_letter_page_requests_the_letter(demo, client_for):
    rotation = school_rotation(demo["org"], weeks=5, payer="self")
    client = client_for(rotation.student)

    response = client.post(f"/rotations/{rotation.pk}/immigration-letter/")

    assert response.status_code == 302
    assert len(letter_invoices(rotation)) == 1


def test_the_letter_page_shows_the_refusal_for_a_short_rotation(demo, client_for):
    rotation = school_rotation(demo["org"], weeks=2, payer="self")

    response = client_for(rotation.student).post(f"/rotations/{rotation.pk}/immigration-letter/")

    assert response.status_code == 400
    assert "4 weeks or more" in response.content.decode()
    assert letter_invoices(rotation) == []


def test_a_cancelled_rotation_gets_no_letter(demo, client_for):
    rotation = school_rotation(demo["org"], weeks=4, payer="self")
    with scopes_disabled():
        type(rotation).objects.filter(pk=rotation.pk).update(status="cancelled")

    response = ask(client_for, rotation)

    assert response.status_code == 409
    assert letter_invoices(rotation) == []
    assert immigration_letter.MIN_WEEKS == 4


# --- The letter's payment request goes out like any installment's (§6) -------------------


def letter_installment(rotation) -> Installment:
    [invoice] = letter_invoices(rotation)
    with scopes_disabled():
        return Installment.objects.select_related("invoice").get(invoice=invoice)


def pdf_text(content: bytes) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return " ".join(text.split())


def test_a_card_letter_is_requested_paid_and_downloaded_in_the_browser(
    demo, northside, client_for, eager_celery, django_capture_on_commit_callbacks
):
    """Simulated gateway: the rotation page leads to the letter, the request emails the
    pay link after commit, paying it there makes the PDF downloadable."""
    rotation = school_rotation(demo["org"], weeks=4, payer="self")
    student = client_for(rotation.student)
    letter_page = f"/rotations/{rotation.pk}/immigration-letter/"
    assert letter_page in student.get(f"/rotations/{rotation.pk}/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        assert student.post(letter_page).status_code == 302

    installment = letter_installment(rotation)
    assert installment.status == "sent"
    assert installment.gateway_invoice_id.startswith("SIM-")
    with scopes_disabled():
        [email] = OutboundEmail.objects.filter(
            template="installment_invoice",
            context__reference_code=installment.invoice.reference_code,
        )
    assert email.recipient == rotation.student.user.email
    assert email.context["description"] == "Immigration letter"
    assert email.context["total"] == f"{installment.charged:.2f}"
    pay_url = email.context["pay_url"]
    # The rotation page and the payments page offer the same link.
    assert pay_url in student.get(f"/rotations/{rotation.pk}/").content.decode()
    assert pay_url in student.get("/payments/").content.decode()
    assert "letter.pdf" not in student.get(letter_page).content.decode()

    path = pay_url[pay_url.index("/payments/simulated/") :]
    assert Client(HTTP_HOST=host_of(demo["org"])).post(path).status_code == 302

    assert letter_installment(rotation).status == "paid"
    response = student.get(f"{letter_page}letter.pdf")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    pdf_link = f"{letter_page}letter.pdf"
    assert pdf_link in student.get(f"/rotations/{rotation.pk}/").content.decode()
    assert pdf_link in student.get("/payments/").content.decode()
    assert pdf_link in student.get(letter_page).content.decode()


def test_a_school_paid_rotations_letter_is_invoiced_to_the_student(
    demo, northside, client_for, eager_celery, django_capture_on_commit_callbacks
):
    """The school pays the rotation (its link, the card on file); the letter is the
    student's own purchase, sent to the student."""
    rotation = school_rotation(demo["org"], weeks=4, payer="school")
    with scope(organization=demo["org"]):
        # Before the request is sent, the sweep would send the letter but never the
        # school's rotation installment.
        due = sending.pending_due_installments(demo["org"])
    assert due == []

    with django_capture_on_commit_callbacks(execute=True):
        assert ask(client_for, rotation).status_code == 201

    installment = letter_installment(rotation)
    assert installment.status == "sent"
    with scopes_disabled():
        [email] = OutboundEmail.objects.filter(
            template="installment_invoice",
            context__reference_code=installment.invoice.reference_code,
        )
        rotation_installments = list(rotation_invoice(rotation).installments.all())
    assert email.recipient == rotation.student.user.email
    assert [i.status for i in rotation_installments] == ["pending"]  # the school's


def test_the_sweep_sends_a_school_paid_rotations_pending_letter(demo, northside, client_for):
    rotation = school_rotation(demo["org"], weeks=4, payer="school")
    assert ask(client_for, rotation).status_code == 201  # not committed: nothing sent yet

    with scope(organization=demo["org"]):
        due = sending.pending_due_installments(demo["org"])

    assert due == [letter_installment(rotation).pk]


def test_a_zelle_letter_emails_instructions_naming_the_letter(demo, northside, client_for):
    with scopes_disabled():
        demo["org"].zelle_instructions = "Send to pay@demo.test (Demo Rotations LLC)"
        demo["org"].save()
        rotation = factories.RotationFactory(
            organization=demo["org"], weeks=4, payment_method="zelle"
        )

    assert ask(client_for, rotation).status_code == 201

    installment = letter_installment(rotation)
    assert installment.status == "sent"  # the instructions are the request
    assert installment.card_fee == Decimal("0.00")
    with scopes_disabled():
        [email] = OutboundEmail.objects.filter(template="payment_instructions")
        message = render(email)
    reference = installment.invoice.reference_code
    assert email.recipient == rotation.student.user.email
    assert email.context["reference_code"] == reference
    assert message.subject == f"How to pay for your immigration letter by Zelle ({reference})"
    assert "immigration letter (B1/B2 visa support)" in message.body
    assert "is approved" not in message.body
    assert f"Payment 1 of 1: ${installment.charged:,.2f}" in message.body
    assert "pay@demo.test" in message.body


def test_the_letters_paypal_invoice_names_the_immigration_letter(
    demo, northside, client_for, paypal_setup, eager_celery, django_capture_on_commit_callbacks
):
    use_paypal(demo["org"], paypal_setup)
    rotation = school_rotation(demo["org"], weeks=4, payer="self")

    with django_capture_on_commit_callbacks(execute=True):
        assert ask(client_for, rotation).status_code == 201

    installment = letter_installment(rotation)
    assert installment.status == "sent"
    paypal_invoice = paypal_setup.invoices[installment.gateway_invoice_id]
    assert paypal_invoice["items"][0]["name"] == "Immigration letter"
    assert paypal_invoice["amount"]["value"] == f"{installment.charged:.2f}"
    recipient = paypal_invoice["primary_recipients"][0]["billing_info"]["email_address"]
    assert recipient == rotation.student.user.email


# --- Names in any script (the PDF's fonts are Unicode) --------------------------------------


@pytest.mark.parametrize(
    "name, school",
    [
        ("Nguyễn Thị Minh Khai", "Đại học Y Hà Nội"),
        ("Łukasz Wąsowski", "Uniwersytet Medyczny w Łodzi"),
        ("Zoë Ağaoğlu", "Universidad Autónoma de Guadalajara"),
        ("Ахмед Исмаилов", "Казанский государственный медицинский университет"),
    ],
)
def test_the_letter_writes_names_and_schools_as_they_are(demo, northside, name, school):
    with scopes_disabled():
        student = factories.StudentFactory(
            organization=demo["org"], profile__full_name=name, profile__medical_school=school
        )
    rotation = school_rotation(demo["org"], weeks=4, payer="self", student=student)

    with scope(organization=demo["org"]):
        text = pdf_text(immigration_letter.letter_pdf(rotation))

    assert f"This letter confirms that {name}, a student of {school}" in text
    assert "?" not in text
