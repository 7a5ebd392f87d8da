"""What people type for a time (WHEN) or a date (DATE), read strictly with python-dateutil.

A day is ``2026-06-10`` (year first, any 1 or 2 digit month and day), a date with its month by
name (``10 Jun 2026``, ``Jun 10``, ``June 10th, 2026``), or a day relative to today in the zone:
``today``, ``tomorrow``, ``wed`` / ``next wed`` (the coming Wednesday, strictly after today). A
date without a year is the coming one when ``upcoming`` (this year's, or next year's once it has
passed), else this year's. WHEN is a day and a time of day (``09:00``, ``9am``, ``9:30pm``,
``09:00:30``), or ``now``; a trailing offset (``Z``, ``UTC``, ``+02:00``, ``-0530``,
``UTC+05:30``) makes it that instant; the zone's own abbreviation (``CEST``) is checked and, in a
fall-back fold, picks the occurrence it names. A weekday before a written date must be its
weekday, so an echoed ``Wed 2026-06-10 09:00 CEST`` reads back as the same instant.

Stricter than dateutil: numeric dates other than year first (``03/04/2026``, ``3/4``) are refused
as ambiguous; so are two-digit years, unknown words (dateutil's fuzzy mode would skip them), zone
names other than the zone's own abbreviation, a WHEN without a time of day or without a date, and
fractions of a second. Errors are ``InputError`` naming the text, the reason and an example.
dateutil is imported on first use: commands that read no typed time never load it.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sessionctl.domain.times import WEEKDAYS, to_zone, too_far
from sessionctl.errors import InputError

if TYPE_CHECKING:
    from dateutil.parser import parserinfo

EXAMPLE_TIME = "2026-06-10 09:00"
EXAMPLE_DATE = "2026-06-10"

# dateutil fills the fields a text leaves out from a default: reading a text with two defaults
# that differ in every field tells which fields it gave. Both are leap years, so "Feb 29" reads.
_DEFAULTS = (datetime(2000, 1, 1, 0, 0, 0), datetime(2004, 2, 2, 1, 1, 1))
_DATE_FIELDS = ("year", "month", "day")

_YEAR_FIRST = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[Tt]|\s+|$)(.*)", re.ASCII | re.DOTALL)
# Day and month in an order that differs by country, or a time written with a dot.
_NUMERIC_DAY = re.compile(r"(?<![\d:])(\d{1,4})([/.-])(\d{1,2})(?:\2(\d{1,4}))?(?![\d:])", re.ASCII)
# An offset right after a time: "09:00+02:00", "9am Z", "09:00 UTC", "12:45 UTC+05:45".
_OFFSET = re.compile(
    r"(?P<body>.*(?:\d:\d\d|[ap]\.?m\.?))\s*(?P<offset>z|utc|gmt|"
    r"(?:(?:utc|gmt)\s*)?(?P<sign>[+-])(?P<hours>\d{1,2})(?::?(?P<minutes>\d\d))?)",
    re.IGNORECASE | re.ASCII | re.DOTALL,
)
# A zone abbreviation right after a time: "09:00 CEST".
_ABBREVIATION = re.compile(
    r"(?P<body>.*(?:\d|[ap]\.?m\.?))\s+(?P<name>[a-z]{2,5})", re.IGNORECASE | re.ASCII | re.DOTALL
)
_LEAD = re.compile(
    r"(?:(?P<next>next)\s+)?(?P<word>[a-z]+)\.?,?(?:\s+(?P<rest>.*))?", re.IGNORECASE | re.DOTALL
)
_WORD = re.compile(r"[A-Za-z]+")
_TWELVE_HOUR = re.compile(r"(?<![\d:])(\d+)(?:[:h]\d+)*\s*[ap]\.?(?:m\.?)?(?![a-z])", re.I)
_RANGE = re.compile(r"(\w+) must be in (\d+)\.\.(\d+)")


@dataclass(frozen=True)
class When:
    """A parsed time argument: exactly one of ``now``, ``local`` or ``instant`` is set."""

    now: bool = False
    local: datetime | None = None
    instant: datetime | None = None


class _Invalid(Exception):
    """Why a text is not read, and the example to offer instead of the default one."""

    def __init__(self, reason: str, example: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.example = example


class _TwoDigitYear(Exception):
    """Raised from inside dateutil (not a ValueError, so dateutil lets it through)."""


def parse_when(text: str, *, now: datetime, zone: ZoneInfo) -> When:
    """Read a WHEN typed by a person; days relative to today are counted in ``zone``.

    Without an offset the result is a naive local wall time in ``zone`` (DST rules are the
    caller's); with one, or with the zone's abbreviation picking one side of a fold, it is an
    aware UTC instant. An instant past year 9999 in UTC is ``too_far``; one before year 1 is
    invalid. Times past the scheduling horizon are the caller's to check.
    """
    stripped = text.strip()
    if stripped.lower() == "now":
        return When(now=True)
    try:
        return _when(stripped, today=to_zone(now, zone).date(), zone=zone)
    except _Invalid as err:
        raise InputError(
            f"invalid time {text!r}: {err.reason}; write e.g. {err.example or EXAMPLE_TIME}"
        ) from None


def parse_date(text: str, *, today: date, upcoming: bool = False) -> date:
    """Read a DATE typed by a person: the day forms of WHEN, without a time of day.

    ``today`` is the local date relative days count from; ``upcoming`` says how a date without
    a year is read (the coming one, or this year's).
    """
    try:
        day, clock = _day_and_clock(text.strip(), today=today, upcoming=upcoming)
    except _Invalid as err:
        raise InputError(
            f"invalid date {text!r}: {err.reason}; write e.g. {err.example or EXAMPLE_DATE}"
        ) from None
    if clock is not None:
        raise InputError(f"invalid date {text!r}: give a date without a time of day")
    return day


def _when(text: str, *, today: date, zone: ZoneInfo) -> When:
    body, offset, abbreviation = _split_zone(text)
    day, clock = _day_and_clock(body, today=today, upcoming=True)
    if clock is None:
        raise _Invalid("no time of day", example=f"{body} 09:00")
    local = datetime.combine(day, clock)
    if offset is not None:
        return When(instant=_instant(local.replace(tzinfo=offset), text=text))
    if abbreviation is not None:
        return _named(local, abbreviation, zone=zone)
    return When(local=local)


def _instant(aware: datetime, *, text: str) -> datetime:
    try:
        return aware.astimezone(UTC)
    except OverflowError:
        if aware.year == 1:
            raise _Invalid("that is before year 1") from None
        raise too_far(text) from None


def _split_zone(text: str) -> tuple[str, timezone | None, str | None]:
    """The text before any offset or zone abbreviation after its time, and that offset or name."""
    found = _OFFSET.fullmatch(text)
    if found is not None:
        return found["body"].rstrip(), _offset(found), None
    named = _ABBREVIATION.fullmatch(text)
    if named is not None and not _known_word(named["name"]):
        return named["body"], None, named["name"]
    return text, None, None


def _offset(found: re.Match[str]) -> timezone:
    if found["sign"] is None:  # Z, UTC or GMT alone
        return UTC
    hours, minutes = int(found["hours"]), int(found["minutes"] or 0)
    if minutes >= 60:
        raise _Invalid("offset minutes must be 0 to 59", example=f"{EXAMPLE_TIME}+02:00")
    if hours >= 24:
        raise _Invalid("an offset is less than 24 hours", example=f"{EXAMPLE_TIME}+02:00")
    sign = -1 if found["sign"] == "-" else 1
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _named(local: datetime, name: str, *, zone: ZoneInfo) -> When:
    """A local time followed by an abbreviation, which must be the zone's at that time.

    In a fall-back fold the abbreviation tells the two occurrences apart (CEST, then CET), so it
    gives that instant; elsewhere it only confirms the zone.
    """
    first, second = local.replace(tzinfo=zone), local.replace(tzinfo=zone, fold=1)
    names = {first.tzname() or "", second.tzname() or ""}
    if name.upper() not in {n.upper() for n in names}:
        shown = " or ".join(sorted(n for n in names if n))
        raise _Invalid(
            f"{name!r} is not the abbreviation of {zone.key} at that time ({shown})",
            example=f"{local:%Y-%m-%d %H:%M} {first.tzname()}",
        )
    in_fold = first.utcoffset() != second.utcoffset() and _shows_as(second, local)
    if in_fold and name.upper() == (second.tzname() or "").upper():
        return When(instant=second.astimezone(UTC))
    return When(local=local)


def _shows_as(aware: datetime, local: datetime) -> bool:
    """Whether ``aware`` is a real instant showing ``local`` on the wall (not a gap's fiction)."""
    return aware.astimezone(UTC).astimezone(aware.tzinfo).replace(tzinfo=None) == local


def _day_and_clock(text: str, *, today: date, upcoming: bool) -> tuple[date, time | None]:
    """The day a text names and its time of day, if it gives one."""
    if not text:
        raise _Invalid("nothing given")
    if not text.isascii():
        raise _Invalid("write digits and English month or weekday names")
    _refuse_numeric_days(text)
    lead = _LEAD.fullmatch(text)
    if lead is not None:
        relative = _relative(lead, today=today, upcoming=upcoming)
        if relative is not None:
            return relative
    return _dated(text, today=today, upcoming=upcoming)


def _relative(
    lead: re.Match[str], *, today: date, upcoming: bool
) -> tuple[date, time | None] | None:
    """``today``, ``tomorrow``, ``[next] wed`` and what follows; ``None`` for other texts.

    A weekday before a written date is checked against it rather than counted from today.
    """
    word, rest = lead["word"].lower(), lead["rest"] or ""
    weekday = _info().weekday(word)
    if weekday is not None and not lead["next"] and _has_date(rest):
        day, clock = _dated(rest, today=today, upcoming=upcoming)
        if day.weekday() != weekday:
            raise _Invalid(f"{day} is a {WEEKDAYS[day.weekday()]}, not a {WEEKDAYS[weekday]}")
        return day, clock
    if weekday is None and (word not in ("today", "tomorrow") or lead["next"]):
        if lead["next"]:
            raise _Invalid("'next' goes before a weekday, as in 'next wed'", "next wed 09:00")
        return None
    day = _count_from(today, weekday=weekday, tomorrow=word == "tomorrow")
    day_text = lead.group(0)[: lead.start("rest")].strip() if rest else ""
    return day, (_clock(rest, day=day_text) if rest else None)


def _count_from(today: date, *, weekday: int | None, tomorrow: bool) -> date:
    """The coming ``weekday`` (strictly after today), else tomorrow or today."""
    from dateutil.relativedelta import relativedelta

    try:
        if weekday is not None:
            return today + relativedelta(days=+1, weekday=weekday)
        return today + timedelta(days=1 if tomorrow else 0)
    except OverflowError:
        raise _Invalid("that day is after year 9999") from None


def _has_date(text: str) -> bool:
    return _YEAR_FIRST.match(text) is not None or _names_a_month(text)


def _names_a_month(text: str) -> bool:
    return any(_info().month(word) is not None for word in _WORD.findall(text))


def _dated(text: str, *, today: date, upcoming: bool) -> tuple[date, time | None]:
    """A written date (year first, or with the month by name) and its time, if any."""
    year_first = _YEAR_FIRST.fullmatch(text)
    if year_first is not None:
        day = _calendar_day(*(int(year_first[n]) for n in (1, 2, 3)))
        rest = year_first[4].strip()
        return day, (_clock(rest, day=day.isoformat()) if rest else None)
    if text.isdigit():
        raise _Invalid(f"{text!r} alone is not a time or a date")
    _check_words(text, months=True)
    parsed, given = _read(text)
    if given & set(_DATE_FIELDS):
        if not _names_a_month(text):
            raise _Invalid("write the month as a name (10 Jun) or the date as YYYY-MM-DD")
        if "day" not in given:
            raise _Invalid("no day of the month")
    elif "hour" in given:
        _time_of(parsed, text)  # a bad time first, so the example below is a good one
        raise _Invalid("no date", example=f"tomorrow {text}")
    else:
        raise _Invalid("no date")
    if "year" in given:
        day = parsed.date()
    else:
        day = _without_year(parsed.month, parsed.day, today=today, upcoming=upcoming)
    return day, (_time_of(parsed, text) if "hour" in given else None)


def _without_year(month: int, day: int, *, today: date, upcoming: bool) -> date:
    year = today.year
    if upcoming and (month, day) < (today.month, today.day):
        year += 1
    if year > 9999:
        raise _Invalid("that day is after year 9999")
    if day <= calendar.monthrange(year, month)[1]:
        return date(year, month, day)
    leap = next(y for y in range(year + 1, year + 9) if calendar.isleap(y))  # only Feb 29
    name = calendar.month_abbr[month]
    raise _Invalid(f"{name} {day} does not exist in {year}", example=f"{day} {name} {leap}")


def _calendar_day(year: int, month: int, day: int) -> date:
    if not 1 <= year <= 9999:
        raise _Invalid("year must be 1 to 9999")
    if not 1 <= month <= 12:
        raise _Invalid("month must be 1 to 12")
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        raise _Invalid(f"{calendar.month_name[month]} {year} has {last} days")
    return date(year, month, day)


def _clock(text: str, *, day: str) -> time:
    """A time of day and nothing else: ``09:00``, ``9am``, ``9:30pm``, ``9h30``, ``T09:00:30``.

    ``day`` is the text of the day before it, for the example an error offers.
    """
    _check_words(text, months=False)
    parsed, given = _read(text)
    if "hour" not in given or given & set(_DATE_FIELDS):
        raise _Invalid(f"{text!r} is not a time of day", example=f"{day} 09:00")
    return _time_of(parsed, text)


def _time_of(parsed: datetime, text: str) -> time:
    if parsed.microsecond:
        raise _Invalid("fractions of a second are not read")
    for hour in _TWELVE_HOUR.findall(text):
        if not 1 <= int(hour) <= 12:
            raise _Invalid(f"{hour} is not an hour on a 12-hour clock", example="9am or 21:00")
    return parsed.time()


def _read(text: str) -> tuple[datetime, frozenset[str]]:
    """dateutil's reading of ``text`` (missing fields zero or January 1st) and the fields given."""
    from dateutil import parser

    reader = parser.parser(_info())
    try:
        first, second = (reader.parse(text, default=d, tzinfos=_no_zone) for d in _DEFAULTS)
    except _TwoDigitYear:
        raise _Invalid("write the year with four digits") from None
    except (ValueError, OverflowError) as err:
        raise _Invalid(_reason(err)) from None
    fields = ("year", "month", "day", "hour", "minute", "second")
    given = frozenset(f for f in fields if getattr(first, f) == getattr(second, f))
    return first, given


def _no_zone(name: str | None, offset: int | None) -> None:
    """dateutil's hook for zone names and offsets: those it would find here are misplaced."""
    if name is not None or offset is not None:
        raise _Invalid("an offset or zone goes right after the time, as in 09:00+02:00")


def _reason(err: Exception) -> str:
    """dateutil's complaint in plain words: ``hour must be 0 to 23``, or a generic one."""
    found = _RANGE.match(str(err))
    if found is not None:
        return f"{found[1]} must be {found[2]} to {found[3]}"
    if str(err).startswith("day is out of range"):
        return "that month has fewer days"
    return "not a date and time this reads"


def _check_words(text: str, *, months: bool) -> None:
    """Refuse words dateutil would skip or misread: only month names (where a date may be),
    am/pm, h/m/s and small linking words ("at", "on", "of", "th") are read."""
    info = _info()
    for word in _WORD.findall(text):
        if months and info.month(word) is not None:
            continue
        if info.jump(word) or info.ampm(word) is not None or info.hms(word) is not None:
            continue
        if info.weekday(word) is not None or word.lower() in ("today", "tomorrow", "next"):
            raise _Invalid(f"{word!r} goes first, as in '{word} 09:00'")
        raise _Invalid(f"{word!r} is not a date or time word")


def _known_word(word: str) -> bool:
    """A word with a meaning of its own here, so never a zone abbreviation."""
    info = _info()
    named = (info.month(word), info.weekday(word), info.ampm(word), info.hms(word))
    return (
        any(found is not None for found in named)
        or info.jump(word)
        or word.lower() in ("today", "tomorrow", "next", "now")
    )


def _refuse_numeric_days(text: str) -> None:
    """``03/04/2026``, ``3/4``, ``10.06.2026``, ``03-04-2026``: day and month order differs by
    country, so numeric dates are read only year first (``2026-04-03``); the others are refused
    with the forms that cannot be misread."""
    for found in _NUMERIC_DAY.finditer(text):
        first, separator, second, third = found.groups()
        if separator == "-" and (third is None or len(first) == 4):
            continue  # year first (2026-06-10), or an offset or range: not a day
        named = "" if found[0] == text else f"{found[0]!r} "  # the part at fault, if not all
        if separator == "." and third is None:
            raise _Invalid(f"{named}could be a date or a time", example="09:30 or 9 Mar")
        if len(first) == 4:
            why = "a numeric date takes dashes"
        elif int(first) <= 12 and int(second) <= 12:
            why = f"{named}could be day/month or month/day"
        else:
            why = "numeric dates are read only year first"
        raise _Invalid(why, example=_numeric_example(found))


def _numeric_example(found: re.Match[str]) -> str:
    first, _, second, third = found.groups()
    if len(first) == 4:  # 2026/06/10: year first, only the separator is wrong
        return f"{int(first):04d}-{int(second):02d}-{int(third or 1):02d}"
    day, month = int(first), int(second)
    if day <= 12 < month:  # only month/day can be meant
        day, month = month, day
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        return EXAMPLE_DATE
    name = calendar.month_abbr[month]
    if (third is None or len(third) != 4) and day <= 12:  # either reading: offer both
        return f"{day} {name} or {month} {calendar.month_abbr[day]}"
    if third is None or len(third) != 4:
        return f"{day} {name}"
    return f"{third}-{month:02d}-{day:02d} or {day} {name} {third}"


@cache
def _info() -> parserinfo:
    from dateutil import parser

    class _StrictInfo(parser.parserinfo):
        def convertyear(self, year: int, century_specified: bool = False) -> int:
            if year < 100 and not century_specified:
                raise _TwoDigitYear
            return year

    return _StrictInfo()
