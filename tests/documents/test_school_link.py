"""The school's upload link (DESIGN §7, §10), at the service level: requesting a rotation
emails the school contact a signed, expiring link once; through it the school uploads
each school-issued document once. A reused, tampered, expired, foreign or payment link,
a type the school does not issue, and a rotation no longer going ahead are refused, and
nothing changes."""

from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from documents.models import Document
from documents.school_link import (
    link_expiry,
    read_link,
    received,
    school_types,
    upload_through_link,
)
from notifications.models import OutboundEmail
from rotations.services import approve_rotation, cancel_rotation, request_rotation
from tests import factories
from tests.conftest import MINIMAL_PDF
from usdoctors import signed_links
from usdoctors.errors import Invalid

pytestmark = pytest.mark.django_db

SCHOOL = "registrar@school.test"  # the factories' school contact
LETTER = "letter_of_good_standing"


def letter(name="letter.pdf"):
    return SimpleUploadedFile(name, MINIMAL_PDF, content_type="application/pdf")


def request(side, *, start=None):
    """A rotation requested through the real service (the ``requested`` event)."""
    start = start or factories.next_monday(4)
    with scopes_disabled():
        attending = factories.AttendingProfileFactory(organization=side["org"])
        factories.publish(attending, start, 2)
    with scope(organization=side["org"]):
        return request_rotation(
            side["student"],
            attending=attending,
            rotation_type="clerkship",
            mode="in_person",
            start=start,
            weeks=2,
        )


def school_emails(organization) -> list[OutboundEmail]:
    with scopes_disabled():
        return list(
            OutboundEmail.objects.filter(
                organization=organization, template="school_documents_request"
            ).order_by("pk")
        )


def token_of(email: OutboundEmail) -> str:
    url = email.context["upload_url"]
    assert "/school/documents/" in url
    return url.rstrip("/").rsplit("/", 1)[-1]


def files_on_disk(organization) -> list[str]:
    storage = Document._meta.get_field("file").storage
    folder = f"org{organization.pk}/documents"
    if not storage.exists(folder):
        return []
    return sorted(storage.listdir(folder)[1])


def documents(organization) -> list[tuple]:
    with scopes_disabled():
        return list(
            Document.objects.filter(organization=organization).values_list(
                "pk", "document_type__code", "file", "status", "uploaded_by", "uploaded_at"
            )
        )


def upload(token, organization, code=LETTER, uploaded=None):
    with scope(organization=organization):
        return upload_through_link(
            token,
            organization,
            code,
            uploaded or letter(),
            issued_on=timezone.localdate() - timedelta(days=3),
        )


@pytest.fixture
def requested(demo, northside):
    """A request in each organization; returns demo's rotation and its link token."""
    request(northside)
    rotation = request(demo)
    (email,) = school_emails(demo["org"])
    return rotation, token_of(email)


def test_requesting_a_rotation_emails_the_school_contact_a_link_once(demo, northside, requested):
    rotation, token = requested
    (email,) = school_emails(demo["org"])
    assert email.recipient == SCHOOL
    assert email.dedupe_key == f"school-documents-link:{rotation.pk}"
    assert email.context["document_names"] == ["Letter of good standing"]
    assert email.context["upload_url"].startswith("http://demo.")
    assert len(school_emails(northside["org"])) == 1  # northside's own request, its own link
    with scope(organization=demo["org"]):
        link, linked = read_link(token, demo["org"])
        assert linked.pk == rotation.pk
        assert link.expires == link_expiry(rotation)
        # Approving (another lifecycle event) sends no second link.
        approve_rotation(rotation, by=rotation.attending.membership)
    assert len(school_emails(demo["org"])) == 1


def test_no_link_when_the_profile_names_no_school_contact(demo, northside):
    with scopes_disabled():
        demo["student"].profile.school_contact_email = ""
        demo["student"].profile.save(update_fields=["school_contact_email"])
    request(demo)
    assert school_emails(demo["org"]) == []


