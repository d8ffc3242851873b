"""The Celery app. Settings come from Django's (``CELERY_*``); see DESIGN §9."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "usdoctors.settings")

app = Celery("usdoctors")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
