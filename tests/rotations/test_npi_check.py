"""§4: the NPI carries a "verified by admins" mark once an admin checks it."""

import pytest
from django_scopes import scopes_disabled

from rotations.models import AttendingProfile, validate_npi
from tests import factories

CHECKED = {"registry_checked": "yes"}  # "I checked the registry", ticked


@pytest.fixture
def attending(demo):
    with scopes_disabled():
        return factories.AttendingProfileFactory(organization=demo["org"], npi="1234567893")


def verified_at(attending):
    with scopes_disabled():
        return AttendingProfile.objects.get(pk=attending.pk).npi_verified_at


def test_npi_check_digit_follows_the_cms_luhn_rule():
    validate_npi("1234567893")  # the CMS example
    with pytest.raises(Exception, match="check digit"):
        validate_npi("1234567890")
    with pytest.raises(Exception, match="10 digits"):
        validate_npi("12345")


@pytest.mark.django_db
def test_admin_marks_the_npi_verified_from_the_attendings_page(demo, attending, client_for):
    admin = client_for(demo["admin"])
    page = admin.get("/manage/attendings/")
    assert page.status_code == 200
    assert "1234567893" in page.content.decode()
    response = admin.post(f"/manage/attendings/{attending.pk}/verify-npi/", CHECKED, follow=True)
    assert "marked verified" in response.content.decode()
    assert verified_at(attending) is not None


@pytest.mark.django_db
def test_only_admins_of_the_organization_can_verify(demo, northside, attending, client_for):
    assert (
        client_for(demo["student"])
        .post(f"/manage/attendings/{attending.pk}/verify-npi/")
        .status_code
        == 403
    )
    assert client_for(attending.membership).get("/manage/attendings/").status_code == 403
    assert (
        client_for(northside["admin"])
        .post(f"/manage/attendings/{attending.pk}/verify-npi/")
        .status_code
        == 404
    )
    assert verified_at(attending) is None


@pytest.mark.django_db
def test_an_attending_without_npi_cannot_be_marked(demo, client_for):
    with scopes_disabled():
        bare = factories.AttendingProfileFactory(organization=demo["org"], npi="")
    response = client_for(demo["admin"]).post(
        f"/manage/attendings/{bare.pk}/verify-npi/", CHECKED, follow=True
    )
    assert "has not entered an NPI" in response.content.decode()
    assert verified_at(bare) is None


@pytest.mark.django_db
def test_the_page_links_each_npi_to_the_public_registry_in_a_new_tab(demo, attending, client_for):
    page = client_for(demo["admin"]).get("/manage/attendings/").content.decode()

    link = 'href="https://npiregistry.cms.hhs.gov/provider-view/1234567893"'
    assert link in page
    tag = page[page.rindex("<a ", 0, page.index(link)) : page.index(">", page.index(link))]
    assert 'target="_blank"' in tag and "noopener" in tag
    assert 'name="registry_checked"' in page
    assert "I checked the registry" in page


@pytest.mark.django_db
@pytest.mark.parametrize("data", [{}, {"registry_checked": ""}, {"registry_checked": "no"}])
def test_marking_without_confirming_the_registry_check_is_refused(
    demo, attending, client_for, data
):
    response = client_for(demo["admin"]).post(
        f"/manage/attendings/{attending.pk}/verify-npi/", data
    )

    assert response.status_code == 400
    assert "I checked the registry" in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert verified_at(attending) is None


@pytest.mark.django_db
def test_the_api_refuses_a_mark_without_the_registry_check(demo, attending, api):
    response = api(demo["admin"]).post(f"/api/v1/attendings/{attending.pk}/verify-npi", {})

    assert response.status_code == 400
    assert response.json()["code"] == "registry_not_checked"
    assert verified_at(attending) is None
