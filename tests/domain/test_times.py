"""Zones and DST resolution, against the real tz database (no mocks).

What people type for times and dates is read in domain/when.py: tests/domain/test_when_parsing.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sessionctl.domain.times import (
    HORIZON,
    Resolved,
    check_horizon,
    format_local,
    iso,
    load_zone,
    resolve_ahead,
    resolve_local,
    to_zone,
    week_span,
)
from sessionctl.errors import InputError

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
# Chile springs forward at midnight: 2026-09-06 has no 00:00-00:59 (-04 -> -03).
SANTIAGO = ZoneInfo("America/Santiago")

ZONES = sorted(name for name in available_timezones() if not name.startswith(("posix/", "right/")))
PROPERTY_SETTINGS = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _offset(instant: datetime, zone: ZoneInfo) -> timedelta:
    offset = instant.astimezone(zone).utcoffset()
    assert offset is not None
    return offset


def _has_dst(name: str) -> bool:
    zone = ZoneInfo(name)
    return _offset(datetime(2026, 1, 15, tzinfo=UTC), zone) != _offset(
        datetime(2026, 7, 15, tzinfo=UTC), zone
    )


DST_ZONES = [name for name in ZONES if _has_dst(name)]


@cache
def transitions(name: str, year: int) -> tuple[datetime, ...]:
    """The UTC instants in ``year`` at which the zone's offset changes, to the second."""
    zone = ZoneInfo(name)
    found = []
    day = datetime(year, 1, 1, tzinfo=UTC)
    while day.year == year:
        following = day + timedelta(days=1)
        if _offset(day, zone) != _offset(following, zone):
            found.append(_first_change(day, following, zone))
        day = following
    return tuple(found)


def _first_change(low: datetime, high: datetime, zone: ZoneInfo) -> datetime:
    before = _offset(low, zone)
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        low, high = (middle, high) if _offset(middle, zone) == before else (low, middle)
    return high


@st.composite
def zoned_locals(draw: st.DrawFn) -> tuple[str, datetime]:
    """A zone and a naive hh:mm wall time in 2020-2035, often in or near a gap or fold."""
    name = draw(st.sampled_from(DST_ZONES) if draw(st.booleans()) else st.sampled_from(ZONES))
    year = draw(st.integers(2020, 2035))
    changes = transitions(name, year)
    near_change = draw(st.booleans())
    if changes and near_change:
        at = draw(st.sampled_from(changes))
        before = (at + _offset(at - timedelta(seconds=1), ZoneInfo(name))).replace(tzinfo=None)
        after = (at + _offset(at, ZoneInfo(name))).replace(tzinfo=None)
        start, end = min(before, after), max(before, after)
        minutes = draw(st.integers(-90, (end - start) // timedelta(minutes=1) + 90))
        local = start + timedelta(minutes=minutes)
    else:
        local = draw(st.datetimes(datetime(year, 1, 1), datetime(year, 12, 31, 23, 59)))
    return name, local.replace(second=0, microsecond=0)


def assert_resolution(resolved: Resolved, zone: ZoneInfo) -> None:
    """The instant shows the requested wall time, or that time plus the gap it fell in."""
    assert resolved.instant.utcoffset() == timedelta(0)
    shown = resolved.instant.astimezone(zone).replace(tzinfo=None)
    if resolved.moved is None:
        assert shown == resolved.local
    else:
        gap = _offset(resolved.instant, zone) - _offset(resolved.instant - resolved.moved, zone)
        assert resolved.moved == gap > timedelta(0)
        assert shown == resolved.local + resolved.moved
        assert not resolved.ambiguous
    second = resolved.local.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if resolved.ambiguous:
        assert second > resolved.instant
        assert second.astimezone(zone).replace(tzinfo=None) == resolved.local
    elif resolved.moved is None:
        assert second == resolved.instant


# load_zone


@pytest.mark.parametrize(
    "name", ["Europe/Paris", "UTC", "America/Argentina/Buenos_Aires", "Etc/GMT+5"]
)
def test_load_zone_accepts_iana_names(name: str) -> None:
    assert load_zone(name).key == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "Mars/Base",
        "../etc",
        "Europe/Paris ",
        " Europe/Paris",
        "/etc/localtime",
        "Europe/../Europe/Paris",
        "Europe//Paris",
        "./UTC",
        "Europe",
        "zone.tab",
        "europe/paris",
        "Europe/Paris\n",
        "Europe\\Paris",
    ],
)
def test_load_zone_rejects_unknown_or_path_like_names(name: str) -> None:
    with pytest.raises(InputError) as caught:
        load_zone(name)
    # A near name is suggested (tests/domain/test_when_parsing.py); the name itself is refused.
    assert str(caught.value).startswith(f"unknown timezone {name!r}")


