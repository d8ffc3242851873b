"""The rotation sweeps work in set-based batches (DESIGN §9, STYLE §6): a batch costs the
same queries whatever its size, every due rotation is handled once however the batches
fall, and what each rotation gets — status, history row, lifecycle announcement, emails
with their dedupe keys — is what the one-by-one rules give it (DESIGN §5)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from documents.models import DocumentType
from documents.requirements import set_organization_types
from notifications.models import OutboundEmail
from payments.models import Installment, Invoice, SchoolDecision, SchoolPayment
from rotations import lifecycle, readiness, sweeps
from rotations.models import Rotation, RotationEvent
from rotations.readiness import ReadinessItem
from rotations.services import rotation_context
from tests import factories

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)
TODAY = timezone.localdate(NOW)


# --- Building many rotations fast -----------------------------------------------------------


@pytest.fixture
def cast(world):
    """In each organization: an attending, three students, and (demo) a second admin, so
    admin emails go to each admin."""
    with scopes_disabled():
        for side in world.values():
            side["profile"] = factories.AttendingProfileFactory(
                organization=side["org"], membership=side["attending"]
            )
            side["students"] = [side["student"]] + [
                factories.StudentFactory(organization=side["org"]) for _ in range(2)
            ]
        world["demo"]["second_admin"] = factories.MembershipFactory(
            organization=world["demo"]["org"], role="admin"
        )
    return world


def make(side, count: int, **fields) -> list[Rotation]:
    """``count`` rotations with the side's attending, its students taking turns, written
    in one INSERT."""
    with scopes_disabled():
        return Rotation.objects.bulk_create(
            factories.RotationFactory.build(
                organization=side["org"],
                attending=side["profile"],
                student=side["students"][number % len(side["students"])],
                **fields,
            )
            for number in range(count)
        )


def stale_requests(side, count):
    """Requests whose response deadline passed yesterday."""
    asked = NOW - timedelta(days=8)
    return make(side, count, requested_at=asked, respond_by=asked + timedelta(days=7))


def requests_aged(side, count, day):
    """Requests ``day`` days old (and an hour), reminded for every earlier day."""
    asked = NOW - timedelta(days=day, hours=1)
    earlier = {f"reminded_day{d}_at": asked for d in sweeps.REMINDER_DAYS if d < day}
    return make(side, count, requested_at=asked, respond_by=asked + timedelta(days=7), **earlier)


def due_to_start(side, count, **fields):
    return make(side, count, status="approved", start=TODAY, **fields)


def owe_an_installment(rotations) -> None:
    """Each rotation's invoice asks for one unpaid installment, due before the start."""
    with scopes_disabled():
        invoices = Invoice.objects.bulk_create(
            Invoice(
                organization_id=rotation.organization_id,
                rotation=rotation,
                student_id=rotation.student_id,
                kind="rotation",
                payment_method="wire",
                plan="full",
            )
            for rotation in rotations
        )
        Installment.objects.bulk_create(
            Installment(
                organization_id=invoice.organization_id,
                invoice=invoice,
                sequence=1,
                due_on=TODAY - timedelta(days=3),
                amount=Decimal("1000.00"),
            )
            for invoice in invoices
        )


def confirmed_by_the_school(rotations) -> None:
    with scopes_disabled():
        Rotation.objects.filter(pk__in=[r.pk for r in rotations]).update(payer="school")
        SchoolPayment.objects.bulk_create(
            SchoolPayment(
                organization_id=rotation.organization_id,
                rotation=rotation,
                school_email="registrar@school.test",
                decision=SchoolDecision.CONFIRMED,
                deadline=TODAY - timedelta(days=3),
            )
            for rotation in rotations
        )


def documents_required(*sides, codes=()) -> None:
    """The organizations require the catalog's documents named by ``codes`` (none by
    default)."""
    for side in sides:
        with scope(organization=side["org"]):
            set_organization_types(
                side["org"],
                DocumentType.objects.filter(code__in=codes).values_list("pk", flat=True),
            )


