"""Student credit (DESIGN §6): a per-student, per-organization ledger whose balance is
never negative.

Each student has one ``CreditAccount`` row holding the balance, and every change is a
``CreditEntry`` written in the same transaction as an ``F()`` update of that balance,
under the account row's lock. So the entries always sum to the balance, and two
transactions spending the same credit queue on the lock instead of both spending it.
The database keeps the last word: ``balance >= 0`` is a CHECK constraint, so a write
that would overdraw the account, from here or anywhere else, is an IntegrityError.

Lock order: callers that also lock invoice or installment rows lock those first and the
credit account last; only this module locks credit accounts.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import F

from accounts.models import Membership
from payments.fees import ZERO, cents
from payments.models import CreditAccount, CreditEntry, CreditReason
from usdoctors.errors import Conflict, Invalid


def credit_balance(student: Membership) -> Decimal:
    """The student's credit in their organization: ``0.00`` when they never had any."""
    balance = (
        CreditAccount.objects.filter(organization_id=student.organization_id, student=student)
        .values_list("balance", flat=True)
        .first()
    )
    return ZERO if balance is None else balance


def _locked_account(student: Membership, *, create: bool) -> CreditAccount | None:
    """The student's account row, locked for this transaction (created first if asked)."""
    if create:
        # INSERT … ON CONFLICT DO NOTHING: two first credits at once both end up here
        # with the one row, instead of one of them failing on the unique constraint.
        CreditAccount.objects.bulk_create(
            [CreditAccount(organization_id=student.organization_id, student=student)],
            ignore_conflicts=True,
        )
    return (
        CreditAccount.objects.select_for_update()
        .filter(organization_id=student.organization_id, student=student)
        .first()
    )


def _write(account: CreditAccount, amount: Decimal, reason: str, **refs) -> CreditEntry:
    CreditAccount.objects.filter(pk=account.pk).update(balance=F("balance") + amount)
    account.balance += amount
    return CreditEntry.objects.create(
        organization_id=account.organization_id,
        student_id=account.student_id,
        amount=amount,
        reason=reason,
        **refs,
    )


@transaction.atomic
def add_credit(
    student: Membership,
    amount: Decimal,
    reason: str,
    *,
    note: str = "",
    rotation=None,
    invoice=None,
    by: Membership | None = None,
) -> CreditEntry:
    """Add ``amount`` to the student's credit (§6), e.g. what was paid for a cancelled
    rotation. A negative amount takes credit away (a refund or a staff correction) and
    is refused with a 409 if the balance does not cover it: the balance never goes
    negative. Applying credit to an invoice is ``apply_credit``.
    """
    amount = cents(amount)
    if amount == 0:
        raise Invalid("Enter an amount other than zero.", code="credit_amount_zero", field="amount")
    if reason not in CreditReason.values:
        raise Invalid("Choose a reason for the credit.", code="credit_reason_invalid")
    account = _locked_account(student, create=True)
    if account.balance + amount < 0:
        raise Conflict(
            f"The student has {account.balance} in credit; {-amount} cannot be taken from it.",
            code="credit_insufficient",
        )
    return _write(
        account, amount, reason, note=note, rotation=rotation, invoice=invoice, created_by=by
    )


@transaction.atomic
def apply_credit(
    student: Membership,
    amount_wanted: Decimal,
    *,
    invoice=None,
    rotation=None,
    note: str = "",
) -> Decimal:
    """Use the student's credit towards ``amount_wanted`` (§6: credits apply before
    installments are computed) and return how much was applied: the whole amount when
    the balance covers it, else the whole balance, never more. The ledger gets one
    negative ``applied`` entry; applying nothing writes nothing.
    """
    amount_wanted = cents(amount_wanted, "amount_wanted")
    if amount_wanted < 0:
        raise ValueError(f"amount_wanted must not be negative, not {amount_wanted}")
    if amount_wanted == 0:
        return ZERO
    account = _locked_account(student, create=False)
    if account is None:
        return ZERO
    applied = min(account.balance, amount_wanted)
    if applied > 0:
        _write(
            account,
            -applied,
            CreditReason.APPLIED,
            note=note,
            invoice=invoice,
            rotation=rotation,
        )
    return applied
