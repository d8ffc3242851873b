"""Letters of recommendation, the rules (DESIGN §8; issue 9): who may ask whom, what the
attending's decision does, the LOR fee through payments, the ERAS Letter ID and the
upload. The attending's email address reaches the student only once released."""

import json
from datetime import date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from lor import services
from lor.models import Letter
from notifications.models import OutboundEmail
from notifications.services import render
from payments.models import Installment, Invoice, Payment
from payments.receipts import record_receipt
from payments.settlement import mark_installment_paid
from rotations import services as rotation_services
from tests import factories
from tests.fakes.paypal_server import FakePayPal
from tests.payments.gateway_helpers import post_webhook, send, use_paypal
from usdoctors.errors import Conflict, Invalid, NotAllowed

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 7)  # a Monday; seasons 2027-2029 are open, 2028's target 2027-09-15
SEASON = 2028
PAID = "INVOICING.INVOICE.PAID"


@pytest.fixture(autouse=True)
def december_2026():
    with time_machine.travel(timezone.make_aware(datetime.combine(TODAY, clock(12)))):
        yield


@pytest.fixture
def paypal(settings, monkeypatch):
    """The fake PayPal server, where the organizations' gateway calls go (as in
    tests/payments/conftest.py: short timeouts, no real backoff)."""
    from payments import gateways

    server = FakePayPal().start()
    settings.PAYPAL_BASE_URL = server.url
    monkeypatch.setattr(
        gateways,
        "CLIENT_OPTIONS",
        {"timeout": (2, 0.4), "retry_base_delay": 0.01, "retry_max_delay": 0.02},
    )
    yield server
    server.stop()
    assert not server.errors, "the fake PayPal itself failed:\n" + "\n".join(server.errors)


# --- Helpers --------------------------------------------------------------------------------


def writer(side, **fields):
    """The side's attending as a letter writer (their profile, private contact email)."""
    with scopes_disabled():
        return factories.AttendingProfileFactory(
            organization=side["org"], membership=side["attending"], **fields
        )


def another_attending(side, **fields):
    with scopes_disabled():
        return factories.AttendingProfileFactory(organization=side["org"], **fields)


def past_rotation(side, attending, *, student=None, **fields):
    with scopes_disabled():
        return factories.completed_rotation(
            attending=attending, student=student or side["student"], **fields
        )


def another_student(side):
    with scopes_disabled():
        return factories.StudentFactory(organization=side["org"])


def ask(student, attending, **fields):
    fields = {
        "specialty": "internal_medicine",
        "season": SEASON,
        "message": "Could you write me a letter for IM?",
        **fields,
    }
    with scope(organization=student.organization_id):
        return services.request_letter(student, attending, **fields)


def in_scope(letter, action, *args, **kwargs):
    with scope(organization=letter.organization_id):
        return action(letter, *args, **kwargs)


def accepted_letter(side, attending=None, *, student=None, **rotation_fields):
    """A letter the side's attending (a writer without fee unless given) accepted."""
    attending = attending or writer(side)
    student = student or side["student"]
    past_rotation(side, attending, student=student, **rotation_fields)
    letter = ask(student, attending)
    return in_scope(letter, services.accept_letter, by=attending.membership)


def reload(letter) -> Letter:
    with scopes_disabled():
        return Letter.objects.get(pk=letter.pk)


def counts() -> tuple[int, int]:
    with scopes_disabled():
        return Letter.objects.count(), OutboundEmail.objects.count()


def emails(template, recipient=None) -> list[OutboundEmail]:
    with scopes_disabled():
        rows = OutboundEmail.objects.filter(template=template).select_related("organization")
        if recipient is not None:
            rows = rows.filter(recipient=recipient)
        return list(rows.order_by("pk"))


def rendered(email: OutboundEmail) -> str:
    """What the recipient reads: subject, text and HTML parts."""
    message = render(email)
    return "\n".join([message.subject, message.body, message.alternatives[0][0]])


def addresses(attending) -> tuple[str, str]:
    """The attending's private contact email and their account's email."""
    with scopes_disabled():
        return attending.contact_email, attending.membership.user.email


