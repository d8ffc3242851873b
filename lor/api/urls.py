"""Letters API under /api/v1/ (DESIGN §8, §12)."""

from django.urls import path

from lor.api import planner, views

urlpatterns = [
    path("letters", views.LetterListView.as_view(), name="api_letters"),
    path("letters/<int:pk>", views.LetterDetailView.as_view(), name="api_letter"),
    path("letters/<int:pk>/accept", views.AcceptLetterView.as_view(), name="api_letter_accept"),
    path("letters/<int:pk>/decline", views.DeclineLetterView.as_view(), name="api_letter_decline"),
    path("letters/<int:pk>/letter-id", views.LetterIdView.as_view(), name="api_letter_id"),
    path(
        "letters/<int:pk>/uploaded",
        views.LetterUploadedView.as_view(),
        name="api_letter_uploaded",
    ),
    path("planner", planner.PlannerView.as_view(), name="api_planner"),
    path("planner/target", planner.PlannerTargetView.as_view(), name="api_planner_target"),
]
