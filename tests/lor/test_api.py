"""The letters API (DESIGN §8, §12): a student asks an attending of a completed rotation
for a letter; the attending accepts or declines; the student gets the attending's
address for MyERAS on acceptance (or once the LOR fee is paid), attaches the ERAS Letter
ID, and the attending marks the letter uploaded. Every refusal is a clear 4xx with
nothing saved; a letter is seen only by its student, its attending and the
organization's admins (404 for anyone else, as for an id that does not exist); the
list costs a fixed number of queries however many letters it shows."""

from decimal import Decimal

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from lor import seasons, services
from lor.models import Letter
from notifications.models import OutboundEmail
from payments.models import Installment, Invoice
from tests import factories
from tests.conftest import host_of

pytestmark = pytest.mark.django_db

LETTERS = "/api/v1/letters"
NO_SUCH_ID = 987_654_321
NOT_A_MEMBER = {"detail": "You are not a member of this organization.", "code": "not_found"}


def today():
    return timezone.localdate()


def open_season() -> int:
    return seasons.default_season(today())


def letter_path(letter, action: str = "") -> str:
    pk = getattr(letter, "pk", letter)
    return f"{LETTERS}/{pk}/{action}" if action else f"{LETTERS}/{pk}"


def writer_of(members: dict, **fields):
    """The organization's attending (``world``'s membership) with a profile that writes
    letters."""
    with scopes_disabled():
        return factories.AttendingProfileFactory(
            organization=members["org"], membership=members["attending"], **fields
        )


@pytest.fixture
def lor_world(world):
    """In both organizations: the attending's profile and a rotation the student
    completed with them (its evaluation written)."""
    with scopes_disabled():
        for members in world.values():
            members["writer"] = writer_of(members)
            members["rotation"] = factories.completed_rotation(
                attending=members["writer"], student=members["student"]
            )
    return world


@pytest.fixture
def demo_lor(lor_world):
    return lor_world["demo"]


@pytest.fixture
def northside_lor(lor_world):
    return lor_world["northside"]


def ask(members: dict, attending=None, **fields) -> Letter:
    """A letter requested through the service, as the request call would."""
    attending = attending or members["writer"]
    student = fields.pop("student", members["student"])
    with scope(organization=members["org"]):
        return services.request_letter(
            student,
            attending,
            specialty=fields.pop("specialty", "internal_medicine"),
            season=fields.pop("season", open_season()),
            message=fields.pop("message", "Thank you for the rotation."),
        )


def accepted(members: dict, **fields) -> Letter:
    letter = ask(members, **fields)
    with scope(organization=members["org"]):
        return services.accept_letter(letter, by=letter.attending.membership)


def request_body(writer, **overrides) -> dict:
    body = {
        "attending": writer.pk,
        "specialty": "internal_medicine",
        "season": open_season(),
        "message": "Could you write me a letter for Internal Medicine?",
    }
    body.update(overrides)
    return body


def reload(letter) -> Letter:
    with scopes_disabled():
        return Letter.objects.get(pk=letter.pk)


def everything() -> dict:
    """Every row the letter calls could write, to show that a refusal wrote nothing."""
    with scopes_disabled():
        return {
            "letters": sorted(
                Letter.objects.values_list(
                    "pk",
                    "status",
                    "decided_at",
                    "decline_reason",
                    "released_at",
                    "eras_letter_id",
                    "uploaded_at",
                    "invoice_id",
                    "next_reminder_on",
                )
            ),
            "invoices": Invoice.objects.count(),
            "emails": OutboundEmail.objects.count(),
        }


