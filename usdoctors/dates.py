"""Dates a person can mean. Input dates outside a window around today are refused where
they are parsed (400 naming the field, or the message next to the form field), so no
date arithmetic further in can overflow on ``9999-12-31``."""

from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone

YEARS_BACK = 1
YEARS_AHEAD = 3


def sane_date_window(today: date | None = None) -> tuple[date, date]:
    """From one year before today to three years after it, inclusive."""
    today = today or timezone.localdate()
    return today - timedelta(days=365 * YEARS_BACK), today + timedelta(days=365 * YEARS_AHEAD)


def validate_sane_date(value: date) -> None:
    earliest, latest = sane_date_window()
    if not earliest <= value <= latest:
        raise ValidationError(
            f"Choose a date between {earliest:%B} {earliest.day}, {earliest.year} and "
            f"{latest:%B} {latest.day}, {latest.year}.",
            code="date_out_of_range",
        )


def today() -> date:
    return timezone.localdate()


def this_monday(on: date | None = None) -> date:
    """The Monday of the current week."""
    on = on or today()
    return on - timedelta(days=on.weekday())


def next_monday(on: date | None = None) -> date:
    """The first Monday after today: the earliest start a rotation may have (§5)."""
    return this_monday(on) + timedelta(weeks=1)


def utc_offset(moment: datetime) -> str:
    """``UTC−05:00``: the offset of ``moment`` (an aware local time), with a true minus."""
    offset = moment.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "−" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


def deadline_text(moment: datetime, *, weekday: bool = False) -> str:
    """A deadline as people anywhere can read it (issue 11): the organization's local
    time with its zone and UTC offset, ``Dec 8, 2026, 5:00 PM EST (UTC−05:00)``; with
    ``weekday``, ``Tuesday, December 8, 2026, 5:00 PM EST (UTC−05:00)``. A student abroad
    converts from the offset; the abbreviation alone ("EST") is not enough."""
    local = timezone.localtime(moment)
    hour = local.hour % 12 or 12
    clock = f"{hour}:{local:%M} {'AM' if local.hour < 12 else 'PM'}"
    day = f"{local:%A, %B} {local.day}" if weekday else f"{local:%b} {local.day}"
    return f"{day}, {local.year}, {clock} {local:%Z} ({utc_offset(local)})"
