"""Browser forms for attendings and rotations. They parse input; the rules live in the
models' validators and in the services (STYLE §2), which the API shares."""

from django import forms
from django.http import QueryDict
from django.utils.html import format_html

from accounts.models import Membership
from rotations.attendings import clear_npi_check_if_changed
from rotations.choices import (
    TYPES_FOR_KIND,
    Mode,
    Payer,
    PaymentMethod,
    Plan,
    RotationStatus,
    RotationType,
)
from rotations.models import MAX_WEEKS, AttendingProfile, Evaluation
from rotations.services import next_monday
from usdoctors.dates import validate_sane_date
from usdoctors.text import LONG_TEXT_MAX, SHORT_TEXT_MAX


class MondayInput(forms.DateInput):
    """A date picker that only offers Mondays (``step`` counts 7 days from ``min``).

    The server still checks: browsers differ and the form is posted with ``novalidate``.
    """

    input_type = "date"

    def get_context(self, name, value, attrs):
        attrs = {"min": next_monday().isoformat(), "step": 7, **(attrs or {})}
        return super().get_context(name, value, attrs)


def percent(rate) -> str:
    """``Decimal("0.0299")`` → ``"2.99%"``."""
    return f"{(rate * 100).normalize():f}%"


class AttendingProfileForm(forms.ModelForm):
    rotation_types = forms.MultipleChoiceField(
        label="Rotation types you offer",
        choices=RotationType.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one rotation type."},
    )
    modes = forms.MultipleChoiceField(
        label="How students can join you",
        choices=Mode.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose in person, tele-rotation or both."},
    )

    class Meta:
        model = AttendingProfile
        fields = AttendingProfile.EDITABLE_FIELDS
        labels = {
            "display_name": "Name shown to students",
            "setting": "Practice setting",
            "has_residency_program": "The site has a residency program in this specialty",
            "bio": "About your rotations",
            "writes_lors": "I write letters of recommendation (LORs)",
            "contact_email": "Private contact email",
        }
        help_texts = {
            "display_name": "For example: Dr. Maria Lopez.",
            "npi": "Your 10-digit National Provider Identifier. Once an admin checks it, "
            "students see it marked “verified by admins”.",
            "bio": "Optional: what students do and learn with you.",
            "weekly_rate": "What a student pays for one week with you, in US dollars.",
            "minimum_weeks": f"Students must ask for at least this many weeks (1–{MAX_WEEKS}).",
            "lor_fee": "0 if you write letters without a fee.",
            "letter_turnaround_days": "Days you need from a student's request to the letter "
            "in ERAS (1–90). Students' season planners count back from it.",
            "contact_email": "Private: never shown to students. We release it only to a "
            "student whose letter of recommendation request you accept, so they can enter "
            "it in MyERAS.",
        }
        widgets = {"bio": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Left empty, the turnaround stays what it was (14 days for a new profile).
        self.fields["letter_turnaround_days"].required = False

    def clean_letter_turnaround_days(self):
        value = self.cleaned_data.get("letter_turnaround_days")
        if value is None:
            return self.instance.letter_turnaround_days
        return value

    def save(self, commit=True):
        clear_npi_check_if_changed(
            self.instance, old_npi=self.initial.get("npi", ""), new_npi=self.instance.npi
        )
        return super().save(commit)


class RenderedElsewhere(forms.HiddenInput):
    """A field whose control the page draws somewhere else: the confirmation checkbox
    lives in the price summary that payments renders (``payments/_quote_summary.html``), the
    publish confirmation in the preview's own form (``rotations/availability.html``)."""

    def render(self, name, value, attrs=None, renderer=None):
        return ""


class PublishWeeksForm(forms.Form):
    first_week = forms.DateField(
        label="First week (a Monday)", widget=MondayInput(), validators=[validate_sane_date]
    )
    last_week = forms.DateField(
        label="Last week (a Monday)",
        widget=MondayInput(),
        help_text="To publish a single week, use the same Monday as the first week.",
        validators=[validate_sane_date],
    )
    # No initial capacity (§4): a prefilled number once cut published weeks to it unseen.
    capacity = forms.IntegerField(
        label="Students at once",
        min_value=1,
        max_value=20,
        help_text="How many students you can host in each of these weeks (1–20). "
        "If weeks you already published would change, you see them and confirm first.",
    )
    # The confirmation of the changes the attending reviewed (rotations.availability).
    confirmed = forms.CharField(required=False, max_length=4000, widget=RenderedElsewhere)


CONFIRM_PRICE = "Review the price and tick the box to agree to it before sending the request."


class RotationRequestForm(forms.Form):
    """What a student sends an attending (§5). Only the types and modes this attending
    offers and this student may take are listed; the service re-checks every rule."""

    rotation_type = forms.ChoiceField(
        label="Rotation type",
        error_messages={"invalid_choice": "Choose one of the rotation types listed."},
    )
    mode = forms.ChoiceField(
        label="Mode", error_messages={"invalid_choice": "Choose one of the modes listed."}
    )
    start = forms.DateField(
        label="Start date (a Monday)",
        widget=MondayInput(),
        help_text="Rotations start on a Monday and run in whole weeks, Monday to Sunday.",
        validators=[validate_sane_date],
    )
    weeks = forms.IntegerField(label="Number of weeks", min_value=1, max_value=MAX_WEEKS)
    payer = forms.ChoiceField(label="Who pays", choices=Payer.choices, initial=Payer.SELF)
    plan = forms.ChoiceField(label="Payment plan", choices=Plan.choices, initial=Plan.FULL)
    payment_method = forms.ChoiceField(
        label="Payment method", choices=PaymentMethod.choices, initial=PaymentMethod.PAYPAL
    )
    message = forms.CharField(
        max_length=SHORT_TEXT_MAX,
        label="Message to the attending",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Optional: introduce yourself and say what you hope to learn.",
    )
    # What the student agreed to pay, fees included: the value of the "I agree to pay …"
    # checkbox in the price summary. Payments refuses the request if the price changed.
    confirmed_total = forms.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=0,
        widget=RenderedElsewhere,
        error_messages={"required": CONFIRM_PRICE, "invalid": CONFIRM_PRICE},
    )

    def __init__(self, *args, attending: AttendingProfile, student: Membership, **kwargs):
        super().__init__(*args, **kwargs)
        profile = getattr(student, "profile", None)
        allowed = TYPES_FOR_KIND.get(getattr(profile, "kind", ""), set())
        self.fields["rotation_type"].choices = [
            (value, label)
            for value, label in RotationType.choices
            if value in attending.rotation_types and value in allowed
        ]
        self.fields["mode"].choices = [
            (value, label) for value, label in Mode.choices if value in attending.modes
        ]
        self.fields["weeks"].initial = attending.minimum_weeks
        if attending.minimum_weeks > 1:
            # The name is the attending's own text: escaped here, because Django's default
            # form templates render help_text with |safe.
            self.fields["weeks"].help_text = format_html(
                "{} takes students for at least {} weeks; at most {}.",
                attending.display_name,
                attending.minimum_weeks,
                MAX_WEEKS,
            )
        else:
            self.fields["weeks"].help_text = f"1 to {MAX_WEEKS} weeks."
        organization = student.organization
        self.fields["plan"].help_text = (
            "Weekly installments need the rotation to start at least "
            f"{organization.weekly_plan_min_lead_days} days from now."
        )
        self.fields["payment_method"].help_text = (
            f"Card payments add {percent(organization.card_surcharge_rate)} to each payment; "
            "Zelle and wire transfers add nothing."
            if organization.card_surcharge_rate
            else "No payment method adds a fee."
        )
        self.fields[
            "payer"
        ].help_text = "If your school pays, we ask your school contact to confirm."

    @property
    def offers_something(self) -> bool:
        return bool(self.fields["rotation_type"].choices and self.fields["mode"].choices)


