"""seed_scale (issue 10): a realistic data set whose kept search summaries are exactly
what rotations.free_weeks would keep, and refused input that changes nothing."""

import io
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django_scopes import scopes_disabled

from accounts.models import Membership
from rotations.free_weeks import count_free_runs, summary
from rotations.models import AttendingProfile, AvailabilityWeek
from usdoctors.dates import next_monday
from usdoctors.models import Organization

pytestmark = pytest.mark.django_db


def seed(**options):
    call_command("seed_scale", stdout=io.StringIO(), **options)


def test_seed_scale_builds_spread_data_with_the_summaries_search_keeps():
    seed(attendings=60, organizations=2, weeks=20, students=7)
    with scopes_disabled():
        for slug in ("scale1", "scale2"):
            organization = Organization.objects.get(slug=slug)
            profiles = list(AttendingProfile.objects.filter(organization=organization))
            assert len(profiles) == 60
            assert all(profile.listed for profile in profiles)
            assert (
                Membership.objects.filter(
                    organization=organization, role="student", verification_status="verified"
                ).count()
                == 7
            )
            assert len({profile.specialty for profile in profiles}) > 5
            assert len({profile.state for profile in profiles}) > 5
            assert len({profile.weekly_rate for profile in profiles}) > 5
            weeks = list(AvailabilityWeek.objects.filter(organization=organization))
            assert 60 * 15 <= len(weeks) <= 60 * 20
            assert {week.capacity for week in weeks} == {1, 2, 3}
            full = sum(week.booked >= week.capacity for week in weeks)
            assert 0.05 < full / len(weeks) < 0.25  # about 1 in 8 full
            # Gaps: some attending has an unpublished week between published ones.
            by_attending = Counter(week.attending_id for week in weeks)
            spans = {
                pk: (max(w.week_start for w in weeks if w.attending_id == pk) - next_monday()).days
                // 7
                for pk in list(by_attending)[:10]
            }
            assert any(spans[pk] + 1 > by_attending[pk] for pk in spans)
            # The free runs are counted as free_weeks counts them: a recount changes none.
            assert count_free_runs(weeks) == []
            base = next_monday()
            for profile in profiles:
                free = [
                    week.week_start
                    for week in weeks
                    if week.attending_id == profile.pk and week.booked < week.capacity
                ]
                first, mask, last = summary(free, base)
                assert (profile.next_free_week, profile.free_mask, profile.last_free_week) == (
                    first,
                    mask,
                    last,
                )
                assert profile.next_free_week_from == base


def test_seed_scale_refuses_bad_sizes_and_an_existing_organization():
    with pytest.raises(CommandError, match="at least 1 attending"):
        seed(attendings=0)
    with pytest.raises(CommandError, match="at least 1 attending"):
        seed(attendings=5, weeks=53)
    seed(attendings=3, organizations=1, weeks=5, students=1)
    with scopes_disabled():
        before = AttendingProfile.objects.count()
    with pytest.raises(CommandError, match="exists"):
        seed(attendings=3, organizations=1, weeks=5, students=1)
    with scopes_disabled():
        assert AttendingProfile.objects.count() == before