# resolve_local


def test_an_ordinary_time_is_used_as_is() -> None:
    resolved = resolve_local(datetime(2026, 6, 10, 9, 0), PARIS)
    assert resolved == Resolved(
        local=datetime(2026, 6, 10, 9, 0), instant=datetime(2026, 6, 10, 7, 0, tzinfo=UTC)
    )
    assert resolved.note(PARIS) is None


def test_a_time_in_the_spring_forward_gap_moves_forward_by_the_gap() -> None:
    resolved = resolve_local(datetime(2027, 3, 28, 2, 30), PARIS)
    assert resolved.instant == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    assert to_zone(resolved.instant, PARIS).replace(tzinfo=None) == datetime(2027, 3, 28, 3, 30)
    assert resolved.moved == timedelta(hours=1)
    assert not resolved.ambiguous
    assert resolved.note(PARIS) == (
        "2027-03-28 02:30 does not exist in Europe/Paris (clocks go forward); moved to 03:30"
    )


def test_a_time_in_the_fall_back_fold_uses_the_first_occurrence() -> None:
    resolved = resolve_local(datetime(2026, 11, 1, 1, 30), NEW_YORK)
    assert resolved.instant == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    assert resolved.ambiguous
    assert resolved.moved is None
    assert resolved.note(NEW_YORK) == (
        "2026-11-01 01:30 happens twice in America/New_York; using the first (EDT, -04:00)"
    )


def test_lord_howe_half_hour_gap_moves_by_thirty_minutes() -> None:
    resolved = resolve_local(datetime(2026, 10, 4, 2, 15), LORD_HOWE)
    assert resolved.moved == timedelta(minutes=30)
    assert resolved.instant == datetime(2026, 10, 3, 15, 45, tzinfo=UTC)
    assert iso(resolved.instant, LORD_HOWE) == "2026-10-04T02:45:00+11:00"
    assert resolved.note(LORD_HOWE) == (
        "2026-10-04 02:15 does not exist in Australia/Lord_Howe (clocks go forward); moved to 02:45"
    )


def test_lord_howe_half_hour_fold_uses_the_first_occurrence() -> None:
    resolved = resolve_local(datetime(2026, 4, 5, 1, 45), LORD_HOWE)
    assert resolved.ambiguous
    assert resolved.instant == datetime(2026, 4, 4, 14, 45, tzinfo=UTC)
    # tzdata has no letter abbreviation for Lord Howe ("+11"), so only the offset is named.
    assert resolved.note(LORD_HOWE) == (
        "2026-04-05 01:45 happens twice in Australia/Lord_Howe; using the first (+11:00)"
    )


def test_a_change_at_midnight_moves_half_past_midnight_to_half_past_one() -> None:
    resolved = resolve_local(datetime(2026, 9, 6, 0, 30), SANTIAGO)
    assert resolved.moved == timedelta(hours=1)
    assert iso(resolved.instant, SANTIAGO) == "2026-09-06T01:30:00-03:00"
    assert resolved.note(SANTIAGO) == (
        "2026-09-06 00:30 does not exist in America/Santiago (clocks go forward); moved to 01:30"
    )


def test_a_fold_before_midnight_uses_the_first_occurrence() -> None:
    resolved = resolve_local(datetime(2026, 4, 4, 23, 30), SANTIAGO)
    assert resolved.ambiguous
    assert iso(resolved.instant, SANTIAGO) == "2026-04-04T23:30:00-03:00"


