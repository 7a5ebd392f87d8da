"""Time parsing and daylight-saving rules for local wall-clock times.

Times are entered as local wall-clock times in a named IANA zone. A time that does not exist
(spring-forward gap) is moved forward by the length of the gap; a time that happens twice
(fall-back fold) means its first occurrence (RFC 5545 §3.3.5). Instants are aware UTC datetimes.
Rounds are scheduled before ``HORIZON``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sessionctl.domain.words import plural
from sessionctl.errors import InputError

# Rounds are scheduled before this instant. Far enough for any real program; near enough that
# every local time, offset and calendar export of a round stays well inside datetime's years.
HORIZON = datetime(2100, 1, 1, tzinfo=UTC)
# A wall time a day past HORIZON is past it in every zone (no offset reaches a day).
_FAR_WALL = HORIZON.replace(tzinfo=None) + timedelta(days=1)

# Path components of an IANA name: letters, digits, "_", "+", "-"; no ".", so no traversal.
_ZONE_NAME = re.compile(r"[A-Za-z0-9_+-]+(?:/[A-Za-z0-9_+-]+)*")
_NUMERIC_ABBREVIATION = re.compile(r"[+-]\d{2,6}", re.ASCII)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def load_zone(name: str) -> ZoneInfo:
    """Return the zone for an IANA name such as ``Europe/Paris`` or ``UTC``.

    The name is taken exactly as given: surrounding spaces, other letter cases, relative or
    absolute paths ("../etc", "/etc/localtime"), directories ("Europe") and files that are not
    zones ("zone.tab") are all rejected with an ``InputError``.
    """
    zone = find_zone(name)
    if zone is None:
        raise _unknown_zone(name)
    return zone


def find_zone(name: str) -> ZoneInfo | None:
    """The zone ``load_zone`` accepts, or None: without working out a suggestion, which reads
    every zone name and costs milliseconds."""
    if not _ZONE_NAME.fullmatch(name):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def _unknown_zone(name: str) -> InputError:
    close = _close_zone(name)
    if close is not None:
        return InputError(f"unknown timezone {name!r} (did you mean {close}?)")
    return InputError(f"unknown timezone {name!r}: use an IANA name such as Europe/Paris")


def _close_zone(name: str) -> str | None:
    """The zone a mistyped name most likely meant: the same name in other letter cases or with
    spaces for underscores, a city alone ("paris", "New York"), or a near spelling."""
    import difflib
    from zoneinfo import available_timezones

    zones = sorted(available_timezones())
    key = name.strip().replace(" ", "_").lower()
    names = {zone.lower(): zone for zone in zones}
    cities: dict[str, str] = {}
    for zone in zones:  # the first zone of a city wins: America/ before US/ and other links
        cities.setdefault(zone.rsplit("/", 1)[-1].lower(), zone)
    for known in (names, cities):
        if key in known:
            return known[key]
    for known in (names, cities):
        close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.8)
        if close:
            return known[close[0]]
    return None


@dataclass(frozen=True)
class Resolved:
    """A requested local wall time and the UTC instant used for it.

    ``moved`` is the gap length when ``local`` fell in a spring-forward gap (the instant is then
    at ``local + moved`` on the wall clock); ``ambiguous`` is True when ``local`` happened twice
    and the first occurrence was used. At most one of the two is set.
    """

    local: datetime
    instant: datetime
    moved: timedelta | None = None
    ambiguous: bool = False

    def note(self, zone: ZoneInfo) -> str | None:
        """A sentence for people when the time was moved or ambiguous; ``None`` otherwise.

        The target of a move names its date too when the gap crosses midnight.
        """
        when = _format_wall(self.local)
        if self.moved is not None:
            target = self.local + self.moved
            shown = _format_wall(target) if target.date() != self.local.date() else _clock(target)
            return f"{when} does not exist in {zone} (clocks go forward); moved to {shown}"
        if self.ambiguous:
            first = to_zone(self.instant, zone)
            label = _offset_text(first.utcoffset())
            abbreviation = first.tzname() or ""
            if not _NUMERIC_ABBREVIATION.fullmatch(abbreviation):
                label = f"{abbreviation}, {label}"
            return f"{when} happens twice in {zone}; using the first ({label})"
        return None


def resolve_local(local: datetime, zone: ZoneInfo) -> Resolved:
    """Turn a naive local wall time in ``zone`` into the UTC instant to use.

    - In a spring-forward gap, the time is read with the offset in effect before the gap, so the
      instant shows on the wall clock as ``local`` plus the gap (02:30 on the Paris change day
      becomes 03:30, moved 1 h; Lord Howe's gap is 30 min; a gap at midnight moves 00:30 to 01:30).
    - In a fall-back fold, the first occurrence (the earlier instant) is used.
    - ``local.fold`` is ignored. Raises ``ValueError`` if ``local`` is aware (a programming error).
    """
    if local.tzinfo is not None:
        raise ValueError("resolve_local expects a naive local datetime")
    local = local.replace(fold=0)
    first = local.replace(tzinfo=zone)
    instant = first.astimezone(UTC)
    shown = instant.astimezone(zone).replace(tzinfo=None)
    if shown != local:
        return Resolved(local=local, instant=instant, moved=shown - local)
    ambiguous = first.utcoffset() != local.replace(tzinfo=zone, fold=1).utcoffset()
    return Resolved(local=local, instant=instant, ambiguous=ambiguous)


def too_far(subject: str, *, fix: str | None = None) -> InputError:
    """``SUBJECT is too far ahead: schedule rounds before 2100-01-01 00:00 UTC (FIX)``."""
    message = f"{subject} is too far ahead: schedule rounds before {HORIZON:%Y-%m-%d %H:%M} UTC"
    return InputError(message if fix is None else f"{message} ({fix})")


def check_horizon(instant: datetime, *, subject: str) -> None:
    """Refuse an instant at or after ``HORIZON`` with ``too_far(subject)``."""
    if instant >= HORIZON:
        raise too_far(subject)


def resolve_ahead(local: datetime, *, zone: ZoneInfo, subject: str) -> Resolved:
    """``resolve_local`` for a time to schedule: refuses one at or after ``HORIZON``.

    Wall times so far ahead that resolving them could pass year 9999 (``9999-12-31 23:59`` in
    America/Adak) are refused before resolving.
    """
    if local >= _FAR_WALL:
        raise too_far(subject)
    resolved = resolve_local(local, zone)
    check_horizon(resolved.instant, subject=subject)
    return resolved


def week_span(day: date, *, weeks: int) -> tuple[date, date]:
    """The Monday of ``day``'s week and the Sunday ``weeks`` weeks later (``weeks`` >= 1).

    Weeks that run past 9999-12-31 (a Friday) are refused with an ``InputError``; none start
    before 0001-01-01, a Monday.
    """
    monday = day - timedelta(days=day.weekday())
    try:
        return monday, monday + timedelta(weeks=weeks, days=-1)
    except OverflowError:
        run = "runs" if weeks == 1 else "run"
        raise InputError(
            f"{plural(weeks, 'week')} from {day} {run} past {date.max}: "
            "give an earlier date or fewer weeks"
        ) from None


def to_zone(instant: datetime, zone: ZoneInfo) -> datetime:
    """The aware local datetime in ``zone`` for an aware instant; naive input is a ValueError.

    A local time past year 9999 (a round stored near its end, shown east of UTC) cannot be
    represented: the same instant in UTC is returned instead.
    """
    if instant.tzinfo is None:
        raise ValueError("to_zone expects an aware datetime")
    try:
        return instant.astimezone(zone)
    except OverflowError:
        return instant.astimezone(UTC)


def iso(instant: datetime | None, zone: ZoneInfo) -> str | None:
    """ISO 8601 in ``zone`` to the second, e.g. ``2026-06-10T09:00:00+02:00``; ``None`` -> ``None``.

    Microseconds are dropped, not rounded.
    """
    if instant is None:
        return None
    return to_zone(instant, zone).isoformat(timespec="seconds")


def format_local(instant: datetime, zone: ZoneInfo, *, weekday: bool = False) -> str:
    """For people: ``2026-06-10 09:00 CEST``, seconds omitted; ``Wed 2026-06-10 09:00 CEST``
    with ``weekday`` (English names whatever the locale). Either reads back as the same instant.

    Zones without a letter abbreviation (tzdata writes "+0530", "+11", "-03") show the offset
    instead, as ``UTC+05:30``.
    """
    local = to_zone(instant, zone)
    abbreviation = local.tzname() or ""
    if _NUMERIC_ABBREVIATION.fullmatch(abbreviation) or not abbreviation:
        abbreviation = f"UTC{_offset_text(local.utcoffset())}"
    day = f"{WEEKDAYS[local.weekday()][:3]} " if weekday else ""
    return f"{day}{local:%Y-%m-%d %H:%M} {abbreviation}"


def _format_wall(local: datetime) -> str:
    return f"{local:%Y-%m-%d} {_clock(local)}"


def _clock(local: datetime) -> str:
    return f"{local:%H:%M:%S}" if local.second else f"{local:%H:%M}"


def _offset_text(offset: timedelta | None) -> str:
    """``+05:30`` / ``-04:00``; seconds only for historical offsets that have them."""
    total = int((offset or timedelta()).total_seconds())
    sign = "-" if total < 0 else "+"
    hours, rest = divmod(abs(total), 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{sign}{hours:02d}:{minutes:02d}"
    return f"{text}:{seconds:02d}" if seconds else text