def what_the_student_was_told(student) -> str:
    """Every email row addressed to the student: its context and its rendering."""
    with scopes_disabled():
        rows = list(
            OutboundEmail.objects.filter(recipient=student.user.email).select_related(
                "organization"
            )
        )
    assert rows, "the student was told something"
    return "\n".join(json.dumps(row.context) + "\n" + rendered(row) for row in rows)


def refused(error_class, code, call):
    """``call`` raises ``error_class`` with ``code`` and a message, and writes nothing."""
    before = counts()
    with pytest.raises(error_class) as refusal:
        call()
    assert refusal.value.code == code
    assert refusal.value.message
    assert counts() == before
    return refusal.value


def the_installment(letter) -> Installment:
    with scopes_disabled():
        return Installment.objects.select_related("invoice").get(invoice__letter=letter)


# --- Requesting ------------------------------------------------------------------------------


def test_no_completed_rotation_with_the_attending_is_refused(demo, northside):
    attending = writer(demo)
    past_rotation(northside, writer(northside))  # the other organization has letters to ask

    error = refused(Conflict, "no_completed_rotation", lambda: ask(demo["student"], attending))

    assert "completed" in error.message


@pytest.mark.parametrize("status", ["requested", "approved", "in_progress", "cancelled"])
def test_a_rotation_not_completed_with_the_attending_is_refused(demo, status):
    attending = writer(demo)
    with scopes_disabled():
        factories.RotationFactory(attending=attending, student=demo["student"], status=status)

    refused(Conflict, "no_completed_rotation", lambda: ask(demo["student"], attending))


def test_a_completed_rotation_with_a_different_attending_is_refused(demo):
    attending = writer(demo)
    past_rotation(demo, another_attending(demo))

    refused(Conflict, "no_completed_rotation", lambda: ask(demo["student"], attending))


def test_a_completed_rotation_in_the_other_organization_does_not_count(demo, northside):
    """The same person is a student of both organizations and completed a rotation at
    Northside: that does not let them ask from Demo."""
    with scopes_disabled():
        same_person = factories.StudentFactory(
            organization=northside["org"], user=demo["student"].user
        )
    theirs = writer(northside)
    past_rotation(northside, theirs, student=same_person)
    ours = writer(demo)

    refused(Conflict, "no_completed_rotation", lambda: ask(demo["student"], theirs))
    refused(Conflict, "no_completed_rotation", lambda: ask(demo["student"], ours))
    assert ask(same_person, theirs).organization_id == northside["org"].pk  # there it works


def test_an_attending_who_does_not_write_letters_is_refused(demo):
    attending = writer(demo, writes_lors=False)
    past_rotation(demo, attending)

    error = refused(Conflict, "does_not_write_letters", lambda: ask(demo["student"], attending))

    assert attending.display_name in error.message


def test_a_request_emails_the_attending_and_keeps_the_fee_and_season(demo, northside):
    attending = writer(demo, lor_fee=Decimal("75.00"))
    rotation = past_rotation(demo, attending)

    letter = reload(ask(demo["student"], attending, message="  Please, for IM.  "))

    assert letter.status == "requested"
    assert letter.rotation_id == rotation.pk
    assert letter.fee == Decimal("75.00")
    assert (letter.season, letter.target_on) == (2028, date(2027, 9, 15))
    assert letter.message == "Please, for IM."
    assert letter.released_at is None and letter.next_reminder_on is None
    [email] = emails("letter_requested")
    assert email.recipient == attending.contact_email
    assert email.context["message"] == "Please, for IM."
    assert email.context["fee"] == "75.00"


@pytest.mark.parametrize("accepted", [False, True], ids=["requested", "accepted"])
def test_a_second_open_request_to_the_same_attending_is_refused(demo, accepted):
    attending = writer(demo)
    past_rotation(demo, attending)
    letter = ask(demo["student"], attending)
    if accepted:
        in_scope(letter, services.accept_letter, by=demo["attending"])

    error = refused(
        Conflict,
        "letter_already_requested",
        lambda: ask(demo["student"], attending, specialty="family_medicine"),
    )

    assert attending.display_name in error.message


