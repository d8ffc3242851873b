"""Is an approved rotation ready to start? (DESIGN §5)

Other apps register checks here (payments: paid as due or school confirmed; documents:
checklist complete). A check takes the rotation and returns what is missing, in words a
student understands; an empty list means that part is ready.
"""

from collections.abc import Callable

from rotations.models import Rotation

ReadinessCheck = Callable[[Rotation], list[str]]
_checks: list[ReadinessCheck] = []


def register(check: ReadinessCheck) -> ReadinessCheck:
    if check not in _checks:
        _checks.append(check)
    return check


def unregister(check: ReadinessCheck) -> None:
    if check in _checks:
        _checks.remove(check)


def missing_for_start(rotation: Rotation) -> list[str]:
    """Everything still missing before ``rotation`` may start; empty when ready."""
    return [item for check in _checks for item in check(rotation)]
