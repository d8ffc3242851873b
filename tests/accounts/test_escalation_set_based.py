"""The verification escalation is a set-based sweep (DESIGN §3, §9; STYLE §6): admins
looked up once per run, each batch of overdue profiles locked and loaded in a few
queries, the emails written in bulk on ``notify_admins``' dedupe keys, batches taken
until none is left — the same number of queries for 10 profiles as for 500."""

import itertools
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from accounts import services
from accounts.models import Membership, StudentProfile, User
from notifications.models import OutboundEmail
from notifications.services import notify_admins
from tests import factories

pytestmark = pytest.mark.django_db

TEMPLATE = "profile_verification_overdue"
BATCHES = itertools.count()


def overdue_profiles(organization, count: int, *, hours: int = 30) -> list[Membership]:
    """``count`` students whose profiles were submitted ``hours`` ago, in three INSERTs."""
    tag = f"{organization.slug}-{next(BATCHES)}"
    submitted_at = timezone.now() - timedelta(hours=hours)
    with scopes_disabled():
        users = User.objects.bulk_create(
            User(email=f"student{number}-{tag}@example.test", first_name="Pat", last_name="Lee")
            for number in range(count)
        )
        memberships = Membership.objects.bulk_create(
            Membership(
                organization=organization,
                user=user,
                role="student",
                verification_status="pending",
                submitted_at=submitted_at,
            )
            for user in users
        )
        StudentProfile.objects.bulk_create(
            StudentProfile(
                organization=organization, membership=membership, full_name=f"Student {number}"
            )
            for number, membership in enumerate(memberships)
        )
    return memberships


@pytest.fixture
def admins(org, other_org):
    with scopes_disabled():
        here = [
            factories.MembershipFactory(organization=org, role="admin", second_factor=False)
            for _ in range(2)
        ]
        factories.MembershipFactory(organization=other_org, role="admin", second_factor=False)
    return here


def escalate(organization, **options) -> int:
    with scope(organization=organization):
        return services.escalate_overdue_profiles(organization, **options)


def outbox(organization) -> list[OutboundEmail]:
    with scopes_disabled():
        return list(
            OutboundEmail.objects.filter(organization=organization, template=TEMPLATE).order_by(
                "pk"
            )
        )


def queries_to_escalate(organization, count: int) -> int:
    overdue_profiles(organization, count)
    with CaptureQueriesContext(connection) as queries:
        assert escalate(organization) == count
    return len(queries)


def test_a_run_over_500_profiles_costs_the_queries_of_a_run_over_10(org, other_org, admins):
    overdue_profiles(other_org, 30)

    over_10 = queries_to_escalate(org, 10)
    over_500 = queries_to_escalate(org, 500)

    assert over_10 == over_500
    assert len(outbox(org)) == 2 * 510
    assert outbox(other_org) == []


def test_a_batch_costs_the_same_queries_whatever_its_size(org, admins):
    overdue_profiles(org, 40)
    with CaptureQueriesContext(connection) as in_batches_of_10:
        assert escalate(org, batch_size=10) == 40  # four full batches and an empty one
    overdue_profiles(org, 40)
    with CaptureQueriesContext(connection) as in_batches_of_20:
        assert escalate(org, batch_size=20) == 40  # two full batches and an empty one

    # Two more full batches cost twice one batch, a few queries whatever its size: the
    # lock, the INSERT of the emails, the SELECT of their ids, the UPDATE (and, inside
    # the test's transaction, the savepoint and its release).
    extra = len(in_batches_of_10) - len(in_batches_of_20)
    assert extra % 2 == 0 and 4 <= extra // 2 <= 6


def test_batches_smaller_than_the_backlog_escalate_every_profile_once(org, other_org, admins):
    overdue = overdue_profiles(org, 20)
    elsewhere = overdue_profiles(other_org, 5)

    assert escalate(org, batch_size=7) == 20
    assert escalate(org, batch_size=7) == 0

    emails = outbox(org)
    assert len(emails) == 20 * 2
    with scopes_disabled():
        admin_emails = sorted(a.user.email for a in admins)
        assert not Membership.objects.filter(pk__in=[m.pk for m in overdue], escalated_at=None)
        # The other organization's profiles wait for its own sweep.
        assert Membership.objects.filter(
            pk__in=[m.pk for m in elsewhere], escalated_at=None
        ).count() == len(elsewhere)
    for membership in overdue:
        about = [e for e in emails if e.context["student_email"] == membership.user.email]
        assert sorted(e.recipient for e in about) == admin_emails
    assert outbox(other_org) == []


def test_each_admin_is_emailed_once_per_profile_on_notify_admins_dedupe_key(org, admins):
    [membership] = overdue_profiles(org, 1, hours=25)
    key = f"escalation:{membership.pk}:{membership.submitted_at.isoformat()}"

    assert escalate(org) == 1

    emails = outbox(org)
    assert sorted((e.recipient, e.dedupe_key) for e in emails) == sorted(
        (admin.user.email, f"{key}:admin:{admin.pk}") for admin in admins
    )
    context = emails[0].context
    assert context["student_name"] == "Student 0"
    assert context["student_email"] == membership.user.email
    assert context["hours_pending"] == 25 and context["target_hours"] == 24
    with scopes_disabled():
        profile = StudentProfile.objects.get(membership=membership)
    assert context["review_url"].endswith(f"/manage/verification/{profile.pk}/")
    assert context["queue_url"].endswith("/manage/verification/")


def test_emails_queued_one_by_one_before_are_not_queued_again(org, admins):
    [membership] = overdue_profiles(org, 1)
    key = f"escalation:{membership.pk}:{membership.submitted_at.isoformat()}"
    with scope(organization=org):
        membership = Membership.objects.select_related("user", "profile").get(pk=membership.pk)
        context = {
            **services._profile_context(membership),
            "hours_pending": 30,
            "target_hours": 24,
        }
        notify_admins(org, TEMPLATE, context, dedupe_key=key)

    assert escalate(org) == 1

    assert len(outbox(org)) == 2


def test_a_spent_time_budget_escalates_nothing(org, admins):
    overdue_profiles(org, 3)

    assert escalate(org, time_budget=0) == 0

    assert outbox(org) == []
    assert escalate(org) == 3
