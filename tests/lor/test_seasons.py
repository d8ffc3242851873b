"""Application seasons and the reminder rhythm (DESIGN §8): a season is named by its
Match year, its ERAS target date is September 15 of the year before, and the attending
is reminded weekly, every 3 days in the last 3 weeks before that date."""

from datetime import date, timedelta

from hypothesis import example, given
from hypothesis import strategies as st

from lor import seasons
from lor.services import next_reminder

FINAL_WEEKS = timedelta(days=21)


def test_the_target_date_is_september_15_before_the_match():
    assert seasons.target_date(2028) == date(2027, 9, 15)
    assert seasons.target_date(2027) == date(2026, 9, 15)


def test_the_next_matchs_season_stays_open_until_the_end_of_march():
    assert seasons.open_seasons(date(2027, 1, 10)) == [2027, 2028, 2029]
    assert seasons.open_seasons(date(2027, 3, 31)) == [2027, 2028, 2029]
    assert seasons.open_seasons(date(2027, 4, 1)) == [2028, 2029, 2030]
    assert seasons.open_seasons(date(2027, 12, 31)) == [2028, 2029, 2030]


def test_the_default_season_is_the_first_whose_target_date_is_ahead():
    # In March 2027 the 2027 Match is still open, but its letters were due in 2026.
    assert seasons.default_season(date(2027, 3, 31)) == 2028
    assert seasons.default_season(date(2027, 4, 1)) == 2028
    assert seasons.default_season(date(2027, 9, 15)) == 2028  # the target day itself
    assert seasons.default_season(date(2027, 9, 16)) == 2029
    assert seasons.default_season(date(2026, 12, 7)) == 2028


def test_days_left_reads_as_people_say_it():
    target = date(2027, 9, 15)
    assert seasons.days_left_words(target, date(2027, 8, 1)) == "45 days left"
    assert seasons.days_left_words(target, date(2027, 9, 14)) == "1 day left"
    assert seasons.days_left_words(target, target) == "today"
    assert seasons.days_left_words(target, date(2027, 9, 16)) == "passed 1 day ago"
    assert seasons.days_left_words(target, date(2027, 9, 18)) == "passed 3 days ago"
    assert seasons.days_left(target, date(2027, 9, 18)) == -3


def test_the_season_label_names_the_match_and_the_target_date():
    assert seasons.season_label(2028) == ("ERAS 2028 (Match 2028; letters by September 15, 2027)")


@given(
    season=st.integers(min_value=2025, max_value=2040),
    offset=st.integers(min_value=-400, max_value=200),
)
@example(season=2028, offset=-22)  # the day before the final 3 weeks begin
@example(season=2028, offset=-21)  # the first day of the final 3 weeks
@example(season=2028, offset=-1)  # the day before the target date
@example(season=2028, offset=0)  # the target date itself
@example(season=2028, offset=-28)  # a week before the final 3 weeks
def test_the_next_reminder_keeps_the_rhythm(season, offset):
    target = seasons.target_date(season)
    final_from = target - FINAL_WEEKS
    after = target + timedelta(days=offset)

    following = next_reminder(after, target)

    assert following > after
    assert following - after <= timedelta(days=7)
    if final_from <= after < target:
        assert following - after <= timedelta(days=3)
    if after < final_from:
        assert following <= final_from  # the final 3 weeks never start unannounced
    if after < target:
        assert following <= target