def refused(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code, body
    assert body["detail"]
    return body


def secrets_of(writer) -> list[bytes]:
    """The attending's addresses: the MyERAS one and their account's login email."""
    return [services.writer_address(writer).encode(), writer.membership.user.email.encode()]


# --- The whole path -----------------------------------------------------------------------


def test_a_letter_goes_from_request_to_upload_over_the_api(demo_lor, api):
    student, writer = api(demo_lor["student"]), api(demo_lor["attending"])
    address = services.writer_address(demo_lor["writer"])

    created = student.post(LETTERS, request_body(demo_lor["writer"]))
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "requested"
    assert body["student"] == {"id": demo_lor["student"].pk, "name": body["student"]["name"]}
    assert body["attending"] == {
        "id": demo_lor["writer"].pk,
        "name": demo_lor["writer"].display_name,
    }
    assert body["rotation"]["id"] == demo_lor["rotation"].pk
    assert body["rotation"]["title"] == "Clerkship"
    assert body["season"] == open_season()
    assert body["target_date"] == seasons.target_date(open_season()).isoformat()
    assert body["days_left"] == seasons.days_left(seasons.target_date(open_season()), today())
    assert body["fee"] == "0.00"
    assert body["writer_email"] is None
    assert body["email_released"] is False
    path = letter_path(body["id"])

    # The attending sees the request with the student's evaluation while deciding.
    owed = writer.get(LETTERS).json()["results"]
    assert [row["id"] for row in owed] == [body["id"]]
    assert owed[0]["evaluation"]["clinical_skills"] == 5
    assert owed[0]["evaluation"]["activities"].startswith("Took histories")
    assert owed[0]["writer_email"] == address

    accept = writer.post(f"{path}/accept")
    assert accept.status_code == 200, accept.content
    assert accept.json()["status"] == "accepted"

    seen = student.get(path).json()
    assert seen["writer_email"] == address
    assert seen["email_released"] is True
    with scopes_disabled():
        assert OutboundEmail.objects.filter(
            recipient=demo_lor["student"].user.email, template="letter_email_released"
        ).exists()

    attached = student.post(f"{path}/letter-id", {"letter_id": "  L2028-AB12CD  "})
    assert attached.status_code == 200, attached.content
    assert attached.json()["eras_letter_id"] == "L2028-AB12CD"
    assert writer.get(path).json()["eras_letter_id"] == "L2028-AB12CD"

    uploaded = writer.post(f"{path}/uploaded")
    assert uploaded.status_code == 200, uploaded.content
    assert uploaded.json()["status"] == "uploaded"

    letter = reload(Letter(pk=body["id"]))
    assert letter.status == "uploaded"
    assert letter.student_id == demo_lor["student"].pk
    assert letter.attending_id == demo_lor["writer"].pk
    assert letter.rotation_id == demo_lor["rotation"].pk
    assert letter.message == "Could you write me a letter for Internal Medicine?"
    assert letter.eras_letter_id == "L2028-AB12CD"
    assert letter.decided_at and letter.released_at and letter.uploaded_at
    assert letter.next_reminder_on is None


def test_the_attending_declines_with_a_reason_the_student_reads(demo_lor, api):
    letter = ask(demo_lor)

    declined = api(demo_lor["attending"]).post(
        letter_path(letter, "decline"), {"reason": "I only write for family medicine."}
    )

    assert declined.status_code == 200, declined.content
    seen = api(demo_lor["student"]).get(letter_path(letter)).json()
    assert seen["status"] == "declined"
    assert seen["decline_reason"] == "I only write for family medicine."
    assert seen["writer_email"] is None
    assert reload(letter).status == "declined"


# --- The attending's address ------------------------------------------------------------


def test_the_student_sees_no_address_of_the_attending_before_acceptance(demo_lor, api):
    student = api(demo_lor["student"])
    answers = [student.post(LETTERS, request_body(demo_lor["writer"]))]
    letter_id = answers[0].json()["id"]
    answers += [
        student.get(LETTERS),
        student.get(LETTERS, {"status": "requested"}),
        student.get(letter_path(letter_id)),
    ]

    for response in answers:
        assert response.status_code in (200, 201), response.content
        for secret in secrets_of(demo_lor["writer"]):
            assert secret not in response.content
    # The admins and the attending see it, so the address is in the letter's data.
    admin_view = api(demo_lor["admin"]).get(letter_path(letter_id)).json()
    assert admin_view["writer_email"] == services.writer_address(demo_lor["writer"])


def test_with_a_fee_the_address_is_released_only_once_the_invoice_is_paid(world, api):
    members = world["demo"]
    with scopes_disabled():
        members["writer"] = writer_of(members, lor_fee=Decimal("50.00"))
        factories.completed_rotation(
            attending=members["writer"], student=members["student"], payment_method="zelle"
        )
    student = api(members["student"])
    created = student.post(LETTERS, request_body(members["writer"]))
    assert created.status_code == 201, created.content
    assert created.json()["fee"] == "50.00"
    path = letter_path(created.json()["id"])

    assert api(members["attending"]).post(f"{path}/accept").status_code == 200

    before_payment = student.get(path)
    body = before_payment.json()
    assert body["status"] == "accepted"
    assert body["email_released"] is False
    assert body["writer_email"] is None
    assert body["invoice"]["status"] == "issued"
    for response in (before_payment, student.get(LETTERS)):
        for secret in secrets_of(members["writer"]):
            assert secret not in response.content
    with scopes_disabled():
        installment = Installment.objects.get(invoice_id=body["invoice"]["id"])
        assert OutboundEmail.objects.filter(template="letter_email_released").count() == 0
    # The attending sees the letter but not the student's invoice.
    assert api(members["attending"]).get(path).json()["invoice"] is None

    paid = api(members["admin"]).post(
        f"/api/v1/installments/{installment.pk}/record-payment",
        {"amount": "50.00", "received_on": today().isoformat(), "reference": "ZELLE-LOR-1"},
    )
    assert paid.status_code == 201, paid.content

    after_payment = student.get(path).json()
    assert after_payment["writer_email"] == services.writer_address(members["writer"])
    assert after_payment["email_released"] is True
    assert after_payment["invoice"]["status"] == "paid"


# --- Refusals: nothing saved --------------------------------------------------------------


@pytest.mark.parametrize("rotation_status", [None, "requested", "in_progress"])
def test_no_letter_without_a_completed_rotation_with_that_attending(demo_lor, api, rotation_status):
    with scopes_disabled():
        stranger = factories.AttendingProfileFactory(organization=demo_lor["org"])
        if rotation_status:
            factories.RotationFactory(
                attending=stranger, student=demo_lor["student"], status=rotation_status
            )
    before = everything()

    response = api(demo_lor["student"]).post(LETTERS, request_body(stranger))

    refused(response, 409, "no_completed_rotation")
    assert everything() == before


def test_one_open_request_per_attending_and_a_new_one_after_a_decline(demo_lor, api):
    first = ask(demo_lor)
    student = api(demo_lor["student"])
    before = everything()

    refused(
        student.post(LETTERS, request_body(demo_lor["writer"])), 409, "letter_already_requested"
    )
    assert everything() == before

    with scope(organization=demo_lor["org"]):
        services.decline_letter(first, by=demo_lor["attending"])
    again = student.post(LETTERS, request_body(demo_lor["writer"]))
    assert again.status_code == 201, again.content
    assert again.json()["id"] != first.pk


def test_an_attending_who_writes_no_letters_is_not_asked(demo_lor, api):
    with scopes_disabled():
        demo_lor["writer"].writes_lors = False
        demo_lor["writer"].save(update_fields=["writes_lors"])
    before = everything()

    response = api(demo_lor["student"]).post(LETTERS, request_body(demo_lor["writer"]))

    refused(response, 409, "does_not_write_letters")
    assert everything() == before


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"season": 2020}, "season_not_open"),
        ({"season": "next year"}, "invalid"),
        ({"specialty": "astrology"}, "invalid"),
        ({"attending": "someone"}, "invalid"),
        ({"message": "x" * 4001}, "invalid"),
    ],
    ids=["past-season", "season-not-a-year", "unknown-specialty", "attending-not-an-id", "long"],
)
def test_bad_request_fields_are_refused(demo_lor, api, overrides, code):
    before = everything()

    response = api(demo_lor["student"]).post(LETTERS, request_body(demo_lor["writer"], **overrides))

    body = refused(response, 400, code)
    assert set(body["errors"]) == set(overrides)
    assert everything() == before


