"""Whether a rotation's student may read the attending's evaluation yet (DESIGN §15),
decided by the app that owns the rule without rotations importing it (STYLE §7, like
``rotations.lifecycle`` and ``rotations.panels``).

Reviews are double-blind: the student's review and the attending's evaluation are
revealed together. The reviews app registers a gate in its ``AppConfig.ready()``::

    reveal.register(reviews.services.evaluation_revealed)

A gate is called as ``gate(rotation)`` and answers True once the evaluation may be shown
to the rotation's student. The attending who wrote it and the organization's admins
always see it; with no gate registered the student sees it as soon as it exists.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from accounts.models import Membership
    from rotations.models import Rotation

Gate = Callable[["Rotation"], bool]

_gates: list[Gate] = []


def register(gate: Gate) -> Gate:
    """Add ``gate`` (once: registering it again changes nothing)."""
    if gate not in _gates:
        _gates.append(gate)
    return gate


def unregister(gate: Gate) -> None:
    if gate in _gates:
        _gates.remove(gate)


def evaluation_visible_to(viewer: Membership | None, rotation: Rotation) -> bool:
    """May ``viewer`` read ``rotation``'s evaluation now? Everyone who may see the
    rotation may, except its student before every gate says it is revealed."""
    if viewer is None or viewer.pk != rotation.student_id:
        return True
    return all(gate(rotation) for gate in tuple(_gates))
