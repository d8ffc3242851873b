"""The hourly beat task re-keeps the free-week summary search reads (rotations.free_weeks)
once a new week has begun, in every organization."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_scopes import scopes_disabled

from rotations.models import AttendingProfile
from rotations.tasks import refresh_stale_next_free_weeks
from tests import factories
from usdoctors.dates import next_monday

pytestmark = pytest.mark.django_db


def test_the_beat_task_rebases_every_organizations_stale_summaries(org, other_org):
    with scopes_disabled():
        attendings = [factories.AttendingProfileFactory(organization=o) for o in (org, other_org)]
        for attending in attendings:
            factories.AvailabilityWeekFactory(
                attending=attending, week_start=factories.next_monday(3)
            )
    with time_machine.travel(timezone.now() + timedelta(weeks=1)):
        assert refresh_stale_next_free_weeks() == 2
        with scopes_disabled():
            for attending in AttendingProfile.objects.filter(pk__in=[a.pk for a in attendings]):
                assert attending.next_free_week_from == next_monday()
                assert attending.free_mask != 0
        assert refresh_stale_next_free_weeks() == 0  # nothing stale any more
