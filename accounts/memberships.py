"""The membership lookups accounts hands to the layers below it (STYLE §1).

The kernel (``usdoctors.tenancy.current_membership``) and notifications
(``notify_admins``) need to find memberships but sit below accounts, so they never import
it: ``AccountsConfig.ready()`` registers these two functions with them.
"""

from accounts.choices import Role
from accounts.models import Membership


def membership_of(organization, user) -> Membership | None:
    """``user``'s membership in ``organization`` (with its user loaded), or None."""
    return (
        Membership.objects.filter(organization=organization, user=user)
        .select_related("user")
        .first()
    )


def admins_of(organization) -> list[tuple[int, str]]:
    """``(membership id, email)`` of each admin of ``organization``."""
    return list(
        Membership.objects.filter(organization=organization, role=Role.ADMIN).values_list(
            "pk", "user__email"
        )
    )
