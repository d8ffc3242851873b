"""Is an approved rotation ready to start? (DESIGN §5, STYLE §7)

Other apps register checks here (payments: paid as due or school confirmed; documents:
checklist complete). A check takes the rotation and returns a ``ReadinessItem`` for each
thing still missing; an empty list means that part is ready. An item carries a stable
``code`` for code and tests, the ``message`` in words a student understands, and the
``deadline`` by which it is due when there is one.
"""

from __future__ import annotations

from collections.abc import Callable
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


ReadinessCheck = Callable[[Rotation], list[ReadinessItem]]
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
    items = [item for check in _checks for item in check(rotation)]
    for item in items:
        if not isinstance(item, ReadinessItem):  # a bare string from an old-style check
            raise TypeError(f"Readiness checks return ReadinessItem, not {type(item).__name__}")
    return items