def test_after_a_decline_or_an_upload_the_student_may_ask_again(demo):
    attending = writer(demo)
    past_rotation(demo, attending)
    first = ask(demo["student"], attending)
    in_scope(first, services.decline_letter, by=demo["attending"], reason="Too busy.")

    second = ask(demo["student"], attending)
    in_scope(second, services.accept_letter, by=demo["attending"])
    in_scope(second, services.mark_uploaded, by=demo["attending"])
    third = ask(demo["student"], attending, specialty="family_medicine")

    assert [reload(x).status for x in (first, second, third)] == [
        "declined",
        "uploaded",
        "requested",
    ]


@pytest.mark.parametrize("season", [2026, 2030])
def test_a_season_not_open_is_refused(demo, season):
    attending = writer(demo)
    past_rotation(demo, attending)

    error = refused(
        Invalid, "season_not_open", lambda: ask(demo["student"], attending, season=season)
    )

    assert error.field == "season"
    assert "2027, 2028, 2029" in error.message


def test_an_unknown_specialty_is_refused(demo):
    attending = writer(demo)
    past_rotation(demo, attending)

    error = refused(
        Invalid, "invalid", lambda: ask(demo["student"], attending, specialty="astrology")
    )

    assert error.field == "specialty"


@pytest.mark.parametrize("who", ["admin", "attending"])
def test_only_students_request_letters(demo, who):
    attending = writer(demo)
    past_rotation(demo, attending)

    refused(NotAllowed, "not_allowed", lambda: ask(demo[who], attending))


def test_the_database_keeps_one_open_letter_per_student_and_attending(demo):
    attending = writer(demo)
    rotation = past_rotation(demo, attending)
    with scopes_disabled():
        factories.LetterFactory(rotation=rotation, status="accepted")
        factories.LetterFactory(rotation=rotation, status="uploaded")  # closed: allowed
        with pytest.raises(IntegrityError), transaction.atomic():
            factories.LetterFactory(rotation=rotation, status="requested")


# --- Accepting and declining ---------------------------------------------------------------


def test_accepting_without_fee_releases_the_address_at_once(demo, northside):
    accepted_letter(northside)  # the other organization's letter stays theirs
    attending = writer(demo)
    past_rotation(demo, attending)
    letter = ask(demo["student"], attending)
    with scope(organization=demo["org"].pk):
        assert services.writer_email(letter, demo["student"]) is None

    in_scope(letter, services.accept_letter, by=demo["attending"])

    letter = reload(letter)
    assert letter.status == "accepted"
    assert letter.decided_at is not None
    assert letter.released_at is not None
    assert letter.invoice_id is None
    assert letter.next_reminder_on == date(2026, 12, 14)  # a week after release
    [email] = emails("letter_email_released", demo["student"].user.email)
    assert email.organization_id == demo["org"].pk
    assert email.context["writer_email"] == attending.contact_email
    assert attending.contact_email in rendered(email)
    with scope(organization=demo["org"].pk):
        letter = Letter.objects.get(pk=letter.pk)
        assert services.writer_email(letter, demo["student"]) == attending.contact_email
        assert services.writer_address(attending) == attending.contact_email


def test_without_a_contact_email_the_account_email_is_released(demo):
    attending = writer(demo, contact_email="")
    letter = accepted_letter(demo, attending)

    [email] = emails("letter_email_released")
    assert email.context["writer_email"] == demo["attending"].user.email
    assert reload(letter).released_at is not None


def test_accepting_twice_is_refused(demo):
    letter = accepted_letter(demo)

    refused(
        Conflict,
        "wrong_status",
        lambda: in_scope(letter, services.accept_letter, by=demo["attending"]),
    )

    assert len(emails("letter_email_released")) == 1


@pytest.mark.parametrize("who", ["other attending", "student", "admin"])
def test_only_the_letters_attending_accepts(demo, who):
    attending = writer(demo)
    past_rotation(demo, attending)
    letter = ask(demo["student"], attending)
    caller = {
        "other attending": another_attending(demo).membership,
        "student": demo["student"],
        "admin": demo["admin"],
    }[who]

    refused(NotAllowed, "not_allowed", lambda: in_scope(letter, services.accept_letter, by=caller))
    refused(NotAllowed, "not_allowed", lambda: in_scope(letter, services.decline_letter, by=caller))

    assert reload(letter).status == "requested"


