"""Print the current two-factor code of the demo admins and staff (README, seed_demo).

Only for the published demo key: real accounts' keys are never read or shown.
"""

import time

from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core.management.base import BaseCommand

from portal.management.commands.seed_demo import DEMO_TOTP_SECRET


class Command(BaseCommand):
    help = "Print the demo admins' and staff's current authenticator code."

    def handle(self, *args, **options):
        now = int(time.time())
        counter, elapsed = divmod(now, mfa_settings.TOTP_PERIOD)
        code = format_hotp_value(hotp_value(DEMO_TOTP_SECRET, counter))
        self.stdout.write(code)
        self.stderr.write(f"(valid for about {mfa_settings.TOTP_PERIOD - elapsed} more seconds)")
