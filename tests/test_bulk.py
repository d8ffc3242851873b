"""update_each writes each row's own values in one statement (usdoctors.bulk)."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from rotations.models import AttendingProfile
from tests import factories
from usdoctors import bulk
from usdoctors.bulk import update_each

pytestmark = pytest.mark.django_db


@pytest.fixture
def profiles():
    with scopes_disabled():
        return [factories.AttendingProfileFactory() for _ in range(5)]


def _read(ids):
    with scopes_disabled():
        return {
            row["pk"]: row
            for row in AttendingProfile.objects.filter(pk__in=ids).values(
                "pk", "next_free_week", "free_mask", "last_free_week", "minimum_weeks"
            )
        }


def test_each_row_gets_its_own_values_and_the_shared_ones_in_one_query(profiles):
    others_before = _read([p.pk for p in profiles[3:]])
    chosen = profiles[:3]
    for n, profile in enumerate(chosen):
        profile.next_free_week = date(2027, 1, 4 + 7 * n) if n else None  # NULL too
        profile.free_mask = (1 << 61) + n  # the mask's largest bit survives the trip
    with CaptureQueriesContext(connection) as queries:
        changed = update_each(chosen, ["next_free_week", "free_mask"], same={"minimum_weeks": 3})
    assert changed == 3
    assert len(queries.captured_queries) == 1
    stored = _read([p.pk for p in profiles])
    for n, profile in enumerate(chosen):
        assert stored[profile.pk]["next_free_week"] == profile.next_free_week
        assert stored[profile.pk]["free_mask"] == (1 << 61) + n
        assert stored[profile.pk]["minimum_weeks"] == 3
    assert _read([p.pk for p in profiles[3:]]) == others_before  # untouched


def test_nothing_to_write_costs_no_query(profiles):
    with CaptureQueriesContext(connection) as queries:
        assert update_each([], ["free_mask"]) == 0
    assert queries.captured_queries == []


def test_the_case_form_used_off_postgresql_writes_the_same(profiles):
    """SQLite (``make run``) takes the CASE form in chunks; run it here on PostgreSQL."""
    rows = profiles[:5]
    for n, profile in enumerate(rows):
        profile.last_free_week = date(2027, 2, 1 + n)
    meta = AttendingProfile._meta
    own = [meta.get_field("last_free_week")]
    changed = sum(
        bulk._update_by_case(meta, rows[start : start + 2], own, [])
        for start in range(0, len(rows), 2)
    )
    assert changed == 5
    stored = _read([p.pk for p in rows])
    assert [stored[p.pk]["last_free_week"] for p in rows] == [
        date(2027, 2, 1 + n) for n in range(5)
    ]