def test_declining_keeps_the_address_and_tells_the_reason(demo):
    attending = writer(demo)
    past_rotation(demo, attending)
    letter = ask(demo["student"], attending)

    in_scope(letter, services.decline_letter, by=demo["attending"], reason="  On leave.  ")

    letter = reload(letter)
    assert letter.status == "declined"
    assert letter.decline_reason == "On leave."
    assert letter.released_at is None and letter.next_reminder_on is None
    [email] = emails("letter_declined", demo["student"].user.email)
    assert "On leave." in rendered(email)
    told = what_the_student_was_told(demo["student"])
    for address in addresses(attending):
        assert address not in told
    refused(
        Conflict,
        "wrong_status",
        lambda: in_scope(letter, services.accept_letter, by=demo["attending"]),
    )


# --- The LOR fee -------------------------------------------------------------------------------


def fee_letter(side, method="paypal"):
    attending = writer(side, lor_fee=Decimal("50.00"))
    return attending, accepted_letter(side, attending, payment_method=method)


def assert_address_withheld(letter, attending, student):
    letter = reload(letter)
    assert letter.status == "accepted"
    assert letter.released_at is None
    assert letter.next_reminder_on is None
    assert emails("letter_email_released") == []
    told = what_the_student_was_told(student)
    for address in addresses(attending):
        assert address not in told
    with scope(organization=letter.organization_id):
        assert services.writer_email(letter, student) is None


def assert_address_released(letter, attending, student):
    letter = reload(letter)
    assert letter.released_at is not None
    assert letter.next_reminder_on is not None
    [email] = emails("letter_email_released", student.user.email)
    assert attending.contact_email in rendered(email)
    with scope(organization=letter.organization_id):
        assert services.writer_email(letter, student) == attending.contact_email


def test_a_fee_is_invoiced_with_the_card_fee_when_the_rotation_was_paid_by_card(demo):
    attending, letter = fee_letter(demo, "paypal")

    letter = reload(letter)
    with scopes_disabled():
        invoice = Invoice.objects.get(pk=letter.invoice_id)
        [installment] = invoice.installments.all()
        lines = sorted(invoice.lines.values_list("kind", "amount"))
    assert invoice.kind == "lor_fee"
    assert invoice.rotation_id == letter.rotation_id
    assert invoice.student_id == demo["student"].pk
    assert invoice.payment_method == "paypal"
    assert (installment.amount, installment.card_fee) == (Decimal("50.00"), Decimal("1.50"))
    assert installment.due_on == TODAY
    assert lines == [("add_on", Decimal("50.00")), ("card_fee", Decimal("1.50"))]  # 2.99%
    assert emails("payment_instructions") == []  # PayPal sends its own invoice
    [due] = emails("letter_accepted_fee_due", demo["student"].user.email)
    assert due.context["fee"] == "50.00"
    assert_address_withheld(letter, attending, demo["student"])


def test_a_fee_by_zelle_has_no_card_fee_and_sends_the_instructions(demo):
    attending, letter = fee_letter(demo, "zelle")

    installment = the_installment(letter)
    with scopes_disabled():
        lines = list(installment.invoice.lines.values_list("kind", "amount"))
    assert lines == [("add_on", Decimal("50.00"))]
    assert (installment.amount, installment.card_fee) == (Decimal("50.00"), Decimal("0.00"))
    [instructions] = emails("payment_instructions", demo["student"].user.email)
    assert instructions.context["invoice_kind"] == "lor_fee"
    assert instructions.context["reference_code"] == installment.invoice.reference_code
    assert_address_withheld(letter, attending, demo["student"])


def test_an_admin_recorded_zelle_receipt_releases_the_address(demo, northside):
    fee_letter(northside, "zelle")  # unpaid in the other organization: stays withheld
    attending, letter = fee_letter(demo, "zelle")
    installment = the_installment(letter)

    with scope(organization=demo["org"].pk):
        record_receipt(
            installment,
            amount=Decimal("50.00"),
            received_on=TODAY,
            reference="ZELLE-LOR-1",
            by=demo["admin"],
        )

    assert_address_released(letter, attending, demo["student"])
    assert reload(letter).next_reminder_on == date(2026, 12, 14)
    assert emails("letter_email_released", northside["student"].user.email) == []


