from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import views as account_views
from usdoctors import views
from usdoctors.admin_site import staff_only_admin

staff_only_admin(admin.site)

handler400 = "usdoctors.http_errors.bad_request"
handler403 = "usdoctors.http_errors.permission_denied"
handler404 = "usdoctors.http_errors.page_not_found"
handler500 = "usdoctors.http_errors.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    # Login emails change only through a support ticket (DESIGN §3), never self-service.
    path(
        "accounts/email/",
        RedirectView.as_view(url="/support/new/?category=email_change"),
        name="account_email",
    ),
    path("accounts/login/", account_views.LoginView.as_view(), name="account_login"),
    path("accounts/", include("allauth.urls")),
    path("", include("accounts.urls")),
    path("", include("rotations.urls")),
    path("", include("rotations.search_urls")),
    path("", include("rotations.manage_urls")),
    path("api/v1/", include("accounts.api.urls")),
    path("api/v1/", include("rotations.api.urls")),
    path("api/v1/", include("rotations.api.search_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api_docs"),
]
