"""The immigration letter add-on (DESIGN §6; issue 7 item 13): rotations of 4 weeks or
more, invoiced at the organization's fee, a PDF naming the rotation once paid."""

import io
from decimal import Decimal

import pytest
from django_scopes import scope, scopes_disabled
from pypdf import PdfReader

from payments import immigration_letter
from payments.models import Invoice
from payments.settlement import mark_installment_paid
from tests import factories
from tests.conftest import host_of
from tests.payments.school_helpers import school_rotation

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
