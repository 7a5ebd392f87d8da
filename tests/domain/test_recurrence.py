"""Recurring rounds across DST changes, against the real tz database (no mocks)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessionctl.domain.recurrence import (
    Occurrence,
    Repeat,
    SeriesRule,
    check_window,
    parse_repeat,
)
from sessionctl.domain.times import Resolved
from sessionctl.errors import InputError

from .test_times import PROPERTY_SETTINGS, assert_resolution, zoned_locals

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
SANTIAGO = ZoneInfo("America/Santiago")
REPEATING = [Repeat.WEEKLY, Repeat.EVERY_2_WEEKS, Repeat.EVERY_3_WEEKS, Repeat.EVERY_4_WEEKS]


def _weekly(
    zone: ZoneInfo, match: datetime, *, count: int | None = None, until: date | None = None
) -> SeriesRule:
    return SeriesRule(
        zone=zone,
        repeat=Repeat.WEEKLY,
        first_match=match,
        first_opt_in=None,
        count=count,
        until=until,
    )


def _matches(occurrences: list[Occurrence]) -> list[tuple[datetime, datetime, timedelta | None]]:
    """(requested local, UTC instant, moved) of each match."""
    return [(o.match.local, o.match.instant, o.match.moved) for o in occurrences]


# Repeat


@pytest.mark.parametrize(
    ("text", "repeat", "weeks"),
    [
        ("once", Repeat.ONCE, None),
        (" Weekly ", Repeat.WEEKLY, 1),
        ("2-weeks", Repeat.EVERY_2_WEEKS, 2),
        ("3-WEEKS", Repeat.EVERY_3_WEEKS, 3),
        ("4-weeks", Repeat.EVERY_4_WEEKS, 4),
    ],
)
def test_parse_repeat(text: str, repeat: Repeat, weeks: int | None) -> None:
    assert parse_repeat(text) is repeat
    assert repeat.weeks == weeks


@pytest.mark.parametrize("text", ["", "daily", "2 weeks", "5-weeks", "monthly"])
def test_parse_repeat_rejects_unknown_values(text: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_repeat(text)
    assert str(caught.value) == (
        f"unknown repeat {text!r}: use one of once, weekly, 2-weeks, 3-weeks, 4-weeks"
    )


# Across DST changes


def test_paris_weekly_0230_moves_only_on_the_gap_day() -> None:
    rule = _weekly(PARIS, datetime(2027, 3, 14, 2, 30), count=4)
    assert _matches(rule.occurrences()) == [
        (datetime(2027, 3, 14, 2, 30), datetime(2027, 3, 14, 1, 30, tzinfo=UTC), None),
        (datetime(2027, 3, 21, 2, 30), datetime(2027, 3, 21, 1, 30, tzinfo=UTC), None),
        (
            datetime(2027, 3, 28, 2, 30),
            datetime(2027, 3, 28, 1, 30, tzinfo=UTC),
            timedelta(hours=1),
        ),
        (datetime(2027, 4, 4, 2, 30), datetime(2027, 4, 4, 0, 30, tzinfo=UTC), None),
    ]
    gap_day = rule.occurrence(2).match
    assert gap_day.instant.astimezone(PARIS).strftime("%H:%M") == "03:30"


def test_new_york_weekly_0130_uses_the_first_of_the_fold() -> None:
    rule = _weekly(NEW_YORK, datetime(2026, 10, 25, 1, 30), count=3)
    rounds = rule.occurrences()
    assert [o.match.instant for o in rounds] == [
        datetime(2026, 10, 25, 5, 30, tzinfo=UTC),
        datetime(2026, 11, 1, 5, 30, tzinfo=UTC),  # EDT, -04:00: the first 01:30
        datetime(2026, 11, 8, 6, 30, tzinfo=UTC),
    ]
    assert [o.match.ambiguous for o in rounds] == [False, True, False]


def test_lord_howe_weekly_moves_by_thirty_minutes_in_the_gap() -> None:
    rule = _weekly(LORD_HOWE, datetime(2026, 9, 27, 2, 15), count=3)
    rounds = rule.occurrences()
    assert [o.match.moved for o in rounds] == [None, timedelta(minutes=30), None]
    assert [o.match.instant for o in rounds] == [
        datetime(2026, 9, 26, 15, 45, tzinfo=UTC),  # +10:30
        datetime(2026, 10, 3, 15, 45, tzinfo=UTC),  # 02:45 +11:00
        datetime(2026, 10, 10, 15, 15, tzinfo=UTC),  # +11:00
    ]


def test_lord_howe_weekly_uses_the_first_of_its_half_hour_fold() -> None:
    rule = _weekly(LORD_HOWE, datetime(2026, 3, 29, 1, 45), count=3)
    rounds = rule.occurrences()
    assert [o.match.ambiguous for o in rounds] == [False, True, False]
    assert [o.match.instant for o in rounds] == [
        datetime(2026, 3, 28, 14, 45, tzinfo=UTC),
        datetime(2026, 4, 4, 14, 45, tzinfo=UTC),  # +11:00, the first 01:45
        datetime(2026, 4, 11, 15, 15, tzinfo=UTC),
    ]


def test_santiago_weekly_0030_moves_to_0130_on_the_midnight_change() -> None:
    rule = _weekly(SANTIAGO, datetime(2026, 8, 30, 0, 30), count=3)
    rounds = rule.occurrences()
    assert [o.match.moved for o in rounds] == [None, timedelta(hours=1), None]
    assert [o.match.instant.astimezone(SANTIAGO).isoformat() for o in rounds] == [
        "2026-08-30T00:30:00-04:00",
        "2026-09-06T01:30:00-03:00",
        "2026-09-13T00:30:00-03:00",
    ]


def test_every_two_weeks_keeps_weekday_and_wall_time_across_a_change() -> None:
    rule = SeriesRule(
        zone=PARIS,
        repeat=Repeat.EVERY_2_WEEKS,
        first_match=datetime(2026, 10, 13, 18, 0),
        first_opt_in=datetime(2026, 10, 12, 9, 0),
        count=3,
    )
    rounds = rule.occurrences()
    for k, occurrence in enumerate(rounds):
        assert occurrence.index == k
        assert occurrence.match.local == datetime(2026, 10, 13, 18, 0) + timedelta(days=14 * k)
        assert occurrence.opt_in is not None
        assert occurrence.opt_in.local == datetime(2026, 10, 12, 9, 0) + timedelta(days=14 * k)
        assert occurrence.match.instant.astimezone(PARIS).strftime("%a %H:%M") == "Tue 18:00"
    assert [o.match.instant.hour for o in rounds] == [16, 17, 17]  # CEST, then CET


def test_every_four_weeks_is_anchored_to_round_zero() -> None:
    rule = SeriesRule(
        zone=PARIS,
        repeat=Repeat.EVERY_4_WEEKS,
        first_match=datetime(2027, 1, 31, 2, 30),
        first_opt_in=None,
    )
    rounds = rule.occurrences(until_instant=datetime(2027, 12, 31, tzinfo=UTC))
    assert [o.match.local for o in rounds[:4]] == [
        datetime(2027, 1, 31, 2, 30),
        datetime(2027, 2, 28, 2, 30),
        datetime(2027, 3, 28, 2, 30),  # in the gap: happens at 03:30 ...
        datetime(2027, 4, 25, 2, 30),  # ... and the next round is back at 02:30
    ]
    assert rounds[2].match.moved == timedelta(hours=1)
    for k, occurrence in enumerate(rounds):
        assert occurrence.match.local == datetime(2027, 1, 31, 2, 30) + timedelta(weeks=4 * k)
        assert rule.occurrence(k) == occurrence
    assert rule.occurrences(start=5, until_instant=rounds[6].starts_at) == rounds[5:7]


# count, until, until_instant


def test_count_limits_the_rounds() -> None:
    rule = _weekly(PARIS, datetime(2026, 6, 1, 9, 0), count=3)
    assert [o.index for o in rule.occurrences()] == [0, 1, 2]
    assert rule.occurrences(start=2) == [rule.occurrence(2)]
    assert rule.occurrences(start=3) == []
    with pytest.raises(IndexError):
        rule.occurrence(3)


def test_until_is_the_last_local_date_a_match_may_fall_on() -> None:
    rule = SeriesRule(
        zone=PARIS,
        repeat=Repeat.WEEKLY,
        first_match=datetime(2026, 6, 1, 23, 30),
        first_opt_in=datetime(2026, 5, 28, 9, 0),
        until=date(2026, 6, 15),
    )
    assert [o.match.local.date() for o in rule.occurrences()] == [
        date(2026, 6, 1),
        date(2026, 6, 8),
        date(2026, 6, 15),
    ]
    with pytest.raises(IndexError):
        rule.occurrence(3)


def test_until_instant_includes_a_round_starting_exactly_then() -> None:
    rule = SeriesRule(
        zone=PARIS,
        repeat=Repeat.WEEKLY,
        first_match=datetime(2026, 6, 1, 12, 0),
        first_opt_in=datetime(2026, 5, 29, 9, 0),
    )
    third_opens = datetime(2026, 6, 12, 7, 0, tzinfo=UTC)
    assert rule.occurrence(2).starts_at == third_opens
    assert len(rule.occurrences(until_instant=third_opens)) == 3
    assert len(rule.occurrences(until_instant=third_opens - timedelta(seconds=1))) == 2


def test_an_open_ended_series_needs_until_instant() -> None:
    rule = _weekly(PARIS, datetime(2026, 6, 1, 9, 0))
    with pytest.raises(ValueError):
        rule.occurrences()
    with pytest.raises(ValueError):
        rule.occurrences(start=-1, until_instant=datetime(2027, 1, 1, tzinfo=UTC))


def test_a_one_off_rule_has_exactly_round_zero() -> None:
    for count in (None, 1):
        rule = SeriesRule(
            zone=PARIS,
            repeat=Repeat.ONCE,
            first_match=datetime(2026, 6, 1, 9, 0),
            first_opt_in=datetime(2026, 5, 25, 9, 0),
            count=count,
        )
        assert [o.index for o in rule.occurrences()] == [0]
        assert rule.occurrences(start=1) == []
        with pytest.raises(IndexError):
            rule.occurrence(1)


@dataclass(frozen=True)
class _Bad:
    options: dict[str, object]
    message: str


@pytest.mark.parametrize(
    "bad",
    [
        _Bad({"count": 2, "until": date(2026, 7, 1)}, "use --count or --until, not both"),
        _Bad({"count": 0}, "invalid count 0: a series has at least 1 round"),
        _Bad(
            {"until": date(2026, 5, 31)},
            "--until: 2026-05-31 is before the first match, on 2026-06-01",
        ),
        _Bad(
            {"repeat": Repeat.ONCE, "count": 2},
            "a one-off round does not repeat: drop --count and --until",
        ),
        _Bad(
            {"repeat": Repeat.ONCE, "until": date(2026, 7, 1)},
            "a one-off round does not repeat: drop --count and --until",
        ),
        _Bad(
            {"first_opt_in": datetime(2026, 5, 25, 9, 0)},
            "the open window (7 days 0 hours) must be shorter than the 1-week interval, "
            "or rounds would overlap",
        ),
        _Bad(
            {"first_opt_in": datetime(2026, 6, 1, 9, 0)},
            "the match time must be after the opt-in time",
        ),
    ],
)
def test_invalid_rules_are_rejected(bad: _Bad) -> None:
    fields: dict[str, object] = {
        "zone": PARIS,
        "repeat": Repeat.WEEKLY,
        "first_match": datetime(2026, 6, 1, 9, 0),
        "first_opt_in": None,
        **bad.options,
    }
    with pytest.raises(InputError) as caught:
        SeriesRule(**fields)  # type: ignore[arg-type]
    assert str(caught.value) == bad.message


def test_until_on_the_first_match_date_is_allowed() -> None:
    assert (
        len(_weekly(PARIS, datetime(2026, 6, 1, 9, 0), until=date(2026, 6, 1)).occurrences()) == 1
    )


def test_aware_datetimes_are_a_programming_error() -> None:
    with pytest.raises(ValueError):
        _weekly(PARIS, datetime(2026, 6, 1, 9, 0, tzinfo=UTC))


# check_window


def test_check_window_accepts_a_window_shorter_than_the_interval() -> None:
    opt_in = datetime(2026, 6, 1, 9, 0)
    check_window(
        opt_in=opt_in, match=opt_in + timedelta(days=6, hours=23, minutes=59), repeat=Repeat.WEEKLY
    )
    check_window(opt_in=opt_in, match=opt_in + timedelta(days=40), repeat=Repeat.ONCE)
    check_window(opt_in=None, match=opt_in, repeat=Repeat.WEEKLY)


@pytest.mark.parametrize(
    ("window", "repeat", "message"),
    [
        (timedelta(0), Repeat.WEEKLY, "the match time must be after the opt-in time"),
        (timedelta(minutes=-5), Repeat.ONCE, "the match time must be after the opt-in time"),
        (
            timedelta(days=7),
            Repeat.WEEKLY,
            "the open window (7 days 0 hours) must be shorter than the 1-week interval, "
            "or rounds would overlap",
        ),
        (
            timedelta(days=15, hours=1, minutes=30),
            Repeat.EVERY_2_WEEKS,
            "the open window (15 days 1 hour 30 minutes) must be shorter than the 2-week "
            "interval, or rounds would overlap",
        ),
        (
            timedelta(days=28),
            Repeat.EVERY_4_WEEKS,
            "the open window (28 days 0 hours) must be shorter than the 4-week interval, "
            "or rounds would overlap",
        ),
    ],
)
def test_check_window_rejects(window: timedelta, repeat: Repeat, message: str) -> None:
    opt_in = datetime(2026, 6, 1, 9, 0)
    with pytest.raises(InputError) as caught:
        check_window(opt_in=opt_in, match=opt_in + window, repeat=repeat)
    assert str(caught.value) == message


def test_wall_clock_windows_can_still_invert_instants_in_a_gap() -> None:
    """Known limit of the spec's wall-clock rule: a gap can push one time past the next.

    Within a round: opt-in 02:30, match 03:15 on the Paris change day -> opt-in at 03:30.
    Across rounds: weekly opt-in 03:10, match 02:50 six days later -> that match at 03:50,
    after the next round opens at 03:10.
    """
    within = SeriesRule(
        zone=PARIS,
        repeat=Repeat.WEEKLY,
        first_match=datetime(2027, 3, 21, 3, 15),
        first_opt_in=datetime(2027, 3, 21, 2, 30),
        count=2,
    ).occurrence(1)
    assert within.opt_in is not None
    assert within.opt_in.instant > within.match.instant
    across = SeriesRule(
        zone=PARIS,
        repeat=Repeat.WEEKLY,
        first_match=datetime(2027, 3, 28, 2, 50),
        first_opt_in=datetime(2027, 3, 21, 3, 10),
        count=2,
    ).occurrences()
    assert across[1].opt_in is not None
    assert across[0].match.instant > across[1].opt_in.instant


# Properties


@st.composite
def rules(draw: st.DrawFn, *, min_margin: timedelta = timedelta(minutes=1)) -> SeriesRule:
    """A repeating rule whose opt-in or match (round ``lead``) is often near a DST change.

    ``min_margin`` is the least wall-clock time between a round's match and the next opt-in.
    """
    name, local = draw(zoned_locals())
    repeat = draw(st.sampled_from(REPEATING))
    interval = timedelta(weeks=repeat.weeks or 0)
    longest = (interval - min_margin) // timedelta(minutes=1)
    window = timedelta(
        minutes=draw(st.integers(1, longest) | st.integers(max(1, longest - 240), longest))
    )
    match = local if draw(st.booleans()) else local + window
    lead = draw(st.integers(0, 3))
    return SeriesRule(
        zone=ZoneInfo(name),
        repeat=repeat,
        first_match=match - lead * interval,
        first_opt_in=match - lead * interval - window,
        count=lead + draw(st.integers(2, 4)),
    )


def _pairs(rule: SeriesRule) -> list[tuple[Occurrence, Occurrence]]:
    rounds = rule.occurrences()
    return list(pairwise(rounds))


@PROPERTY_SETTINGS
@given(rules())
def test_every_round_keeps_its_wall_time_or_moves_by_the_gap(rule: SeriesRule) -> None:
    step = timedelta(weeks=rule.repeat.weeks or 0)
    assert rule.first_opt_in is not None
    for occurrence in rule.occurrences():
        assert occurrence.opt_in is not None
        assert occurrence.match.local == rule.first_match + occurrence.index * step
        assert occurrence.opt_in.local == rule.first_opt_in + occurrence.index * step
        assert occurrence.match.local.weekday() == rule.first_match.weekday()
        assert_resolution(occurrence.match, rule.zone)
        assert_resolution(occurrence.opt_in, rule.zone)


@PROPERTY_SETTINGS
@given(rules(min_margin=timedelta(hours=4)))
def test_a_round_matches_before_the_next_one_opens(rule: SeriesRule) -> None:
    # Gaps in 2020-2035 are at most 3 h (Antarctica/Casey, +08 -> +11): a 4 h margin clears them.
    for current, following in _pairs(rule):
        assert following.opt_in is not None
        assert current.match.instant < following.opt_in.instant


@PROPERTY_SETTINGS
@given(rules())
def test_only_a_gap_can_invert_instants(rule: SeriesRule) -> None:
    for current, following in _pairs(rule):
        assert following.opt_in is not None
        _assert_before_unless_moved(current.match, following.opt_in)
    for occurrence in rule.occurrences():
        assert occurrence.opt_in is not None
        _assert_before_unless_moved(occurrence.opt_in, occurrence.match)


def _assert_before_unless_moved(earlier: Resolved, later: Resolved) -> None:
    if earlier.instant >= later.instant:
        assert earlier.moved is not None
        assert later.local - earlier.local <= earlier.moved
