from django.contrib import admin

from notifications.models import OutboundEmail


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    list_display = ("template", "recipient", "organization", "status", "attempts", "created_at")
    list_filter = ("status", "organization", "template")
    search_fields = ("recipient", "dedupe_key")
    readonly_fields = ("created_at", "sent_at")
