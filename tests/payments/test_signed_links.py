"""Signed links (DESIGN §10): tampered, expired, reused and other organizations' links
get a clear 4xx page and change nothing."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from payments import school
from payments.models import SchoolPayment
from tests.conftest import host_of
from tests.payments.school_helpers import link_path, school_payment, school_rotation
from usdoctors import signed_links
from usdoctors.models import UsedLink

pytestmark = pytest.mark.django_db


@pytest.fixture
def rotation(demo, northside):
    school_rotation(northside["org"])  # another organization's school link exists too
    return school_rotation(demo["org"])


def page(client, path, organization, decision=None):
    """GET the link's page, or POST a decision to it, on ``organization``'s host."""
    if decision is None:
        return client.get(path, HTTP_HOST=host_of(organization))
    return client.post(path, {"decision": decision}, HTTP_HOST=host_of(organization))


def nothing_changed(rotation):
    assert school_payment(rotation).decision == "awaiting"
    assert school_payment(rotation).charge_status == "none"
    with scopes_disabled():
        assert not UsedLink.objects.filter(rotation_id=rotation.pk).exists()


def test_the_school_sees_the_rotation_and_the_amount(client, demo, rotation):
    response = client.get(link_path(rotation), HTTP_HOST=host_of(demo["org"]))

    assert response.status_code == 200
    body = response.content.decode()
    assert "Will your school pay for this rotation?" in body
    assert "$1,000.00" in body
    assert rotation.student.display_name in body
    nothing_changed(rotation)


@pytest.mark.parametrize("decision", [None, "confirm", "refuse"])
def test_a_tampered_link_gets_a_clear_page_and_changes_nothing(client, demo, rotation, decision):
    path = link_path(rotation)
    token = path.split("/")[3]
    for tampered in (token[:-1] + ("A" if token[-1] != "A" else "B"), token[:20], "x" + token):
        response = page(client, f"/school/payment/{tampered}/", demo["org"], decision)
        assert response.status_code == 400, tampered
        assert "This link is not valid" in response.content.decode()
    nothing_changed(rotation)


@pytest.mark.parametrize("decision", [None, "confirm", "refuse"])
def test_an_expired_link_gets_a_clear_page_and_changes_nothing(client, demo, rotation, decision):
    path = link_path(rotation)
    with time_machine.travel(school.link_expiry(rotation) + timedelta(minutes=1)):
        response = page(client, path, demo["org"], decision)
    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()
    nothing_changed(rotation)


def test_a_link_still_works_the_day_before_the_deadline(client, demo, rotation):
    path = link_path(rotation)
    with time_machine.travel(school.link_expiry(rotation) - timedelta(minutes=1)):
        response = client.get(path, HTTP_HOST=host_of(demo["org"]))
    assert response.status_code == 200


def test_a_used_link_gets_a_clear_page_and_changes_nothing(
    client, demo, rotation, django_capture_on_commit_callbacks
):
    path = link_path(rotation)
    host = host_of(demo["org"])
    assert client.post(path, {"decision": "confirm"}, HTTP_HOST=host).status_code == 200

    with django_capture_on_commit_callbacks() as callbacks:
        again = client.post(path, {"decision": "refuse"}, HTTP_HOST=host)
        shown = client.get(path, HTTP_HOST=host)

    assert again.status_code == 409
    assert "This link was already used" in again.content.decode()
    assert shown.status_code == 409
    assert callbacks == []  # no charge asked for
    assert school_payment(rotation).decision == "confirmed"
    assert school_payment(rotation).charge_status == "none"
    with scopes_disabled():
        assert UsedLink.objects.filter(rotation_id=rotation.pk).count() == 1


@pytest.mark.parametrize("decision", [None, "refuse"])
def test_another_organizations_link_is_not_valid_here(client, demo, northside, rotation, decision):
    path = link_path(rotation)  # demo's link, opened on northside's host

    response = page(client, path, northside["org"], decision)

    assert response.status_code == 400
    assert "This link is not valid" in response.content.decode()
    nothing_changed(rotation)


def test_a_link_for_another_purpose_is_not_valid(client, demo, rotation):
    with scope(organization=demo["org"]):
        upload_token = signed_links.make_token(
            demo["org"],
            rotation.pk,
            signed_links.SCHOOL_DOCUMENTS,
            expires=timezone.now() + timedelta(days=7),
        )

    response = client.get(f"/school/payment/{upload_token}/", HTTP_HOST=host_of(demo["org"]))

    assert response.status_code == 400
    nothing_changed(rotation)


def test_the_kernel_checks_the_rotation_named_in_the_url(demo, rotation):
    token = signed_links.make_token(
        demo["org"],
        rotation.pk,
        signed_links.SCHOOL_DOCUMENTS,
        expires=timezone.now() + timedelta(days=1),
    )
    link = signed_links.read_token(
        token, signed_links.SCHOOL_DOCUMENTS, demo["org"], rotation_id=rotation.pk
    )
    assert (link.organization_id, link.rotation_id) == (demo["org"].pk, rotation.pk)
    with pytest.raises(signed_links.LinkError) as error:
        signed_links.read_token(
            token, signed_links.SCHOOL_DOCUMENTS, demo["org"], rotation_id=rotation.pk + 1
        )
    assert error.value.reason == "invalid"


def test_a_decision_needs_a_choice(client, demo, rotation):
    response = client.post(
        link_path(rotation), {"decision": "maybe"}, HTTP_HOST=host_of(demo["org"])
    )

    assert response.status_code == 400
    nothing_changed(rotation)


def test_a_link_for_a_cancelled_rotation_changes_nothing(client, demo, rotation):
    with scopes_disabled():
        type(rotation).objects.filter(pk=rotation.pk).update(status="cancelled")

    response = client.post(
        link_path(rotation), {"decision": "refuse"}, HTTP_HOST=host_of(demo["org"])
    )

    assert response.status_code == 400
    assert "no longer booked" in response.content.decode()
    nothing_changed(rotation)


def test_school_confirmed_reads_the_decision(client, demo, rotation):
    with scope(organization=demo["org"]):
        assert not school.school_confirmed(rotation)
    client.post(link_path(rotation), {"decision": "confirm"}, HTTP_HOST=host_of(demo["org"]))
    with scope(organization=demo["org"]):
        assert school.school_confirmed(rotation)
    with scopes_disabled():
        assert SchoolPayment.objects.get(rotation=rotation).decided_at is not None