def test_a_season_that_is_not_open_names_the_open_ones(demo_lor, api):
    last_open = seasons.open_seasons(today())[-1]

    body = refused(
        api(demo_lor["student"]).post(
            LETTERS, request_body(demo_lor["writer"], season=last_open + 1)
        ),
        400,
        "season_not_open",
    )
    assert str(last_open) in body["detail"]
    with scopes_disabled():
        assert not Letter.objects.exists()


@pytest.mark.parametrize("missing", ["attending", "specialty", "season"])
def test_missing_fields_are_refused(demo_lor, api, missing):
    body = request_body(demo_lor["writer"])
    del body[missing]

    response = api(demo_lor["student"]).post(LETTERS, body)

    assert refused(response, 400, "invalid")["errors"] == {missing: ["This field is required."]}
    with scopes_disabled():
        assert not Letter.objects.exists()


def test_an_attending_of_another_organization_or_none_is_not_found(demo_lor, northside_lor, api):
    student = api(demo_lor["student"])
    before = everything()

    theirs = student.post(LETTERS, request_body(northside_lor["writer"]))
    missing = student.post(LETTERS, request_body(northside_lor["writer"], attending=NO_SUCH_ID))

    assert refused(theirs, 404, "no_such_attending")["detail"] == (
        "No such attending in this organization."
    )
    assert theirs.json() == missing.json()
    assert everything() == before


