from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    # allauth's email addresses are "Accounts" in the console already.
    verbose_name = "Members, profiles and support"

    def ready(self):
        from accounts import signals  # noqa: F401
        from accounts.audit import register_audited_models
        from accounts.memberships import admins_of, membership_of
        from notifications.services import register_admins_lookup
        from usdoctors.tenancy import register_membership_lookup

        register_audited_models()
        # The kernel and notifications sit below accounts and never import it (STYLE §1).
        register_membership_lookup(membership_of)
        register_admins_lookup(admins_of)
