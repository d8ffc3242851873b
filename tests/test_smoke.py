import pytest
from django_scopes import scopes_disabled


@pytest.mark.django_db
def test_world_builds_and_dashboard_renders(world, client_for):
    response = client_for(world["demo"]["student"]).get("/dashboard/")
    assert response.status_code == 200
    assert b"Verified" in response.content
    with scopes_disabled():
        assert world["demo"]["student"].profile.cv
