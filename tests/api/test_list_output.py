"""``usdoctors.api.ListOutput`` writes the search results and an attending's profile as
DRF itself would: the same JSON, key for key, for attendings in every state the fields
can take (verified by the registry, by hand, not at all; with reviews and without; the
no-contact flag), with eligibility answers met and unmet, and for members who see no
eligibility."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from rotations import search
from rotations.api.search_serializers import AttendingSearchResultSerializer, AttendingSerializer
from rotations.models import Requirement
from tests import factories
from usdoctors.api import ListOutput

pytestmark = pytest.mark.django_db


@pytest.fixture
def attendings(demo):
    now = timezone.now()
    states = [
        {},
        {"npi_verified_at": now, "npi_verified_by": "registry"},
        {"npi_verified_at": now - timedelta(days=40), "npi_verified_by": "manual"},
        {
            "licence_verified_at": now,
            "board_certification_verified_at": now - timedelta(days=3),
            "review_count": 3,
            "review_average": Decimal("4.33"),
            "review_recommend_count": 2,
            "review_no_contact_count": 2,
            "weekly_rate": Decimal("1234.56"),
        },
        {"rotation_types": ["observership"], "modes": ["tele"], "minimum_weeks": 3},
    ]
    with scopes_disabled():
        profiles = []
        for fields in states:
            profile = factories.AttendingProfileFactory(organization=demo["org"])
            for name, value in fields.items():
                setattr(profile, name, value)
            profile.save()
            factories.publish(profile, factories.next_monday(1), 4)
            profiles.append(profile)
        Requirement.objects.create(
            organization=demo["org"],
            attending=profiles[0],
            rotation_type="clerkship",
            toefl_minimum=100,
            step1_required=True,
        )
    return profiles


def drf_output(monkeypatch, serializer_class, rows) -> str:
    """What DRF's own to_representation gives, with ListOutput's taken away."""
    with monkeypatch.context() as patch:
        patch.delattr(ListOutput, "to_representation")
        return json.dumps(serializer_class(rows, many=True).data, default=str)


@pytest.mark.parametrize("who", ["student", "admin"])
def test_search_results_are_written_as_drf_writes_them(demo, attendings, who, monkeypatch):
    member = demo[who]
    with scope(organization=demo["org"].pk):
        results = search.search_attendings(demo["org"], search.SearchFilters(), student=member)
        page = list(results)
        assert len(page) == len(attendings)
        if who == "student":
            answers = [answer for row in page for answer in row.search.eligibility]
            assert any(answer.unmet for answer in answers)
            assert any(answer.eligible for answer in answers)
        fast = json.dumps(AttendingSearchResultSerializer(page, many=True).data, default=str)
        assert fast == drf_output(monkeypatch, AttendingSearchResultSerializer, page)
        profiles = search.public_attendings(demo["org"]).order_by("pk")
        assert json.dumps(AttendingSerializer(profiles, many=True).data, default=str) == (
            drf_output(monkeypatch, AttendingSerializer, profiles)
        )
