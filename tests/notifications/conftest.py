"""Broker and worker helpers for the outbox tests (DESIGN §9).

Both talk to the real Redis the test settings name; nothing here mocks the queue.
"""

import threading
import time
import uuid
from contextlib import contextmanager

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun

from usdoctors.celery import app as celery_app

# Nothing listens on port 1: connecting is refused at once, like a broker that is down.
UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"

# ``broker_url`` itself is shadowed by the CELERY_BROKER_URL environment variable the test
# settings set; the read and write URLs are what connections are actually made from.
BROKER_URL_SETTINGS = ("broker_url", "broker_read_url", "broker_write_url")


def _forget_broker_connections() -> None:
    """Drop the app's cached connection and producer pools so the next publish connects
    to whatever the broker settings say now (what Celery itself does after a fork)."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def broker_down():
    """Point the Celery app at a broker nobody answers on, then put it back."""
    saved = {key: celery_app.conf.get(key) for key in BROKER_URL_SETTINGS}
    try:
        for key in BROKER_URL_SETTINGS:
            celery_app.conf[key] = UNREACHABLE_BROKER
        _forget_broker_connections()
        # The outage must be real, or the tests below would prove nothing.
        assert celery_app.connection_for_write().as_uri().endswith(":1/0")
        yield
    finally:
        for key, value in saved.items():
            celery_app.conf[key] = value
        _forget_broker_connections()


@pytest.fixture
def broker_outage():
    """``with broker_outage(): ...`` — the broker is down inside the block, back after it
    (also when the test fails)."""
    return broker_down


@contextmanager
def running_worker():
    """A real Celery worker in a thread of this process, on the local Redis.

    It consumes a queue of its own and ``.delay()`` routes there while it runs, so tasks
    other tests left on the shared queue (or another test run's worker) cannot interfere.
    Yields ``wait_for(task_name, count)``, which blocks until the worker has finished that
    many runs of the task. Its thread's database connection goes to the test database and
    is closed after each task by Celery's Django fix-up.
    """
    queue = f"usdoctors-test-{uuid.uuid4().hex}"
    conf = celery_app.conf
    saved = {
        "task_default_queue": conf.task_default_queue,
        "worker_hijack_root_logger": conf.worker_hijack_root_logger,
        "worker_enable_remote_control": conf.worker_enable_remote_control,
    }
    saved_consume_from = celery_app.amqp.queues._consume_from
    finished: list[str] = []
    finished_changed = threading.Condition()

    def record(sender=None, **kwargs):
        with finished_changed:
            finished.append(sender.name)
            finished_changed.notify_all()

    def wait_for(task_name: str, count: int, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        with finished_changed:
            while finished.count(task_name) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"The worker finished {finished.count(task_name)} of {count} "
                        f"{task_name} runs within {timeout} s."
                    )
                finished_changed.wait(remaining)

    conf.task_default_queue = queue
    conf.worker_hijack_root_logger = False  # leave pytest's log capture alone
    conf.worker_enable_remote_control = False  # no broadcast queues left behind in Redis
    task_postrun.connect(record, weak=False)
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False, queues=[queue]):
            yield wait_for
    finally:
        task_postrun.disconnect(record)
        for key, value in saved.items():
            conf[key] = value
        celery_app.amqp.queues._consume_from = saved_consume_from
        declaration = celery_app.amqp.queues.pop(queue)
        with celery_app.connection_for_write() as connection:
            bound = declaration(connection.default_channel)
            bound.declare()  # a fresh channel must know the binding to remove it from Redis
            bound.delete()


@pytest.fixture
def celery_worker():
    """``with celery_worker() as wait_for: ...`` — a real worker runs inside the block."""
    return running_worker