def start_mix(side, count) -> dict[str, list[Rotation]]:
    """Due rotations of three kinds in equal parts: nothing owed (ready), an installment
    unpaid (held), and school-paid with the school's confirmation (ready though the
    installment is unpaid)."""
    rotations = due_to_start(side, count)
    kinds = {"free": rotations[0::3], "unpaid": rotations[1::3], "school": rotations[2::3]}
    owe_an_installment(kinds["unpaid"] + kinds["school"])
    confirmed_by_the_school(kinds["school"])
    return kinds


def run(sweep, side, **kwargs):
    """Run ``sweep`` for the side's organization in its scope; (result, queries)."""
    with scope(organization=side["org"]), CaptureQueriesContext(connection) as captured:
        result = sweep(side["org"], **kwargs)
    return result, len(captured.captured_queries)


def statuses(rotations) -> set[str]:
    with scopes_disabled():
        return set(
            Rotation.objects.filter(pk__in=[r.pk for r in rotations]).values_list(
                "status", flat=True
            )
        )


def emails(template, organization=None) -> list[OutboundEmail]:
    with scopes_disabled():
        rows = OutboundEmail.objects.filter(template=template).order_by("pk")
        if organization is not None:
            rows = rows.filter(organization=organization)
        return list(rows)


def events_of(rotations) -> list[tuple]:
    with scopes_disabled():
        return sorted(
            RotationEvent.objects.filter(rotation__in=[r.pk for r in rotations]).values_list(
                "rotation_id", "status", "by_id", "note"
            )
        )


class Heard(list):
    """A lifecycle handler that records (event, rotation id, context)."""

    def of(self, event):
        def handler(rotation, **context):
            self.append((event, rotation.pk, context))

        return handler


# --- Queries per batch do not depend on its size ------------------------------------------


def test_expiry_costs_the_same_queries_for_10_requests_as_for_500(cast):
    demo, northside = cast["demo"], cast["northside"]
    few, many = stale_requests(demo, 10), stale_requests(northside, 500)

    counts_few, queries_few = run(sweeps.remind_and_expire_requests, demo, now=NOW)
    assert statuses(many) == {"requested"}  # the other organization's are not touched
    counts_many, queries_many = run(sweeps.remind_and_expire_requests, northside, now=NOW)

    assert counts_few == {"expired": 10, "reminded": 0}
    assert counts_many == {"expired": 500, "reminded": 0}
    assert statuses(few + many) == {"expired"}
    assert queries_few == queries_many


@pytest.mark.parametrize("day", sweeps.REMINDER_DAYS)
def test_each_reminder_day_costs_the_same_queries_for_10_requests_as_for_500(cast, day):
    demo, northside = cast["demo"], cast["northside"]
    requests_aged(demo, 10, day)
    requests_aged(northside, 500, day)

    counts_few, queries_few = run(sweeps.remind_and_expire_requests, demo, now=NOW)
    counts_many, queries_many = run(sweeps.remind_and_expire_requests, northside, now=NOW)

    assert counts_few == {"expired": 0, "reminded": 10}
    assert counts_many == {"expired": 0, "reminded": 500}
    assert len(emails("rotation_request_reminder")) == 510
    assert queries_few == queries_many


def test_the_start_sweep_costs_the_same_queries_for_10_rotations_as_for_500(cast):
    """Ready ones start and unpaid ones go on hold, judged by the real readiness checks
    (payments: installments and school confirmations; documents: checklists)."""
    demo, northside = cast["demo"], cast["northside"]
    documents_required(demo, northside)
    few, many = start_mix(demo, 10), start_mix(northside, 500)

    counts_few, queries_few = run(sweeps.start_due_rotations, demo, on=TODAY)
    counts_many, queries_many = run(sweeps.start_due_rotations, northside, on=TODAY)

    for kinds, counts in ((few, counts_few), (many, counts_many)):
        ready = kinds["free"] + kinds["school"]
        assert counts == {"started": len(ready), "on_hold": len(kinds["unpaid"])}
        assert statuses(kinds["free"] + kinds["school"]) == {"in_progress"}
        assert statuses(kinds["unpaid"]) == {"on_hold"}
    assert queries_few == queries_many


