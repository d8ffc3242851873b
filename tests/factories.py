"""factory-boy factories. Build tenant rows under ``scopes_disabled()`` in tests.

Admins and platform staff must sign in with a second factor (accounts.mfa), so their
factories give them an authenticator app with ``TOTP_SECRET`` by default;
``second_factor=False`` builds one without. ``totp_code()`` is the app's current code.
"""

import time

import factory
from allauth.account.models import EmailAddress
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.utils import timezone

from accounts.models import Membership, StudentProfile, User
from usdoctors.models import Organization

PASSWORD = "correct-horse-battery"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # the tests' authenticator app (base32)


def give_second_factor(user, secret: str = TOTP_SECRET) -> None:
    """Set up an authenticator app for ``user`` the way allauth's activation does."""
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, secret)


def totp_code(secret: str = TOTP_SECRET) -> str:
    """The code an authenticator app with ``secret`` shows right now."""
    return format_hotp_value(hotp_value(secret, int(time.time()) // mfa_settings.TOTP_PERIOD))


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"org{n}")
    name = factory.LazyAttribute(lambda o: f"Organization {o.slug}")
    support_email = factory.LazyAttribute(lambda o: f"support@{o.slug}.test")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    first_name = "Pat"
    last_name = factory.Sequence(lambda n: f"Person{n}")

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or PASSWORD)
        if create:
            self.save(update_fields=["password"])
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)

    @factory.post_generation
    def second_factor(self, create, extracted, **kwargs):
        """Platform staff have an authenticator app unless ``second_factor=False``."""
        if create and (self.is_staff or self.is_superuser) and extracted is not False:
            give_second_factor(self)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = "student"

    @factory.post_generation
    def second_factor(self, create, extracted, **kwargs):
        """Admins have an authenticator app unless ``second_factor=False``."""
        if create and self.role == "admin" and extracted is not False:
            give_second_factor(self.user)


class StudentFactory(MembershipFactory):
    """A student with a complete profile; verified unless ``pending``/``status`` say otherwise."""

    class Params:
        pending = factory.Trait(
            verification_status="pending", submitted_at=factory.LazyFunction(timezone.now)
        )

    role = "student"
    verification_status = "verified"

    @factory.post_generation
    def profile(self, create, extracted, **kwargs):
        if not create:
            return
        from tests.conftest import pdf_upload

        fields = {
            "full_name": f"Student {self.user.last_name}",
            "kind": "img",
            "medical_school": "Manipal College of Medical Sciences",
            "country": "NP",
            "graduation_year": 2024,
            "school_contact_email": "registrar@school.test",
            "visa_status": "j1",  # a graduate on a J-1 may book hands-on rotations (§13)
            "cv": pdf_upload(),
        }
        if extracted is False:  # profile=False: an empty profile, as right after sign-up
            fields = {}
        fields.update(kwargs)
        profile = StudentProfile(organization=self.organization, membership=self, **fields)
        profile.save()


def next_monday(weeks_ahead: int = 1):
    """The Monday ``weeks_ahead`` weeks after this week's Monday (local time)."""
    from datetime import timedelta

    today = timezone.localdate()
    return today - timedelta(days=today.weekday()) + timedelta(weeks=weeks_ahead)


class AttendingProfileFactory(factory.django.DjangoModelFactory):
    """An attending offering every type and mode at $500 a week, minimum 1 week."""

    class Meta:
        model = "rotations.AttendingProfile"

    organization = factory.SubFactory(OrganizationFactory)
    membership = factory.SubFactory(
        MembershipFactory,
        organization=factory.SelfAttribute("..organization"),
        role="attending",
    )
    display_name = factory.Sequence(lambda n: f"Dr. Jordan Attending{n}")
    credentials = "MD"
    specialty = "internal_medicine"
    practice_name = "Riverside Internal Medicine"
    setting = "community"
    care_setting = "both"
    city = "Houston"
    state = "TX"
    has_residency_program = False
    rotation_types = factory.LazyFunction(
        lambda: ["clerkship", "elective", "externship", "observership"]
    )
    modes = factory.LazyFunction(lambda: ["in_person", "tele"])
    weekly_rate = factory.LazyFunction(lambda: __import__("decimal").Decimal("500.00"))
    minimum_weeks = 1
    contact_email = factory.LazyAttribute(lambda o: f"private.{o.membership.user.email}")


class AvailabilityWeekFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "rotations.AvailabilityWeek"

    attending = factory.SubFactory(AttendingProfileFactory)
    organization = factory.SelfAttribute("attending.organization")
    week_start = factory.LazyFunction(lambda: next_monday(2))
    capacity = 2

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        """Written around the services: count the attending's free runs as they would."""
        from rotations.free_weeks import rebuild_free_weeks

        week = super()._create(model_class, *args, **kwargs)
        rebuild_free_weeks([week.attending_id])
        return week


def publish(attending, first_week, weeks: int, capacity: int = 2):
    """Publish ``weeks`` consecutive weeks from ``first_week`` for ``attending``."""
    from datetime import timedelta

    return [
        AvailabilityWeekFactory(
            attending=attending, week_start=first_week + timedelta(weeks=n), capacity=capacity
        )
        for n in range(weeks)
    ]


class RotationFactory(factory.django.DjangoModelFactory):
    """A requested 2-week clerkship starting in two weeks. Book capacity yourself (or go
    through the services) when you create it in a booked status."""

    class Meta:
        model = "rotations.Rotation"

    @classmethod
    def _generate(cls, strategy, params):
        # RotationFactory(organization=org) builds its attending in that organization too.
        if "organization" in params and "attending" not in params:
            params.setdefault("attending__organization", params["organization"])
        return super()._generate(strategy, params)

    attending = factory.SubFactory(AttendingProfileFactory)
    organization = factory.SelfAttribute("attending.organization")
    student = factory.SubFactory(
        StudentFactory, organization=factory.SelfAttribute("..organization")
    )
    rotation_type = "clerkship"
    mode = "in_person"
    start = factory.LazyFunction(lambda: next_monday(2))
    weeks = 2
    weekly_rate = factory.SelfAttribute("attending.weekly_rate")
    status = "requested"
    requested_at = factory.LazyFunction(timezone.now)
    respond_by = factory.LazyAttribute(
        lambda o: o.requested_at + __import__("datetime").timedelta(days=7)
    )


# --- Payments (DESIGN §6) ---------------------------------------------------------------


class InvoiceFactory(factory.django.DjangoModelFactory):
    """A draft rotation invoice for a requested rotation (its student, plan and method).
    Lines and installments are separate: ``InvoiceLineFactory``, ``InstallmentFactory``."""

    class Meta:
        model = "payments.Invoice"

    rotation = factory.SubFactory(RotationFactory)
    organization = factory.SelfAttribute("rotation.organization")
    student = factory.SelfAttribute("rotation.student")
    kind = "rotation"
    payment_method = factory.SelfAttribute("rotation.payment_method")
    plan = factory.SelfAttribute("rotation.plan")


class InvoiceLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "payments.InvoiceLine"

    invoice = factory.SubFactory(InvoiceFactory)
    organization = factory.SelfAttribute("invoice.organization")
    kind = "price"
    label = "Rotation price"
    amount = factory.LazyFunction(lambda: __import__("decimal").Decimal("1000.00"))


class InstallmentFactory(factory.django.DjangoModelFactory):
    """A pending $500.00 installment due today, without card fee."""

    class Meta:
        model = "payments.Installment"

    invoice = factory.SubFactory(InvoiceFactory)
    organization = factory.SelfAttribute("invoice.organization")
    sequence = factory.Sequence(lambda n: n + 1)
    due_on = factory.LazyFunction(timezone.localdate)
    amount = factory.LazyFunction(lambda: __import__("decimal").Decimal("500.00"))
    card_fee = factory.LazyFunction(lambda: __import__("decimal").Decimal("0.00"))


