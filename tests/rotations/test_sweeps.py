"""The request sweep (reminders on days 3 and 6, expiry on day 7) and the start-date
sweep (in_progress when ready, on_hold otherwise), DESIGN §5 and §9."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from notifications.models import OutboundEmail
from rotations import readiness
from rotations.models import Rotation
from rotations.services import approve_rotation, request_rotation
from rotations.tasks import remind_and_expire_requests, start_due_rotations
from tests import factories


def outbox(template):
    with scopes_disabled():
        return list(OutboundEmail.objects.filter(template=template).order_by("pk"))


@pytest.fixture
def requested(demo, northside):
    """A request in each organization, made now through the service."""
    made = {}
    for side in (demo, northside):
        with scopes_disabled():
            attending = factories.AttendingProfileFactory(organization=side["org"])
            factories.publish(attending, factories.next_monday(4), 4)
        with scope(organization=side["org"]):
            made[side["org"].slug] = request_rotation(
                side["student"],
                attending=attending,
                rotation_type="clerkship",
                mode="in_person",
                start=factories.next_monday(4),
                weeks=2,
            )
    return made


def start_noon(rotation):
    return timezone.make_aware(
        timezone.datetime.combine(rotation.start, timezone.datetime.min.time())
    ) + timedelta(hours=12)


def status_of(rotation) -> str:
    with scopes_disabled():
        return Rotation.objects.get(pk=rotation.pk).status


@pytest.mark.django_db
def test_attending_is_reminded_on_day_3_and_day_6_once_each(requested):
    rotation = requested["demo"]
    attending_email = rotation.attending.membership.user.email
    with time_machine.travel(rotation.requested_at + timedelta(days=2, hours=23)):
        remind_and_expire_requests()
    assert outbox("rotation_request_reminder") == []

    with time_machine.travel(rotation.requested_at + timedelta(days=3, minutes=1)):
        remind_and_expire_requests()
        remind_and_expire_requests()
    day3 = outbox("rotation_request_reminder")
    assert [
        (e.recipient, e.context["day"])
        for e in day3
        if e.organization_id == rotation.organization_id
    ] == [(attending_email, 3)]

    with time_machine.travel(rotation.requested_at + timedelta(days=6, minutes=1)):
        remind_and_expire_requests()
        remind_and_expire_requests()
    reminders = [
        e.context["day"]
        for e in outbox("rotation_request_reminder")
        if e.organization_id == rotation.organization_id
    ]
    assert reminders == [3, 6]
    assert status_of(rotation) == "requested"


@pytest.mark.django_db
def test_unanswered_request_expires_on_day_7_and_the_student_is_told_once(requested):
    rotation = requested["demo"]
    with time_machine.travel(rotation.respond_by - timedelta(minutes=1)):
        remind_and_expire_requests()
    assert status_of(rotation) == "requested"

    with time_machine.travel(rotation.respond_by + timedelta(minutes=1)):
        counts = remind_and_expire_requests()
        again = remind_and_expire_requests()
    assert counts["expired"] == 2  # one per organization
    assert again["expired"] == 0
    assert status_of(rotation) == "expired"
    told = [e for e in outbox("rotation_expired") if e.organization_id == rotation.organization_id]
    assert [e.recipient for e in told] == [rotation.student.user.email]


@pytest.mark.django_db
def test_an_expired_request_can_no_longer_be_approved(requested):
    rotation = requested["demo"]
    from usdoctors.errors import Conflict

    with time_machine.travel(rotation.respond_by + timedelta(minutes=1)):
        with scope(organization=rotation.organization), pytest.raises(Conflict) as refused:
            approve_rotation(rotation, by=rotation.attending.membership)
    assert refused.value.code == "request_expired"
    assert status_of(rotation) == "requested"


@pytest.mark.django_db
def test_a_response_window_set_by_the_organization_is_honoured(demo):
    with scopes_disabled():
        demo["org"].attending_response_days = 3
        demo["org"].save()
        attending = factories.AttendingProfileFactory(organization=demo["org"])
        factories.publish(attending, factories.next_monday(4), 2)
    with scope(organization=demo["org"]):
        rotation = request_rotation(
            demo["student"],
            attending=attending,
            rotation_type="clerkship",
            mode="tele",
            start=factories.next_monday(4),
            weeks=1,
        )
    assert rotation.respond_by - rotation.requested_at == timedelta(days=3)


@pytest.fixture
def approved(requested):
    """Approved and paid: approval invoices it (payments), and payments' readiness check
    holds an unpaid rotation; these tests are about the sweep, so the money is settled."""
    from payments.models import Installment

    rotation = requested["demo"]
    with scope(organization=rotation.organization):
        rotation = approve_rotation(rotation, by=rotation.attending.membership)
        Installment.objects.filter(invoice__rotation=rotation).update(
            status="paid", paid_at=timezone.now()
        )
        return rotation


@pytest.fixture
def missing_documents():
    def check(rotation):
        if not rotation.student.profile.full_name:
            return []
        return [readiness.ReadinessItem("document_missing", "Upload your TB test")]

    readiness.register(check)
    yield check
    readiness.unregister(check)


@pytest.mark.django_db
def test_a_ready_rotation_starts_on_its_start_date(approved):
    day_before = timezone.make_aware(
        timezone.datetime.combine(approved.start - timedelta(days=1), timezone.datetime.min.time())
    )
    with time_machine.travel(day_before + timedelta(hours=12)):
        start_due_rotations()
    assert status_of(approved) == "approved"
    with time_machine.travel(day_before + timedelta(days=1, hours=12)):
        counts = start_due_rotations()
    assert counts["started"] == 1
    assert status_of(approved) == "in_progress"


@pytest.mark.django_db
def test_a_rotation_not_ready_goes_on_hold_and_student_and_admins_are_told_once(
    approved, missing_documents, demo
):
    start_noon = timezone.make_aware(
        timezone.datetime.combine(approved.start, timezone.datetime.min.time())
    ) + timedelta(hours=12)
    with time_machine.travel(start_noon):
        start_due_rotations()
        start_due_rotations()
    assert status_of(approved) == "on_hold"
    with scopes_disabled():
        assert Rotation.objects.get(pk=approved.pk).hold_reason == "Upload your TB test"
    student_notes = outbox("rotation_on_hold")
    assert [e.recipient for e in student_notes] == [approved.student.user.email]
    assert student_notes[0].context["missing"] == ["Upload your TB test"]
    assert [e.recipient for e in outbox("rotation_on_hold_admin")] == [demo["admin"].user.email]

    # Once what was missing is done, the next sweep starts it.
    readiness.unregister(missing_documents)
    with time_machine.travel(start_noon + timedelta(days=1)):
        start_due_rotations()
    assert status_of(approved) == "in_progress"


@pytest.mark.django_db
def test_the_hold_reason_and_emails_give_each_missing_items_words_and_deadline(approved):
    due = approved.start - timedelta(days=3)

    def unpaid(rotation):
        return [
            readiness.ReadinessItem("installment_unpaid", "Pay the second installment", due),
            readiness.ReadinessItem("document_missing", "Upload your TB test"),
        ]

    readiness.register(unpaid)
    try:
        with time_machine.travel(start_noon(approved)):
            start_due_rotations()
    finally:
        readiness.unregister(unpaid)
    lines = [
        f"Pay the second installment (due {due:%B} {due.day}, {due.year})",
        "Upload your TB test",
    ]
    assert status_of(approved) == "on_hold"
    with scopes_disabled():
        assert Rotation.objects.get(pk=approved.pk).hold_reason == "\n".join(lines)
    assert outbox("rotation_on_hold")[0].context["missing"] == lines
    assert outbox("rotation_on_hold_admin")[0].context["missing"] == lines


@pytest.mark.django_db
def test_a_check_answering_bare_strings_is_refused_and_nothing_changes(approved):
    def old_style(rotation):
        return ["Upload your TB test"]

    readiness.register(old_style)
    try:
        with time_machine.travel(start_noon(approved)):
            counts = start_due_rotations()  # the organization's sweep fails and is logged
    finally:
        readiness.unregister(old_style)
    assert counts == {"started": 0, "on_hold": 0}
    assert status_of(approved) == "approved"
    assert outbox("rotation_on_hold") == []
