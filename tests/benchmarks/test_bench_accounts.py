"""Speed targets (run with `make bench`; deselected from `make test`).

Targets on the 2-core reference machine: the verification-queue API page of 50 answers
in under 50 ms with 500 profiles pending; writing and delivering one outbox email takes
under 10 ms."""

import pytest
from django_scopes import scope, scopes_disabled

from notifications.services import deliver, notify
from tests import factories

pytestmark = [pytest.mark.benchmark, pytest.mark.django_db]


def test_verification_queue_page_with_500_pending(benchmark, world, client_for):
    organization = world["demo"]["org"]
    with scopes_disabled():
        for _ in range(500):
            factories.StudentFactory(organization=organization, pending=True, profile__cv="")
    client = client_for(world["demo"]["admin"])

    response = benchmark(client.get, "/api/v1/admin/verification-queue")

    assert response.status_code == 200
    assert response.json()["count"] == 501
    assert benchmark.stats["median"] < 0.05


def test_outbox_write_and_deliver(benchmark, world):
    organization = world["demo"]["org"]

    def write_and_deliver():
        with scope(organization=organization):
            email = notify(
                organization, "someone@example.test", "profile_verified", {"student_name": "Asha"}
            )
            return deliver(email.pk)

    assert benchmark(write_and_deliver) is True
    assert benchmark.stats["median"] < 0.01
