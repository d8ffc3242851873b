"""Celery beat for `make run`: with no broker and no beat process, a daemon thread in
the development server runs ``CELERY_BEAT_SCHEDULE`` in-process, so sweeps (email
retries, escalations, reminders) happen locally just as they would in production.
"""

import logging
import os
import threading
import time

from django.conf import settings

logger = logging.getLogger(__name__)


def start_if_enabled() -> None:
    # The autoreloader runs the project twice; only the serving child sets RUN_MAIN.
    if not settings.INPROCESS_BEAT or os.environ.get("RUN_MAIN") != "true":
        return
    threading.Thread(target=_run_forever, name="inprocess-beat", daemon=True).start()


def _run_forever() -> None:
    from usdoctors.celery import app

    app.loader.import_default_modules()  # registers the autodiscovered tasks
    next_run = {name: time.monotonic() + 5 for name in settings.CELERY_BEAT_SCHEDULE}
    while True:
        now = time.monotonic()
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
            if now < next_run[name]:
                continue
            next_run[name] = now + float(entry["schedule"])
            try:
                app.tasks[entry["task"]].apply()
            except Exception:  # a failing sweep must not stop the others
                logger.exception("in-process beat: %s failed", name)
        time.sleep(1)
