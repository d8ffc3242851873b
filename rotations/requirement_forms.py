"""The requirements form: one rotation type's requirements (DESIGN §13). It parses
input; ``rotations.requirements`` saves it and states the rules."""

from django import forms

from accounts.choices import VisaStatus
from rotations import certificates
from rotations.models import Requirement
from rotations.requirements import FIELDS


class RequirementForm(forms.ModelForm):
    certificates = forms.MultipleChoiceField(
        label="Certificates (approved by our admins)",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    visa_statuses = forms.MultipleChoiceField(
        label="Visa statuses accepted (none ticked: every status)",
        choices=VisaStatus.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Requirement
        fields = FIELDS
        widgets = {
            "current_students": forms.RadioSelect,
            "graduates": forms.RadioSelect,
            "application_fee": forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["certificates"].choices = certificates.choices()

    def values(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in FIELDS}


class RelaxationForm(forms.Form):
    b1_b2_relaxation_reason = forms.CharField(
        label="Why graduates on B-1/B-2 may book hands-on rotations",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        help_text="Leave empty to keep the built-in rule: graduates on a B-1/B-2 visa may "
        "book observerships only. A written reason lets them book hands-on rotations.",
    )