@pytest.mark.parametrize("role", ["attending", "admin"])
def test_only_students_request_letters(demo_lor, api, role):
    before = everything()

    response = api(demo_lor[role]).post(LETTERS, request_body(demo_lor["writer"]))

    refused(response, 403, "permission_denied")
    assert everything() == before


@pytest.mark.parametrize("letter_id", ["", "   "], ids=["empty", "spaces"])
def test_an_empty_letter_id_is_refused(demo_lor, api, letter_id):
    letter = accepted(demo_lor)
    before = everything()

    response = api(demo_lor["student"]).post(
        letter_path(letter, "letter-id"), {"letter_id": letter_id}
    )

    refused(response, 400, "letter_id_required")
    assert everything() == before
    assert reload(letter).eras_letter_id == ""


def test_a_malformed_or_missing_letter_id_is_refused(demo_lor, api):
    letter = accepted(demo_lor)
    student = api(demo_lor["student"])
    before = everything()

    refused(
        student.post(letter_path(letter, "letter-id"), {"letter_id": "a b"}),
        400,
        "letter_id_invalid",
    )
    refused(student.post(letter_path(letter, "letter-id"), {}), 400, "invalid")
    assert everything() == before


def test_a_letter_id_already_on_another_letter_here_is_refused(demo_lor, northside_lor, api):
    with scopes_disabled():
        classmate = factories.StudentFactory(organization=demo_lor["org"])
        factories.completed_rotation(attending=demo_lor["writer"], student=classmate)
    theirs = accepted(demo_lor, student=classmate)
    with scope(organization=demo_lor["org"]):
        services.attach_letter_id(theirs, by=classmate, letter_id="L2028-TAKEN1")
    mine = accepted(demo_lor)
    student = api(demo_lor["student"])
    before = everything()

    response = student.post(letter_path(mine, "letter-id"), {"letter_id": "l2028-taken1"})

    refused(response, 409, "letter_id_in_use")
    assert everything() == before
    # Another organization's letters do not count: Letter IDs are unique per organization.
    northside_letter = accepted(northside_lor)
    elsewhere = api(northside_lor["student"]).post(
        letter_path(northside_letter, "letter-id"), {"letter_id": "L2028-TAKEN1"}
    )
    assert elsewhere.status_code == 200, elsewhere.content


def test_a_letter_id_before_acceptance_is_refused(demo_lor, api):
    letter = ask(demo_lor)
    before = everything()

    response = api(demo_lor["student"]).post(
        letter_path(letter, "letter-id"), {"letter_id": "L2028-AB12CD"}
    )

    refused(response, 409, "wrong_status")
    assert everything() == before


