"""The membership lookups accounts hands to the layers below it (STYLE §1).

The kernel (``usdoctors.tenancy.current_membership``) and notifications
(``notify_admins``) need to find memberships but sit below accounts, so they never import
it: ``AccountsConfig.ready()`` registers the first two functions with them.
``memberships_of_user`` lists where an account belongs, across organizations.
"""

from django_scopes import scopes_disabled

from accounts.choices import Role
from accounts.models import Membership


def membership_of(organization, user) -> Membership | None:
    """``user``'s membership in ``organization`` (with its user and, for a student, the
    profile loaded: pages read it on most requests, search for eligibility), or None."""
    return (
        Membership.objects.filter(organization=organization, user=user)
        .select_related("user", "profile")
        .first()
    )


def admins_of(organization) -> list[tuple[int, str]]:
    """``(membership id, email)`` of each admin of ``organization``."""
    return list(
        Membership.objects.filter(organization=organization, role=Role.ADMIN).values_list(
            "pk", "user__email"
        )
    )


def memberships_of_user(user) -> list[Membership]:
    """Every membership of ``user``, in every organization, with its organization loaded:
    the user's own account page and the join offer show where the account belongs.
    Deliberately cross-tenant (users are global, DESIGN §2), and only the user's own rows."""
    with scopes_disabled():
        return list(
            Membership.objects.filter(user=user, organization__is_active=True)
            .select_related("organization")
            .order_by("organization__name", "pk")
        )
