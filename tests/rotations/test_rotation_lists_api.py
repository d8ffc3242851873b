"""Who sees which rotations through the API (DESIGN §2, §5, §12): students theirs,
attendings the ones requested of them, admins all of their organization's; another
organization's rotation answers 404 to every call, exactly like an id that does not
exist; lists run a fixed, small number of queries."""

import pytest
from django_scopes import scopes_disabled

from tests import factories

pytestmark = pytest.mark.django_db

ROTATIONS = "/api/v1/rotations"
NO_SUCH_ID = 987_654_321


@pytest.fixture
def rotations(demo, northside, attending, northside_attending):
    """Demo: two of the demo student's (one with our attending), one of another student
    with our attending, one between strangers. Northside: its own (northside_attending)."""
    with scopes_disabled():
        colleague = factories.AttendingProfileFactory(organization=demo["org"])
        classmate = factories.StudentFactory(organization=demo["org"])
        return {
            "mine_with_attending": factories.RotationFactory(
                attending=attending, student=demo["student"], start=factories.next_monday(2)
            ),
            "mine_with_colleague": factories.RotationFactory(
                attending=colleague,
                student=demo["student"],
                start=factories.next_monday(6),
                status="approved",
            ),
            "classmate_with_attending": factories.RotationFactory(
                attending=attending, student=classmate, status="declined"
            ),
            "strangers": factories.RotationFactory(attending=colleague, student=classmate),
        }


def ids(response) -> set[int]:
    assert response.status_code == 200, response.json()
    return {row["id"] for row in response.json()["results"]}


def test_a_student_sees_their_own_rotations(demo, rotations, api):
    seen = ids(api(demo["student"]).get(ROTATIONS))

    assert seen == {rotations["mine_with_attending"].pk, rotations["mine_with_colleague"].pk}


def test_an_attending_sees_the_rotations_requested_of_them(demo, rotations, api):
    seen = ids(api(demo["attending"]).get(ROTATIONS))

    assert seen == {rotations["mine_with_attending"].pk, rotations["classmate_with_attending"].pk}


def test_an_admin_sees_all_of_the_organizations_rotations_and_only_those(
    demo, northside, rotations, api
):
    seen = ids(api(demo["admin"]).get(ROTATIONS))
    theirs = ids(api(northside["admin"]).get(ROTATIONS))

    assert seen == {rotation.pk for rotation in rotations.values()}
    assert len(theirs) == 1 and not theirs & seen


def test_the_list_filters_by_status(demo, rotations, api):
    approved = ids(api(demo["admin"]).get(ROTATIONS, {"status": "approved"}))
    requested = ids(api(demo["student"]).get(ROTATIONS, {"status": "requested"}))

    assert approved == {rotations["mine_with_colleague"].pk}
    assert requested == {rotations["mine_with_attending"].pk}


def test_an_unknown_status_filter_is_bad_input(demo, rotations, api):
    response = api(demo["admin"]).get(ROTATIONS, {"status": "booked"})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["detail"].startswith("status: ")


def test_a_row_shows_the_student_and_attending_but_no_private_email(
    demo, attending, rotations, api
):
    response = api(demo["attending"]).get(ROTATIONS, {"status": "requested"})

    [row] = response.json()["results"]
    assert row["student"] == {
        "membership_id": demo["student"].pk,
        "profile_id": demo["student"].profile.pk,
        "name": demo["student"].profile.full_name,
    }
    assert row["attending"]["display_name"] == attending.display_name
    assert attending.contact_email not in response.content.decode()
    assert demo["student"].user.email not in response.content.decode()


def add_rotations(organization, count: int, *, student=None, attending=None):
    with scopes_disabled():
        for number in range(count):
            factories.RotationFactory(
                organization=organization,
                attending=attending or factories.AttendingProfileFactory(organization=organization),
                student=student or factories.StudentFactory(organization=organization),
                start=factories.next_monday(2 + number % 30),
                status=("requested", "approved", "completed")[number % 3],
            )


