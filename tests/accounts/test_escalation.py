"""Verification escalation, DESIGN §3 and §9: a profile pending longer than the
organization's target (24 h) is escalated to that organization's admins, once per
submission, by an idempotent periodic task."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django_scopes import scope, scopes_disabled

from accounts import services
from accounts.models import Membership
from accounts.tasks import escalate_overdue_verifications
from notifications.models import OutboundEmail
from tests import factories

pytestmark = pytest.mark.django_db

TEMPLATE = "profile_verification_overdue"
SUBMITTED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def escalations(organization=None) -> list[tuple[str, str]]:
    """(admin email, student email) for every escalation email in the outbox."""
    with scopes_disabled():
        rows = OutboundEmail.objects.filter(template=TEMPLATE)
        if organization is not None:
            rows = rows.filter(organization=organization)
        return sorted((row.recipient, row.context["student_email"]) for row in rows)


def emails(*memberships) -> list[str]:
    with scopes_disabled():
        return [
            Membership.objects.select_related("user").get(pk=m.pk).user.email for m in memberships
        ]


@pytest.fixture
def clock():
    with time_machine.travel(SUBMITTED, tick=False) as traveller:
        yield traveller


@pytest.fixture
def people(org, other_org, clock):
    """Two admins and three pending profiles here (two submitted at SUBMITTED, one two
    hours later), one admin and one pending profile in the other organization, plus
    students who are not pending and must never be escalated."""
    with scopes_disabled():
        made = {
            "admins": [
                factories.MembershipFactory(organization=org, role="admin") for _ in range(2)
            ],
            "attending": factories.MembershipFactory(organization=org, role="attending"),
            "overdue": [factories.StudentFactory(organization=org, pending=True) for _ in range(2)],
            "verified": factories.StudentFactory(organization=org, profile__cv=""),
            "incomplete": factories.StudentFactory(
                organization=org, verification_status="incomplete", profile__cv=""
            ),
            "other_admin": factories.MembershipFactory(organization=other_org, role="admin"),
            "other_overdue": factories.StudentFactory(
                organization=other_org, pending=True, profile__cv=""
            ),
        }
    clock.shift(timedelta(hours=2))
    with scopes_disabled():
        made["fresh"] = factories.StudentFactory(organization=org, pending=True, profile__cv="")
    clock.move_to(SUBMITTED)
    return made


def expected_pairs(admins, students) -> list[tuple[str, str]]:
    return sorted((admin, student) for admin in emails(*admins) for student in emails(*students))


def test_overdue_profiles_are_escalated_once_to_each_admin(people, org, clock):
    clock.move_to(SUBMITTED + timedelta(hours=25))

    escalated = escalate_overdue_verifications()

    assert escalated == 3  # two here, one in the other organization
    assert escalations(org) == expected_pairs(people["admins"], people["overdue"])
    with scopes_disabled():
        row = OutboundEmail.objects.filter(organization=org, template=TEMPLATE).first()
    assert row.context["hours_pending"] == 25
    assert row.context["target_hours"] == 24


def test_second_run_escalates_nothing_new(people, clock):
    clock.move_to(SUBMITTED + timedelta(hours=25))
    escalate_overdue_verifications()
    first = escalations()

    clock.shift(timedelta(hours=3))  # now the fresh one is overdue too
    second_run = escalate_overdue_verifications()
    third_run = escalate_overdue_verifications()

    assert second_run == 1
    assert third_run == 0
    new = sorted(set(escalations()) - set(first))
    assert new == expected_pairs(people["admins"], [people["fresh"]])
    assert len(escalations()) == len(set(escalations()))  # nobody is told twice


def test_nothing_is_escalated_before_the_target(people, clock):
    clock.move_to(SUBMITTED + timedelta(hours=23))

    assert escalate_overdue_verifications() == 0
    assert escalations() == []
    with scopes_disabled():
        assert not Membership.objects.filter(escalated_at__isnull=False).exists()


def test_target_comes_from_the_organization(people, org, clock):
    with scopes_disabled():
        org.verification_target_hours = 4
        org.save(update_fields=["verification_target_hours"])
    clock.move_to(SUBMITTED + timedelta(hours=5))

    escalate_overdue_verifications()

    assert escalations(org) == expected_pairs(people["admins"], people["overdue"])


def test_each_organizations_profiles_go_only_to_its_own_admins(people, org, other_org, clock):
    clock.move_to(SUBMITTED + timedelta(hours=25))

    escalate_overdue_verifications()

    assert escalations(other_org) == expected_pairs(
        [people["other_admin"]], [people["other_overdue"]]
    )
    [other_admin_email] = emails(people["other_admin"])
    assert other_admin_email not in [admin for admin, _ in escalations(org)]
    [other_student_email] = emails(people["other_overdue"])
    assert other_student_email not in [student for _, student in escalations(org)]


def test_a_resubmitted_profile_can_be_escalated_again(people, org, clock):
    student = people["overdue"][0]
    [student_email] = emails(student)

    def escalations_of_student() -> list[str]:
        return [admin for admin, about in escalations(org) if about == student_email]

    clock.move_to(SUBMITTED + timedelta(hours=25))
    escalate_overdue_verifications()
    assert sorted(escalations_of_student()) == sorted(emails(*people["admins"]))

    clock.move_to(SUBMITTED + timedelta(hours=26))
    with scope(organization=org):
        services.request_profile_info(
            student, by=people["admins"][0], message="Upload your Step 1 score report."
        )
    clock.move_to(SUBMITTED + timedelta(hours=27))
    with scope(organization=org):
        services.submit_profile(student)

    clock.move_to(SUBMITTED + timedelta(hours=27 + 23))
    escalate_overdue_verifications()
    assert len(escalations_of_student()) == 2  # the new submission is not overdue yet

    clock.move_to(SUBMITTED + timedelta(hours=27 + 25))
    escalate_overdue_verifications()
    escalate_overdue_verifications()
    assert sorted(escalations_of_student()) == sorted(emails(*people["admins"]) * 2)