def test_a_gap_across_midnight_names_the_new_date() -> None:
    zone = ZoneInfo("America/Scoresbysund")
    resolved = resolve_local(datetime(2027, 3, 27, 23, 30), zone)
    assert resolved.note(zone) == (
        "2027-03-27 23:30 does not exist in America/Scoresbysund (clocks go forward); "
        "moved to 2027-03-28 00:30"
    )


def test_a_skipped_day_moves_by_a_whole_day() -> None:
    apia = ZoneInfo("Pacific/Apia")
    resolved = resolve_local(datetime(2011, 12, 30, 9, 0), apia)
    assert resolved.moved == timedelta(days=1)
    assert iso(resolved.instant, apia) == "2011-12-31T09:00:00+14:00"


def test_resolve_local_ignores_fold_and_rejects_aware_input() -> None:
    folded = datetime(2026, 11, 1, 1, 30, fold=1)
    assert resolve_local(folded, NEW_YORK).instant == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    with pytest.raises(ValueError):
        resolve_local(datetime(2026, 6, 10, 9, 0, tzinfo=UTC), PARIS)


def test_a_note_keeps_seconds_when_given() -> None:
    resolved = resolve_local(datetime(2027, 3, 28, 2, 30, 15), PARIS)
    assert resolved.note(PARIS) == (
        "2027-03-28 02:30:15 does not exist in Europe/Paris (clocks go forward); moved to 03:30:15"
    )


@PROPERTY_SETTINGS
@given(zoned_locals())
def test_every_resolution_shows_the_wall_time_or_moves_by_the_gap(
    case: tuple[str, datetime],
) -> None:
    name, local = case
    assert_resolution(resolve_local(local, ZoneInfo(name)), ZoneInfo(name))


# the horizon

FAR = "is too far ahead: schedule rounds before 2100-01-01 00:00 UTC"


@pytest.mark.parametrize(
    ("local", "zone"),
    [
        (datetime(2099, 12, 31, 23, 59, 59), "UTC"),
        (datetime(2100, 1, 1, 0, 59), "Europe/Paris"),  # 23:59 UTC the day before
        (datetime(2100, 1, 1, 13, 59), "Pacific/Kiritimati"),  # UTC+14
        (datetime(2099, 12, 31, 13, 59), "America/Adak"),  # UTC-10
    ],
)
def test_times_before_the_horizon_in_utc_are_accepted(local: datetime, zone: str) -> None:
    resolved = resolve_ahead(local, zone=ZoneInfo(zone), subject="the match time")
    assert resolved == resolve_local(local, ZoneInfo(zone))
    assert resolved.instant < HORIZON


@pytest.mark.parametrize(
    ("local", "zone"),
    [
        (datetime(2100, 1, 1), "UTC"),
        (datetime(2100, 1, 1, 1, 0), "Europe/Paris"),
        (datetime(2100, 1, 1, 14, 0), "Pacific/Kiritimati"),
        (datetime(2099, 12, 31, 14, 0), "America/Adak"),
        (datetime(9999, 12, 31, 23, 59), "America/Adak"),  # resolving it would pass year 9999
        (datetime(9999, 12, 31, 23, 59), "Pacific/Kiritimati"),
        (datetime(9999, 12, 31, 23, 59, fold=1), "Europe/Paris"),
    ],
)
def test_times_at_or_past_the_horizon_are_too_far_ahead(local: datetime, zone: str) -> None:
    with pytest.raises(InputError) as caught:
        resolve_ahead(local, zone=ZoneInfo(zone), subject="the match time X")
    assert str(caught.value) == f"the match time X {FAR}"


@pytest.mark.parametrize("name", ZONES)
def test_a_wall_time_a_day_past_the_horizon_is_past_it_in_every_zone(name: str) -> None:
    # resolve_ahead refuses such wall times without resolving them: this checks that is right.
    almost = HORIZON.replace(tzinfo=None) + timedelta(days=1) - timedelta(minutes=1)
    assert resolve_local(almost, ZoneInfo(name)).instant > HORIZON


def test_check_horizon_is_exclusive() -> None:
    check_horizon(HORIZON - timedelta(microseconds=1), subject="the end")
    with pytest.raises(InputError) as caught:
        check_horizon(HORIZON, subject="the end")
    assert str(caught.value) == f"the end {FAR}"


