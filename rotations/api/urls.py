"""Rotations API under /api/v1/ (DESIGN §12)."""

from django.urls import path

from rotations.api import views

urlpatterns = [
    path("attending/profile", views.AttendingProfileView.as_view(), name="api_attending_profile"),
    path(
        "attendings/<int:pk>/verify-npi",
        views.VerifyNpiView.as_view(),
        name="api_attending_verify_npi",
    ),
    path("availability", views.AvailabilityPublishView.as_view(), name="api_availability"),
    path(
        "availability/<int:pk>",
        views.AvailabilityWeekView.as_view(),
        name="api_availability_week",
    ),
    path("rotations", views.RotationListView.as_view(), name="api_rotations"),
    path("rotations/<int:pk>", views.RotationDetailView.as_view(), name="api_rotation"),
    path(
        "rotations/<int:pk>/approve",
        views.ApproveRotationView.as_view(),
        name="api_rotation_approve",
    ),
    path(
        "rotations/<int:pk>/decline",
        views.DeclineRotationView.as_view(),
        name="api_rotation_decline",
    ),
    path(
        "rotations/<int:pk>/withdraw",
        views.WithdrawRotationView.as_view(),
        name="api_rotation_withdraw",
    ),
    path(
        "rotations/<int:pk>/cancel", views.CancelRotationView.as_view(), name="api_rotation_cancel"
    ),
    path(
        "rotations/<int:pk>/complete",
        views.CompleteRotationView.as_view(),
        name="api_rotation_complete",
    ),
    path(
        "rotations/<int:pk>/postpone",
        views.PostponeRotationView.as_view(),
        name="api_rotation_postpone",
    ),
    path(
        "rotations/<int:pk>/date-changes",
        views.ProposeDateChangeView.as_view(),
        name="api_rotation_date_changes",
    ),
    path(
        "date-changes/<int:pk>/accept",
        views.AcceptDateChangeView.as_view(),
        name="api_date_change_accept",
    ),
    path(
        "date-changes/<int:pk>/decline",
        views.DeclineDateChangeView.as_view(),
        name="api_date_change_decline",
    ),
    path(
        "rotations/<int:pk>/messages",
        views.RotationMessagesView.as_view(),
        name="api_rotation_messages",
    ),
]
