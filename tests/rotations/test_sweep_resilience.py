"""Sweeps keep going (DESIGN §9): one organization's error is logged and never stops the
others, and on-hold rotations that stay unready never keep due rotations from starting."""

import logging
from datetime import timedelta

import pytest
from django_scopes import scopes_disabled

from rotations import readiness, services, sweeps, tasks
from rotations.models import Rotation
from tests import factories


@pytest.fixture
def check():
    """Register a readiness check for the test, removed afterwards."""
    registered = []

    def add(function):
        readiness.register(function)
        registered.append(function)
        return function

    yield add
    for function in registered:
        readiness.unregister(function)


def status_of(rotation) -> str:
    with scopes_disabled():
        return Rotation.objects.get(pk=rotation.pk).status


def due_rotation(organization, **kwargs):
    with scopes_disabled():
        return factories.RotationFactory(
            organization=organization, status="approved", start=services.today(), **kwargs
        )


def test_one_organizations_failure_is_logged_and_the_others_still_start(world, check, caplog):
    broken = due_rotation(world["demo"]["org"])
    healthy = due_rotation(world["northside"]["org"])

    @check
    def explode_for_demo(rotation):
        if rotation.organization_id == broken.organization_id:
            raise RuntimeError("a bad row in demo")
        return []

    with caplog.at_level(logging.ERROR, logger="usdoctors.tenancy"):
        totals = tasks.start_due_rotations()

    assert status_of(healthy) == "in_progress"
    assert status_of(broken) == "approved"  # its transaction rolled back, nothing half-done
    assert totals["started"] == 1
    failures = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert len(failures) == 1
    assert "demo" in failures[0].getMessage()
    assert failures[0].exc_info is not None


def test_every_sweep_task_survives_one_organizations_failure(world, monkeypatch, caplog):
    """The request sweep too: demo's error does not stop northside's expiry."""
    original = sweeps.remind_and_expire_requests
    demo_id = world["demo"]["org"].pk

    def fail_for_demo(organization, **kwargs):
        if organization.pk == demo_id:
            raise RuntimeError("demo is broken")
        return original(organization, **kwargs)

    monkeypatch.setattr(sweeps, "remind_and_expire_requests", fail_for_demo)
    with scopes_disabled():
        stale = factories.RotationFactory(
            organization=world["northside"]["org"],
            requested_at=services.timezone.now() - timedelta(days=8),
        )
    with caplog.at_level(logging.ERROR, logger="usdoctors.tenancy"):
        totals = tasks.remind_and_expire_requests()
    assert status_of(stale) == "expired"
    assert totals["expired"] == 1
    assert any("demo" in record.getMessage() for record in caplog.records)


def test_unready_on_hold_rotations_never_starve_a_newly_due_one(demo, check):
    organization = demo["org"]
    with scopes_disabled():
        held = [
            factories.RotationFactory(
                organization=organization,
                status="on_hold",
                start=services.today() - timedelta(weeks=3),
            )
            for _ in range(5)
        ]
    due = due_rotation(organization)
    unready = {rotation.pk for rotation in held}

    @check
    def documents_missing_for_the_held(rotation):
        if rotation.pk not in unready:
            return []
        return [readiness.ReadinessItem("document_missing", "Upload your documents.")]

    with scopes_disabled():
        counts = sweeps.start_due_rotations(organization, batch_size=2)

    assert status_of(due) == "in_progress"
    assert counts == {"started": 1, "on_hold": 0}
    assert {status_of(rotation) for rotation in held} == {"on_hold"}


def test_the_start_sweep_walks_every_batch_in_one_run(demo, check):
    organization = demo["org"]
    rotations = [due_rotation(organization) for _ in range(5)]
    with scopes_disabled():
        counts = sweeps.start_due_rotations(organization, batch_size=2)
    assert counts["started"] == 5
    assert {status_of(rotation) for rotation in rotations} == {"in_progress"}