@pytest.mark.parametrize("action", ["accept", "decline", "uploaded"])
@pytest.mark.parametrize("role", ["student", "admin"])
def test_only_the_attending_decides_and_marks_uploaded(demo_lor, api, action, role):
    letter = ask(demo_lor) if action != "uploaded" else accepted(demo_lor)
    before = everything()

    response = api(demo_lor[role]).post(letter_path(letter, action))

    refused(response, 403, "not_allowed")
    assert everything() == before


def test_only_the_student_attaches_the_letter_id(demo_lor, api):
    letter = accepted(demo_lor)
    before = everything()

    for role in ("attending", "admin"):
        response = api(demo_lor[role]).post(
            letter_path(letter, "letter-id"), {"letter_id": "L2028-AB12CD"}
        )
        refused(response, 403, "not_allowed")
    assert everything() == before


@pytest.mark.parametrize(
    ("state", "action"),
    [
        ("requested", "uploaded"),
        ("accepted", "accept"),
        ("accepted", "decline"),
        ("declined", "accept"),
        ("uploaded", "uploaded"),
    ],
)
def test_a_transition_from_the_wrong_state_is_a_conflict(demo_lor, api, state, action):
    letter = ask(demo_lor)
    with scope(organization=demo_lor["org"]):
        if state in ("accepted", "uploaded"):
            letter = services.accept_letter(letter, by=demo_lor["attending"])
        if state == "uploaded":
            letter = services.mark_uploaded(letter, by=demo_lor["attending"])
        if state == "declined":
            letter = services.decline_letter(letter, by=demo_lor["attending"])
    before = everything()

    response = api(demo_lor["attending"]).post(letter_path(letter, action))

    refused(response, 409, "wrong_status")
    assert everything() == before
    assert reload(letter).status == state


def test_a_bad_status_filter_is_refused(demo_lor, api):
    response = api(demo_lor["student"]).get(LETTERS, {"status": "lost"})

    assert refused(response, 400, "invalid")["errors"].keys() == {"status"}


# --- Who sees a letter --------------------------------------------------------------------


ACTIONS = [
    ("accept", None),
    ("decline", {"reason": "No."}),
    ("letter-id", {"letter_id": "L2028-AB12CD"}),
    ("uploaded", None),
]


def test_each_role_lists_its_own_letters(demo_lor, northside_lor, api):
    mine = ask(demo_lor)
    ask(northside_lor)
    with scopes_disabled():
        classmate = factories.StudentFactory(organization=demo_lor["org"])
        other_writer = factories.AttendingProfileFactory(organization=demo_lor["org"])
        factories.completed_rotation(attending=other_writer, student=classmate)
    theirs = ask(demo_lor, attending=other_writer, student=classmate)

    def listed(member):
        return [row["id"] for row in api(member).get(LETTERS).json()["results"]]

    assert listed(demo_lor["student"]) == [mine.pk]
    assert listed(demo_lor["attending"]) == [mine.pk]
    assert listed(classmate) == [theirs.pk]
    assert listed(other_writer.membership) == [theirs.pk]
    assert listed(demo_lor["admin"]) == [theirs.pk, mine.pk]  # newest first


def test_the_attending_sees_open_letters_first_soonest_target_first(demo_lor, api):
    first, second, third = seasons.open_seasons(today())
    with scopes_disabled():
        letters = {}
        for name, season, status in (
            ("late_open", third, "accepted"),
            ("soon_closed", first, "uploaded"),
            ("soon_open", first, "requested"),
            ("middle_open", second, "requested"),
        ):
            student = factories.StudentFactory(organization=demo_lor["org"])
            rotation = factories.completed_rotation(attending=demo_lor["writer"], student=student)
            letters[name] = factories.LetterFactory(
                rotation=rotation,
                season=season,
                status=status,
                target_on=seasons.target_date(season),
            )

    rows = api(demo_lor["attending"]).get(LETTERS).json()["results"]
    only_open = api(demo_lor["attending"]).get(LETTERS, {"status": "requested"}).json()

    order = ["soon_open", "middle_open", "late_open", "soon_closed"]
    assert [row["id"] for row in rows] == [letters[name].pk for name in order]
    assert [row["id"] for row in only_open["results"]] == [
        letters["soon_open"].pk,
        letters["middle_open"].pk,
    ]


