from allauth.account.signals import email_confirmed
from django.dispatch import receiver

from accounts.tickets import complete_email_change


@receiver(email_confirmed)
def finish_email_change_on_confirmation(request, email_address, **kwargs):
    complete_email_change(email_address)
