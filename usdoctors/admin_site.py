"""Django's /admin/ is the platform staff's cross-tenant console (DESIGN §2): superusers
only, and TenantMiddleware runs it with scopes explicitly disabled. Organization admins
do their work in our own pages."""

from django.contrib import admin

from usdoctors.models import Organization, OrganizationDomain


def staff_only_admin(site: admin.AdminSite) -> None:
    site.site_header = "USDoctors platform console"
    site.site_title = "USDoctors platform"
    site.has_permission = lambda request: request.user.is_active and request.user.is_superuser


class DomainInline(admin.TabularInline):
    model = OrganizationDomain
    extra = 0


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "is_active", "verification_target_hours")
    search_fields = ("name", "slug")
    inlines = [DomainInline]
