"""Letters in the browser (DESIGN §8, issue 9): the student's "My letters", the letters an
attending owes, the admins' table, the request form, one letter's page with its
actions, the dashboards and the rotation page's panel. Forms work without JavaScript;
a refusal is shown next to its field with its status and saves nothing. The attending's
address reaches no student page before release; every page costs a fixed number of
queries."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from lor import seasons, services
from lor.models import Letter, LetterStatus
from payments.models import Installment
from payments.settlement import mark_installment_paid
from tests import factories

pytestmark = pytest.mark.django_db


def today():
    return timezone.localdate()


@pytest.fixture
def writer(demo):
    """The demo attending's profile: writes letters, no fee; private address
    ``private.<their email>``."""
    with scopes_disabled():
        return factories.AttendingProfileFactory(
            organization=demo["org"], membership=demo["attending"], display_name="Dr. Elena Rivera"
        )


@pytest.fixture
def rotation(demo, writer):
    """The demo student's completed rotation with the writer."""
    with scopes_disabled():
        return factories.completed_rotation(
            organization=demo["org"], student=demo["student"], attending=writer
        )


@pytest.fixture
def northside_letter(northside):
    """Another tenant's letter, so a missing filter shows up in demo's pages."""
    with scopes_disabled():
        rotation = factories.completed_rotation(
            organization=northside["org"], student=northside["student"]
        )
        return factories.LetterFactory(rotation=rotation, message="Northside secret message")


def address(attending) -> str:
    with scopes_disabled():
        return services.writer_address(attending)


def ask(student, attending, **fields) -> Letter:
    fields.setdefault("specialty", "internal_medicine")
    fields.setdefault("season", seasons.default_season(today()))
    with scope(organization=student.organization_id):
        return services.request_letter(student, attending, **fields)


def accept(letter: Letter) -> Letter:
    with scope(organization=letter.organization_id):
        return services.accept_letter(letter, by=letter.attending.membership)


def letter_of(student, **kwargs) -> Letter:
    """A letter from a new completed rotation of ``student`` with a new attending."""
    with scopes_disabled():
        rotation = factories.completed_rotation(
            organization=student.organization, student=student, **kwargs
        )
        return factories.LetterFactory(rotation=rotation)


def count_letters() -> int:
    with scopes_disabled():
        return Letter.objects.count()


def html(response) -> str:
    return response.content.decode()


# --- /letters/: the list for each role ------------------------------------------------------


def test_the_student_sees_each_letter_with_its_state_writer_rotation_and_days_left(
    demo, rotation, writer, northside_letter, client_for
):
    letter = ask(demo["student"], writer, message="Please mention my presentations.")
    older = letter_of(demo["student"])
    with scopes_disabled():
        older.status = LetterStatus.UPLOADED
        older.requested_at = timezone.now() - timezone.timedelta(days=30)
        older.save()
        someone_else = letter_of(factories.StudentFactory(organization=demo["org"]))
    response = client_for(demo["student"]).get("/letters/")
    assert response.status_code == 200
    page = html(response)
    assert "My letters" in page
    assert f'data-testid="letter-{letter.pk}"' in page
    assert f'data-testid="letter-{older.pk}"' in page
    assert page.index(f"letter-{letter.pk}") < page.index(f"letter-{older.pk}")  # newest first
    assert "Dr. Elena Rivera" in page
    assert f"/rotations/{rotation.pk}/" in page
    assert "Internal medicine" in page
    assert seasons.season_label(letter.season) in page
    assert seasons.days_left_words(letter.target_on, today()) in page
    assert ">Requested<" in page and ">Uploaded<" in page
    assert 'href="/letters/request/"' in page  # they have a letter writer
    assert f"letter-{someone_else.pk}" not in page
    assert f"letter-{northside_letter.pk}" not in page


def test_a_student_without_a_completed_rotation_is_told_where_letters_come_from(demo, client_for):
    page = html(client_for(demo["student"]).get("/letters/"))
    assert 'data-testid="letters-explained"' in page
    assert "Letters come from completed rotations" in page
    assert 'href="/letters/request/"' not in page


