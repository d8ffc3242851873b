"""Student credit (DESIGN §6): a per-student, per-organization ledger whose balance is
never negative — refused by the service, by the database, and under concurrency.

The lock matters: with ``select_for_update()`` removed from
``payments.credits._locked_account`` (tried locally, then restored), both racing
applications read the same balance and each applied it; the database's
``credit_balance_never_negative`` check then refused one with an IntegrityError (a 500
for that student) in the two- and eight-thread tests, which fail on it.
"""

import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Sum
from django_scopes import scope, scopes_disabled

from payments.credits import add_credit, apply_credit, credit_balance
from payments.models import CreditAccount, CreditEntry
from tests import factories
from usdoctors.errors import Conflict, Invalid


def ledger_sum(student) -> Decimal:
    with scopes_disabled():
        total = CreditEntry.objects.filter(student=student).aggregate(total=Sum("amount"))["total"]
    return total or Decimal("0.00")


def assert_ledger_consistent(student) -> None:
    """The account's balance is the sum of the student's entries, and not negative."""
    with scopes_disabled():
        balance = credit_balance(student)
    assert balance == ledger_sum(student)
    assert balance >= 0


@pytest.fixture
def student(demo, northside):
    """A demo student; northside's student has credit too, which must never count."""
    with scope(organization=northside["org"]):
        add_credit(northside["student"], Decimal("999.00"), "cancelled_rotation")
    return demo["student"]


# --- The rule, through the services ----------------------------------------------------


@pytest.mark.django_db
def test_a_student_without_credit_has_a_zero_balance(student):
    with scope(organization=student.organization):
        assert credit_balance(student) == Decimal("0.00")
        assert apply_credit(student, Decimal("100.00")) == Decimal("0.00")
        assert not CreditEntry.objects.filter(student=student).exists()
        assert not CreditAccount.objects.filter(student=student).exists()


@pytest.mark.django_db
def test_credit_added_then_applied_keeps_the_ledger_and_balance_in_step(student, demo):
    with scopes_disabled():
        rotation = factories.RotationFactory(organization=demo["org"], student=student)
        invoice = factories.InvoiceFactory(rotation=rotation)
    with scope(organization=student.organization):
        entry = add_credit(
            student, Decimal("250.00"), "cancelled_rotation", rotation=rotation, by=demo["admin"]
        )
        assert (entry.amount, entry.rotation, entry.created_by) == (
            Decimal("250.00"),
            rotation,
            demo["admin"],
        )
        assert credit_balance(student) == Decimal("250.00")

        assert apply_credit(student, Decimal("100.00"), invoice=invoice) == Decimal("100.00")
        assert credit_balance(student) == Decimal("150.00")
        applied = CreditEntry.objects.filter(student=student, reason="applied").get()
        assert (applied.amount, applied.invoice) == (Decimal("-100.00"), invoice)

    assert_ledger_consistent(student)


@pytest.mark.django_db
def test_applying_more_than_the_balance_applies_the_balance(student):
    with scope(organization=student.organization):
        add_credit(student, Decimal("80.00"), "cancelled_rotation")
        assert apply_credit(student, Decimal("600.00")) == Decimal("80.00")
        assert credit_balance(student) == Decimal("0.00")
        assert apply_credit(student, Decimal("600.00")) == Decimal("0.00")
        assert CreditEntry.objects.filter(student=student).count() == 2  # nothing for zero
    assert_ledger_consistent(student)


@pytest.mark.django_db
def test_taking_away_more_credit_than_the_balance_is_refused_and_changes_nothing(student):
    with scope(organization=student.organization):
        add_credit(student, Decimal("50.00"), "cancelled_rotation")
        with pytest.raises(Conflict) as refused:
            add_credit(student, Decimal("-50.01"), "refunded")
        assert refused.value.code == "credit_insufficient"
        assert refused.value.status_code == 409
        assert refused.value.message == (
            "The student has 50.00 in credit; 50.01 cannot be taken from it."
        )
        assert credit_balance(student) == Decimal("50.00")
        assert CreditEntry.objects.filter(student=student).count() == 1

        add_credit(student, Decimal("-50.00"), "refunded")  # exactly the balance is fine
        assert credit_balance(student) == Decimal("0.00")
    assert_ledger_consistent(student)


@pytest.mark.django_db
def test_credit_is_per_organization(student, northside):
    """The same person in another organization has a separate ledger."""
    with scopes_disabled():
        other = factories.StudentFactory(organization=northside["org"], user=student.user)
    with scope(organization=northside["org"]):
        add_credit(other, Decimal("40.00"), "adjustment")
    with scope(organization=student.organization):
        assert credit_balance(student) == Decimal("0.00")
        assert apply_credit(student, Decimal("40.00")) == Decimal("0.00")
    with scope(organization=northside["org"]):
        assert credit_balance(other) == Decimal("40.00")
        assert credit_balance(northside["student"]) == Decimal("999.00")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "call, error",
    [
        (lambda s: add_credit(s, 10.0, "adjustment"), TypeError),
        (lambda s: apply_credit(s, 10.0), TypeError),
        (lambda s: add_credit(s, Decimal("10.005"), "adjustment"), ValueError),
        (lambda s: add_credit(s, Decimal("0.00"), "adjustment"), Invalid),
        (lambda s: add_credit(s, Decimal("5.00"), "gift"), Invalid),
        (lambda s: apply_credit(s, Decimal("-5.00")), ValueError),
    ],
)
def test_bad_amounts_and_reasons_are_refused_and_change_nothing(student, call, error):
    with scope(organization=student.organization):
        add_credit(student, Decimal("20.00"), "adjustment")
        with pytest.raises(error):
            call(student)
        assert credit_balance(student) == Decimal("20.00")
        assert CreditEntry.objects.filter(student=student).count() == 1