def test_another_attending_or_student_of_the_organization_cannot_see_or_act(demo_lor, api):
    letter = accepted(demo_lor)
    with scopes_disabled():
        other_writer = factories.AttendingProfileFactory(organization=demo_lor["org"])
        classmate = factories.StudentFactory(organization=demo_lor["org"])
    before = everything()

    for member in (other_writer.membership, classmate):
        client = api(member)
        assert client.get(letter_path(letter)).status_code == 404
        for action, body in ACTIONS:
            response = client.post(letter_path(letter, action), body)
            assert response.status_code == 404, (action, response.content)
            assert response.json() == client.post(letter_path(NO_SUCH_ID, action), body).json()
    assert everything() == before


@pytest.mark.parametrize("role", ["student", "attending", "admin"])
def test_another_organizations_letter_is_not_found(demo_lor, northside_lor, api, role):
    theirs = accepted(northside_lor)
    client = api(demo_lor[role])  # on demo.localhost
    before = everything()

    shown = client.get(letter_path(theirs))
    assert shown.status_code == 404
    assert shown.json() == client.get(letter_path(NO_SUCH_ID)).json()
    for action, body in ACTIONS:
        response = client.post(letter_path(theirs, action), body)
        assert response.status_code == 404, (action, response.content)
        assert response.json() == client.post(letter_path(NO_SUCH_ID, action), body).json()
        for secret in secrets_of(northside_lor["writer"]):
            assert secret not in response.content
    assert theirs.pk not in [row["id"] for row in client.get(LETTERS).json()["results"]]
    assert everything() == before


@pytest.mark.parametrize("role", ["student", "attending", "admin"])
def test_a_demo_member_on_the_northside_host_is_turned_away(demo_lor, northside_lor, api, role):
    theirs = ask(northside_lor)
    client = api(demo_lor[role], host=host_of(northside_lor["org"]))
    before = everything()

    calls = [
        client.get(LETTERS),
        client.get(letter_path(theirs)),
        client.post(LETTERS, request_body(northside_lor["writer"])),
        *(client.post(letter_path(theirs, action), body) for action, body in ACTIONS),
    ]

    for response in calls:
        assert response.status_code == 404
        assert response.json() == NOT_A_MEMBER
    assert everything() == before


# --- Queries ------------------------------------------------------------------------------


def add_letters(members: dict, count: int) -> None:
    """``count`` closed letters (uploaded or declined) between the organization's
    student and attending, half of them with a paid fee's invoice."""
    with scopes_disabled():
        for number in range(count):
            rotation = factories.completed_rotation(
                attending=members["writer"], student=members["student"]
            )
            invoice = None
            if number % 2:
                invoice = factories.InvoiceFactory(rotation=rotation, kind="lor_fee", status="paid")
            factories.LetterFactory(
                rotation=rotation,
                status=("declined", "uploaded")[number % 2],
                invoice=invoice,
                fee=Decimal("50.00") if invoice else Decimal("0"),
                released_at=timezone.now() if number % 2 else None,
            )


@pytest.mark.parametrize("role", ["student", "attending", "admin"])
def test_the_list_runs_a_fixed_number_of_queries(
    demo_lor, northside_lor, api, role, django_assert_max_num_queries
):
    client = api(demo_lor[role])
    add_letters(demo_lor, 1)
    add_letters(northside_lor, 3)
    with django_assert_max_num_queries(8) as few:
        assert len(client.get(LETTERS).json()["results"]) == 1

    add_letters(demo_lor, 29)
    with django_assert_max_num_queries(8) as many:
        rows = client.get(LETTERS).json()["results"]
    assert len(rows) == 30
    assert all(row["evaluation"] for row in rows)
    assert len(many.captured_queries) == len(few.captured_queries)