def test_paying_twice_releases_once(demo):
    attending, letter = fee_letter(demo, "zelle")
    installment = the_installment(letter)

    with scope(organization=demo["org"].pk):
        first = mark_installment_paid(
            installment, amount=Decimal("50.00"), method="zelle", received_on=TODAY
        )
    released_at = reload(letter).released_at
    with scope(organization=demo["org"].pk):
        again = mark_installment_paid(
            installment, amount=Decimal("50.00"), method="zelle", received_on=TODAY
        )

    assert first is not None and again is None
    assert reload(letter).released_at == released_at
    assert_address_released(letter, attending, demo["student"])


def test_the_paid_announcement_again_changes_nothing(demo):
    """``release_after_payment`` is the ``payments.paid`` subscriber: heard twice (a
    second announcement of the same invoice), the release keeps its first time."""
    attending, letter = fee_letter(demo, "zelle")
    with scope(organization=demo["org"].pk):
        mark_installment_paid(
            the_installment(letter), amount=Decimal("50.00"), method="zelle", received_on=TODAY
        )
    first = reload(letter)

    with time_machine.travel(timezone.now() + timedelta(days=3)):
        with scope(organization=demo["org"].pk), transaction.atomic():
            services.release_after_payment(first.invoice)

    again = reload(letter)
    assert (again.released_at, again.next_reminder_on) == (
        first.released_at,
        first.next_reminder_on,
    )
    assert_address_released(letter, attending, demo["student"])


def test_the_paypal_webhook_releases_the_address_once(demo, paypal):
    use_paypal(demo["org"], paypal)
    attending, letter = fee_letter(demo, "paypal")
    installment = the_installment(letter)
    assert send(installment) == "sent"
    with scopes_disabled():
        installment.refresh_from_db()
    paypal_invoice = paypal.invoices[installment.gateway_invoice_id]
    assert Decimal(paypal_invoice["amount"]["value"]) == Decimal("51.50")
    for address in addresses(attending):
        assert address not in json.dumps(paypal_invoice)  # PayPal emails the student too
    assert_address_withheld(letter, attending, demo["student"])

    paypal.mark_paid(installment.gateway_invoice_id)
    resource = paypal.invoice_resource(installment.gateway_invoice_id)
    delivery = paypal.webhook_event(PAID, resource)
    assert post_webhook(demo["org"], delivery).json()["outcome"] == "processed"
    released_at = reload(letter).released_at
    assert post_webhook(demo["org"], delivery).json()["outcome"] == "duplicate"
    assert post_webhook(demo["org"], paypal.webhook_event(PAID, resource)).status_code == 200

    assert reload(letter).released_at == released_at
    assert_address_released(letter, attending, demo["student"])
    with scopes_disabled():
        assert Payment.objects.filter(installment=installment).count() == 1


def test_each_letter_gets_its_own_fee_invoice_on_the_same_rotation(demo):
    attending, first = fee_letter(demo, "zelle")
    with scope(organization=demo["org"].pk):
        record_receipt(
            the_installment(first),
            amount=Decimal("50.00"),
            received_on=TODAY,
            reference="ZELLE-LOR-1",
            by=demo["admin"],
        )
    in_scope(first, services.mark_uploaded, by=demo["attending"])

    second = ask(demo["student"], attending, specialty="family_medicine")
    in_scope(second, services.accept_letter, by=demo["attending"])

    first, second = reload(first), reload(second)
    assert first.rotation_id == second.rotation_id
    assert first.invoice_id != second.invoice_id
    with scopes_disabled():
        invoices = Invoice.objects.filter(rotation_id=first.rotation_id, kind="lor_fee")
        assert sorted(invoices.values_list("pk", flat=True)) == sorted(
            [first.invoice_id, second.invoice_id]
        )
        rotation = first.rotation
        # Other add-ons stay one per rotation.
        factories.InvoiceFactory(rotation=rotation, kind="immigration_letter")
        with pytest.raises(IntegrityError), transaction.atomic():
            factories.InvoiceFactory(rotation=rotation, kind="immigration_letter")


