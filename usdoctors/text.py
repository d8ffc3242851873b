"""Limits on what people type (hardening). One place for the lengths every form, the API
and the models share, and for the characters a name may not hold."""

import re

from django.core.exceptions import ValidationError

# Reasons, notes and request messages.
SHORT_TEXT_MAX = 4000
# Thread messages, support tickets and replies, evaluations, bios.
LONG_TEXT_MAX = 10000

# Bidirectional embedding, override and isolate controls: in a name they make
# "Dr. Ann\u202eedoc" display as something else than what it is ("Trojan Source").
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def validate_no_bidi_controls(value: str) -> None:
    if value and BIDI_CONTROLS.search(value):
        raise ValidationError(
            "Remove the invisible text-direction characters (U+202A–U+202E, U+2066–U+2069): "
            "they change how the name is displayed.",
            code="bidi_control",
        )
