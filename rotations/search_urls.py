from django.urls import path

from rotations import search_views, views

urlpatterns = [
    path("attendings/", search_views.attending_search, name="attending_search"),
    # The attending's page carries the request form: one view shows it and takes the POST.
    path("attendings/<int:attending_id>/", views.rotation_request, name="attending_detail"),
]
