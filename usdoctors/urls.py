"""The URL root: every app's pages and API under one host (STYLE §1: whatever combines
every app sits above them all). Apps are included by name, never imported, so the kernel
package that holds this module imports no app (pyproject's import-linter layers)."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

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
    path("favicon.ico", views.favicon, name="favicon"),
    path("admin/", admin.site.urls),
    # Before allauth's: accounts replaces its login and email pages.
    path("", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("", include("portal.urls")),
    path("", include("rotations.urls")),
    path("", include("rotations.search_urls")),
    path("", include("rotations.manage_urls")),
    path("", include("payments.page_urls")),
    path("", include("payments.simulated_urls")),
    path("", include("payments.school_urls")),
    path("", include("payments.receipt_urls")),
    path("", include("documents.urls")),
    path("", include("lor.urls")),
    path("", include("reviews.urls")),
    path("api/v1/", include("accounts.api.urls")),
    path("api/v1/", include("rotations.api.urls")),
    path("api/v1/", include("rotations.api.search_urls")),
    path("api/v1/", include("payments.api.quote_urls")),
    path("api/v1/", include("payments.api.webhook_urls")),
    path("api/v1/", include("payments.api.school_urls")),
    path("api/v1/", include("payments.api.receipt_urls")),
    path("api/v1/", include("documents.api.urls")),
    path("api/v1/", include("lor.api.urls")),
    path("api/v1/", include("reviews.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api_docs"),
]
