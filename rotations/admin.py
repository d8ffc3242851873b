"""Rotations in the platform staff console (/admin/: superusers only, scopes disabled by
``usdoctors.tenancy.TenantMiddleware``, like every console page; each list shows and
filters by organization, and a related row must belong to the edited row's one).

- Attending profiles: what the attending edits, plus the NPI mark; the kept search
  summary (next free week, mask) is never edited by hand.
- Availability weeks: add a week, change its capacity, remove an unbooked week, all
  through ``rotations.staff`` (locks, never below ``booked``, free runs kept). ``booked``
  is read-only: it moves only with bookings.
- Rotations: read with their history, messages and date changes. A booking (dates,
  attending, status) changes only through the services that move its places with it —
  the organization admins' postpone and cancel on the rotation page, the attending's
  date-change answers — so those fields are read-only here; the response deadline and
  the notes can be corrected.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect

from rotations import staff
from rotations.attendings import clear_npi_check_if_changed
from rotations.choices import Mode, RotationType
from rotations.models import (
    AttendingProfile,
    AvailabilityWeek,
    DateChange,
    Message,
    NpiCheck,
    Rotation,
    RotationEvent,
)
from usdoctors.admin_site import ReadOnlyAdmin
from usdoctors.errors import DomainError


class AttendingProfileForm(forms.ModelForm):
    # No Meta: the console builds the form per request, inside its disabled scopes.
    rotation_types = forms.MultipleChoiceField(
        choices=RotationType.choices, widget=forms.CheckboxSelectMultiple
    )
    modes = forms.MultipleChoiceField(choices=Mode.choices, widget=forms.CheckboxSelectMultiple)

    def clean(self):
        cleaned = super().clean()
        membership, organization = cleaned.get("membership"), cleaned.get("organization")
        if membership is not None and organization is not None:
            if membership.organization_id != organization.pk:
                self.add_error("membership", "Choose a member of the same organization.")
        return cleaned


@admin.register(AttendingProfile)
class AttendingProfileAdmin(admin.ModelAdmin):
    form = AttendingProfileForm
    list_display = (
        "display_name",
        "credentials",
        "specialty",
        "city",
        "state",
        "organization",
        "npi",
        "npi_verified_at",
        "listed",
        "next_free_week",
    )
    list_filter = ("organization", "specialty", "state", "listed", "setting", "credentials")
    search_fields = ("display_name", "membership__user__email", "npi", "city", "practice_name")
    list_select_related = ("organization",)
    raw_id_fields = ("membership",)
    readonly_fields = ("listed", "next_free_week", "next_free_week_from", "last_free_week")
    fieldsets = (
        (None, {"fields": ("organization", "membership", "listed")}),
        ("Profile", {"fields": AttendingProfile.EDITABLE_FIELDS}),
        ("NPI check", {"fields": ("npi_verified_at",)}),
        (
            "Kept for search (rotations.free_weeks)",
            {"fields": ("next_free_week", "next_free_week_from", "last_free_week")},
        ),
    )

    def save_model(self, request, obj, form, change):
        if change and "npi" in form.changed_data and "npi_verified_at" not in form.changed_data:
            # The mark belongs to the number an admin checked (rotations.attendings).
            clear_npi_check_if_changed(obj, old_npi=form.initial.get("npi"), new_npi=obj.npi)
        super().save_model(request, obj, form, change)


class AvailabilityWeekForm(forms.ModelForm):
    """Attending and week are chosen when adding; afterwards only the capacity changes."""

    def clean(self):
        cleaned = super().clean()
        week = self.instance
        capacity = cleaned.get("capacity")
        if week.pk is None:
            attending, start = cleaned.get("attending"), cleaned.get("week_start")
            if attending is not None and start is not None:
                taken = AvailabilityWeek.objects.filter(attending=attending, week_start=start)
                if taken.exists():
                    self.add_error("week_start", "This attending has already published it.")
        elif capacity is not None:
            refusal = staff.capacity_refusal(week, capacity)
            if refusal:
                self.add_error("capacity", refusal)
        return cleaned


@admin.register(AvailabilityWeek)
class AvailabilityWeekAdmin(admin.ModelAdmin):
    form = AvailabilityWeekForm
    list_display = ("attending", "week_start", "capacity", "booked", "free_run", "organization")
    list_filter = ("organization",)
    search_fields = ("attending__display_name", "attending__membership__user__email")
    list_select_related = ("attending", "organization")
    raw_id_fields = ("attending",)
    date_hierarchy = "week_start"
    ordering = ("attending", "week_start")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("attending", "week_start", "capacity")
        return ("organization", "attending", "week_start", "capacity", "booked", "free_run")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("organization", "attending", "week_start", "booked", "free_run")

    def has_delete_permission(self, request, obj=None):
        return obj is None or obj.booked == 0

    def save_model(self, request, obj, form, change):
        staff.save_week(obj, capacity=form.cleaned_data["capacity"])

    def delete_model(self, request, obj):
        staff.remove_week(obj)

    def delete_queryset(self, request, queryset):
        for week in queryset.select_related("attending").order_by("attending", "week_start"):
            staff.remove_week(week)

    def changeform_view(self, request, *args, **kwargs):
        try:
            return super().changeform_view(request, *args, **kwargs)
        except DomainError as error:  # a booking arrived between the form and the lock
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(request.path)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RotationEventInline(ReadOnlyInline):
    model = RotationEvent
    fields = ("at", "status", "by", "note")
    readonly_fields = fields
    verbose_name_plural = "Status history"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by__user")


class DateChangeInline(ReadOnlyInline):
    model = DateChange
    fields = ("created_at", "proposed_start", "status", "reason", "decided_at")
    readonly_fields = fields


class MessageInline(ReadOnlyInline):
    model = Message
    fields = ("created_at", "author", "body")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author__user")


# Booking fields: changed only through the services that move the places with them.
ROTATION_BOOKING_FIELDS = (
    "organization",
    "student",
    "attending",
    "rotation_type",
    "mode",
    "start",
    "weeks",
    "status",
    "payer",
    "plan",
    "payment_method",
    "weekly_rate",
    "confirmed_total",
    "requested_at",
    "decided_at",
    "completed_at",
)


class RotationForm(forms.ModelForm):
    def clean_respond_by(self):
        respond_by = self.cleaned_data["respond_by"]
        if respond_by is not None and respond_by < self.instance.requested_at:
            raise ValidationError("The deadline cannot come before the request.")
        return respond_by


@admin.register(Rotation)
class RotationAdmin(admin.ModelAdmin):
    form = RotationForm
    list_display = (
        "id",
        "student",
        "attending",
        "rotation_type",
        "mode",
        "start",
        "weeks",
        "status",
        "organization",
    )
    list_filter = ("organization", "status", "mode", "rotation_type", "payer", "plan")
    search_fields = (
        "=id",
        "student__user__email",
        "student__profile__full_name",
        "attending__display_name",
    )
    list_select_related = ("student__user", "attending", "organization")
    date_hierarchy = "start"
    readonly_fields = ROTATION_BOOKING_FIELDS
    fieldsets = (
        ("Booking (changed through the rotation's page)", {"fields": ROTATION_BOOKING_FIELDS}),
        (
            "Correctable",
            {"fields": ("respond_by", "message", "decision_note", "hold_reason")},
        ),
    )
    inlines = [RotationEventInline, DateChangeInline, MessageInline]

    def has_add_permission(self, request):
        return False  # students request rotations; the service checks every rule

    def has_delete_permission(self, request, obj=None):
        return False  # a booking's places and money go with it: cancel it instead


@admin.register(NpiCheck)
class NpiCheckAdmin(ReadOnlyAdmin):
    """The registry look-ups, as they came (read-only: an answer is never rewritten;
    admins check again from the attendings page)."""

    list_display = ("attending", "npi", "status", "requested_at", "checked_at", "organization")
    list_filter = ("status", "organization")
    search_fields = ("npi", "attending__display_name")
    list_select_related = ("attending", "organization")
    date_hierarchy = "requested_at"
