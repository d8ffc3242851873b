from django.urls import path
from django.views.generic import RedirectView

from accounts import views

urlpatterns = [
    # Included before allauth's URLs, so these two replace its pages.
    # Login emails change only through a support ticket (DESIGN §3), never self-service.
    path(
        "accounts/email/",
        RedirectView.as_view(url="/support/new/?category=email_change"),
        name="account_email",
    ),
    path("accounts/login/", views.LoginView.as_view(), name="account_login"),
    path(
        "accounts/confirm-email/<str:key>/",
        views.ConfirmEmailView.as_view(),
        name="account_confirm_email",
    ),
    path("join/", views.join, name="join_organization"),
    path("staff/", views.staff_home, name="staff_home"),
    path("account/", views.account, name="account"),
    path("profile/", views.profile, name="profile"),
    path("students/<int:profile_id>/", views.student_detail, name="student_detail"),
    path("students/<int:profile_id>/cv/", views.student_cv, name="student_cv"),
    path("manage/verification/", views.verification_queue, name="verification_queue"),
    path(
        "manage/verification/<int:profile_id>/",
        views.verification_review,
        name="verification_review",
    ),
    path(
        "manage/students/<int:profile_id>/correct/",
        views.profile_correct,
        name="profile_correct",
    ),
    path(
        "manage/verification/<int:profile_id>/<slug:decision>/",
        views.verification_decide,
        name="verification_decide",
    ),
    path("support/", views.ticket_list, name="ticket_list"),
    path("support/new/", views.ticket_new, name="ticket_new"),
    path("support/<int:ticket_id>/", views.ticket_detail, name="ticket_detail"),
    path("support/<int:ticket_id>/approve/", views.ticket_approve, name="ticket_approve"),
    path("support/<int:ticket_id>/close/", views.ticket_close, name="ticket_close"),
]