def test_holding_for_documents_costs_the_same_queries_for_10_rotations_as_for_500(cast):
    """Required documents are missing (and the CV, kept on the profile, is there): every
    rotation goes on hold with the documents check's items, and each admin is emailed."""
    demo, northside = cast["demo"], cast["northside"]
    documents_required(demo, northside, codes=("background_check", "drug_test", "cv"))
    few, many = due_to_start(demo, 10), due_to_start(northside, 500)

    counts_few, queries_few = run(sweeps.start_due_rotations, demo, on=TODAY)
    counts_many, queries_many = run(sweeps.start_due_rotations, northside, on=TODAY)

    assert counts_few == {"started": 0, "on_hold": 10}
    assert counts_many == {"started": 0, "on_hold": 500}
    assert statuses(few + many) == {"on_hold"}
    assert len(emails("rotation_on_hold_admin", demo["org"])) == 10 * 2  # two admins
    assert len(emails("rotation_on_hold_admin", northside["org"])) == 500
    assert queries_few == queries_many


def test_a_runs_queries_grow_by_the_same_amount_per_batch_whatever_its_size(cast):
    """10 stale requests taken in batches of 10, 5 and 2 (1, 2 and 5 full batches, each
    run then finding nothing more): every batch costs the same queries."""
    demo = cast["demo"]
    queries = {}
    for batch_size in (10, 5, 2):
        rotations = stale_requests(demo, 10)
        counts, queries[batch_size] = run(
            sweeps.remind_and_expire_requests, demo, now=NOW, batch_size=batch_size
        )
        assert counts["expired"] == 10 and statuses(rotations) == {"expired"}
    per_batch = queries[5] - queries[10]
    assert queries[2] - queries[5] == 3 * per_batch


# --- Every due rotation handled once, however the batches fall ----------------------------


def test_expiry_in_batches_of_7_handles_20_requests_once_each(cast):
    demo = cast["demo"]
    rotations = stale_requests(demo, 20)
    heard = Heard()
    with lifecycle.subscribed("expired", heard.of("expired")):
        counts, _ = run(sweeps.remind_and_expire_requests, demo, now=NOW, batch_size=7)
        again, _ = run(sweeps.remind_and_expire_requests, demo, now=NOW, batch_size=7)

    assert counts == {"expired": 20, "reminded": 0}
    assert again == {"expired": 0, "reminded": 0}
    assert statuses(rotations) == {"expired"}
    assert sorted(pk for _, pk, _ in heard) == sorted(r.pk for r in rotations)
    assert events_of(rotations) == sorted((r.pk, "expired", None, "") for r in rotations)
    assert len(emails("rotation_expired")) == 20


def test_reminders_in_batches_of_7_go_to_20_attendings_once_each(cast):
    demo = cast["demo"]
    rotations = requests_aged(demo, 20, 3)
    counts, _ = run(sweeps.remind_and_expire_requests, demo, now=NOW, batch_size=7)
    again, _ = run(sweeps.remind_and_expire_requests, demo, now=NOW, batch_size=7)

    assert counts == {"expired": 0, "reminded": 20}
    assert again == {"expired": 0, "reminded": 0}
    assert sorted(e.dedupe_key for e in emails("rotation_request_reminder")) == sorted(
        f"rotation-reminder:{r.pk}:day3" for r in rotations
    )


