from django.urls import path

from accounts.api import views

urlpatterns = [
    path("me", views.MeView.as_view(), name="api_me"),
    path("profile", views.ProfileView.as_view(), name="api_profile"),
    path("profile/submit", views.ProfileSubmitView.as_view(), name="api_profile_submit"),
    path("auth/token", views.TokenView.as_view(), name="api_token"),
    path(
        "admin/verification-queue",
        views.VerificationQueueView.as_view(),
        name="api_verification_queue",
    ),
    path("admin/profiles/<int:pk>", views.AdminProfileView.as_view(), name="api_admin_profile"),
    path("admin/profiles/<int:pk>/verify", views.VerifyProfileView.as_view(), name="api_verify"),
    path(
        "admin/profiles/<int:pk>/request-info",
        views.RequestInfoView.as_view(),
        name="api_request_info",
    ),
    path("admin/profiles/<int:pk>/reject", views.RejectProfileView.as_view(), name="api_reject"),
    path("tickets", views.TicketListView.as_view(), name="api_tickets"),
    path("tickets/<int:pk>", views.TicketDetailView.as_view(), name="api_ticket"),
    path("tickets/<int:pk>/replies", views.TicketReplyView.as_view(), name="api_ticket_reply"),
    path("tickets/<int:pk>/approve", views.TicketApproveView.as_view(), name="api_ticket_approve"),
    path("tickets/<int:pk>/close", views.TicketCloseView.as_view(), name="api_ticket_close"),
    path("students/<int:pk>", views.StudentDetailView.as_view(), name="api_student"),
]
