"""Fixtures for the rotations tests. Several people add to this file: append only."""

import pytest
from django_scopes import scopes_disabled

from notifications.models import OutboundEmail
from rotations.models import (
    AvailabilityWeek,
    DateChange,
    Evaluation,
    Message,
    Rotation,
    RotationEvent,
)
from tests import factories


@pytest.fixture
def attending(demo):
    """The demo attending's profile: every type and mode, $500 a week, minimum 1 week."""
    with scopes_disabled():
        return factories.AttendingProfileFactory(
            organization=demo["org"], membership=demo["attending"]
        )


@pytest.fixture
def northside_attending(northside):
    """Northside's attending, with published weeks and a requested rotation, so a missing
    tenant filter shows up in demo's answers."""
    with scopes_disabled():
        profile = factories.AttendingProfileFactory(
            organization=northside["org"], membership=northside["attending"]
        )
        factories.publish(profile, factories.next_monday(2), 8)
        factories.RotationFactory(attending=profile, student=northside["student"])
    return profile


@pytest.fixture
def everything():
    """A snapshot of every row a rotation call could change, to show nothing did."""

    def snapshot() -> dict:
        with scopes_disabled():
            return {
                "rotations": sorted(
                    Rotation.objects.values_list("pk", "status", "start", "decision_note")
                ),
                "events": RotationEvent.objects.count(),
                "weeks": sorted(
                    AvailabilityWeek.objects.values_list("pk", "week_start", "capacity", "booked")
                ),
                "date_changes": sorted(DateChange.objects.values_list("pk", "status")),
                "evaluations": Evaluation.objects.count(),
                "messages": Message.objects.count(),
                "emails": sorted(OutboundEmail.objects.values_list("pk", "template")),
            }

    return snapshot


def emails(template: str, recipient: str | None = None) -> list[OutboundEmail]:
    """Outbox rows for ``template`` (to ``recipient``), oldest first."""
    with scopes_disabled():
        rows = OutboundEmail.objects.filter(template=template).order_by("pk")
        if recipient:
            rows = rows.filter(recipient=recipient)
        return list(rows)


def booked(attending) -> dict:
    """``{week_start: booked}`` for the attending's published weeks."""
    with scopes_disabled():
        return dict(
            AvailabilityWeek.objects.filter(attending=attending).values_list("week_start", "booked")
        )


# --- Documents (added with issue 8) -----------------------------------------------------


@pytest.fixture(autouse=True)
def _organizations_require_no_documents():
    """The rotations tests are about rotations: their organizations start with no required
    document types, so the documents checklist (a real readiness check, still run by the
    start-date sweep) is complete and only the checks a test registers hold a rotation.
    The checklist's own part of readiness is tested in tests/documents/test_readiness.py."""
    from django.db.models.signals import post_save

    from documents.requirements import give_new_organization_the_defaults
    from usdoctors.models import Organization

    uid = "documents.default_requirements"
    disconnected = post_save.disconnect(sender=Organization, dispatch_uid=uid)
    yield
    if disconnected:
        post_save.connect(give_new_organization_the_defaults, sender=Organization, dispatch_uid=uid)
