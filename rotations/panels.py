"""Sections other apps add to the rotation page, without rotations importing them
(STYLE §7, like ``rotations.lifecycle``): payments shows what is paid, due and overdue.

An app registers a callable in its ``AppConfig.ready()``::

    panels.register(payments.pages.rotation_payment_panel)

It is called as ``panel(request, rotation)`` for a member who may see the rotation
(``request.membership``), and answers ``(template_name, context)`` or ``None`` when it
has nothing for this member. The rotation page renders the answers in registration order.
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