def test_the_attending_sees_the_letters_they_owe_open_first_soonest_target_first(
    demo, writer, northside_letter, client_for
):
    def owed(season, status="requested"):
        with scopes_disabled():
            rotation = factories.completed_rotation(organization=demo["org"], attending=writer)
            return factories.LetterFactory(
                rotation=rotation, season=season, status=status, eras_letter_id=""
            )

    later = owed(2029)
    done = owed(2027, status="uploaded")
    soonest = owed(2028, status="accepted")
    with scopes_disabled():
        soonest.eras_letter_id = "ABCD1234"
        soonest.released_at = timezone.now()
        soonest.save()
        not_theirs = letter_of(demo["student"])
    response = client_for(demo["attending"]).get("/letters/")
    assert response.status_code == 200
    page = html(response)
    assert "Letters you owe" in page
    positions = [page.index(f'data-testid="letter-{x.pk}"') for x in (soonest, later, done)]
    assert positions == sorted(positions)
    assert "Accept or decline" in page
    assert "ABCD1234" in page  # the Letter ID, for the ERAS portal
    assert f"letter-{not_theirs.pk}" not in page
    assert f"letter-{northside_letter.pk}" not in page


def test_admins_see_every_letter_of_their_organization_only(
    demo, writer, rotation, northside_letter, client_for
):
    mine = ask(demo["student"], writer)
    other = letter_of(factories.StudentFactory(organization=demo["org"]))
    response = client_for(demo["admin"]).get("/letters/")
    assert response.status_code == 200
    page = html(response)
    assert f"letter-{mine.pk}" in page and f"letter-{other.pk}" in page
    assert f"letter-{northside_letter.pk}" not in page
    assert "<form" not in page.split("<main", 1)[1].split("</main>")[0]  # read-only


