"""Does a document count for a rotation's dates? (DESIGN §7) Pure functions, no queries.

- ``issued_within_year`` (TB test and immunization report): issued no earlier than one
  year before the rotation's start. A test issued 13 months before the start has expired
  for that rotation, yet may still count for an earlier one.
- ``valid_through_end`` (liability insurance, passport, ID): its expiry date is on or
  after the rotation's last day.
- Any document that carries an expiry date must not expire before the rotation ends,
  whatever its type's rule.
"""

from __future__ import annotations

from datetime import date

from documents.models import Validity


def one_year_before(day: date) -> date:
    """The same calendar day a year earlier (February 29 → February 28)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def expired_for(
    validity: str, issued_on: date, expires_on: date | None, *, start: date, end: date
) -> bool:
    """True when the document no longer counts for a rotation from ``start`` to ``end``."""
    if expires_on is not None and expires_on < end:
        return True
    if validity == Validity.ISSUED_WITHIN_YEAR:
        return issued_on < one_year_before(start)
    if validity == Validity.VALID_THROUGH_END:
        return expires_on is None
    return False


def expiry_words(validity: str, *, start: date, end: date) -> str:
    """What the student must bring, for the checklist's "expired" line."""
    if validity == Validity.ISSUED_WITHIN_YEAR:
        day = one_year_before(start)
        return f"must be issued on or after {day:%B} {day.day}, {day.year}"
    return f"must be valid through {end:%B} {end.day}, {end.year}"
