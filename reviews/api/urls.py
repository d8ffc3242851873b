"""Reviews API under /api/v1/ (DESIGN §12, §15)."""

from django.urls import path

from reviews.api import views

urlpatterns = [
    path(
        "attendings/<int:pk>/reviews",
        views.AttendingReviewsView.as_view(),
        name="api_attending_reviews",
    ),
    path("reviews/<int:pk>/answer", views.ReviewAnswerView.as_view(), name="api_review_answer"),
    path("reviews/<int:pk>/hide", views.ReviewHideView.as_view(), name="api_review_hide"),
]
