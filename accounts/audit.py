"""Audit trail (issue 10): who changed what, when, with the old and the new value.

django-auditlog writes one ``LogEntry`` per change of a registered model (staff read
them in ``/admin/`` under "Log entries"). Each app registers its own models in its
``ready()``; what is recorded:

- organization settings: fees, surcharge rate, windows, documents (``usdoctors``);
- a member's role and verification status with its message, i.e. every verification
  decision (``Membership``, here), a student's profile fields, among them an admin's
  corrections (``StudentProfile``, ``accounts.corrections``), platform staff flags
  (``User``), and two-factor sign-in set up or removed (allauth's ``Authenticator``,
  never its secret);
- an attending's NPI and its "verified by admins" mark (``rotations``).

Only named fields are recorded (``include_fields``), so a field added later, such as a
payment credential, is never written to the log in clear: add it with ``mask_fields``.
"""

from allauth.core.internal.httpkit import get_client_ip
from auditlog.middleware import AuditlogMiddleware
from auditlog.registry import auditlog
from django.utils.functional import SimpleLazyObject

MEMBERSHIP_AUDITED_FIELDS = ["role", "verification_status", "status_message"]
USER_AUDITED_FIELDS = ["email", "is_active", "is_staff", "is_superuser"]
AUTHENTICATOR_AUDITED_FIELDS = ["user", "type"]  # not "data": it holds the TOTP secret


def register_audited_models() -> None:
    from allauth.mfa.models import Authenticator

    from accounts.models import Membership, StudentProfile, User

    auditlog.register(Membership, include_fields=MEMBERSHIP_AUDITED_FIELDS)
    auditlog.register(StudentProfile, include_fields=list(StudentProfile.EDITABLE_FIELDS))
    auditlog.register(User, include_fields=USER_AUDITED_FIELDS)
    auditlog.register(Authenticator, include_fields=AUTHENTICATOR_AUDITED_FIELDS)


class AuditActorMiddleware(AuditlogMiddleware):
    """auditlog's middleware, reading the actor when an entry is written, not when the
    request arrives: API clients signing in with a token are only known inside the view
    (DRF then sets ``request.user``), and their changes must name them too."""

    @staticmethod
    def _get_actor(request):
        return SimpleLazyObject(lambda: AuditlogMiddleware._get_actor(request))

    @staticmethod
    def _get_remote_addr(request):
        """The client address as the sign-in limits see it: X-Forwarded-For is read only
        through the proxies we run (ALLAUTH_TRUSTED_PROXY_COUNT), never as the client
        wrote it."""
        return get_client_ip(request)