# week_span


@pytest.mark.parametrize(
    ("day", "weeks", "expected"),
    [
        (date(2026, 6, 10), 1, (date(2026, 6, 8), date(2026, 6, 14))),
        (date(2026, 6, 8), 6, (date(2026, 6, 8), date(2026, 7, 19))),
        (date(1, 1, 3), 1, (date(1, 1, 1), date(1, 1, 7))),  # 0001-01-01 is a Monday
        (date(9999, 12, 26), 1, (date(9999, 12, 20), date(9999, 12, 26))),
    ],
)
def test_week_span(day: date, weeks: int, expected: tuple[date, date]) -> None:
    assert week_span(day, weeks=weeks) == expected


@pytest.mark.parametrize(
    ("day", "weeks", "span"),
    [
        (date(9999, 12, 27), 1, "1 week from 9999-12-27 runs"),
        (date(9999, 12, 1), 6, "6 weeks from 9999-12-01 run"),
    ],
)
def test_week_span_past_year_9999_is_refused(day: date, weeks: int, span: str) -> None:
    with pytest.raises(InputError) as caught:
        week_span(day, weeks=weeks)
    assert str(caught.value) == f"{span} past 9999-12-31: give an earlier date or fewer weeks"


# to_zone, iso, format_local

SUMMER = datetime(2026, 6, 10, 7, 0, tzinfo=UTC)


def test_to_zone_gives_aware_local_time() -> None:
    local = to_zone(SUMMER, PARIS)
    assert local.tzinfo is PARIS
    assert local.replace(tzinfo=None) == datetime(2026, 6, 10, 9, 0)
    with pytest.raises(ValueError):
        to_zone(datetime(2026, 6, 10, 7, 0), PARIS)


@pytest.mark.parametrize(
    ("instant", "zone", "expected"),
    [
        (SUMMER, "Europe/Paris", "2026-06-10T09:00:00+02:00"),
        (datetime(2026, 12, 10, 8, 0, tzinfo=UTC), "Europe/Paris", "2026-12-10T09:00:00+01:00"),
        (SUMMER, "UTC", "2026-06-10T07:00:00+00:00"),
        (SUMMER, "Asia/Kolkata", "2026-06-10T12:30:00+05:30"),
        (SUMMER.replace(second=5, microsecond=999_999), "UTC", "2026-06-10T07:00:05+00:00"),
        (SUMMER.astimezone(timezone(timedelta(hours=-7))), "UTC", "2026-06-10T07:00:00+00:00"),
    ],
)
def test_iso(instant: datetime, zone: str, expected: str) -> None:
    assert iso(instant, ZoneInfo(zone)) == expected


def test_iso_of_nothing_is_nothing() -> None:
    assert iso(None, PARIS) is None


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("Europe/Paris", "2026-06-10 09:00 CEST"),
        ("America/New_York", "2026-06-10 03:00 EDT"),
        ("UTC", "2026-06-10 07:00 UTC"),
        ("Asia/Kolkata", "2026-06-10 12:30 IST"),
        ("Asia/Kathmandu", "2026-06-10 12:45 UTC+05:45"),
        ("Asia/Dubai", "2026-06-10 11:00 UTC+04:00"),
        ("America/Sao_Paulo", "2026-06-10 04:00 UTC-03:00"),
        ("Australia/Lord_Howe", "2026-06-10 17:30 UTC+10:30"),
    ],
)
def test_format_local(zone: str, expected: str) -> None:
    assert format_local(SUMMER.replace(second=42), ZoneInfo(zone)) == expected


def test_a_local_time_past_year_9999_is_shown_in_utc() -> None:
    # A round stored near the end of 9999 (before the horizon existed), shown east of UTC.
    stored = datetime(9999, 12, 31, 23, 0, tzinfo=UTC)
    kiritimati = ZoneInfo("Pacific/Kiritimati")
    assert to_zone(stored, kiritimati) == stored
    assert iso(stored, kiritimati) == "9999-12-31T23:00:00+00:00"
    assert format_local(stored, kiritimati) == "9999-12-31 23:00 UTC"
    assert format_local(stored, ZoneInfo("America/Adak")) == "9999-12-31 13:00 HST"
