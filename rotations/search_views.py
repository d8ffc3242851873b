"""Browser pages: search attendings, and one attending's profile with a 26-week calendar
(DESIGN §4). The search form is a plain GET form; htmx swaps only the results in when
JavaScript runs, and the page works the same without it."""

from urllib.parse import urlencode

from django import forms
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers

from accounts.choices import Specialty
from rotations import panels, search
from rotations.choices import US_STATES, Mode, PracticeSetting, RotationType
from rotations.models import MAX_WEEKS, AttendingProfile
from rotations.requirements import listing_terms
from usdoctors.dates import validate_sane_date
from usdoctors.errors import Invalid
from usdoctors.views import member_required
from usdoctors.widgets import QuickSelect

SEARCH_TEMPLATE = "rotations/attending_search.html"
RESULTS_TEMPLATE = "rotations/_search_results.html"
PAGE_SIZE = search.PAGE_SIZE

ANY = [("", "Any")]
RESIDENCY_CHOICES = [("", "Any"), ("yes", "Yes"), ("no", "No")]


def _type_label(label: str) -> str:
    return label.split(" (")[0]


class AttendingSearchForm(forms.Form):
    specialty = forms.ChoiceField(
        choices=ANY + Specialty.choices, required=False, widget=QuickSelect
    )
    rotation_type = forms.ChoiceField(
        label="Rotation type",
        choices=ANY + [(value, _type_label(label)) for value, label in RotationType.choices],
        required=False,
        widget=QuickSelect,
    )
    mode = forms.ChoiceField(choices=ANY + Mode.choices, required=False, widget=QuickSelect)
    state = forms.ChoiceField(choices=ANY + US_STATES, required=False, widget=QuickSelect)
    setting = forms.ChoiceField(
        label="Practice setting",
        choices=ANY + PracticeSetting.choices,
        required=False,
        widget=QuickSelect,
    )
    has_residency_program = forms.TypedChoiceField(
        label="Residency program in the specialty",
        choices=RESIDENCY_CHOICES,
        coerce=lambda value: value == "yes",
        empty_value=None,
        required=False,
        widget=QuickSelect,
    )
    weeks = forms.IntegerField(
        label="Weeks in a row",
        min_value=1,
        max_value=MAX_WEEKS,
        required=False,
        help_text=f"1 to {MAX_WEEKS}. Empty: each attending's minimum.",
        error_messages={
            "min_value": f"A rotation lasts 1 to {MAX_WEEKS} weeks.",
            "max_value": f"A rotation lasts 1 to {MAX_WEEKS} weeks.",
        },
    )
    start_from = forms.DateField(
        label="Earliest start",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_sane_date],
    )
    start_to = forms.DateField(
        label="Latest start",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The first week must start between these dates.",
        validators=[validate_sane_date],
    )
    max_weekly_rate = forms.DecimalField(
        label="Maximum weekly rate (USD)",
        min_value=0,
        max_digits=8,
        decimal_places=2,
        required=False,
        widget=forms.NumberInput(attrs={"step": "1", "inputmode": "decimal"}),
    )
    sort = forms.ChoiceField(
        label="Sort by", choices=list(search.SORTS.items()), required=False, widget=QuickSelect
    )
    eligible_only = forms.BooleanField(
        label="Only attendings I qualify for",
        required=False,
        help_text="Judged on your verified profile and approved certificates (§13).",
    )

    FIELDSETS = (
        ("What", ("specialty", "rotation_type", "mode")),
        ("Where", ("state", "setting", "has_residency_program")),
        ("When", ("weeks", "start_from", "start_to")),
        ("Price", ("max_weekly_rate",)),
    )

    def __init__(self, *args, for_student: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not for_student:  # only students have requirements to meet
            del self.fields["eligible_only"]

    def clean(self):
        data = super().clean()
        if not self.errors:
            try:
                self.filters = search.SearchFilters.from_data(data)
            except Invalid as error:
                self.add_error(error.field, error.message)
        return data

    def fieldsets(self):
        return [(legend, [self[name] for name in names]) for legend, names in self.FIELDSETS]

    def eligible_field(self):
        """The "only attendings I qualify for" box, for students (None for others)."""
        return self["eligible_only"] if "eligible_only" in self.fields else None


def describe_offers(attending: AttendingProfile) -> AttendingProfile:
    """Readable lists of the rotation types and modes offered, for the templates."""
    types = dict(RotationType.choices)
    modes = dict(Mode.choices)
    attending.type_labels = [
        _type_label(types[value])
        for value in RotationType.values
        if value in attending.rotation_types
    ]
    attending.mode_labels = [modes[value] for value in Mode.values if value in attending.modes]
    return attending


def result_link(attending: AttendingProfile, back: str) -> str:
    """The attending's page from a search result: with the result's first start
    (``start``, which the request form fills in) and the search to return to (``back``,
    whose ``weeks`` the form takes too)."""
    query = {}
    if attending.search.first_start:
        query["start"] = attending.search.first_start.isoformat()
    if back:
        query["back"] = back
    link = reverse("attending_detail", args=[attending.pk])
    return f"{link}?{urlencode(query)}" if query else link


def what_to_change(filters: search.SearchFilters) -> list[str]:
    """Hints for an empty result, naming the filters that narrow most."""
    hints = []
    if filters.weeks_filter_applies:
        hints.append("ask for fewer weeks in a row, or widen the start dates")
    if filters.max_weekly_rate is not None:
        hints.append("raise the maximum weekly rate")
    if filters.state:
        hints.append("search any state")
    named = [
        label
        for name, label in (
            ("specialty", "specialty"),
            ("rotation_type", "rotation type"),
            ("mode", "mode"),
            ("setting", "practice setting"),
            ("has_residency_program", "residency program"),
        )
        if getattr(filters, name) not in ("", None)
    ]
    if named:
        hints.append(f"set {', '.join(named)} to Any")
    if filters.eligible_only:
        hints.append("show attendings you do not qualify for yet, to see what they ask")
    return hints


@member_required()
def attending_search(request):
    student = request.membership if request.membership.is_student else None
    form = AttendingSearchForm(request.GET or None, for_student=student is not None)
    filters = search.SearchFilters()
    page = None
    if not form.is_bound or form.is_valid():
        filters = getattr(form, "filters", filters)
        results = search.search_attendings(request.organization, filters, student=student)
        page = search.SearchPaginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
        back = request.GET.urlencode()
        for attending in page:
            describe_offers(attending)
            attending.result_link = result_link(attending, back)
    context = {
        "form": form,
        "filters": filters,
        "page_obj": page,
        "hints": what_to_change(filters),
    }
    partial = request.headers.get("HX-Request") and not request.headers.get(
        "HX-History-Restore-Request"
    )
    # Bad filters are bad input (400), but htmx swaps only 2xx: its fragment stays 200.
    status = 400 if form.is_bound and form.errors and not partial else 200
    response = render(
        request, RESULTS_TEMPLATE if partial else SEARCH_TEMPLATE, context, status=status
    )
    patch_vary_headers(response, ["HX-Request"])  # caches keep the page and the fragment apart
    return response


def attending_detail_context(request, attending: AttendingProfile) -> dict:
    """What the detail page shows; a page extending it (the rotation request form)
    starts from this context."""
    total, surcharge = search.price_quote(
        attending.weekly_rate, attending.minimum_weeks, request.organization.card_surcharge_rate
    )
    return {
        "attending": describe_offers(attending),
        "calendar": search.availability_calendar(attending),
        "minimum_total": total,
        "minimum_card_surcharge": surcharge,
        # Per type offered: the application fee and housing of its requirement (§13).
        "listing_terms": listing_terms(attending),
        "back_query": request.GET.get("back", ""),
        # Other apps' sections (the reviews, §15), without rotations importing them.
        "attending_panels": panels.render_attending_panels(request, attending),
    }
