"""The message thread of a rotation through the API (DESIGN §5): open once approved,
between the student and the attending; admins read it but do not write; the other side
is emailed at most once every 15 minutes."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled

from tests import factories
from tests.rotations.conftest import emails

pytestmark = pytest.mark.django_db


@pytest.fixture
def rotation(demo, attending, northside_attending):
    with scopes_disabled():
        return factories.RotationFactory(
            attending=attending, student=demo["student"], status="approved"
        )


def thread(rotation) -> str:
    return f"/api/v1/rotations/{rotation.pk}/messages"


def write(api, membership, rotation, body):
    return api(membership).post(thread(rotation), {"body": body})


def assert_refused(response, status, code, message, before, after):
    body = response.json()
    assert response.status_code == status, body
    assert body["code"] == code
    assert message in body["detail"]
    assert after == before


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("declined", "This request is declined: its thread is closed."),
        ("withdrawn", "This request is withdrawn: its thread is closed."),
        ("expired", "This request is expired: its thread is closed."),
        ("cancelled", "This rotation is cancelled: its thread is closed."),
    ],
)
def test_the_thread_is_closed_once_the_request_or_rotation_ended(
    demo, rotation, api, everything, status, message
):
    with scopes_disabled():
        type(rotation).objects.filter(pk=rotation.pk).update(status=status)
    before = everything()

    response = write(api, demo["student"], rotation, "Hello doctor!")

    assert_refused(response, 409, "thread_closed", message, before, everything())


def test_the_thread_opens_with_the_request(demo, rotation, api):
    """§5: a student can ask a question before the attending decides, and the attending
    can answer it."""
    with scopes_disabled():
        type(rotation).objects.filter(pk=rotation.pk).update(status="requested")

    question = write(api, demo["student"], rotation, "Is parking available at the clinic?")
    answer = write(api, demo["attending"], rotation, "Yes, garage B.")

    assert (question.status_code, answer.status_code) == (201, 201), question.json()
    listing = api(demo["admin"]).get(thread(rotation)).json()
    assert [m["body"] for m in listing["results"]] == [
        "Is parking available at the clinic?",
        "Yes, garage B.",
    ]


def test_the_student_and_the_attending_write_and_the_admin_reads(demo, attending, rotation, api):
    first = write(api, demo["student"], rotation, "Hello doctor! Where do I park?")
    second = write(api, demo["attending"], rotation, "Garage B, level 2.")

    assert (first.status_code, second.status_code) == (201, 201), (first.json(), second.json())
    student_name = demo["student"].profile.full_name
    for reader in ("student", "attending", "admin"):
        listing = api(demo[reader]).get(thread(rotation))
        assert listing.status_code == 200, listing.json()
        assert listing.json()["count"] == 2
        assert [(m["author"], m["author_role"], m["body"]) for m in listing.json()["results"]] == [
            (student_name, "student", "Hello doctor! Where do I park?"),
            (attending.display_name, "attending", "Garage B, level 2."),
        ]


def test_the_admin_reads_but_cannot_write(demo, rotation, api, everything):
    before = everything()

    response = write(api, demo["admin"], rotation, "Admins chiming in.")

    assert_refused(
        response,
        403,
        "not_a_participant",
        "Only the student and the attending write in this thread; admins can read it.",
        before,
        everything(),
    )


def test_an_empty_message_is_bad_input(demo, rotation, api, everything):
    before = everything()

    response = write(api, demo["student"], rotation, "   ")

    assert_refused(response, 400, "message_empty", "Write a message.", before, everything())


def test_other_members_do_not_find_the_thread(demo, rotation, api, everything):
    write(api, demo["student"], rotation, "Private question about my visa.")
    with scopes_disabled():
        another_student = factories.StudentFactory(organization=demo["org"])
        another_attending = factories.AttendingProfileFactory(organization=demo["org"]).membership
    before = everything()

    for stranger in (another_student, another_attending):
        read = api(stranger).get(thread(rotation))
        written = write(api, stranger, rotation, "Hi!")
        for response in (read, written):
            assert_refused(response, 404, "not_found", "Not found.", before, everything())
            assert "visa" not in response.content.decode()


def test_the_other_side_is_emailed_at_most_once_per_15_minutes(demo, rotation, api, time_machine):
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    attending_email = demo["attending"].user.email

    write(api, demo["student"], rotation, "First question.")
    assert len(emails("rotation_new_message", attending_email)) == 1

    time_machine.move_to(start + timedelta(minutes=10), tick=False)
    write(api, demo["student"], rotation, "Second question.")
    time_machine.move_to(start + timedelta(minutes=14, seconds=59), tick=False)
    write(api, demo["student"], rotation, "Third question.")
    assert len(emails("rotation_new_message", attending_email)) == 1

    time_machine.move_to(start + timedelta(minutes=15), tick=False)
    write(api, demo["student"], rotation, "Fourth question.")
    sent = emails("rotation_new_message", attending_email)
    assert len(sent) == 2
    assert sent[0].context["author_name"] == demo["student"].profile.full_name
    # The student was never emailed: only the other side is.
    assert emails("rotation_new_message", demo["student"].user.email) == []


def test_each_side_has_its_own_15_minutes(demo, rotation, api, time_machine):
    time_machine.move_to(timezone.now(), tick=False)

    write(api, demo["student"], rotation, "Question.")
    write(api, demo["attending"], rotation, "Answer.")
    write(api, demo["student"], rotation, "Thanks!")

    assert len(emails("rotation_new_message", demo["attending"].user.email)) == 1
    assert len(emails("rotation_new_message", demo["student"].user.email)) == 1
