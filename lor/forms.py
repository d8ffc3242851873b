"""Browser forms of letters (DESIGN §8). They parse; ``lor.services`` decides, and its
refusal lands next to the field it names (or next to the attending when it is about
the attending: no completed rotation, no letters, already asked)."""

from __future__ import annotations

from datetime import date

from django import forms

from accounts.choices import Specialty
from lor import seasons
from lor.models import LETTER_ID_MAX, MAX_VISA_WAIT_WEEKS
from lor.planner import season_choices
from rotations.models import AttendingProfile
from usdoctors.errors import DomainError
from usdoctors.text import SHORT_TEXT_MAX

# Refusals about the chosen attending, shown next to the attending field.
ATTENDING_CODES = {"no_completed_rotation", "does_not_write_letters", "letter_already_requested"}


def fee_words(fee) -> str:
    """What a letter costs, as the request form says it up front."""
    if fee and fee > 0:
        return (
            f"${fee:,.2f}, invoiced when the letter is accepted; "
            "you get the email address once it is paid"
        )
    return "no fee"


def fee_short(fee) -> str:
    return f"${fee:,.2f} fee" if fee and fee > 0 else "no fee"


class DomainErrorsMixin:
    def add_domain_error(self, error: DomainError) -> None:
        field = error.field if error.field in self.fields else None
        if field is None and error.code in ATTENDING_CODES and "attending" in self.fields:
            field = "attending"
        self.add_error(field, error.message)


class LetterRequestForm(DomainErrorsMixin, forms.Form):
    """Ask a past attending for a letter. The select offers the student's letter writers
    (``lor.services.letter_writers``) with each one's fee; any attending of the
    organization is looked up, so the service gives its own reason for one it refuses."""

    attending = forms.ModelChoiceField(
        queryset=AttendingProfile.objects.none(),
        label="Attending",
        empty_label="Choose the attending",
        help_text="Attendings with whom you completed a rotation here, and their fee.",
    )
    specialty = forms.ChoiceField(
        label="Target specialty",
        choices=[("", "Choose the specialty"), *Specialty.choices],
        help_text="The specialty you apply to in ERAS.",
    )
    season = forms.TypedChoiceField(label="Application season", coerce=int, choices=())
    message = forms.CharField(
        label="Message to the attending",
        required=False,
        max_length=SHORT_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What you would like the letter to speak to; the attending reads it.",
    )

    def __init__(self, *args, student, writers, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.writers = list(writers)
        field = self.fields["attending"]
        field.queryset = AttendingProfile.objects.filter(organization_id=student.organization_id)
        # Shown: the letter writers only (no query per render); looked up: the queryset.
        field.widget.choices = [
            ("", field.empty_label),
            *((w.pk, f"{w.display_name} ({fee_short(w.lor_fee)})") for w in self.writers),
        ]
        open_seasons = seasons.open_seasons(today)
        self.fields["season"].choices = [(s, seasons.season_label(s)) for s in open_seasons]
        self.fields["season"].initial = seasons.default_season(today)

    def chosen_writer(self) -> AttendingProfile | None:
        """The writer picked (bound) or preselected (initial), for the fee up front."""
        value = self["attending"].value()
        return next((w for w in self.writers if str(w.pk) == str(value)), None)


class DeclineForm(DomainErrorsMixin, forms.Form):
    reason = forms.CharField(
        label="Reason (optional)",
        required=False,
        max_length=SHORT_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="The student reads this.",
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "decline")
        super().__init__(*args, **kwargs)


class LetterIdForm(DomainErrorsMixin, forms.Form):
    letter_id = forms.CharField(
        label="ERAS Letter ID",
        required=False,  # lor.services says why an empty one is refused
        max_length=LETTER_ID_MAX + 20,  # spaces around it are dropped by the service
        help_text="From your MyERAS Letter Request Form for this letter writer.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    submission_fields = ("letter_id",)  # marked required


class MatchTargetForm(forms.Form):
    """The student's target for the planner (§14). The Match years offered are the
    seasons platform staff published whose Match Day is ahead (``lor.planner``)."""

    match_year = forms.TypedChoiceField(label="Match year", coerce=int)
    specialty = forms.ChoiceField(label="Specialty you apply in", choices=Specialty.choices)
    visa_wait_weeks = forms.IntegerField(
        label="Consulate wait for a visa appointment (weeks)",
        min_value=0,
        max_value=MAX_VISA_WAIT_WEEKS,
        initial=0,
        help_text="0 if you need no US visa. Your country's wait is on the US "
        "Department of State's visa appointment wait times page.",
    )

    def __init__(self, *args, student, plan, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["match_year"].choices = [
            (season.match_year, f"Match {season.match_year} (ERAS {season.match_year})")
            for season in season_choices(today)
        ]
        target = plan.target
        if target is not None:
            self.initial.update(
                match_year=target.match_year,
                specialty=target.specialty,
                visa_wait_weeks=target.visa_wait_weeks,
            )
        else:
            profile = getattr(student, "profile", None)
            interests = (profile.specialty_interests if profile else None) or []
            self.initial.update(
                match_year=plan.season.match_year if plan.season else None,
                specialty=interests[0] if interests else None,
            )