@pytest.mark.parametrize("role", ["student", "attending", "admin"])
def test_the_list_runs_at_most_8_queries_however_many_rows(
    demo, northside, attending, role, api, django_assert_max_num_queries
):
    own = {"student": {"student": demo["student"]}, "attending": {"attending": attending}}
    client = api(demo[role])
    add_rotations(demo["org"], 2, **own.get(role, {}))
    add_rotations(northside["org"], 3)
    with django_assert_max_num_queries(8) as few:
        assert len(ids(client.get(ROTATIONS))) == 2

    add_rotations(demo["org"], 48, **own.get(role, {}))
    with django_assert_max_num_queries(8) as many:
        response = client.get(ROTATIONS)

    assert response.json()["count"] == 50
    assert len(response.json()["results"]) == 50
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_detail_runs_a_fixed_number_of_queries(
    demo, attending, api, django_assert_max_num_queries
):
    with scopes_disabled():
        rotation = factories.RotationFactory(attending=attending, student=demo["student"])
    client = api(demo["student"])
    with django_assert_max_num_queries(8) as few:
        assert client.get(f"{ROTATIONS}/{rotation.pk}").status_code == 200
    with scopes_disabled():
        for note in range(10):
            rotation.events.create(
                organization=demo["org"], status="requested", note=str(note), by=demo["student"]
            )

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(f"{ROTATIONS}/{rotation.pk}")

    assert len(response.json()["events"]) == 10


# --- Another organization's rotation -----------------------------------------------------

CALLS = [
    ("get", "", None),
    ("post", "/approve", {}),
    ("post", "/decline", {"reason": "No."}),
    ("post", "/withdraw", {}),
    ("post", "/cancel", {"reason": "No."}),
    (
        "post",
        "/complete",
        {
            "medical_knowledge": 5,
            "clinical_skills": 5,
            "professionalism": 5,
            "communication": 5,
            "comments": "",
            "activities": "Everything.",
        },
    ),
    ("post", "/postpone", {"new_start": "2099-01-05", "reason": "Illness."}),
    ("post", "/date-changes", {"new_start": "2099-01-05"}),
    ("get", "/messages", None),
    ("post", "/messages", {"body": "Hello from elsewhere."}),
]


@pytest.mark.parametrize("role", ["student", "attending", "admin"])
@pytest.mark.parametrize(("method", "suffix", "body"), CALLS, ids=[c[1] or "/" for c in CALLS])
def test_another_organizations_rotation_is_not_found(
    demo, northside, attending, northside_attending, api, everything, role, method, suffix, body
):
    """Northside's rotation, in every state a call could act on, asked for on demo's host
    by each demo role: the answer is the one for an id that does not exist."""
    with scopes_disabled():
        theirs = factories.RotationFactory(
            attending=northside_attending,
            student=northside["student"],
            start=factories.next_monday(8),
            status="approved" if "approve" not in suffix else "requested",
        )
    client = api(demo[role])
    before = everything()

    def call(pk):
        path = f"{ROTATIONS}/{pk}{suffix}"
        return client.get(path) if method == "get" else client.post(path, body)

    response = call(theirs.pk)
    missing = call(NO_SUCH_ID)

    assert response.status_code == 404, response.json()
    assert response.json() == missing.json() == {"detail": "Not found.", "code": "not_found"}
    assert everything() == before


@pytest.mark.parametrize("role", ["student", "attending", "admin"])
def test_the_same_calls_reach_their_own_organizations_rotation(
    northside, northside_attending, api, role
):
    """The control: the northside rotation is real and northside's members see it."""
    with scopes_disabled():
        theirs = factories.RotationFactory(
            attending=northside_attending, student=northside["student"]
        )

    response = api(northside[role]).get(f"{ROTATIONS}/{theirs.pk}")

    assert response.status_code == 200
    assert response.json()["id"] == theirs.pk


@pytest.mark.parametrize("stranger", ["classmate", "colleague"])
@pytest.mark.parametrize(("method", "suffix", "body"), CALLS, ids=[c[1] or "/" for c in CALLS])
def test_a_rotation_is_not_found_by_members_who_are_not_party_to_it(
    demo, attending, api, everything, stranger, method, suffix, body
):
    """In the same organization: another student, another attending. Their answer is the
    one for an id that does not exist, whatever the call."""
    with scopes_disabled():
        rotation = factories.RotationFactory(
            attending=attending,
            student=demo["student"],
            status="approved" if "approve" not in suffix else "requested",
        )
        members = {
            "classmate": factories.StudentFactory(organization=demo["org"]),
            "colleague": factories.AttendingProfileFactory(organization=demo["org"]).membership,
        }
    client = api(members[stranger])
    before = everything()

    def call(pk):
        path = f"{ROTATIONS}/{pk}{suffix}"
        return client.get(path) if method == "get" else client.post(path, body)

    response = call(rotation.pk)

    assert response.status_code == 404, response.json()
    assert response.json() == call(NO_SUCH_ID).json()
    assert everything() == before
