"""Payments fixtures: a fake PayPal server on 127.0.0.1 that our real client talks to
over HTTP (tests/fakes/paypal_server.py); nothing of ours is mocked."""

import pytest

from payments.paypal import PayPalClient
from tests.fakes.paypal_server import FakePayPal


@pytest.fixture
def fake_paypal():
    """A running fake PayPal with one account (``client_id``/``client_secret``, webhook
    ``webhook_id``); ``add_account()`` opens another organization's."""
    server = FakePayPal().start()
    yield server
    server.stop()
    assert not server.errors, "the fake PayPal itself failed:\n" + "\n".join(server.errors)


@pytest.fixture
def paypal_client(fake_paypal):
    """Our client for the fake's default account, retrying without real waiting."""
    return PayPalClient(
        fake_paypal.url,
        fake_paypal.client_id,
        fake_paypal.client_secret,
        timeout=(2, 5),
        retry_base_delay=0.01,
    )


@pytest.fixture
def paypal_setup(settings, monkeypatch, fake_paypal):
    """Organizations' PayPal calls go to the fake (``settings.PAYPAL_BASE_URL``), with
    short timeouts and no real backoff (payments.gateways.CLIENT_OPTIONS)."""
    from payments import gateways

    settings.PAYPAL_BASE_URL = fake_paypal.url
    monkeypatch.setattr(
        gateways,
        "CLIENT_OPTIONS",
        {"timeout": (2, 0.4), "retry_base_delay": 0.01, "retry_max_delay": 0.02},
    )
    return fake_paypal


@pytest.fixture
def eager_celery():
    """``.delay()`` runs the task here and now (errors stay in its result, as a worker's
    would), so an on-commit send happens inside the test."""
    from payments import tasks

    conf = tasks.send_installment.app.conf
    before = conf.task_always_eager, conf.task_eager_propagates
    conf.task_always_eager, conf.task_eager_propagates = True, False
    yield
    conf.task_always_eager, conf.task_eager_propagates = before