# --- The ERAS Letter ID ------------------------------------------------------------------------


def attach(letter, by, letter_id):
    return in_scope(letter, services.attach_letter_id, by=by, letter_id=letter_id)


@pytest.mark.parametrize("value", ["", "   ", "\t\n"])
def test_an_empty_letter_id_is_refused(demo, value):
    letter = accepted_letter(demo)

    error = refused(Invalid, "letter_id_required", lambda: attach(letter, demo["student"], value))

    assert error.field == "letter_id"
    assert reload(letter).eras_letter_id == ""


@pytest.mark.parametrize(
    "value", ["AB1", "ABC 1234", "ABC_1234", "-ABC1234", "ABC1234!", "A" * 41, "<b>ID1</b>"]
)
def test_a_malformed_letter_id_is_refused(demo, value):
    letter = accepted_letter(demo)

    error = refused(Invalid, "letter_id_invalid", lambda: attach(letter, demo["student"], value))

    assert error.field == "letter_id"
    assert reload(letter).eras_letter_id == ""


def test_a_letter_id_is_stored_trimmed_and_emailed_to_the_attending(demo):
    letter = accepted_letter(demo)
    attending = reload(letter).attending

    attach(letter, demo["student"], "  LOR-2028-ABC123  ")
    attach(letter, demo["student"], "LOR-2028-ABC123")  # the same again: nothing new

    letter = reload(letter)
    assert letter.eras_letter_id == "LOR-2028-ABC123"
    assert letter.letter_id_added_at is not None
    [email] = emails("letter_id_added")
    assert email.recipient == attending.contact_email
    assert email.context["letter_id"] == "LOR-2028-ABC123"
    assert "LOR-2028-ABC123" in rendered(email)


@pytest.mark.parametrize("value", ["ABC12345", "abc12345", " AbC12345 "])
def test_a_letter_id_already_on_another_letter_is_refused(demo, value):
    attending = writer(demo)
    classmate = another_student(demo)
    theirs = accepted_letter(demo, attending, student=classmate)
    attach(theirs, classmate, "ABC12345")
    mine = accepted_letter(demo, attending)
    before = len(emails("letter_id_added"))

    error = refused(Conflict, "letter_id_in_use", lambda: attach(mine, demo["student"], value))

    assert "already attached" in error.message
    mine = reload(mine)
    assert (mine.eras_letter_id, mine.letter_id_added_at) == ("", None)
    assert reload(theirs).eras_letter_id == "ABC12345"
    assert len(emails("letter_id_added")) == before


def test_the_same_letter_id_in_another_organization_is_allowed(demo, northside):
    theirs = accepted_letter(northside)
    attach(theirs, northside["student"], "ABC12345")
    mine = accepted_letter(demo)

    attach(mine, demo["student"], "ABC12345")

    assert reload(mine).eras_letter_id == "ABC12345"
    assert reload(theirs).eras_letter_id == "ABC12345"


@pytest.mark.parametrize("who", ["attending", "classmate", "admin"])
def test_only_the_student_attaches_the_letter_id(demo, who):
    letter = accepted_letter(demo)
    caller = {
        "attending": demo["attending"],
        "classmate": another_student(demo),
        "admin": demo["admin"],
    }[who]

    refused(NotAllowed, "not_allowed", lambda: attach(letter, caller, "ABC12345"))

    assert reload(letter).eras_letter_id == ""


@pytest.mark.parametrize("status", ["requested", "declined", "uploaded"])
def test_a_letter_id_is_attached_only_while_accepted(demo, status):
    attending = writer(demo)
    past_rotation(demo, attending)
    letter = ask(demo["student"], attending)
    if status == "declined":
        in_scope(letter, services.decline_letter, by=demo["attending"])
    if status == "uploaded":
        in_scope(letter, services.accept_letter, by=demo["attending"])
        in_scope(letter, services.mark_uploaded, by=demo["attending"])

    refused(Conflict, "wrong_status", lambda: attach(letter, demo["student"], "ABC12345"))

    assert reload(letter).eras_letter_id == ""


