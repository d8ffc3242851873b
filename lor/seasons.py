"""Application seasons for letters (DESIGN §8).

A season is named by its Match year, as ERAS names it: the ERAS 2028 season opens in
June 2027, programs start reviewing applications in late September 2027, and the Match
is in March 2028. Letters should be in ERAS by the **ERAS target date, September 15**
of the year before the Match.

A student may ask for a letter for the season whose Match is next (until the end of
March of the Match year) and the two after it.
"""

from __future__ import annotations

from datetime import date

TARGET_MONTH, TARGET_DAY = 9, 15
SEASONS_AHEAD = 3  # the next Match's season and the two after it


def target_date(season: int) -> date:
    """The ERAS target date of ``season`` (its Match year): September 15 the year before."""
    return date(season - 1, TARGET_MONTH, TARGET_DAY)


def next_match_season(today: date) -> int:
    """The season whose Match comes next: this year's until the end of March, after
    that next year's."""
    return today.year if today.month <= 3 else today.year + 1


def open_seasons(today: date) -> list[int]:
    """The seasons a student may ask a letter for today."""
    first = next_match_season(today)
    return list(range(first, first + SEASONS_AHEAD))


def default_season(today: date) -> int:
    """The first open season whose target date is still ahead (the one most students
    are preparing for)."""
    for season in open_seasons(today):
        if target_date(season) >= today:
            return season
    return open_seasons(today)[-1]


def season_label(season: int) -> str:
    target = target_date(season)
    return f"ERAS {season} (Match {season}; letters by {target:%B} {target.day}, {target.year})"


def days_left(target: date, today: date) -> int:
    """Days from ``today`` to ``target`` (negative once it has passed)."""
    return (target - today).days


def days_left_words(target: date, today: date) -> str:
    """``45 days left``, ``today``, ``passed 3 days ago``: the ERAS target as people say it."""
    days = days_left(target, today)
    if days == 0:
        return "today"
    if days > 0:
        return f"{days} day{'s' if days != 1 else ''} left"
    return f"passed {-days} day{'s' if days != -1 else ''} ago"
