from django.urls import path

from rotations import search_views

urlpatterns = [
    path("attendings/", search_views.attending_search, name="attending_search"),
    path(
        "attendings/<int:attending_id>/",
        search_views.attending_detail,
        name="attending_detail",
    ),
]
