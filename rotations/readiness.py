"""Is an approved rotation ready to start? (DESIGN §5, STYLE §7)

Other apps register checks here (payments: paid as due or school confirmed; documents:
checklist complete). A check answers a ``ReadinessItem`` for each thing still missing;
no items means that part is ready. An item carries a stable ``code`` for code and
tests, the ``message`` in words a student understands, and the ``deadline`` by which it
is due when there is one.

The start-date sweep judges a whole batch of rotations at once, so a check comes in one
of two forms:

- a **batch check** (``@batch_check``) takes a list of rotations of one organization and
  answers ``{rotation id: items}`` in a fixed number of queries, whatever the batch's
  size. Every check that reads the database is one: the sweep's queries per batch stay
  bounded only if each check's do (DESIGN §9). Called with one rotation, it answers that
  rotation's items, for single callers;
- a plain check takes one rotation and answers its items. It is called once per
  rotation, so it must cost no query (a rule computed from the rotation itself).

The rotations handed to a check carry ``student__user``, ``student__profile`` and
``attending`` (``select_related``), and nothing in the batch has changed yet.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from rotations.models import Rotation


@dataclass(frozen=True)
class ReadinessItem:
    """One thing missing before a rotation may start."""

    code: str  # e.g. "installment_unpaid", "document_missing"
    message: str  # for the student: "Pay the second installment ($600.00)."
    deadline: date | None = None

    def __post_init__(self):
        if not self.code or not self.message:
            raise ValueError("A readiness item needs a code and a message.")

    @property
    def line(self) -> str:
        """The message with its deadline, as the on-hold emails and the hold reason show it."""
        if self.deadline is None:
            return self.message
        day = self.deadline
        return f"{self.message} (due {day:%B} {day.day}, {day.year})"


Answers = dict[int, list[ReadinessItem]]  # rotation id -> what is missing


class BatchCheck:
    """A readiness check that judges many rotations at once (``many``); calling it with
    one rotation answers that rotation's items."""

    def __init__(self, many: Callable[[list[Rotation]], Answers]):
        self.many = many
        functools.update_wrapper(self, many)

    def __call__(self, rotation: Rotation) -> list[ReadinessItem]:
        return self.many([rotation]).get(rotation.pk, [])

    def __repr__(self) -> str:
        return f"<batch readiness check {self.__qualname__}>"


def batch_check(many: Callable[[list[Rotation]], Answers]) -> BatchCheck:
    """Decorator: ``many(rotations) -> {rotation id: items}`` becomes a batch check
    (a rotation it leaves out of its answer is ready as far as it is concerned)."""
    return BatchCheck(many)


ReadinessCheck = BatchCheck | Callable[[Rotation], list[ReadinessItem]]
_checks: list[ReadinessCheck] = []


def register(check: ReadinessCheck) -> ReadinessCheck:
    if check not in _checks:
        _checks.append(check)
    return check


def unregister(check: ReadinessCheck) -> None:
    if check in _checks:
        _checks.remove(check)


def missing_for_start(rotation: Rotation) -> list[ReadinessItem]:
    """Everything still missing before ``rotation`` may start; empty when ready."""
    return missing_for_start_many([rotation])[rotation.pk]


def missing_for_start_many(rotations: Sequence[Rotation]) -> Answers:
    """What is still missing for each of ``rotations`` (one organization's), by rotation
    id: every rotation has an entry, empty when it is ready. Items come in the order the
    checks were registered. Each batch check runs once for the whole list; an item that
    is not a ``ReadinessItem`` (a bare string from an old-style check) is a programming
    error, TypeError."""
    rotations = list(rotations)
    answers: Answers = {rotation.pk: [] for rotation in rotations}
    if not rotations:
        return answers
    for check in tuple(_checks):
        if isinstance(check, BatchCheck):
            answered = check.many(rotations)
        else:
            answered = {rotation.pk: check(rotation) for rotation in rotations}
        for rotation_id, items in answered.items():
            for item in items:
                if not isinstance(item, ReadinessItem):
                    raise TypeError(
                        f"Readiness checks return ReadinessItem, not {type(item).__name__}"
                    )
            answers[rotation_id].extend(items)
    return answers