def test_the_school_uploads_the_letter_of_good_standing_once(demo, northside, requested):
    rotation, token = requested
    document = upload(token, demo["org"])
    assert document.student_id == demo["student"].pk
    assert document.document_type.code == LETTER
    assert (document.status, document.uploaded_by) == ("submitted", "school")
    assert files_on_disk(demo["org"]) == [document.file.name.rsplit("/", 1)[-1]]
    with scope(organization=demo["org"]):
        link, rotation = read_link(token, demo["org"])
        types = school_types(rotation)
        assert received(link, rotation, types) == {types[0].pk: True}  # what the page shows

    before = documents(demo["org"]), files_on_disk(demo["org"])
    with pytest.raises(signed_links.LinkError) as refused:
        upload(token, demo["org"], uploaded=letter("second.pdf"))
    assert refused.value.reason == signed_links.USED
    assert refused.value.status == 409
    assert (documents(demo["org"]), files_on_disk(demo["org"])) == before  # nothing changed


def test_a_tampered_link_is_invalid_and_changes_nothing(demo, northside, requested):
    _, token = requested
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(signed_links.LinkError) as refused:
        upload(tampered, demo["org"])
    assert refused.value.reason == signed_links.INVALID
    assert documents(demo["org"]) == [] and files_on_disk(demo["org"]) == []


def test_a_link_opened_on_another_organizations_site_is_invalid(demo, northside, requested):
    _, token = requested
    with pytest.raises(signed_links.LinkError) as refused:
        upload(token, northside["org"])
    assert refused.value.reason == signed_links.INVALID
    assert documents(demo["org"]) == documents(northside["org"]) == []


def test_an_expired_link_is_refused_and_changes_nothing(demo, northside, requested):
    rotation, token = requested
    with time_machine.travel(link_expiry(rotation) + timedelta(hours=1)):
        with pytest.raises(signed_links.LinkError) as refused:
            upload(token, demo["org"])
    assert refused.value.reason == signed_links.EXPIRED
    assert refused.value.status == 410
    assert documents(demo["org"]) == [] and files_on_disk(demo["org"]) == []
    # The day before the start it still works.
    with time_machine.travel(link_expiry(rotation) - timedelta(hours=12)):
        upload(token, demo["org"])
    assert len(documents(demo["org"])) == 1


def test_a_payment_link_token_is_refused(demo, northside, requested):
    rotation, _ = requested
    payment_token = signed_links.make_token(
        demo["org"], rotation.pk, signed_links.SCHOOL_PAYMENT, expires=link_expiry(rotation)
    )
    with pytest.raises(signed_links.LinkError) as refused:
        upload(payment_token, demo["org"])
    assert refused.value.reason == signed_links.INVALID
    assert documents(demo["org"]) == [] and files_on_disk(demo["org"]) == []


def test_a_type_the_school_does_not_issue_is_refused(demo, northside, requested):
    _, token = requested
    with pytest.raises(Invalid) as refused:
        upload(token, demo["org"], code="tb_test_immunizations")
    assert refused.value.code == "not_a_school_document"
    assert "school-issued" in refused.value.message
    assert documents(demo["org"]) == [] and files_on_disk(demo["org"]) == []
    upload(token, demo["org"])  # the refusal did not use up the link
    assert len(documents(demo["org"])) == 1


def test_a_cancelled_rotations_link_is_invalid(demo, northside, requested):
    rotation, token = requested
    with scope(organization=demo["org"]):
        rotation = approve_rotation(rotation, by=rotation.attending.membership)
        cancel_rotation(rotation, by=demo["student"], reason="Plans changed.")
    with pytest.raises(signed_links.LinkError) as refused:
        upload(token, demo["org"])
    assert refused.value.reason == signed_links.INVALID
    assert "no longer going ahead" in refused.value.message
    assert documents(demo["org"]) == [] and files_on_disk(demo["org"]) == []
