"""Letters' browser pages (lor.pages)."""

from django.urls import path

from lor import pages, planner_pages

urlpatterns = [
    path("letters/", pages.letter_list, name="letters"),
    path("letters/request/", pages.letter_request, name="letter_request"),
    path("letters/<int:letter_id>/", pages.letter_detail, name="letter_detail"),
    path("letters/<int:letter_id>/accept/", pages.letter_accept, name="letter_accept"),
    path("letters/<int:letter_id>/decline/", pages.letter_decline, name="letter_decline"),
    path("letters/<int:letter_id>/letter-id/", pages.letter_attach_id, name="letter_attach_id"),
    path("letters/<int:letter_id>/uploaded/", pages.letter_mark_uploaded, name="letter_uploaded"),
    path("planner/", planner_pages.planner_page, name="planner"),
    path("planner/calendar/reset/", planner_pages.reset_calendar, name="calendar_reset"),
    path("calendar/<str:token>.ics", planner_pages.calendar_feed_view, name="calendar_feed"),
]
