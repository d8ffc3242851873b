"""Django's /admin/ is the platform staff's cross-tenant console (DESIGN §2): superusers
only, and TenantMiddleware runs it with scopes explicitly disabled. Organization admins
do their work in our own pages."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.utils.http import urlencode

from usdoctors.models import Organization, OrganizationDomain


def staff_only_admin(site: admin.AdminSite) -> None:
    site.site_header = "USDoctors platform console"
    site.site_title = "USDoctors platform"
    site.has_permission = lambda request: request.user.is_active and request.user.is_superuser

    def login(request, extra_context=None):
        """Staff sign in on the site's own login page, which asks for their second
        factor (accounts.mfa); Django's admin password form would skip it."""
        if request.user.is_authenticated:
            if not site.has_permission(request):
                raise PermissionDenied("The platform console is for platform staff.")
            return redirect("admin:index")
        next_url = request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index")
        query = urlencode({REDIRECT_FIELD_NAME: next_url})
        return redirect(f"{resolve_url(settings.LOGIN_URL)}?{query}")

    site.login = login


class DomainInline(admin.TabularInline):
    model = OrganizationDomain
    extra = 0


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "is_active", "verification_target_hours")
    search_fields = ("name", "slug")
    inlines = [DomainInline]
