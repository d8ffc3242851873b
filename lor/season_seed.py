"""The seasons the planner starts with (DESIGN §14): platform data, like the document
catalog.

Written by migration lor 0002, and again after a ``migrate`` or ``flush`` that finds one
missing (LorConfig.ready connects ``post_migrate``), so a database emptied by a test's
flush still has them; a season that exists is never touched, so staff edits made in
/admin/ stay.

The dates follow the pattern NRMP and ERAS keep (ERAS opens early June of the year
before the Match; applicants may submit early September; programs review three weeks
later; ranks are due early March; Match Day is the third Friday of March). They are
plausible dates, not announcements: platform staff correct them in /admin/ (Seasons) when
the calendar is published.
"""

SEASONS = [
    # match year, ERAS opens, may submit, programs review, rank deadline, Match Day
    (2027, "2026-06-03", "2026-09-02", "2026-09-23", "2027-03-03", "2027-03-19"),
    (2028, "2027-06-02", "2027-09-01", "2027-09-22", "2028-03-01", "2028-03-17"),
    (2029, "2028-06-07", "2028-09-06", "2028-09-27", "2029-02-28", "2029-03-16"),
]


def write_seasons(Season) -> None:
    """Create each season that is missing (keyed by its Match year)."""
    for year, opens, submit, review, rank, match in SEASONS:
        Season.objects.get_or_create(
            match_year=year,
            defaults={
                "eras_opens_on": opens,
                "submission_opens_on": submit,
                "programs_review_on": review,
                "rank_deadline_on": rank,
                "match_day": match,
            },
        )


def write_seasons_after_migrate(sender, **kwargs) -> None:
    from lor.models import Season

    if Season.objects.filter(match_year__in=[season[0] for season in SEASONS]).count() < len(
        SEASONS
    ):
        write_seasons(Season)
