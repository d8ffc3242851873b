"""The checklist is part of "ready to start" (DESIGN §5, §7): on its start date a paid,
approved rotation whose checklist is incomplete goes on hold, and the hold reason and
emails name each missing item; once every item is approved it starts."""

from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from documents.checklist import document_readiness
from documents.models import Document, DocumentType
from documents.review import approve_document
from documents.uploads import upload_document
from notifications.models import OutboundEmail
from payments.models import Installment
from payments.settlement import mark_installment_paid
from rotations import readiness
from rotations.models import Rotation
from rotations.tasks import start_due_rotations
from tests.conftest import MINIMAL_PDF
from tests.payments.booking import book, start_noon

pytestmark = pytest.mark.django_db


def pay_everything(rotation) -> None:
    """The money part of readiness is settled: every installment paid through the real
    settlement service."""
    with scope(organization=rotation.organization):
        for installment in Installment.objects.filter(invoice__rotation=rotation):
            mark_installment_paid(
                installment,
                amount=installment.charged,
                method="zelle",
                received_on=timezone.localdate(),
            )
        assert not [
            item for item in readiness.missing_for_start(rotation) if "payment" in item.code
        ]


def upload_and_approve(rotation, admin, code, *, expires_on=None) -> Document:
    student = rotation.student
    with scope(organization=rotation.organization):
        document = upload_document(
            student,
            DocumentType.objects.get(code=code),
            SimpleUploadedFile("record.pdf", MINIMAL_PDF, content_type="application/pdf"),
            issued_on=timezone.localdate() - timedelta(days=5),
            expires_on=expires_on,
        )
        return approve_document(document, by=admin)


def complete_all_but_the_tb_test(rotation, admin) -> None:
    valid_long = rotation.end + timedelta(days=365)
    upload_and_approve(rotation, admin, "letter_of_good_standing")
    upload_and_approve(rotation, admin, "liability_insurance", expires_on=valid_long)
    upload_and_approve(rotation, admin, "passport_visa", expires_on=valid_long)


def status_of(rotation) -> tuple[str, str]:
    with scopes_disabled():
        row = Rotation.objects.get(pk=rotation.pk)
        return row.status, row.hold_reason


def outbox(template) -> list[OutboundEmail]:
    with scopes_disabled():
        return list(OutboundEmail.objects.filter(template=template).order_by("pk"))


def test_an_incomplete_checklist_holds_a_paid_rotation_naming_what_is_missing_until_done(
    demo, northside
):
    rotation, _ = book(demo["student"], weeks=2, plan="full", method="zelle")
    elsewhere, _ = book(northside["student"], weeks=2, plan="full", method="zelle")
    pay_everything(rotation)
    complete_all_but_the_tb_test(rotation, demo["admin"])
    day = rotation.start
    tb_line = f"Upload your TB test and immunization report. (due {day:%B} {day.day}, {day.year})"

    with time_machine.travel(start_noon(rotation)):
        start_due_rotations()
        start_due_rotations()  # again the same day: nothing new
    status, hold_reason = status_of(rotation)
    assert status == "on_hold"
    assert hold_reason == tb_line  # money settled: only the checklist holds it
    student_emails = [
        e for e in outbox("rotation_on_hold") if e.recipient == demo["student"].user.email
    ]
    assert len(student_emails) == 1
    assert student_emails[0].context["missing"] == [tb_line]
    admin_emails = [
        e for e in outbox("rotation_on_hold_admin") if e.recipient == demo["admin"].user.email
    ]
    assert [e.context["missing"] for e in admin_emails] == [[tb_line]]
    assert status_of(elsewhere)[0] == "on_hold"  # northside's, unpaid and without documents

    # The student brings the TB test the next day, an admin approves it: the sweep starts it.
    with time_machine.travel(start_noon(rotation) + timedelta(days=1)):
        upload_and_approve(rotation, demo["admin"], "tb_test_immunizations")
        start_due_rotations()
    assert status_of(rotation) == ("in_progress", "")
    assert status_of(elsewhere)[0] == "on_hold"


def test_completing_the_checklist_makes_the_rotation_ready_and_it_starts_on_its_date(
    demo, northside
):
    rotation, _ = book(demo["student"], weeks=2, plan="full", method="zelle")
    book(northside["student"], weeks=2, plan="full", method="zelle")
    pay_everything(rotation)
    complete_all_but_the_tb_test(rotation, demo["admin"])
    with scope(organization=demo["org"]):
        assert [item.code for item in document_readiness(rotation)] == ["document_missing"]
    upload_and_approve(rotation, demo["admin"], "tb_test_immunizations")
    with scope(organization=demo["org"]):
        assert document_readiness(rotation) == []
        assert readiness.missing_for_start(rotation) == []  # ready: paid and complete

    with time_machine.travel(start_noon(rotation) - timedelta(days=1)):
        start_due_rotations()
    assert status_of(rotation)[0] == "approved"  # not before its date
    with time_machine.travel(start_noon(rotation)):
        start_due_rotations()
    assert status_of(rotation) == ("in_progress", "")
    assert outbox("rotation_on_hold") == [
        e for e in outbox("rotation_on_hold") if e.recipient == northside["student"].user.email
    ]


def test_a_submitted_document_not_yet_approved_still_holds_the_rotation(demo, northside):
    rotation, _ = book(demo["student"], weeks=2, plan="full", method="zelle")
    pay_everything(rotation)
    complete_all_but_the_tb_test(rotation, demo["admin"])
    with scope(organization=demo["org"]):
        upload_document(
            rotation.student,
            DocumentType.objects.get(code="tb_test_immunizations"),
            SimpleUploadedFile("record.pdf", MINIMAL_PDF, content_type="application/pdf"),
            issued_on=timezone.localdate() - timedelta(days=5),
        )
    with time_machine.travel(start_noon(rotation)):
        start_due_rotations()
    status, hold_reason = status_of(rotation)
    assert status == "on_hold"
    assert hold_reason.startswith("Your TB test and immunization report is waiting for review.")
