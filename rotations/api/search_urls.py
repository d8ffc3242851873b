from django.urls import path

from rotations.api import requirement_views, search_views

urlpatterns = [
    path(
        "attendings/<int:pk>/requirements",
        requirement_views.AttendingRequirementsView.as_view(),
        name="api_attending_requirements",
    ),
    path(
        "attendings/<int:pk>/requirements/<str:rotation_type>",
        requirement_views.AttendingRequirementView.as_view(),
        name="api_attending_requirement",
    ),
    path(
        "attendings/<int:pk>/eligibility",
        requirement_views.AttendingEligibilityView.as_view(),
        name="api_attending_eligibility",
    ),
    path(
        "requirements/defaults",
        requirement_views.DefaultRequirementsView.as_view(),
        name="api_requirement_defaults",
    ),
    path(
        "requirements/defaults/<str:rotation_type>",
        requirement_views.DefaultRequirementView.as_view(),
        name="api_requirement_default",
    ),
    path("attendings", search_views.AttendingSearchView.as_view(), name="api_attendings"),
    path("attendings/<int:pk>", search_views.AttendingDetailView.as_view(), name="api_attending"),
    path(
        "attendings/<int:pk>/availability",
        search_views.AttendingAvailabilityView.as_view(),
        name="api_attending_availability",
    ),
]
