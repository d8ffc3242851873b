"""Reviews' browser pages (reviews.pages)."""

from django.urls import path

from reviews import pages

urlpatterns = [
    path("rotations/<int:rotation_id>/review/", pages.review_write, name="review_write"),
    path("reviews/<int:review_id>/answer/", pages.review_answer, name="review_answer"),
    path("reviews/<int:review_id>/hide/", pages.review_hide, name="review_hide"),
    path(
        "attendings/<int:attending_id>/reviews/",
        pages.attending_reviews,
        name="attending_reviews",
    ),
]
