"""Browser forms of documents (DESIGN §7). They parse; the services decide
(documents.uploads, documents.review, documents.requirements) and their ``Invalid``
lands next to the field it names."""

from __future__ import annotations

from django import forms

from documents.models import DocumentType, Validity
from usdoctors.errors import DomainError
from usdoctors.text import SHORT_TEXT_MAX

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class UploadForm(forms.Form):
    """One type's upload or replacement: the file, its issue date and expiry date.

    Emptiness, size, content and the date rules are the service's (one set of messages
    for the browser, the API and the school link), so the file field accepts an empty
    file and leaves the verdict to ``documents.uploads``."""

    file = forms.FileField(
        required=False,
        allow_empty_file=True,
        label="File",
        help_text="PDF, PNG or JPEG, at most 10 MB.",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}),
    )
    issued_on = forms.DateField(label="Issue date", widget=DATE)
    expires_on = forms.DateField(label="Expiry date", required=False, widget=DATE)

    def __init__(self, *args, document_type: DocumentType, with_expiry: bool = True, **kwargs):
        kwargs.setdefault("prefix", document_type.code)
        super().__init__(*args, **kwargs)
        self.document_type = document_type
        # Marked required (the service says why when it is left out).
        self.submission_fields = ("file", "expires_on") if document_type.needs_expiry else ("file",)
        if document_type.needs_expiry:
            self.fields[
                "expires_on"
            ].help_text = "Required: it must be valid through the end of the rotation."
        elif document_type.validity == Validity.ISSUED_WITHIN_YEAR:
            self.fields[
                "issued_on"
            ].help_text = "It must be issued within one year before the rotation starts."
        if not with_expiry:
            del self.fields["expires_on"]

    def add_domain_error(self, error: DomainError) -> None:
        self.add_error(error.field if error.field in self.fields else None, error.message)


class RejectForm(forms.Form):
    reason = forms.CharField(
        label="Reason for rejecting",
        required=False,  # documents.review says why an empty reason is refused
        max_length=SHORT_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="The student sees this.",
    )

    submission_fields = ("reason",)  # marked required

    def __init__(self, *args, document_id: int, **kwargs):
        kwargs.setdefault("prefix", f"reject-{document_id}")
        super().__init__(*args, **kwargs)


class TypeChoiceForm(forms.Form):
    """A set of catalog types as checkboxes (the organization's or an attending's)."""

    document_types = forms.ModelMultipleChoiceField(
        queryset=DocumentType.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Required documents",
    )

    def __init__(self, *args, queryset, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["document_types"].queryset = queryset
