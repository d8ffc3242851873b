from django.contrib import admin

from lor.models import Letter


@admin.register(Letter)
class LetterAdmin(admin.ModelAdmin):
    list_display = ("id", "organization", "student", "attending", "status", "season", "target_on")
    list_filter = ("status", "season", "organization")
    search_fields = ("student__user__email", "attending__display_name", "eras_letter_id")
    raw_id_fields = ("student", "attending", "rotation", "invoice")
    readonly_fields = ("requested_at", "decided_at", "released_at", "uploaded_at")
