"""Rotation lifecycle events: how other apps act on a transition without rotations
importing them (DESIGN §5, STYLE §7).

Each transition in ``rotations.services`` and ``rotations.date_changes`` calls
``announce(event, rotation, **context)`` once, inside its own transaction, after the
rotation row and its history are written. Apps above rotations subscribe in their
``AppConfig.ready()``::

    lifecycle.on("approved", payments.services.invoice_rotation)

A handler is called as ``handler(rotation, **context)`` with exactly the keys listed for
its event in ``EVENTS``. It runs inside the transition's transaction: whatever it writes
commits or rolls back with the transition, and if it raises, the transition is rolled
back and the error reaches the caller (a ``DomainError`` becomes the caller's 4xx, as if
rotations had refused). A sweep's transition rolls back with the sweep's batch, which the
sweep's per-organization guard logs (DESIGN §9). Handlers run in subscription order.

The events are a fixed set, one per status a rotation can enter:

=============  ==========================================  ==========================
event          when                                        context
=============  ==========================================  ==========================
requested      a student asks (request_rotation)           by
approved       the attending approves                      by
declined       the attending declines                      by, reason
expired        the response window passed (sweep)          by (None), reason ("")
withdrawn      the student withdraws the request           by, reason ("")
cancelled      the student or an admin cancels             by, reason
moved          a date change is accepted, or an admin      by, previous_start, reason
               postpones (capacity already moved)
on_hold        the start date came and it is not ready     by (None), missing
               (sweep; ``missing``: ReadinessItems)
started        it went in progress (sweep), from approved  by (None)
               or from on hold
completed      the attending marked it completed           by
=============  ==========================================  ==========================

``on_hold`` is announced too, though DESIGN §5 lists only the others: every status a
rotation enters is announced, so a subscriber never has to poll for one (documents may
remind a student whose rotation is held for them). ``moved`` keeps the status
(approved or on hold); the new start is ``rotation.start``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal, Protocol

from django.db import transaction

if TYPE_CHECKING:
    from rotations.models import Rotation

Event = Literal[
    "requested",
    "approved",
    "declined",
    "expired",
    "withdrawn",
    "cancelled",
    "moved",
    "on_hold",
    "started",
    "completed",
]

# Each event and the context keys its handlers receive (besides the rotation).
EVENTS: dict[str, frozenset[str]] = {
    event: frozenset(keys)
    for event, keys in {
        "requested": ("by",),
        "approved": ("by",),
        "declined": ("by", "reason"),
        "expired": ("by", "reason"),
        "withdrawn": ("by", "reason"),
        "cancelled": ("by", "reason"),
        "moved": ("by", "previous_start", "reason"),
        "on_hold": ("by", "missing"),
        "started": ("by",),
        "completed": ("by",),
    }.items()
}


class Handler(Protocol):
    def __call__(self, rotation: Rotation, /, **context: Any) -> None: ...


_handlers: dict[str, list[Handler]] = {event: [] for event in EVENTS}


def _known(event: str) -> str:
    if event not in EVENTS:
        raise ValueError(
            f"Unknown rotation lifecycle event {event!r}; the events are {', '.join(EVENTS)}."
        )
    return event


def on(event: Event, handler: Handler) -> Handler:
    """Subscribe ``handler`` to ``event`` (once: subscribing it again changes nothing)."""
    handlers = _handlers[_known(event)]
    if handler not in handlers:
        handlers.append(handler)
    return handler


def off(event: Event, handler: Handler) -> None:
    """Unsubscribe ``handler`` from ``event``, if it was subscribed."""
    handlers = _handlers[_known(event)]
    if handler in handlers:
        handlers.remove(handler)


@contextmanager
def subscribed(event: Event, handler: Handler) -> Iterator[Handler]:
    """``handler`` subscribed to ``event`` for the ``with`` block only (tests)."""
    already = handler in _handlers[_known(event)]
    on(event, handler)
    try:
        yield handler
    finally:
        if not already:
            off(event, handler)


def subscribers(event: Event) -> tuple[Handler, ...]:
    """Who is subscribed to ``event``, in calling order."""
    return tuple(_handlers[_known(event)])


def announce(event: Event, rotation: Rotation, **context: Any) -> None:
    """Call every handler of ``event`` with ``rotation`` and ``context``, inside the
    transition's transaction. An unknown event, a context other than the event's keys,
    or a call outside a transaction is a programming error (``ValueError`` /
    ``RuntimeError``); a handler's own error propagates and rolls the transition back."""
    expected = EVENTS[_known(event)]
    if set(context) != expected:
        raise ValueError(
            f"The {event!r} event carries {', '.join(sorted(expected))}; "
            f"got {', '.join(sorted(context)) or 'nothing'}."
        )
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(
            f"announce({event!r}) must run inside the transition's transaction, so that a "
            "subscriber's writes and refusals commit or roll back with it."
        )
    for handler in tuple(_handlers[event]):
        handler(rotation, **context)
