from django.contrib import admin

from lor.models import Letter, MatchTarget, Season


@admin.register(Letter)
class LetterAdmin(admin.ModelAdmin):
    list_display = ("id", "organization", "student", "attending", "status", "season", "target_on")
    list_filter = ("status", "season", "organization")
    search_fields = ("student__user__email", "attending__display_name", "eras_letter_id")
    raw_id_fields = ("student", "attending", "rotation", "invoice")
    readonly_fields = ("requested_at", "decided_at", "released_at", "uploaded_at")


@admin.register(Season)
class SeasonAdmin(admin.ModelAdmin):
    """Season dates are data platform staff keep current as NRMP and ERAS publish them
    (DESIGN §14); the planner and the calendar feeds read them from here."""

    list_display = (
        "match_year",
        "eras_opens_on",
        "submission_opens_on",
        "programs_review_on",
        "rank_deadline_on",
        "match_day",
    )
    ordering = ("-match_year",)


@admin.register(MatchTarget)
class MatchTargetAdmin(admin.ModelAdmin):
    list_display = ("student", "organization", "match_year", "specialty", "visa_wait_weeks")
    list_filter = ("match_year", "organization")
    raw_id_fields = ("student",)
