"""Browser forms. Field rules live on the models, so the API enforces the same ones."""

from django import forms

from accounts.choices import Specialty, TicketCategory
from accounts.corrections import CORRECTABLE_FIELDS
from accounts.models import StudentProfile, SupportTicket
from usdoctors.text import LONG_TEXT_MAX, SHORT_TEXT_MAX


class StudentProfileForm(forms.ModelForm):
    specialty_interests = forms.MultipleChoiceField(
        choices=Specialty.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Specialty interests",
    )

    class Meta:
        model = StudentProfile
        fields = StudentProfile.EDITABLE_FIELDS
        widgets = {
            "step1_date": forms.DateInput(attrs={"type": "date"}),
            "step2ck_date": forms.DateInput(attrs={"type": "date"}),
            "cv": forms.ClearableFileInput(attrs={"accept": "application/pdf"}),
        }
        help_texts = {"cv": "PDF, at most 10 MB."}

    submission_fields = StudentProfile.REQUIRED_FOR_SUBMISSION


class ProfileCorrectionForm(StudentProfileForm):
    """What an admin may correct on a student's profile (``accounts.corrections``): the
    student's fields but the CV, never the verification state."""

    class Meta(StudentProfileForm.Meta):
        fields = CORRECTABLE_FIELDS


class DecisionMessageForm(forms.Form):
    message = forms.CharField(
        max_length=SHORT_TEXT_MAX, widget=forms.Textarea(attrs={"rows": 3}), label="Message"
    )


class TicketForm(forms.ModelForm):
    class Meta:
        model = SupportTicket
        fields = ["category", "subject", "message", "new_email"]
        widgets = {"message": forms.Textarea(attrs={"rows": 5})}
        labels = {"new_email": "New login email (for email changes)"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = TicketCategory.choices


class ReplyForm(forms.Form):
    message = forms.CharField(
        max_length=LONG_TEXT_MAX, widget=forms.Textarea(attrs={"rows": 4}), label="Your reply"
    )