class PaymentFactory(factory.django.DjangoModelFactory):
    """What the installment asks for, received today by its invoice's method."""

    class Meta:
        model = "payments.Payment"

    installment = factory.SubFactory(InstallmentFactory)
    organization = factory.SelfAttribute("installment.organization")
    amount = factory.LazyAttribute(lambda o: o.installment.amount + o.installment.card_fee)
    method = factory.LazyAttribute(lambda o: o.installment.invoice.payment_method)
    received_on = factory.LazyFunction(timezone.localdate)


class CreditEntryFactory(factory.django.DjangoModelFactory):
    """$100.00 of credit for a student, written through ``payments.credits.add_credit`` so
    the student's balance moves with the entry (never build entries around it)."""

    class Meta:
        model = "payments.CreditEntry"

    student = factory.SubFactory(StudentFactory)
    amount = factory.LazyFunction(lambda: __import__("decimal").Decimal("100.00"))
    reason = "cancelled_rotation"
    note = ""

    @classmethod
    def _create(cls, model_class, student, amount, reason, **kwargs):
        from payments.credits import add_credit

        kwargs.pop("organization", None)  # always the student's
        return add_credit(student, amount, reason, **kwargs)


class CardOnFileFactory(factory.django.DjangoModelFactory):
    """An active Visa ending 4242 in the vault."""

    class Meta:
        model = "payments.CardOnFile"

    student = factory.SubFactory(StudentFactory)
    organization = factory.SelfAttribute("student.organization")
    status = "active"
    payment_token_id = factory.Sequence(lambda n: f"vault-token-{n}")
    brand = "VISA"
    last4 = "4242"


class WebhookEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "payments.WebhookEvent"

    organization = factory.SubFactory(OrganizationFactory)
    event_id = factory.Sequence(lambda n: f"WH-{n:08d}")
    event_type = "INVOICING.INVOICE.PAID"
    payload = factory.LazyAttribute(lambda o: {"id": o.event_id, "event_type": o.event_type})


# --- Letters of recommendation (DESIGN §8) -----------------------------------------------


def completed_rotation(**kwargs):
    """A 4-week clerkship completed two weeks ago (the attending's evaluation written),
    the rotation a student may ask its attending for a letter from."""
    from datetime import timedelta

    from rotations.models import Evaluation

    start = next_monday(-6)
    kwargs.setdefault("start", start)
    kwargs.setdefault("weeks", 4)
    kwargs.setdefault("status", "completed")
    kwargs.setdefault("completed_at", timezone.now() - timedelta(days=14))
    rotation = RotationFactory(**kwargs)
    Evaluation.objects.create(
        organization=rotation.organization,
        rotation=rotation,
        medical_knowledge=4,
        clinical_skills=5,
        professionalism=5,
        communication=4,
        comments="Reliable, kind with patients, presents clearly.",
        activities="Took histories, presented on rounds, wrote daily notes.",
    )
    return rotation


class LetterFactory(factory.django.DjangoModelFactory):
    """A requested letter for Internal Medicine, season 2028 (ERAS target 2027-09-15),
    from a completed rotation; the fee is the attending's. Build it through
    ``lor.services`` when a test is about the rules; this is for data around them."""

    class Meta:
        model = "lor.Letter"

    rotation = factory.LazyFunction(completed_rotation)
    organization = factory.SelfAttribute("rotation.organization")
    student = factory.SelfAttribute("rotation.student")
    attending = factory.SelfAttribute("rotation.attending")
    specialty = "internal_medicine"
    season = 2028
    target_on = factory.LazyAttribute(lambda o: __import__("datetime").date(o.season - 1, 9, 15))
    fee = factory.SelfAttribute("attending.lor_fee")
    status = "requested"