def test_the_letters_page_asks_strangers_to_sign_in(demo, client_for):
    response = client_for(None, host="demo.localhost").get("/letters/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- One letter: who sees it ------------------------------------------------------------------


@pytest.mark.parametrize("role", ["student", "attending", "admin"])
def test_the_letter_page_shows_the_letter_to_its_student_attending_and_admins(
    demo, writer, rotation, client_for, role
):
    letter = ask(demo["student"], writer, message="Please mention my case presentations.")
    response = client_for(demo[role]).get(f"/letters/{letter.pk}/")
    assert response.status_code == 200
    page = html(response)
    assert ">Requested<" in page
    assert "Please mention my case presentations." in page
    assert seasons.season_label(letter.season) in page
    assert f"{letter.target_on:%B} {letter.target_on.day}, {letter.target_on.year}" in page
    assert seasons.days_left_words(letter.target_on, today()) in page
    assert f"/rotations/{rotation.pk}/" in page


def test_nobody_else_sees_a_letter_and_another_tenant_gets_404(
    demo, northside, writer, rotation, northside_letter, client_for
):
    letter = ask(demo["student"], writer)
    with scopes_disabled():
        other_student = factories.StudentFactory(organization=demo["org"])
        other_attending = factories.AttendingProfileFactory(organization=demo["org"]).membership
    for member in (other_student, other_attending):
        assert client_for(member).get(f"/letters/{letter.pk}/").status_code == 404
    # Another organization's letter id, on this organization's host: 404.
    assert client_for(demo["admin"]).get(f"/letters/{northside_letter.pk}/").status_code == 404
    assert client_for(demo["student"]).get(f"/letters/{northside_letter.pk}/").status_code == 404
    # This organization's letter asked from the other organization's host: 404.
    assert client_for(northside["admin"]).get(f"/letters/{letter.pk}/").status_code == 404
    # And its actions.
    response = client_for(northside["attending"]).post(f"/letters/{letter.pk}/accept/")
    assert response.status_code == 404
    with scopes_disabled():
        assert Letter.objects.get(pk=letter.pk).status == LetterStatus.REQUESTED


def test_the_attending_sees_the_students_evaluation_while_deciding(
    demo, writer, rotation, client_for
):
    letter = ask(demo["student"], writer)
    page = html(client_for(demo["attending"]).get(f"/letters/{letter.pk}/"))
    assert 'data-testid="letter-evaluation"' in page
    assert "Reliable, kind with patients, presents clearly." in page
    assert "Took histories, presented on rounds, wrote daily notes." in page
    assert "Clinical skills" in page and "5 out of 5" in page
    assert f'action="/letters/{letter.pk}/accept/"' in page
    assert f'action="/letters/{letter.pk}/decline/"' in page
    # The student sees neither the decision forms nor the evaluation here.
    page = html(client_for(demo["student"]).get(f"/letters/{letter.pk}/"))
    assert "accept/" not in page and 'data-testid="letter-evaluation"' not in page


# --- Requesting through the form ---------------------------------------------------------------


def test_the_request_form_offers_the_students_letter_writers_with_their_fee(
    demo, writer, rotation, client_for
):
    with scopes_disabled():
        paid = factories.AttendingProfileFactory(
            organization=demo["org"], display_name="Dr. Fee Taker", lor_fee=Decimal("50")
        )
        factories.completed_rotation(
            organization=demo["org"], student=demo["student"], attending=paid
        )
        stranger = factories.AttendingProfileFactory(
            organization=demo["org"], display_name="Dr. Never Met"
        )
    client = client_for(demo["student"])
    page = html(client.get("/letters/request/"))
    assert "Dr. Elena Rivera (no fee)" in page
    assert "Dr. Fee Taker ($50.00 fee)" in page
    assert "Dr. Never Met" not in page
    assert (
        "$50.00, invoiced when the letter is accepted; you get the email address once it is paid"
        in page
    )
    for season in seasons.open_seasons(today()):
        assert seasons.season_label(season) in page
    default = seasons.default_season(today())
    assert f'<option value="{default}" selected>' in page
    # ?attending= preselects, and says that writer's fee up front.
    page = html(client.get(f"/letters/request/?attending={paid.pk}"))
    assert f'<option value="{paid.pk}" selected>' in page
    assert 'data-testid="letter-fee"' in page
    assert "$50.00, invoiced when the letter is accepted" in page
    page = html(client.get(f"/letters/request/?attending={writer.pk}"))
    assert "fee:</strong> no fee" in page
    assert f'value="{stranger.pk}"' not in page


def test_the_student_requests_a_letter_through_the_form(demo, writer, rotation, client_for):
    season = seasons.default_season(today())
    response = client_for(demo["student"]).post(
        "/letters/request/",
        {
            "attending": writer.pk,
            "specialty": "family_medicine",
            "season": season,
            "message": "I would be grateful.",
        },
        follow=True,
    )
    with scopes_disabled():
        letter = Letter.objects.get()
    assert response.redirect_chain[-1][0] == f"/letters/{letter.pk}/"
    assert "Your request is on its way to Dr. Elena Rivera" in html(response)
    assert (letter.student, letter.attending, letter.rotation) == (
        demo["student"],
        writer,
        rotation,
    )
    assert (letter.specialty, letter.season, letter.message) == (
        "family_medicine",
        season,
        "I would be grateful.",
    )


def test_only_students_request_letters(demo, writer, client_for):
    for role in ("attending", "admin"):
        assert client_for(demo[role]).get("/letters/request/").status_code == 403


def request_form(writer, **overrides):
    return {
        "attending": writer.pk,
        "specialty": "internal_medicine",
        "season": seasons.default_season(today()),
        "message": "",
        **overrides,
    }


def test_a_request_without_a_completed_rotation_is_refused_next_to_the_attending(
    demo, writer, client_for
):
    response = client_for(demo["student"]).post("/letters/request/", request_form(writer))
    assert response.status_code == 409
    page = html(response)
    assert (
        "You can ask for a letter only from an attending with whom you completed a rotation" in page
    )
    assert 'id="id_attending_error"' in page  # next to its field
    assert count_letters() == 0


def test_a_second_open_request_is_refused_and_nothing_is_saved(demo, writer, rotation, client_for):
    ask(demo["student"], writer)
    response = client_for(demo["student"]).post(
        "/letters/request/", request_form(writer, specialty="pediatrics")
    )
    assert response.status_code == 409
    page = html(response)
    assert "You already have an open letter request with Dr. Elena Rivera" in page
    assert 'id="id_attending_error"' in page
    assert 'value="pediatrics" selected' in page  # what they typed stays in view
    assert count_letters() == 1


def test_a_season_not_open_is_refused_next_to_the_season(demo, writer, rotation, client_for):
    response = client_for(demo["student"]).post(
        "/letters/request/", request_form(writer, season=2001)
    )
    assert response.status_code == 400
    assert 'id="id_season_error"' in html(response)
    assert count_letters() == 0


# --- The actions ------------------------------------------------------------------------------


def test_the_attending_accepts_and_the_student_then_sees_the_address(
    demo, writer, rotation, client_for
):
    letter = ask(demo["student"], writer)
    response = client_for(demo["attending"]).post(f"/letters/{letter.pk}/accept/", follow=True)
    assert response.redirect_chain[-1][0] == f"/letters/{letter.pk}/"
    assert "Accepted." in html(response)
    page = html(client_for(demo["student"]).get(f"/letters/{letter.pk}/"))
    assert "Enter this address for the letter author in MyERAS" in page
    assert address(writer) in page
    assert f'action="/letters/{letter.pk}/letter-id/"' in page


def test_the_attending_declines_with_a_reason_the_student_reads(demo, writer, rotation, client_for):
    letter = ask(demo["student"], writer)
    response = client_for(demo["attending"]).post(
        f"/letters/{letter.pk}/decline/", {"decline-reason": "I am away this season."}
    )
    assert response.status_code == 302
    with scopes_disabled():
        letter.refresh_from_db()
    assert letter.status == LetterStatus.DECLINED
    page = html(client_for(demo["student"]).get(f"/letters/{letter.pk}/"))
    assert "I am away this season." in page
    assert address(writer) not in page


def test_the_student_cannot_accept_their_own_request(demo, writer, rotation, client_for):
    letter = ask(demo["student"], writer)
    response = client_for(demo["student"]).post(f"/letters/{letter.pk}/accept/")
    assert response.status_code == 403
    assert "Only the letter&#x27;s writer can accept it." in html(response)
    with scopes_disabled():
        letter.refresh_from_db()
    assert letter.status == LetterStatus.REQUESTED and letter.released_at is None


def test_the_actions_are_post_only(demo, writer, rotation, client_for):
    letter = ask(demo["student"], writer)
    for action in ("accept", "decline", "letter-id", "uploaded"):
        assert (
            client_for(demo["attending"]).get(f"/letters/{letter.pk}/{action}/").status_code == 405
        )


def test_accepting_twice_says_it_is_already_accepted(demo, writer, rotation, client_for):
    letter = accept(ask(demo["student"], writer))
    response = client_for(demo["attending"]).post(f"/letters/{letter.pk}/accept/")
    assert response.status_code == 409
    assert "This letter is accepted; you cannot accept it." in html(response)


def test_the_student_attaches_the_letter_id_and_the_attending_marks_it_uploaded(
    demo, writer, rotation, client_for
):
    letter = accept(ask(demo["student"], writer))
    response = client_for(demo["student"]).post(
        f"/letters/{letter.pk}/letter-id/", {"letter_id": "  LOR-20271234 "}, follow=True
    )
    assert "Letter ID LOR-20271234 saved" in html(response)
    page = html(client_for(demo["attending"]).get(f"/letters/{letter.pk}/"))
    assert "LOR-20271234" in page
    assert f'action="/letters/{letter.pk}/uploaded/"' in page
    assert "LOR-20271234" in html(client_for(demo["attending"]).get("/letters/"))
    response = client_for(demo["attending"]).post(f"/letters/{letter.pk}/uploaded/", follow=True)
    assert "Marked uploaded." in html(response)
    page = html(client_for(demo["student"]).get(f"/letters/{letter.pk}/"))
    assert 'data-testid="letter-status">Uploaded<' in page


def test_an_empty_letter_id_is_refused_next_to_the_field(demo, writer, rotation, client_for):
    letter = accept(ask(demo["student"], writer))
    response = client_for(demo["student"]).post(
        f"/letters/{letter.pk}/letter-id/", {"letter_id": "  "}
    )
    assert response.status_code == 400
    page = html(response)
    assert "Enter the ERAS Letter ID from your MyERAS Letter Request Form." in page
    assert 'id="id_letter_id_error"' in page
    with scopes_disabled():
        letter.refresh_from_db()
    assert letter.eras_letter_id == "" and letter.letter_id_added_at is None


def test_a_letter_id_on_another_letter_is_refused_and_nothing_changes(
    demo, writer, rotation, client_for
):
    other = letter_of(factories.StudentFactory(organization=demo["org"]))
    with scopes_disabled():
        other.status = LetterStatus.ACCEPTED
        other.eras_letter_id = "TAKEN1234"
        other.save()
    letter = accept(ask(demo["student"], writer))
    response = client_for(demo["student"]).post(
        f"/letters/{letter.pk}/letter-id/", {"letter_id": "TAKEN1234"}
    )
    assert response.status_code == 409
    page = html(response)
    assert "This Letter ID is already attached to another letter." in page
    assert 'value="TAKEN1234"' in page  # kept in view
    with scopes_disabled():
        letter.refresh_from_db()
    assert letter.eras_letter_id == ""


def test_a_refusal_on_a_form_the_member_does_not_see_is_shown_at_the_top(
    demo, writer, rotation, client_for
):
    letter = ask(demo["student"], writer)
    response = client_for(demo["student"]).post(
        f"/letters/{letter.pk}/letter-id/", {"letter_id": "ABCD1234"}
    )
    assert response.status_code == 409
    assert "This letter is requested; you cannot attach a Letter ID to it." in html(response)
    letter = accept(letter)
    response = client_for(demo["attending"]).post(
        f"/letters/{letter.pk}/letter-id/", {"letter_id": "ABCD1234"}
    )
    assert response.status_code == 403
    assert "Only the student who asked for this letter can attach its Letter ID." in html(response)
    with scopes_disabled():
        letter.refresh_from_db()
    assert letter.eras_letter_id == ""


# --- The attending's address: never before release --------------------------------------------


STUDENT_PAGES = (
    "/letters/",
    "/letters/{letter}/",
    "/dashboard/",
    "/rotations/{rotation}/",
    "/letters/request/",
    "/letters/request/?attending={attending}",
)


def assert_hidden(demo, letter, rotation, client_for):
    """No student page shows the writer's address (nor their login email)."""
    client = client_for(demo["student"])
    with scopes_disabled():
        login = letter.attending.membership.user.email
    for template in STUDENT_PAGES:
        path = template.format(
            letter=letter.pk, rotation=rotation.pk, attending=letter.attending_id
        )
        response = client.get(path)
        assert response.status_code == 200, path
        assert address(letter.attending) not in html(response), f"{path} shows the address"
        assert login not in html(response), f"{path} shows the login email"


def test_without_a_fee_the_address_is_hidden_until_acceptance(demo, writer, rotation, client_for):
    letter = ask(demo["student"], writer)
    assert_hidden(demo, letter, rotation, client_for)
    accept(letter)
    page = html(client_for(demo["student"]).get(f"/letters/{letter.pk}/"))
    assert address(writer) in page


def test_with_a_fee_the_address_is_hidden_until_the_fee_is_paid(demo, writer, rotation, client_for):
    with scopes_disabled():
        writer.lor_fee = Decimal("50.00")
        writer.save()
    letter = ask(demo["student"], writer)
    assert_hidden(demo, letter, rotation, client_for)
    letter = accept(letter)
    assert_hidden(demo, letter, rotation, client_for)
    page = html(client_for(demo["student"]).get(f"/letters/{letter.pk}/"))
    assert 'data-testid="letter-fee-due"' in page
    assert "Pay the $50.00 fee to get the address" in page
    assert 'href="/payments/"' in page and f'href="/rotations/{rotation.pk}/"' in page
    with scope(organization=demo["org"]):
        [installment] = Installment.objects.filter(invoice=letter.invoice)
        mark_installment_paid(
            installment, amount=installment.charged, method="paypal", received_on=today()
        )
    page = html(client_for(demo["student"]).get(f"/letters/{letter.pk}/"))
    assert "Enter this address for the letter author in MyERAS" in page
    assert address(writer) in page


# --- The rotation page and the dashboards ------------------------------------------------------


def test_the_completed_rotation_page_offers_a_letter_then_links_to_it(
    demo, writer, rotation, client_for
):
    client = client_for(demo["student"])
    page = html(client.get(f"/rotations/{rotation.pk}/"))
    assert 'data-testid="rotation-letters"' in page
    assert "Dr. Elena Rivera writes letters of recommendation: no fee." in page
    assert f'href="/letters/request/?attending={writer.pk}"' in page
    letter = ask(demo["student"], writer)
    page = html(client.get(f"/rotations/{rotation.pk}/"))
    assert f'href="/letters/{letter.pk}/"' in page
    assert "/letters/request/?attending=" not in page
    # The attending's view of the rotation has no such panel.
    page = html(client_for(demo["attending"]).get(f"/rotations/{rotation.pk}/"))
    assert 'data-testid="rotation-letters"' not in page


def test_the_dashboards_show_open_letters_and_the_letters_owed(
    demo, writer, rotation, northside_letter, client_for
):
    letter = ask(demo["student"], writer)
    page = html(client_for(demo["student"]).get("/dashboard/"))
    assert 'data-testid="dashboard-letters"' in page
    assert f'href="/letters/{letter.pk}/"' in page
    page = html(client_for(demo["attending"]).get("/dashboard/"))
    assert "Letters you owe" in page
    assert f'data-testid="owed-{letter.pk}"' in page
    assert f"owed-{northside_letter.pk}" not in page
    page = html(client_for(demo["admin"]).get("/dashboard/"))
    assert 'data-testid="open-letters">1<' in page


def test_the_nav_links_to_letters_for_every_role(demo, client_for):
    for role in ("student", "attending", "admin"):
        assert 'href="/letters/">Letters</a>' in html(client_for(demo[role]).get("/dashboard/"))


# --- A fixed number of queries -----------------------------------------------------------------


def queries(client, path) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


def many_letters_for(demo, writer, count=30):
    """``count`` letters for the demo student (each from a new attending) and ``count``
    owed by the writer (each from a new student)."""
    for _ in range(count):
        letter_of(demo["student"])
        with scopes_disabled():
            rotation = factories.completed_rotation(organization=demo["org"], attending=writer)
            factories.LetterFactory(rotation=rotation, status="accepted", eras_letter_id="")


@pytest.mark.parametrize("role", ["student", "attending", "admin"])
def test_the_letters_page_and_dashboard_cost_the_same_for_1_or_30_letters(
    demo, writer, rotation, client_for, django_assert_max_num_queries, role
):
    ask(demo["student"], writer)
    client = client_for(demo[role])
    few = {path: queries(client, path) for path in ("/letters/", "/dashboard/")}
    many_letters_for(demo, writer)
    for path, count in few.items():
        with django_assert_max_num_queries(count):
            response = client.get(path)
        assert response.status_code == 200
    if role != "attending":
        assert html(client.get("/letters/")).count('data-testid="letter-') >= 31


def test_the_rotation_page_and_the_letter_page_cost_the_same_with_many_letters(
    demo, writer, rotation, client_for, django_assert_max_num_queries
):
    letter = ask(demo["student"], writer)
    client = client_for(demo["student"])
    paths = (f"/rotations/{rotation.pk}/", f"/letters/{letter.pk}/", "/letters/request/")
    few = {path: queries(client, path) for path in paths}
    many_letters_for(demo, writer)
    for _ in range(5):  # closed letters from the same rotation
        with scopes_disabled():
            factories.LetterFactory(rotation=rotation, status="uploaded")
    for path, count in few.items():
        with django_assert_max_num_queries(count):
            client.get(path)


# --- The demo data ---------------------------------------------------------------------------


def test_seed_demo_gives_the_verified_student_a_letter_in_each_state():
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())  # a second run adds nothing
    with scopes_disabled():
        letters = Letter.objects.filter(
            organization__slug="demo", student__user__email="student.verified@demo.test"
        )
        states = sorted((letter.status, letter.is_released) for letter in letters)
        assert states == [
            ("accepted", False),  # its fee is not paid yet
            ("accepted", True),
            ("declined", False),
            ("requested", False),
            ("uploaded", True),
        ]
        assert letters.exclude(eras_letter_id="").count() == 2
