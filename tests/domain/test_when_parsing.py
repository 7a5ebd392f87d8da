"""What people type for a time or a date, read by domain/when.py with a frozen ``now``.

``now`` is 2026-11-25 12:00 UTC: Wednesday, 13:00 in Paris. Nothing here reads the clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sessionctl.domain.times import format_local, load_zone, resolve_local
from sessionctl.domain.when import When, parse_date, parse_when
from sessionctl.errors import InputError

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TODAY = date(2026, 11, 25)
PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
FAR = "is too far ahead: schedule rounds before 2100-01-01 00:00 UTC"
SETTINGS = settings(max_examples=200, deadline=None, database=None)


def _when(text: str, *, zone: ZoneInfo = PARIS, now: datetime = NOW) -> When:
    return parse_when(text, now=now, zone=zone)


def _local(text: str, **kwargs: ZoneInfo | datetime) -> datetime:
    parsed = _when(text, **kwargs)  # type: ignore[arg-type]
    assert parsed.local is not None, parsed
    return parsed.local


def _refusal(text: str, *, zone: ZoneInfo = PARIS) -> str:
    with pytest.raises(InputError) as caught:
        _when(text, zone=zone)
    return str(caught.value)


# the forms people type


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-06-10 09:00", datetime(2026, 6, 10, 9, 0)),
        ("2026-06-10T09:00", datetime(2026, 6, 10, 9, 0)),
        ("2026-06-10t09:00:30", datetime(2026, 6, 10, 9, 0, 30)),
        ("  2026-06-10   09:00 ", datetime(2026, 6, 10, 9, 0)),
        ("2026-6-1 9:00", datetime(2026, 6, 1, 9, 0)),
        ("2026-06-10 9am", datetime(2026, 6, 10, 9, 0)),
        ("2026-06-10 9:30 PM", datetime(2026, 6, 10, 21, 30)),
        ("2026-06-10 12am", datetime(2026, 6, 10, 0, 0)),
        ("2026-06-10 12pm", datetime(2026, 6, 10, 12, 0)),
        ("2026-06-10 9h30", datetime(2026, 6, 10, 9, 30)),
        ("2026-06-10 at 9 a.m.", datetime(2026, 6, 10, 9, 0)),
        ("10 Jun 2026 09:00", datetime(2026, 6, 10, 9, 0)),
        ("June 10th, 2026 at 9:30 pm", datetime(2026, 6, 10, 21, 30)),
        ("10-Jun-2026 9:00", datetime(2026, 6, 10, 9, 0)),
        ("Wed 10 Jun 2026 09:00", datetime(2026, 6, 10, 9, 0)),
        ("Wed 2026-06-10 09:00", datetime(2026, 6, 10, 9, 0)),
        # Without a year: the coming one; today's date stays this year (the past is refused
        # by the caller, not moved to next year).
        ("Jun 10 9:30", datetime(2027, 6, 10, 9, 30)),
        ("Dec 1 9:30", datetime(2026, 12, 1, 9, 30)),
        ("Nov 25 9:30", datetime(2026, 11, 25, 9, 30)),
        ("24 Nov 17:00", datetime(2027, 11, 24, 17, 0)),
        ("today 17:00", datetime(2026, 11, 25, 17, 0)),
        ("Today 9am", datetime(2026, 11, 25, 9, 0)),
        ("tomorrow 09:00", datetime(2026, 11, 26, 9, 0)),
        ("TOMORROW at 9:30pm", datetime(2026, 11, 26, 21, 30)),
        # A weekday is the coming one, strictly after today: today is a Wednesday.
        ("wed 09:00", datetime(2026, 12, 2, 9, 0)),
        ("next wed 09:00", datetime(2026, 12, 2, 9, 0)),
        ("Wednesday 9am", datetime(2026, 12, 2, 9, 0)),
        ("thu 09:00", datetime(2026, 11, 26, 9, 0)),
        ("next tue 18:00", datetime(2026, 12, 1, 18, 0)),
        ("Sunday, 10:15", datetime(2026, 11, 29, 10, 15)),
    ],
)
def test_forms_people_type_are_read_as_local_wall_times(text: str, expected: datetime) -> None:
    assert _when(text) == When(local=expected)


def test_now_is_now_in_any_case() -> None:
    assert _when("now") == _when("  NoW ") == When(now=True)


def test_relative_days_count_from_today_in_the_zone() -> None:
    late = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)  # already Thursday in Paris and Tokyo
    assert _local("tomorrow 09:00", now=late) == datetime(2026, 11, 27, 9, 0)
    assert _local("tomorrow 09:00", now=late, zone=NEW_YORK) == datetime(2026, 11, 26, 9, 0)
    assert _local("thu 09:00", now=late) == datetime(2026, 12, 3, 9, 0)
    assert _local("thu 09:00", now=late, zone=NEW_YORK) == datetime(2026, 11, 26, 9, 0)


def test_relative_days_cross_the_year_end() -> None:
    eve = datetime(2026, 12, 31, 12, 0, tzinfo=UTC)
    assert _local("tomorrow 09:00", now=eve) == datetime(2027, 1, 1, 9, 0)
    assert _local("next mon 09:00", now=eve) == datetime(2027, 1, 4, 9, 0)
    assert _local("Jan 2 09:00", now=eve) == datetime(2027, 1, 2, 9, 0)


@pytest.mark.parametrize(
    ("text", "instant"),
    [
        ("2026-06-10T09:00+02:00", datetime(2026, 6, 10, 7, 0, tzinfo=UTC)),
        ("2026-06-10 09:00 +02:00", datetime(2026, 6, 10, 7, 0, tzinfo=UTC)),
        ("2026-06-10T09:00-0530", datetime(2026, 6, 10, 14, 30, tzinfo=UTC)),
        ("2026-06-10T09:00:05Z", datetime(2026, 6, 10, 9, 0, 5, tzinfo=UTC)),
        ("2026-06-10t09:00z", datetime(2026, 6, 10, 9, 0, tzinfo=UTC)),
        ("2026-06-10 09:00 UTC", datetime(2026, 6, 10, 9, 0, tzinfo=UTC)),
        ("2026-06-10 12:45 UTC+05:45", datetime(2026, 6, 10, 7, 0, tzinfo=UTC)),
        ("2026-06-10 06:00 GMT-3", datetime(2026, 6, 10, 9, 0, tzinfo=UTC)),
        ("tomorrow 9am Z", datetime(2026, 11, 26, 9, 0, tzinfo=UTC)),
        ("2026-06-10T01:00+05:00", datetime(2026, 6, 9, 20, 0, tzinfo=UTC)),
    ],
)
def test_an_explicit_offset_is_that_instant(text: str, instant: datetime) -> None:
    parsed = _when(text)
    assert parsed == When(instant=instant)
    assert parsed.instant is not None and parsed.instant.tzinfo is UTC


def test_the_zones_own_abbreviation_is_checked_and_tells_a_fold_apart() -> None:
    assert _when("2026-06-10 09:00 CEST") == When(local=datetime(2026, 6, 10, 9, 0))
    assert _when("2026-12-10 09:00 cet") == When(local=datetime(2026, 12, 10, 9, 0))
    # 02:30 happens twice on 2027-10-31 in Paris: CEST is the first, CET the second.
    assert _when("2027-10-31 02:30") == When(local=datetime(2027, 10, 31, 2, 30))
    assert _when("2027-10-31 02:30 CEST") == When(local=datetime(2027, 10, 31, 2, 30))
    assert _when("2027-10-31 02:30 CET") == When(instant=datetime(2027, 10, 31, 1, 30, tzinfo=UTC))
    assert _refusal("2026-06-10 09:00 PST") == (
        "invalid time '2026-06-10 09:00 PST': 'PST' is not the abbreviation of Europe/Paris at "
        "that time (CEST); write e.g. 2026-06-10 09:00 CEST"
    )
    assert _refusal("2026-06-10 09:00 CET").startswith(
        "invalid time '2026-06-10 09:00 CET': 'CET' is not the abbreviation"
    )


ZONES = ["Europe/Paris", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe", "UTC"]


@SETTINGS
@given(
    minutes=st.integers(min_value=0, max_value=80 * 366 * 24 * 60),
    zone_name=st.sampled_from(ZONES),
)
def test_an_echoed_time_reads_back_as_the_same_instant(minutes: int, zone_name: str) -> None:
    zone = ZoneInfo(zone_name)
    instant = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    local = instant.astimezone(zone)
    other = local.replace(fold=1 - local.fold)
    # Where both sides of a fold carry one name, the text cannot tell them apart.
    assume(other.utcoffset() == local.utcoffset() or other.tzname() != local.tzname())
    parsed = _when(format_local(instant, zone, weekday=True), zone=zone)
    if parsed.instant is None:
        assert parsed.local is not None
        assert resolve_local(parsed.local, zone).instant == instant
    else:
        assert parsed.instant == instant


@SETTINGS
@given(
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2099, 12, 31)).map(
        lambda d: d.replace(second=0, microsecond=0)
    )
)
def test_every_written_form_of_a_time_reads_the_same(wall: datetime) -> None:
    hour12 = wall.hour % 12 or 12
    half = "am" if wall.hour < 12 else "pm"
    forms = [
        f"{wall:%Y-%m-%d %H:%M}",
        f"{wall:%Y-%m-%dT%H:%M}",
        f"{wall.day} {wall:%b %Y %H:%M}",
        f"{wall:%B} {wall.day}, {wall.year} {hour12}:{wall:%M}{half}",
        f"{wall:%a %Y-%m-%d} {hour12}:{wall:%M} {half.upper()}",
    ]
    for text in forms:
        assert _when(text) == When(local=wall), text


# Characters that reach dateutil: digits, separators and the letters of its words.
TYPED = st.text(alphabet="0123456789 :/-+.,TZapmhJunDecWedtomrwxUTC", max_size=24)


@SETTINGS
@given(st.one_of(TYPED, st.text(max_size=24)))
def test_any_text_is_read_or_refused_as_input(text: str) -> None:
    # No other exception escapes (an OverflowError or IndexError would be a traceback).
    try:
        parsed = _when(text)
    except InputError:
        return
    assert parsed.now or parsed.local is not None or parsed.instant is not None


@SETTINGS
@given(st.one_of(TYPED, st.text(max_size=24)))
def test_any_text_is_a_date_or_refused_as_input(text: str) -> None:
    try:
        parse_date(text, today=TODAY)
    except InputError:
        return


# refusals


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-13-01 09:00", "month must be 1 to 12; write e.g. 2026-06-10 09:00"),
        ("2026-02-30 09:00", "February 2026 has 28 days; write e.g. 2026-06-10 09:00"),
        ("2026-06-10 24:00", "hour must be 0 to 23; write e.g. 2026-06-10 09:00"),
        ("2026-06-10 09:60", "minute must be 0 to 59; write e.g. 2026-06-10 09:00"),
        ("0000-01-01 00:00", "year must be 1 to 9999; write e.g. 2026-06-10 09:00"),
        ("9", "'9' alone is not a time or a date; write e.g. 2026-06-10 09:00"),
        ("banana 9am", "'banana' is not a date or time word; write e.g. 2026-06-10 09:00"),
        ("nowish", "'nowish' is not a date or time word; write e.g. 2026-06-10 09:00"),
        ("2026-12-01", "no time of day; write e.g. 2026-12-01 09:00"),
        ("tomorrow", "no time of day; write e.g. tomorrow 09:00"),
        ("next wed", "no time of day; write e.g. next wed 09:00"),
        ("Jun 10", "no time of day; write e.g. Jun 10 09:00"),
        ("09:00", "no date; write e.g. tomorrow 09:00"),
        ("9am", "no date; write e.g. tomorrow 9am"),
        ("tomorrow 9", "'9' is not a time of day; write e.g. tomorrow 09:00"),
        ("2026-06-10 0900", "'0900' is not a time of day; write e.g. 2026-06-10 09:00"),
        ("tomorrow 13pm", "13 is not an hour on a 12-hour clock; write e.g. 9am or 21:00"),
        ("9am tomorrow", "'tomorrow' goes first, as in 'tomorrow 09:00'; write e.g. "
         "2026-06-10 09:00"),
        ("next jun 10 09:00", "'next' goes before a weekday, as in 'next wed'; write e.g. "
         "next wed 09:00"),
        ("Thu 2026-06-10 09:00", "2026-06-10 is a Wednesday, not a Thursday; write e.g. "
         "2026-06-10 09:00"),
        ("10 Jun 26 09:00", "write the year with four digits; write e.g. 2026-06-10 09:00"),
        ("10 6 2026 09:00", "write the month as a name (10 Jun) or the date as YYYY-MM-DD; "
         "write e.g. 2026-06-10 09:00"),
        ("Feb 29 09:00", "Feb 29 does not exist in 2027; write e.g. 29 Feb 2028"),
        ("2026-06-10 09:00:00.5", "fractions of a second are not read; write e.g. "
         "2026-06-10 09:00"),
        ("2026-06-10 09:00+02:60", "offset minutes must be 0 to 59; write e.g. "
         "2026-06-10 09:00+02:00"),
        ("2026-06-10 09:00+24:00", "an offset is less than 24 hours; write e.g. "
         "2026-06-10 09:00+02:00"),
        ("2026-06-10 09:00 Europe/Paris", "'Europe' is not a date or time word; write e.g. "
         "2026-06-10 09:00"),
        ("0001-01-01 00:00+01:00", "that is before year 1; write e.g. 2026-06-10 09:00"),
        ("٢٠٢٦-06-10 09:00", "write digits and English month or weekday names; write e.g. "
         "2026-06-10 09:00"),
        ("", "nothing given; write e.g. 2026-06-10 09:00"),
        ("   ", "nothing given; write e.g. 2026-06-10 09:00"),
    ],
)  # fmt: skip
def test_garbage_and_impossible_times_are_refused_with_a_reason(text: str, message: str) -> None:
    assert _refusal(text) == f"invalid time {text!r}: {message}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("03/04/2026 09:00", "'03/04/2026' could be day/month or month/day; "
         "write e.g. 2026-04-03 or 3 Apr 2026"),
        ("3/4 9am", "'3/4' could be day/month or month/day; write e.g. 3 Apr or 4 Mar"),
        ("10.06.2026 09:00", "'10.06.2026' could be day/month or month/day; "
         "write e.g. 2026-06-10 or 10 Jun 2026"),
        ("03-04-2026 09:00", "'03-04-2026' could be day/month or month/day; "
         "write e.g. 2026-04-03 or 3 Apr 2026"),
        ("13/04/2026 09:00", "numeric dates are read only year first; "
         "write e.g. 2026-04-13 or 13 Apr 2026"),
        ("04/13/2026 09:00", "numeric dates are read only year first; "
         "write e.g. 2026-04-13 or 13 Apr 2026"),
        ("2026/04/03 09:00", "a numeric date takes dashes; write e.g. 2026-04-03"),
        ("tomorrow 9.30", "'9.30' could be a date or a time; write e.g. 09:30 or 9 Mar"),
    ],
)  # fmt: skip
def test_numeric_dates_in_a_country_dependent_order_are_refused(text: str, message: str) -> None:
    assert _refusal(text) == f"invalid time {text!r}: {message}"


@pytest.mark.parametrize("text", ["9999-12-31 23:59-01:00", "9999-12-31T23:59-14:00"])
def test_an_offset_time_past_year_9999_is_too_far_ahead(text: str) -> None:
    assert _refusal(text) == f"{text} {FAR}"


# dates


@pytest.mark.parametrize(
    ("text", "this_year", "upcoming"),
    [
        ("2026-06-10", date(2026, 6, 10), date(2026, 6, 10)),
        (" 2028-02-29 ", date(2028, 2, 29), date(2028, 2, 29)),
        ("0001-01-01", date(1, 1, 1), date(1, 1, 1)),
        ("9999-12-31", date(9999, 12, 31), date(9999, 12, 31)),
        ("10 Jun 2026", date(2026, 6, 10), date(2026, 6, 10)),
        ("Jun 10", date(2026, 6, 10), date(2027, 6, 10)),
        ("Dec 31", date(2026, 12, 31), date(2026, 12, 31)),
        ("25 November", date(2026, 11, 25), date(2026, 11, 25)),
        ("today", TODAY, TODAY),
        ("tomorrow", date(2026, 11, 26), date(2026, 11, 26)),
        ("wed", date(2026, 12, 2), date(2026, 12, 2)),
        ("next wed", date(2026, 12, 2), date(2026, 12, 2)),
        ("Friday", date(2026, 11, 27), date(2026, 11, 27)),
    ],
)
def test_parse_date_reads_the_day_forms(text: str, this_year: date, upcoming: date) -> None:
    assert parse_date(text, today=TODAY) == this_year
    assert parse_date(text, today=TODAY, upcoming=True) == upcoming


def test_a_weekday_before_a_date_is_checked_against_the_year_it_is_read_in() -> None:
    assert parse_date("Wed Jun 10", today=TODAY) == date(2026, 6, 10)
    with pytest.raises(InputError) as caught:
        parse_date("Wed Jun 10", today=TODAY, upcoming=True)  # 2027-06-10 is a Thursday
    assert str(caught.value) == (
        "invalid date 'Wed Jun 10': 2027-06-10 is a Thursday, not a Wednesday; "
        "write e.g. 2026-06-10"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-06-10 09:00", "give a date without a time of day"),
        ("tomorrow 9am", "give a date without a time of day"),
        ("2026-12-32", "December 2026 has 31 days; write e.g. 2026-06-10"),
        ("2027-02-29", "February 2027 has 28 days; write e.g. 2026-06-10"),
        ("20260610", "'20260610' alone is not a time or a date; write e.g. 2026-06-10"),
        ("Jun", "no day of the month; write e.g. 2026-06-10"),
        ("30/11/2026", "numeric dates are read only year first; "
         "write e.g. 2026-11-30 or 30 Nov 2026"),
        ("06/10", "could be day/month or month/day; write e.g. 6 Oct or 10 Jun"),
        ("someday", "'someday' is not a date or time word; write e.g. 2026-06-10"),
        ("", "nothing given; write e.g. 2026-06-10"),
    ],
)  # fmt: skip
def test_parse_date_refuses(text: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_date(text, today=TODAY)
    assert str(caught.value) == f"invalid date {text!r}: {message}"


# zones people type


@pytest.mark.parametrize(
    ("name", "meant"),
    [
        ("Europe/Pari", "Europe/Paris"),
        ("Europe/Pariss", "Europe/Paris"),
        ("europe/paris", "Europe/Paris"),
        (" Europe/Paris", "Europe/Paris"),
        ("Paris", "Europe/Paris"),
        ("New York", "America/New_York"),
        ("Amerca/New_York", "America/New_York"),
        ("kolkata", "Asia/Kolkata"),
    ],
)
def test_an_unknown_zone_suggests_the_one_meant(name: str, meant: str) -> None:
    with pytest.raises(InputError) as caught:
        load_zone(name)
    assert str(caught.value) == f"unknown timezone {name!r} (did you mean {meant}?)"


@pytest.mark.parametrize("name", ["Mars/Olympus", "Nowhere/Town", "Europe", "../etc", ""])
def test_a_zone_nothing_is_close_to_gets_the_general_hint(name: str) -> None:
    with pytest.raises(InputError) as caught:
        load_zone(name)
    assert str(caught.value) == (
        f"unknown timezone {name!r}: use an IANA name such as Europe/Paris"
    )
