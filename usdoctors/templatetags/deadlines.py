"""``{{ moment|deadline }}`` → ``Dec 8, 2026, 5:00 PM EST (UTC−05:00)``;
``{{ moment|deadline:"long" }}`` adds the weekday and the full month (usdoctors.dates)."""

from django import template

from usdoctors.dates import deadline_text

register = template.Library()


@register.filter
def deadline(moment, style: str = ""):
    if not moment:
        return ""
    return deadline_text(moment, weekday=style == "long")
