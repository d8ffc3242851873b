from django.urls import path

from rotations import manage_views

urlpatterns = [
    path("manage/attendings/", manage_views.attending_list, name="manage_attendings"),
    path(
        "manage/attendings/<int:attending_id>/verify-npi/",
        manage_views.attending_verify_npi,
        name="manage_attending_verify_npi",
    ),
    path(
        "manage/attendings/<int:attending_id>/check-npi/",
        manage_views.attending_check_npi,
        name="manage_attending_check_npi",
    ),
]
