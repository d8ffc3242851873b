"""The browser's review forms (DESIGN §15). The rules live in reviews.services."""

from django import forms

from reviews.models import MAX_HOURS_PER_WEEK, LetterOutcome, PatientContact
from rotations.choices import CareSetting
from usdoctors.text import LONG_TEXT_MAX, SHORT_TEXT_MAX

CHOOSE = [("", "Choose…")]
YES_NO = [("", "Choose…"), ("yes", "Yes"), ("no", "No")]
TEACHING_CHOICES = [
    ("", "Choose a rating"),
    (5, "5 — Outstanding teacher"),
    (4, "4 — Good"),
    (3, "3 — Adequate"),
    (2, "2 — Poor"),
    (1, "1 — No teaching"),
]


def yes_no(label: str, required_message: str) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=YES_NO,
        coerce=lambda value: value == "yes",
        error_messages={"required": required_message},
    )


class ReviewForm(forms.Form):
    """The student's review: ratings, then what they actually did."""

    teaching = forms.TypedChoiceField(
        label="Teaching",
        choices=TEACHING_CHOICES,
        coerce=int,
        error_messages={"required": "Rate the teaching."},
    )
    would_recommend = yes_no(
        "Would you recommend this rotation?", "Say whether you would recommend it."
    )
    patient_contact = forms.ChoiceField(
        label="Patient contact",
        choices=CHOOSE + PatientContact.choices,
        error_messages={"required": "Say how much patient contact you had."},
    )
    care_setting = forms.ChoiceField(
        label="Inpatient or outpatient",
        choices=CHOOSE + CareSetting.choices,
        error_messages={"required": "Say where you worked: inpatient or outpatient."},
    )
    wrote_notes = yes_no(
        "Did you write notes in the patient record?", "Say whether you wrote notes."
    )
    hours_per_week = forms.IntegerField(
        label="Hours a week",
        min_value=1,
        max_value=MAX_HOURS_PER_WEEK,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={"required": "Say how many hours a week you spent."},
    )
    letter = forms.ChoiceField(
        label="Letter of recommendation",
        choices=CHOOSE + LetterOutcome.choices,
        error_messages={"required": "Say what happened about a letter."},
    )
    text = forms.CharField(
        label="In your words",
        max_length=LONG_TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What a student choosing this attending should know.",
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label="Your answer",
        max_length=LONG_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="You can answer once; students see it under the review.",
        error_messages={"required": "Write your answer."},
    )


class HideForm(forms.Form):
    reason = forms.CharField(
        label="Why hide this review",
        max_length=SHORT_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept and shown to admins.",
        error_messages={"required": "Say why the review is hidden; the reason is kept."},
    )