def test_the_start_sweep_in_batches_of_7_handles_20_rotations_once_each(cast):
    demo = cast["demo"]
    documents_required(demo)
    kinds = start_mix(demo, 20)
    heard = Heard()
    with (
        lifecycle.subscribed("started", heard.of("started")),
        lifecycle.subscribed("on_hold", heard.of("on_hold")),
    ):
        counts, _ = run(sweeps.start_due_rotations, demo, on=TODAY, batch_size=7)
        outbox = OutboundEmail.objects.count
        with scopes_disabled():
            written = outbox()
        again, _ = run(sweeps.start_due_rotations, demo, on=TODAY, batch_size=7)
        with scopes_disabled():
            assert outbox() == written  # nothing sent again

    ready = kinds["free"] + kinds["school"]
    assert counts == {"started": len(ready), "on_hold": len(kinds["unpaid"])}
    assert again == {"started": 0, "on_hold": 0}
    assert sorted((event, pk) for event, pk, _ in heard) == sorted(
        [("started", r.pk) for r in ready] + [("on_hold", r.pk) for r in kinds["unpaid"]]
    )
    assert [status for _, status, _, _ in events_of(kinds["free"] + kinds["school"])] == [
        "in_progress"
    ] * len(ready)
    assert [status for _, status, _, _ in events_of(kinds["unpaid"])] == ["on_hold"] * len(
        kinds["unpaid"]
    )
    assert len(emails("rotation_on_hold")) == len(kinds["unpaid"])
    assert len(emails("rotation_on_hold_admin")) == 2 * len(kinds["unpaid"])


def test_a_spent_time_budget_leaves_the_rest_for_the_next_run(cast, monkeypatch):
    """The budget is checked before each batch: here it is spent after the first."""
    demo = cast["demo"]
    rotations = stale_requests(demo, 20)

    class Clock:  # one second passes each time the sweep looks
        now = 0.0

        def monotonic(self):
            self.now += 1.0
            return self.now

    monkeypatch.setattr(sweeps, "time", Clock())
    counts, _ = run(sweeps.remind_and_expire_requests, demo, now=NOW, batch_size=7, time_budget=1.5)
    assert counts == {"expired": 7, "reminded": 0}
    assert sorted(statuses(rotations)) == ["expired", "requested"]

    monkeypatch.undo()
    counts, _ = run(sweeps.remind_and_expire_requests, demo, now=NOW, batch_size=7)
    assert counts == {"expired": 13, "reminded": 0}
    assert statuses(rotations) == {"expired"}


# --- What each rotation gets is what the one-by-one rules give it -------------------------


def test_an_expired_request_gets_its_status_history_announcement_and_email(cast):
    demo = cast["demo"]
    (rotation,) = stale_requests(demo, 1)
    heard = Heard()
    with lifecycle.subscribed("expired", heard.of("expired")):
        run(sweeps.remind_and_expire_requests, demo, now=NOW)

    with scopes_disabled():
        expired = Rotation.objects.select_related(
            "organization", "student__user", "student__profile", "attending"
        ).get(pk=rotation.pk)
        assert expired.status == "expired"
        assert expired.decided_at is not None and expired.decision_note == ""
        context = rotation_context(expired)
    assert heard == [("expired", rotation.pk, {"by": None, "reason": ""})]
    assert events_of([rotation]) == [(rotation.pk, "expired", None, "")]
    (email,) = emails("rotation_expired")
    assert (email.recipient, email.dedupe_key, email.context) == (
        demo["student"].user.email,
        f"rotation_expired:{rotation.pk}",
        context,
    )


def test_a_reminder_goes_to_the_attending_with_its_day_and_sets_the_days_flag(cast):
    demo = cast["demo"]
    (rotation,) = requests_aged(demo, 1, 6)
    run(sweeps.remind_and_expire_requests, demo, now=NOW)

    with scopes_disabled():
        reminded = Rotation.objects.select_related(
            "organization", "student__user", "student__profile", "attending"
        ).get(pk=rotation.pk)
        context = rotation_context(reminded)
    assert reminded.status == "requested"
    assert reminded.reminded_day6_at == NOW
    assert events_of([rotation]) == []  # a reminder is no transition
    (email,) = emails("rotation_request_reminder")
    assert (email.recipient, email.dedupe_key, email.context) == (
        demo["attending"].user.email,
        f"rotation-reminder:{rotation.pk}:day6",
        {**context, "day": 6},
    )


