"""Sections other apps add to the rotation page, without rotations importing them
(STYLE §7, like ``rotations.lifecycle``): payments shows what is paid, due and overdue.

An app registers a callable in its ``AppConfig.ready()``::

    panels.register(payments.pages.rotation_payment_panel)

It is called as ``panel(request, rotation)`` for a member who may see the rotation
(``request.membership``), and answers ``(template_name, context)`` or ``None`` when it
has nothing for this member. The rotation page renders the answers in registration order.

The attending's page has its own list the same way (``register_attending``): a panel is
called as ``panel(request, attending)`` for anyone who may see the page (the reviews).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.template.loader import render_to_string
from django.utils.safestring import SafeString

if TYPE_CHECKING:
    from rotations.models import Rotation

Panel = Callable[[Any, "Rotation"], "tuple[str, dict] | None"]

_panels: list[Panel] = []
_attending_panels: list[Callable] = []


def register(panel: Panel) -> Panel:
    """Add ``panel`` to the rotation page (once: registering it again changes nothing)."""
    if panel not in _panels:
        _panels.append(panel)
    return panel


def unregister(panel: Panel) -> None:
    if panel in _panels:
        _panels.remove(panel)


def render_panels(request, rotation: Rotation) -> list[SafeString]:
    """Each registered panel's HTML for this member and rotation."""
    rendered = []
    for panel in tuple(_panels):
        answer = panel(request, rotation)
        if answer is not None:
            template_name, context = answer
            rendered.append(render_to_string(template_name, context, request=request))
    return rendered


def register_attending(panel: Callable) -> Callable:
    """Add ``panel`` to the attending's page (once)."""
    if panel not in _attending_panels:
        _attending_panels.append(panel)
    return panel


def render_attending_panels(request, attending) -> list[SafeString]:
    """Each registered attending-page panel's HTML for this visitor and attending."""
    rendered = []
    for panel in tuple(_attending_panels):
        answer = panel(request, attending)
        if answer is not None:
            template_name, context = answer
            rendered.append(render_to_string(template_name, context, request=request))
    return rendered
