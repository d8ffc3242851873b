from django.urls import path

from rotations import requirement_views, views

urlpatterns = [
    path(
        "attending/requirements/",
        requirement_views.attending_requirements,
        name="attending_requirements",
    ),
    path(
        "attending/requirements/<slug:rotation_type>/",
        requirement_views.save_attending_requirement,
        name="save_attending_requirement",
    ),
    path(
        "attending/requirements/<slug:rotation_type>/reset/",
        requirement_views.reset_attending_requirement,
        name="reset_attending_requirement",
    ),
    path(
        "requirements/defaults/",
        requirement_views.organization_requirements,
        name="organization_requirements",
    ),
    path(
        "requirements/defaults/b1-b2-rule/",
        requirement_views.save_relaxation,
        name="save_b1_b2_relaxation",
    ),
    path(
        "requirements/defaults/<slug:rotation_type>/",
        requirement_views.save_organization_requirement,
        name="save_organization_requirement",
    ),
    path("attending/profile/", views.attending_profile, name="attending_profile"),
    path("attending/availability/", views.availability_page, name="availability"),
    path(
        "attending/availability/<int:week_id>/remove/",
        views.availability_remove,
        name="availability_remove",
    ),
    path("attendings/<int:attending_id>/request/", views.rotation_request, name="rotation_request"),
    path("rotations/", views.rotation_list, name="rotation_list"),
    path("rotations/<int:rotation_id>/", views.rotation_detail, name="rotation_detail"),
    path("rotations/<int:rotation_id>/approve/", views.rotation_approve, name="rotation_approve"),
    path("rotations/<int:rotation_id>/decline/", views.rotation_decline, name="rotation_decline"),
    path(
        "rotations/<int:rotation_id>/withdraw/", views.rotation_withdraw, name="rotation_withdraw"
    ),
    path("rotations/<int:rotation_id>/cancel/", views.rotation_cancel, name="rotation_cancel"),
    path(
        "rotations/<int:rotation_id>/attending-cancel/",
        views.rotation_attending_cancel,
        name="rotation_attending_cancel",
    ),
    path("rotations/<int:rotation_id>/no-show/", views.rotation_no_show, name="rotation_no_show"),
    path(
        "rotations/<int:rotation_id>/complete/", views.rotation_complete, name="rotation_complete"
    ),
    path(
        "rotations/<int:rotation_id>/date-change/",
        views.rotation_propose_date,
        name="rotation_propose_date",
    ),
    path(
        "rotations/<int:rotation_id>/date-change/<int:change_id>/accept/",
        views.rotation_accept_date,
        name="rotation_accept_date",
    ),
    path(
        "rotations/<int:rotation_id>/date-change/<int:change_id>/decline/",
        views.rotation_decline_date,
        name="rotation_decline_date",
    ),
    path(
        "rotations/<int:rotation_id>/postpone/", views.rotation_postpone, name="rotation_postpone"
    ),
    path("rotations/<int:rotation_id>/messages/", views.rotation_message, name="rotation_message"),
]