def test_a_held_rotation_tells_the_student_and_each_admin_once_what_is_missing(cast):
    demo = cast["demo"]
    documents_required(demo)
    (rotation,) = due_to_start(demo, 1)
    owe_an_installment([rotation])
    heard = Heard()
    with lifecycle.subscribed("on_hold", heard.of("on_hold")):
        run(sweeps.start_due_rotations, demo, on=TODAY)
        run(sweeps.start_due_rotations, demo, on=TODAY)  # still unready: nothing new

    due = TODAY - timedelta(days=3)
    item = ReadinessItem("payment_due", "Pay installment 1 ($1,000.00).", due)
    line = f"Pay installment 1 ($1,000.00). (due {due:%B} {due.day}, {due.year})"
    with scopes_disabled():
        held = Rotation.objects.select_related(
            "organization", "student__user", "student__profile", "attending"
        ).get(pk=rotation.pk)
        context = {**rotation_context(held), "missing": [line]}
    assert (held.status, held.hold_reason) == ("on_hold", line)
    assert heard == [("on_hold", rotation.pk, {"by": None, "missing": (item,)})]
    assert events_of([rotation]) == [(rotation.pk, "on_hold", None, line)]
    key = f"rotation-on-hold:{rotation.pk}:{rotation.start.isoformat()}"
    assert [(e.recipient, e.dedupe_key, e.context) for e in emails("rotation_on_hold")] == [
        (demo["student"].user.email, key, context)
    ]
    assert sorted(
        (e.recipient, e.dedupe_key, e.context) for e in emails("rotation_on_hold_admin")
    ) == sorted(
        (admin.user.email, f"{key}:admin:{admin.pk}", context)
        for admin in (demo["admin"], demo["second_admin"])
    )


def test_a_held_rotation_that_became_ready_starts_and_is_announced(cast):
    demo = cast["demo"]
    documents_required(demo)
    (rotation,) = make(demo, 1, status="on_hold", start=TODAY - timedelta(weeks=1))
    with scopes_disabled():
        Rotation.objects.filter(pk=rotation.pk).update(hold_reason="Pay installment 1.")
    heard = Heard()
    with lifecycle.subscribed("started", heard.of("started")):
        counts, _ = run(sweeps.start_due_rotations, demo, on=TODAY)

    assert counts == {"started": 1, "on_hold": 0}
    with scopes_disabled():
        started = Rotation.objects.get(pk=rotation.pk)
    assert (started.status, started.hold_reason) == ("in_progress", "")
    assert heard == [("started", rotation.pk, {"by": None})]
    assert events_of([rotation]) == [(rotation.pk, "in_progress", None, "")]
    assert emails("rotation_on_hold") == emails("rotation_on_hold_admin") == []


def test_a_rotation_this_run_put_on_hold_is_not_judged_again_with_those_on_hold(cast):
    """Each rotation is judged once a run: the walk over rotations on hold skips the ones
    the same run has just held, across batches; those already on hold are judged."""
    demo = cast["demo"]
    documents_required(demo)
    held_before = make(demo, 2, status="on_hold", start=TODAY - timedelta(weeks=1))
    due = due_to_start(demo, 5)
    judged = []

    def unready(rotation):
        judged.append(rotation.pk)
        return [ReadinessItem("document_missing", "Upload your TB test.")]

    readiness.register(unready)
    try:
        counts, _ = run(sweeps.start_due_rotations, demo, on=TODAY, batch_size=2)
    finally:
        readiness.unregister(unready)
    assert counts == {"started": 0, "on_hold": 5}
    assert sorted(judged) == sorted(rotation.pk for rotation in held_before + due)
    assert statuses(held_before + due) == {"on_hold"}