class RequestPrefillForm(forms.Form):
    """The request form's start and weeks carried in a link (§5, issue 11): a free week
    clicked in the calendar (``?start=``), or a search result (its first start, and the
    ``weeks`` of the search kept in ``?back=``). Only a future Monday and 1–12 weeks are
    taken; anything else is ignored, as a link may be old or typed by hand."""

    start = forms.DateField(required=False, validators=[validate_sane_date])
    weeks = forms.IntegerField(required=False, min_value=1, max_value=MAX_WEEKS)

    @classmethod
    def initial_from(cls, query) -> dict:
        back = QueryDict(query.get("back", ""))
        data = {"start": query.get("start", ""), "weeks": query.get("weeks") or back.get("weeks")}
        form = cls(data)
        form.is_valid()
        values = getattr(form, "cleaned_data", {})
        initial = {}
        start = values.get("start")
        if start and start.weekday() == 0 and start >= next_monday():
            initial["start"] = start
        if values.get("weeks"):
            initial["weeks"] = values["weeks"]
        return initial


class ReasonForm(forms.Form):
    """Declining a request or a date change: the reason is optional and shown to the student."""

    reason = forms.CharField(
        max_length=SHORT_TEXT_MAX,
        label="Reason (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The student sees this in the email we send them.",
    )


class CancelForm(forms.Form):
    confirm = forms.BooleanField(
        label="Yes, cancel this rotation",
        error_messages={"required": "Tick the box to confirm the cancellation."},
    )
    reason = forms.CharField(
        max_length=SHORT_TEXT_MAX,
        label="Reason (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DateChangeForm(forms.Form):
    new_start = forms.DateField(
        label="New start date (a Monday)",
        widget=MondayInput(),
        help_text="The rotation keeps its length; the attending must have free places.",
        validators=[validate_sane_date],
    )
    reason = forms.CharField(
        max_length=SHORT_TEXT_MAX,
        label="Why (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class PostponeForm(forms.Form):
    new_start = forms.DateField(
        label="New start date (a Monday)", widget=MondayInput(), validators=[validate_sane_date]
    )
    reason = forms.CharField(
        max_length=SHORT_TEXT_MAX,
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="For example: the student is ill. Both the student and the attending see it.",
        error_messages={"required": "Say why the rotation is postponed."},
    )


RATING_CHOICES = [
    ("", "Choose a rating"),
    (5, "5 — Outstanding"),
    (4, "4 — Above expectations"),
    (3, "3 — Meets expectations"),
    (2, "2 — Below expectations"),
    (1, "1 — Unsatisfactory"),
]


class EvaluationForm(forms.Form):
    """The attending's evaluation when marking a rotation completed (§5)."""

    comments = forms.CharField(
        max_length=LONG_TEXT_MAX,
        label="Comments for the student's school",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    activities = forms.CharField(
        max_length=LONG_TEXT_MAX,
        label="What the student did",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example: admitted and followed patients, presented on rounds. "
        "It appears on the student's ERAS-style experience entry.",
        error_messages={"required": "Describe what the student did during the rotation."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        ratings = {
            name: forms.TypedChoiceField(
                label=label,
                choices=RATING_CHOICES,
                coerce=int,
                error_messages={"required": f"Rate {label.lower()}."},
            )
            for name, label in Evaluation.COMPETENCIES
        }
        # Ratings first, then the words.
        self.fields = {**ratings, **self.fields}


class MessageForm(forms.Form):
    body = forms.CharField(
        max_length=LONG_TEXT_MAX,
        label="Your message",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Write a message."},
    )


class StatusFilterForm(forms.Form):
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "All statuses"), *RotationStatus.choices],
    )
