"""The per-rotation checklist (DESIGN §7): one item per required type, in state missing,
submitted, approved, rejected (with the reason) or expired for this rotation's dates.
One document serves every rotation it is valid for, and a rotation whose dates move is
judged again."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from accounts.models import StudentProfile
from documents.checklist import ItemState, checklist, checklists, is_complete
from documents.models import Document, DocumentType
from documents.requirements import set_attending_types
from documents.review import approve_document, reject_document
from documents.uploads import upload_document
from documents.validity import one_year_before
from rotations.date_changes import postpone_rotation
from rotations.models import Rotation
from tests import factories
from tests.conftest import MINIMAL_PDF
from tests.payments.booking import book

pytestmark = pytest.mark.django_db

DEFAULT_CODES = [
    "letter_of_good_standing",
    "tb_test_immunizations",
    "liability_insurance",
    "passport_visa",
]


def upload(student, code, *, issued_on=None, expires_on=None):
    with scope(organization=student.organization):
        return upload_document(
            student,
            DocumentType.objects.get(code=code),
            SimpleUploadedFile("record.pdf", MINIMAL_PDF, content_type="application/pdf"),
            issued_on=issued_on or timezone.localdate() - timedelta(days=10),
            expires_on=expires_on,
        )


def approve(document, admin):
    with scope(organization=admin.organization):
        return approve_document(document, by=admin)


def items_of(rotation) -> dict:
    with scope(organization=rotation.organization):
        return {item.document_type.code: item for item in checklist(rotation)}


def approved_rotation(side, **kwargs):
    with scopes_disabled():
        kwargs.setdefault("student", side["student"])
        return factories.RotationFactory(organization=side["org"], status="approved", **kwargs)


def test_each_required_type_starts_missing_and_the_checklist_is_incomplete(demo, northside):
    rotation = approved_rotation(demo)
    approved_rotation(northside)  # another organization's student and rotation
    upload(northside["student"], "tb_test_immunizations")
    items = items_of(rotation)
    assert list(items) == DEFAULT_CODES  # catalog order; no USMLE report: no Step reported
    assert {item.state for item in items.values()} == {ItemState.MISSING}
    assert items["tb_test_immunizations"].words() == (
        "Upload your TB test and immunization report."
    )
    assert items["letter_of_good_standing"].words() == (
        "Your school uploads your Letter of good standing (or upload it yourself)."
    )
    assert not is_complete(list(items.values()))


def test_an_uploaded_document_is_submitted_until_an_admin_approves_it(demo, northside):
    rotation = approved_rotation(demo)
    document = upload(demo["student"], "tb_test_immunizations")
    assert items_of(rotation)["tb_test_immunizations"].state == ItemState.SUBMITTED
    assert items_of(rotation)["tb_test_immunizations"].words() == (
        "Your TB test and immunization report is waiting for review."
    )
    approve(document, demo["admin"])
    item = items_of(rotation)["tb_test_immunizations"]
    assert item.state == ItemState.APPROVED and item.done
    assert item.document.pk == document.pk


def test_a_rejected_document_shows_the_reason_the_student_sees(demo, northside):
    rotation = approved_rotation(demo)
    document = upload(
        demo["student"], "passport_visa", expires_on=rotation.end + timedelta(days=400)
    )
    with scope(organization=demo["org"]):
        reject_document(document, by=demo["admin"], reason="The visa page is unreadable.")
    item = items_of(rotation)["passport_visa"]
    assert item.state == ItemState.REJECTED
    assert item.reason == "The visa page is unreadable."
    assert "The visa page is unreadable." in item.words()
    assert not item.done


def test_a_tb_test_issued_13_months_before_the_start_is_expired_for_it_and_valid_for_an_earlier_one(
    demo, northside
):
    earlier = approved_rotation(demo, start=factories.next_monday(2))
    later = approved_rotation(demo, start=factories.next_monday(12))
    issued = one_year_before(later.start) - timedelta(days=31)  # 13 months before its start
    assert issued >= one_year_before(earlier.start)  # still within a year of the earlier start
    document = upload(demo["student"], "tb_test_immunizations", issued_on=issued)
    approve(document, demo["admin"])

    with scope(organization=demo["org"]):
        both = checklists([earlier, later])
    by_code = {pk: {item.document_type.code: item for item in items} for pk, items in both.items()}
    assert by_code[earlier.pk]["tb_test_immunizations"].state == ItemState.APPROVED
    expired = by_code[later.pk]["tb_test_immunizations"]
    assert expired.state == ItemState.EXPIRED
    assert expired.document.pk == document.pk  # one document, judged per rotation
    day = one_year_before(later.start)
    assert f"must be issued on or after {day:%B} {day.day}, {day.year}" in expired.words()
    with scopes_disabled():
        assert Document.objects.filter(student=demo["student"]).count() == 1


def test_insurance_ending_before_the_rotation_ends_is_expired_and_through_the_end_approved(
    demo, northside
):
    rotation = approved_rotation(demo)
    short = upload(
        demo["student"], "liability_insurance", expires_on=rotation.end - timedelta(days=1)
    )
    approve(short, demo["admin"])
    item = items_of(rotation)["liability_insurance"]
    assert item.state == ItemState.EXPIRED
    assert f"must be valid through {rotation.end:%B} {rotation.end.day}" in item.words()

    through_the_end = upload(demo["student"], "liability_insurance", expires_on=rotation.end)
    approve(through_the_end, demo["admin"])
    assert items_of(rotation)["liability_insurance"].state == ItemState.APPROVED


def test_an_expired_document_stays_expired_even_while_waiting_for_review(demo, northside):
    rotation = approved_rotation(demo)
    upload(demo["student"], "liability_insurance", expires_on=rotation.end - timedelta(days=1))
    assert items_of(rotation)["liability_insurance"].state == ItemState.EXPIRED


def test_moving_the_rotation_later_makes_a_valid_tb_test_expire_for_it(demo, northside):
    rotation, _ = book(demo["student"], weeks=2, method="zelle")
    issued = one_year_before(rotation.start) + timedelta(days=3)
    approve(upload(demo["student"], "tb_test_immunizations", issued_on=issued), demo["admin"])
    assert items_of(rotation)["tb_test_immunizations"].state == ItemState.APPROVED

    new_start = rotation.start + timedelta(weeks=4)
    with scopes_disabled():
        factories.publish(rotation.attending, new_start, 2)
    with scope(organization=demo["org"]):
        postpone_rotation(rotation, by=demo["admin"], new_start=new_start, reason="Illness")
    with scopes_disabled():
        moved = Rotation.objects.get(pk=rotation.pk)
    assert moved.start == new_start
    assert items_of(moved)["tb_test_immunizations"].state == ItemState.EXPIRED


def test_types_an_attending_adds_appear_only_on_that_attendings_rotations(demo, northside):
    with_adder = approved_rotation(demo)
    with scopes_disabled():
        other_student = factories.StudentFactory(organization=demo["org"])
    without = approved_rotation(demo, student=other_student)
    elsewhere = approved_rotation(northside)
    with scope(organization=demo["org"]):
        drug_test = DocumentType.objects.get(code="drug_test")
        set_attending_types(with_adder.attending.membership, [drug_test.pk])
        both = checklists([with_adder, without])
    assert "drug_test" in [item.document_type.code for item in both[with_adder.pk]]
    assert "drug_test" not in [item.document_type.code for item in both[without.pk]]
    assert "drug_test" not in items_of(elsewhere)


def test_the_usmle_score_report_is_required_only_when_the_student_reports_a_step(demo, northside):
    rotation = approved_rotation(demo)
    assert "usmle_score_report" not in items_of(rotation)
    with scopes_disabled():
        StudentProfile.objects.filter(membership=demo["student"]).update(step1_result="pass")
        rotation = Rotation.objects.get(pk=rotation.pk)
    assert items_of(rotation)["usmle_score_report"].state == ItemState.MISSING
    with scopes_disabled():
        StudentProfile.objects.filter(membership=demo["student"]).update(
            step1_result="not_taken", step2ck_score=251
        )
        rotation = Rotation.objects.get(pk=rotation.pk)
    assert "usmle_score_report" in items_of(rotation)


def test_approving_every_item_completes_the_checklist(demo, northside):
    rotation = approved_rotation(demo)
    for code in DEFAULT_CODES:
        expires = rotation.end + timedelta(days=30) if code != "letter_of_good_standing" else None
        if code == "tb_test_immunizations":
            expires = None
        approve(upload(demo["student"], code, expires_on=expires), demo["admin"])
    items = list(items_of(rotation).values())
    assert [item.state for item in items] == [ItemState.APPROVED] * 4
    assert is_complete(items)


def test_checklists_of_50_rotations_take_a_fixed_number_of_queries(
    demo, northside, django_assert_max_num_queries
):
    with scopes_disabled():
        students = [factories.StudentFactory(organization=demo["org"]) for _ in range(5)]
        attendings = [factories.AttendingProfileFactory(organization=demo["org"]) for _ in range(3)]
        StudentProfile.objects.filter(membership=students[0]).update(step1_result="pass")
    with scope(organization=demo["org"]):
        set_attending_types(
            attendings[0].membership, [DocumentType.objects.get(code="background_check").pk]
        )
    for student in students[:3]:
        upload(student, "tb_test_immunizations")
    start = factories.next_monday(2)
    with scopes_disabled():
        rotations = Rotation.objects.bulk_create(
            Rotation(
                organization=demo["org"],
                student=students[number % 5],
                attending=attendings[number % 3],
                rotation_type="clerkship",
                mode="in_person",
                start=start + timedelta(weeks=number),
                weeks=1,
                weekly_rate=attendings[0].weekly_rate,
                status="approved",
                respond_by=timezone.now(),
            )
            for number in range(50)
        )
    with scope(organization=demo["org"]), django_assert_max_num_queries(4):
        answer = checklists(rotations)
        states = {
            (pk, item.document_type.code): item.state
            for pk, items in answer.items()
            for item in items
        }
    assert len(answer) == 50
    first = rotations[0]  # students[0] reports a Step; attendings[0] adds the background check
    assert states[(first.pk, "usmle_score_report")] == ItemState.MISSING
    assert states[(first.pk, "background_check")] == ItemState.MISSING
    assert states[(first.pk, "tb_test_immunizations")] == ItemState.SUBMITTED
    assert (rotations[1].pk, "background_check") not in states
    assert states[(rotations[3].pk, "tb_test_immunizations")] == ItemState.MISSING