# --- The database refuses a negative balance whatever the code does -----------------------


@pytest.mark.django_db
def test_the_database_refuses_a_negative_balance_even_from_a_direct_write(student):
    with scope(organization=student.organization):
        add_credit(student, Decimal("30.00"), "adjustment")
        with pytest.raises(IntegrityError) as refused, transaction.atomic():
            CreditAccount.objects.filter(student=student).update(
                balance=F("balance") - Decimal("30.01")
            )
        assert "credit_balance_never_negative" in str(refused.value)
        assert credit_balance(student) == Decimal("30.00")

    with scopes_disabled():
        other = factories.StudentFactory(organization=student.organization)
    with scopes_disabled(), pytest.raises(IntegrityError), transaction.atomic():
        CreditAccount.objects.create(
            organization=student.organization, student=other, balance=Decimal("-0.01")
        )


@pytest.mark.django_db
def test_one_account_per_student_and_no_empty_entries(student):
    with scope(organization=student.organization):
        add_credit(student, Decimal("1.00"), "adjustment")
        with pytest.raises(IntegrityError), transaction.atomic():
            CreditAccount.objects.create(organization=student.organization, student=student)
        with pytest.raises(IntegrityError), transaction.atomic():
            CreditEntry.objects.create(
                organization=student.organization,
                student=student,
                amount=Decimal("0.00"),
                reason="adjustment",
            )


@pytest.mark.django_db
def test_the_credit_entry_factory_moves_the_balance(student):
    with scopes_disabled():
        factories.CreditEntryFactory(student=student, amount=Decimal("12.50"))
        assert credit_balance(student) == Decimal("12.50")
    assert_ledger_consistent(student)


# --- Concurrency on PostgreSQL (STYLE §4) ----------------------------------------------


def race(organization, calls) -> list:
    """Run each call in its own thread and database connection, released together by a
    barrier inside the organization's scope; return each call's result (or exception)."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            with scope(organization=organization):
                barrier.wait(timeout=30)
                results[index] = call()
        except BaseException as error:  # the test fails with it below
            results[index] = error
            barrier.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    errors = [result for result in results if isinstance(result, BaseException)]
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_applications_never_spend_the_same_credit(demo):
    student = demo["student"]
    with scope(organization=demo["org"]):
        add_credit(student, Decimal("100.00"), "cancelled_rotation")

    applied = race(demo["org"], [lambda: apply_credit(student, Decimal("80.00"))] * 2)

    assert sorted(applied) == [Decimal("20.00"), Decimal("80.00")]
    with scopes_disabled():
        assert credit_balance(student) == Decimal("0.00")
    assert_ledger_consistent(student)


@pytest.mark.django_db(transaction=True)
def test_many_concurrent_applications_spend_exactly_the_balance(demo):
    student = demo["student"]
    with scope(organization=demo["org"]):
        add_credit(student, Decimal("100.00"), "cancelled_rotation")

    applied = race(demo["org"], [lambda: apply_credit(student, Decimal("30.00"))] * 8)

    assert sum(applied) == Decimal("100.00")
    assert (
        sorted(applied, reverse=True)
        == [Decimal("30.00")] * 3 + [Decimal("10.00")] + [Decimal("0.00")] * 4
    )
    assert_ledger_consistent(student)


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_credits_share_one_account(demo):
    """Two first credits at once: one account row, both entries, the sum as balance."""
    student = demo["student"]

    race(
        demo["org"],
        [
            lambda: add_credit(student, Decimal("25.00"), "cancelled_rotation"),
            lambda: add_credit(student, Decimal("40.00"), "adjustment"),
        ],
    )

    with scopes_disabled():
        assert CreditAccount.objects.filter(student=student).count() == 1
        assert credit_balance(student) == Decimal("65.00")
    assert_ledger_consistent(student)


@pytest.mark.django_db(transaction=True)
def test_a_refund_racing_an_application_never_overdraws(demo):
    """A staff refund of the whole balance and an application at the same moment: one
    of them gets the credit; the other is refused (409) or applies nothing."""
    student = demo["student"]
    with scope(organization=demo["org"]):
        add_credit(student, Decimal("60.00"), "cancelled_rotation")

    def refund():
        try:
            add_credit(student, Decimal("-60.00"), "refunded")
            return "refunded"
        except Conflict as refused:
            return refused.code

    outcomes = race(demo["org"], [refund, lambda: apply_credit(student, Decimal("60.00"))])

    assert outcomes in (["refunded", Decimal("0.00")], ["credit_insufficient", Decimal("60.00")])
    with scopes_disabled():
        assert credit_balance(student) == Decimal("0.00")
    assert_ledger_consistent(student)
