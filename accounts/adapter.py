"""django-allauth hooks: sign-up makes a student membership; allauth's emails go
through our outbox like every other email (DESIGN §3, §9)."""

from types import SimpleNamespace

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context

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
        """Members land on their dashboard; anyone else on the start page, which explains."""
        from usdoctors.tenancy import current_membership

        return "/dashboard/" if current_membership(request) else "/"

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
                "link": context.get("activate_url") or context.get("password_reset_url") or "",
            },
        )