# --- The upload --------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["student", "other attending", "admin"])
def test_only_the_letters_attending_marks_it_uploaded(demo, who):
    letter = accepted_letter(demo)
    caller = {
        "student": demo["student"],
        "other attending": another_attending(demo).membership,
        "admin": demo["admin"],
    }[who]

    refused(NotAllowed, "not_allowed", lambda: in_scope(letter, services.mark_uploaded, by=caller))

    assert reload(letter).status == "accepted"


def test_a_letter_is_marked_uploaded_only_once_accepted(demo):
    attending = writer(demo)
    past_rotation(demo, attending)
    letter = ask(demo["student"], attending)

    refused(
        Conflict,
        "wrong_status",
        lambda: in_scope(letter, services.mark_uploaded, by=demo["attending"]),
    )

    assert reload(letter).status == "requested"


def test_marking_uploaded_stops_the_reminders_and_tells_the_student(demo):
    letter = accepted_letter(demo)
    assert reload(letter).next_reminder_on is not None

    in_scope(letter, services.mark_uploaded, by=demo["attending"])

    letter = reload(letter)
    assert letter.status == "uploaded"
    assert letter.uploaded_at is not None
    assert letter.next_reminder_on is None
    [email] = emails("letter_uploaded", demo["student"].user.email)
    assert email.context["letter_url"].endswith(f"/letters/{letter.pk}/")
    refused(
        Conflict,
        "wrong_status",
        lambda: in_scope(letter, services.mark_uploaded, by=demo["attending"]),
    )


# --- The lifecycle -----------------------------------------------------------------------------


def complete(side, attending):
    with scopes_disabled():
        rotation = factories.RotationFactory(
            attending=attending,
            student=side["student"],
            status="in_progress",
            start=rotation_services.this_monday() - timedelta(weeks=3),
        )
    with scope(organization=side["org"].pk):
        rotation_services.complete_rotation(
            rotation,
            by=attending.membership,
            ratings={
                "medical_knowledge": 5,
                "clinical_skills": 4,
                "professionalism": 5,
                "communication": 4,
            },
            comments="Thorough and kind.",
            activities="Rounds, clinic, case presentations.",
        )
    return rotation


def test_completing_a_rotation_invites_the_student_to_ask_for_a_letter(demo):
    attending = writer(demo, lor_fee=Decimal("40.00"))

    rotation = complete(demo, attending)

    [email] = emails("letter_invitation", demo["student"].user.email)
    assert email.context["attending_name"] == attending.display_name
    assert email.context["fee"] == "40.00"
    assert email.context["request_url"].endswith(f"/letters/request/?attending={attending.pk}")
    assert attending.display_name in rendered(email)
    assert attending.contact_email not in json.dumps(email.context) + rendered(email)
    with scope(organization=demo["org"].pk):
        assert services.completed_rotation(demo["student"], attending).pk == rotation.pk


def test_no_invitation_when_the_attending_does_not_write_letters(demo):
    attending = writer(demo, writes_lors=False)

    complete(demo, attending)

    assert emails("letter_invitation") == []
    assert len(emails("rotation_completed", demo["student"].user.email)) == 1


def test_an_unpaid_letter_fee_is_reminded_as_the_letters_fee_not_as_the_rotation(demo):
    """The installment reminders (payments.reminders) word a LOR fee as what it is: no
    "your rotation can start only once it is paid" on the overdue one."""
    from payments.reminders import send_payment_reminders

    attending = writer(demo, lor_fee=Decimal("50.00"))
    accepted_letter(demo, attending, payment_method="zelle")
    with scope(organization=demo["org"]):
        send_payment_reminders(demo["org"], today=TODAY + timedelta(days=1))
    [overdue] = emails("payment_reminder")
    assert overdue.context["when"] == "overdue"
    assert overdue.context["invoice_kind"] == "lor_fee"
    words = rendered(overdue)  # subject, text and HTML
    assert f"The letter of recommendation fee for {attending.display_name}" in words
    assert "$50.00" in words
    assert "rotation can start" not in words
