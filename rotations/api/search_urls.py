from django.urls import path

from rotations.api import search_views

urlpatterns = [
    path("attendings", search_views.AttendingSearchView.as_view(), name="api_attendings"),
    path("attendings/<int:pk>", search_views.AttendingDetailView.as_view(), name="api_attending"),
    path(
        "attendings/<int:pk>/availability",
        search_views.AttendingAvailabilityView.as_view(),
        name="api_attending_availability",
    ),
]
