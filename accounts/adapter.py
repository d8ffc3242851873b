"""django-allauth hooks: sign-up makes a student membership; allauth's emails go
through our outbox like every other email (DESIGN §3, §9)."""

from types import SimpleNamespace
from urllib.parse import urlencode

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.urls import reverse
from django_scopes import scopes_disabled

from accounts.models import Membership
from accounts.services import join_as_student
from notifications.services import notify


class AccountAdapter(DefaultAccountAdapter):
    def _get_login_attempts_cache_key(self, request, **credentials) -> str:
        """Failed sign-ins count per account across every organization's site and the
        API, not per host (users are global, §2); see ``accounts.login_limits``."""
        from accounts.login_limits import attempts_key

        return attempts_key(credentials.get("email", credentials.get("username", "")))

    def is_open_for_signup(self, request) -> bool:
        return getattr(request, "organization", None) is not None

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            join_as_student(user, request.organization)
        return user

    def get_login_redirect_url(self, request) -> str:
        """Members land on their dashboard. Anyone else logging in here lands on the page
        saying where the account belongs and offering to join (DESIGN §3); platform
        staff on the staff page."""
        from usdoctors.tenancy import current_membership

        if current_membership(request):
            return reverse("dashboard")
        return reverse("staff_home" if request.user.is_staff else "join_organization")

    def send_account_already_exists_mail(self, email: str) -> None:
        """A sign-up with an address that already has an account (of this organization or
        another): the email tells them to log in with it, which leads to joining here
        (``join_organization``), or to reset a forgotten password. The sign-up page itself
        never says whether the address has an account (allauth's enumeration guard)."""
        from allauth.account.internal.flows.password_reset import get_reset_password_url

        request = allauth_context.request
        organization = getattr(request, "organization", None)
        next_page = urlencode({"next": reverse("join_organization")})
        login_path = f"{reverse('account_login')}?{next_page}"
        with scopes_disabled():  # users are global (§2): is this one a member here?
            already_member = (
                organization is not None
                and Membership.objects.filter(
                    organization=organization, user__email__iexact=email
                ).exists()
            )
        self.send_mail(
            "account/email/account_already_exists",
            email,
            {
                "login_url": request.build_absolute_uri(login_path),
                "password_reset_url": get_reset_password_url(request),
                "organization": organization,
                "already_member": already_member,
            },
        )

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Render allauth's message now (it needs the request) and queue it in the outbox."""
        request = allauth_context.request
        organization = getattr(request, "organization", None)
        site = SimpleNamespace(
            name=organization.name if organization else "USDoctors",
            domain=request.get_host() if request else "",
        )
        message = self.render_mail(
            template_prefix,
            email,
            {"request": request, "email": email, "current_site": site, **context},
        )
        if organization is None:  # outside any organization's site: nothing to queue under
            message.send()
            return
        html = next(
            (
                body
                for body, mimetype in getattr(message, "alternatives", [])
                if mimetype == "text/html"
            ),
            "",
        )
        notify(
            organization,
            email,
            "allauth_message",
            {
                "kind": template_prefix.rsplit("/", 1)[-1],
                "subject": message.subject,
                "text": message.body,
                "html": html,
                "link": context.get("activate_url")
                or context.get("login_url")
                or context.get("password_reset_url")
                or "",
            },
        )
