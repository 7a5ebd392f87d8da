"""The planning as an RFC 5545 calendar: one event per round's open window (opt-in to match).

Decisions, each for the people who import the file:

- A series is one VEVENT with ``RRULE:FREQ=WEEKLY;INTERVAL=N;COUNT=K`` whose DTSTART is the rule's
  round 0 in local wall time with its TZID, so calendar applications keep the weekday and
  wall-clock time across DST as we do. COUNT is the number of rounds that exist: an open-ended
  series is shown as far as its rounds are created (the planning horizon), like ``list``; the next
  export after ``run-due`` shows more. COUNT, not UNTIL: our ``--until`` bounds the match date,
  while an RRULE's UNTIL bounds DTSTART (the opt-in).
- A round that differs from the rule (moved, opt-in "now", or a window that spans a DST change,
  whose exact length then differs) is a RECURRENCE-ID override. RFC 5545 gives DTEND-based
  instances the master's *exact* duration, while many readers add it in wall-clock time: a round
  stays a plain instance only when both readings give its stored instants.
- Cancelled rounds are left out (EXDATE in a series): importers honour STATUS:CANCELLED unevenly
  (some show the event as if it were on), and a calendar of the planning should show what will
  happen. Missed and done rounds stay: they are part of the history ``list`` shows.
- When an override or EXDATE would name an occurrence whose local time falls in a DST gap,
  readers disagree on which instance it names, so that series falls back to one event per round.
- Local times that cannot be read back (the second 01:30 of a fall-back night) are written in UTC.
- Windows last days: events are TRANSPARENT so they do not mark anyone busy.
- VTIMEZONEs are built here from the zone's transitions: icalendar's ``add_missing_timezones``
  (7.x) iterates a set (zone order varies between runs) and writes a DAYLIGHT onset one hour late
  (its DTSTART is the wall time after the jump, read by RFC 5545 in the offset before it).
- Rounds at or after the scheduling horizon (stored before it existed) are left out, each with a
  note: a local time near year 9999 cannot be written, and one round must not sink the export.
- The output is byte-identical for the same data: DTSTAMP is the row's creation time, and UIDs are
  ``round-ID-HASH@sessionctl`` / ``series-ID-HASH@sessionctl``, HASH from the program's name and
  creation time, so two databases do not collide in one calendar.
- A round's SUMMARY names it by its number within its program, as the members' emails do (a
  shared calendar is read by members); its DESCRIPTION adds the id the commands take.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vText
from sqlmodel import Session, col, select

from sessionctl import __version__
from sessionctl.domain.recurrence import SeriesRule
from sessionctl.domain.rounds import Status
from sessionctl.domain.times import HORIZON, WEEKDAYS, format_local, load_zone, resolve_local
from sessionctl.services.programs import get_program
from sessionctl.services.scheduling import rule_of
from sessionctl.store.engine import Database
from sessionctl.store.models import Program, Round, Series

PRODID = f"-//sessionctl//sessionctl {__version__}//EN"
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_EVERY = {1: "every week", 2: "every 2 weeks", 3: "every 3 weeks", 4: "every 4 weeks"}


@dataclass(frozen=True)
class Export:
    """The iCalendar file, and one sentence per round left out of it."""

    data: bytes
    skipped: list[str]


def export_ics(db: Database, program: str | None) -> Export:
    """The rounds of one program (or all) as an iCalendar file; see the module docstring."""
    with db.session() as s:
        prog = None if program is None else get_program(s, program)
        programs = _programs(s, prog)
        rounds, skipped = _split_far(_rounds(s, prog), programs=programs)
        series = _series(s, rounds)
        writer = _Writer(programs)
        groups = [writer.single(r) for r in rounds if r.series_id is None and _live(r)]
        for sid, members in _by_series(rounds).items():
            groups.append(writer.series(series[sid], members))
        calendar = _calendar(None if prog is None else prog.title)
        for tz in writer.timezones():
            calendar.add_component(tz)
        for group in sorted((g for g in groups if g), key=_group_key):
            for event in group:
                calendar.add_component(event)
        data: bytes = calendar.to_ical()
        return Export(data, skipped)


# --- loading -----------------------------------------------------------------------------------


def _programs(s: Session, prog: Program | None) -> dict[int, Program]:
    found = [prog] if prog is not None else list(s.exec(select(Program)))
    return {p.id or 0: p for p in found}


def _rounds(s: Session, prog: Program | None) -> list[Round]:
    query = select(Round).order_by(col(Round.match_at), col(Round.id))
    if prog is not None:
        query = query.where(Round.program_id == prog.id)
    return list(s.exec(query))


def _split_far(
    rounds: list[Round], *, programs: dict[int, Program]
) -> tuple[list[Round], list[str]]:
    """The rounds before the scheduling ``HORIZON``, and why each live one after it is left out.

    A series keeps its other rounds: the ones left out become gaps (EXDATE) or shorten its COUNT.
    """
    kept: list[Round] = []
    skipped: list[str] = []
    for r in rounds:
        times = [("opt-in", r.opt_in_at), ("match", r.match_at)]
        far = [(what, at) for what, at in times if at is not None and at >= HORIZON]
        if not far:
            kept.append(r)
        elif _live(r):
            what, at = far[0]
            when = format_local(at, load_zone(r.timezone))
            skipped.append(
                f"skipped round {r.id} of {programs[r.program_id].name}: its {what} time {when} "
                f"is past the scheduling horizon {HORIZON:%Y-%m-%d %H:%M} UTC"
            )
    return kept, skipped


def _series(s: Session, rounds: Sequence[Round]) -> dict[int, Series]:
    ids = {r.series_id for r in rounds if r.series_id is not None}
    if not ids:
        return {}
    return {x.id or 0: x for x in s.exec(select(Series).where(col(Series.id).in_(ids)))}


def _by_series(rounds: Iterable[Round]) -> dict[int, list[Round]]:
    grouped: dict[int, list[Round]] = defaultdict(list)
    for r in rounds:
        if r.series_id is not None:
            grouped[r.series_id].append(r)
    return dict(sorted(grouped.items()))


def _live(r: Round) -> bool:
    return r.status != Status.CANCELLED


def _window(r: Round) -> tuple[datetime, datetime]:
    return (r.opt_in_at or r.match_at, r.match_at)


# --- the series plan ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """How a series is written: its rule, and the occurrences that are not plain instances."""

    rule: SeriesRule
    first: datetime  # local wall time of the rule's round 0 start (opt-in, or match)
    length: timedelta  # the window in wall-clock time; 0 without opt-in
    count: int
    excluded: list[datetime]  # local wall times of occurrences with no live round
    overrides: list[tuple[datetime, Round]]  # (local wall time of the occurrence, its round)

    def wall(self, index: int) -> datetime:
        return self.first + timedelta(weeks=index * (self.rule.repeat.weeks or 0))


def _plan(series: Series, rounds: Sequence[Round]) -> _Plan | None:
    """The RRULE plan of a series, or None when it must be written as single events."""
    rule = rule_of(series)
    first = rule.first_opt_in or rule.first_match
    by_index = {r.series_index: r for r in rounds}
    plan = _Plan(rule, first, rule.first_match - first, max(by_index) + 1, [], [])
    for index in range(plan.count):
        wall = plan.wall(index)
        r = by_index.get(index)
        if r is not None and _live(r) and _is_instance(plan, wall, r):
            continue
        if resolve_local(wall, rule.zone).moved is not None:
            return None
        if r is None or not _live(r):
            plan.excluded.append(wall)
        else:
            plan.overrides.append((wall, r))
    return plan


def _is_instance(plan: _Plan, wall: datetime, r: Round) -> bool:
    """Whether the rule gives round r's window both in exact time (RFC 5545: DTSTART plus the
    exact duration) and in wall-clock time (DTSTART's wall time plus the duration, resolved)."""
    zone = plan.rule.zone
    start = resolve_local(wall, zone).instant
    exact = start + plan.length
    by_wall = resolve_local(wall + plan.length, zone).instant
    return _window(r) == (start, exact) and exact == by_wall


# --- events ------------------------------------------------------------------------------------


class _Writer:
    """Turns rounds into VEVENTs, noting the zones and years their local times use."""

    def __init__(self, programs: dict[int, Program]) -> None:
        self.programs = programs
        self.years: dict[str, set[int]] = defaultdict(set)

    def single(self, r: Round) -> list[Event]:
        prog = self.programs[r.program_id]
        event = self._event(f"round-{r.id}-{_tag(prog)}@sessionctl", r.created_at)
        event.add("summary", vText(f"{_plain(prog.title)} round {r.number}"))
        self._times(event, r)
        event.add("description", vText(_describe_round(r, prog)))
        return [event]

    def series(self, series: Series, rounds: Sequence[Round]) -> list[Event]:
        if not any(_live(r) for r in rounds):
            return []
        plan = _plan(series, rounds)
        if plan is None:
            return [e for r in rounds if _live(r) for e in self.single(r)]
        prog = self.programs[series.program_id]
        uid = f"series-{series.id}-{_tag(prog)}@sessionctl"
        summary = vText(f"{_plain(prog.title)} round")
        master = self._master(plan, uid, series.created_at)
        master.add("summary", summary)
        master.add("description", vText(_describe_series(plan, series, prog)))
        events = [master]
        for wall, r in plan.overrides:
            override = self._event(uid, r.created_at)
            override.add("recurrence-id", self._local(wall, plan.rule.zone))
            override.add("summary", summary)
            self._times(override, r)
            override.add("description", vText(_describe_round(r, prog)))
            events.append(override)
        return events

    def timezones(self) -> list[Timezone]:
        return [
            _vtimezone(load_zone(key), min(years), max(years) + 1)
            for key, years in sorted(self.years.items())
        ]

    def _master(self, plan: _Plan, uid: str, stamp: datetime) -> Event:
        zone = plan.rule.zone
        event = self._event(uid, stamp)
        event.add("dtstart", self._local(plan.first, zone))
        if plan.length:
            end = resolve_local(plan.first, zone).instant + plan.length
            event.add("dtend", self._instant(end, zone, wall=plan.first + plan.length))
        rule: dict[str, Any] = {"freq": "weekly"}
        if (plan.rule.repeat.weeks or 1) > 1:
            rule["interval"] = plan.rule.repeat.weeks
        rule["count"] = plan.count
        event.add("rrule", rule)
        if plan.excluded:
            event.add("exdate", [self._local(w, zone) for w in plan.excluded])
        self._local(plan.wall(plan.count - 1) + plan.length, zone)  # the years it spans
        return event

    def _event(self, uid: str, stamp: datetime) -> Event:
        event = Event()
        event.add("uid", uid)
        event.add("dtstamp", stamp.astimezone(UTC))
        event.add("transp", "TRANSPARENT")
        return event

    def _times(self, event: Event, r: Round) -> None:
        zone = load_zone(r.timezone)
        start, end = _window(r)
        event.add("dtstart", self._instant(start, zone))
        if end != start:
            event.add("dtend", self._instant(end, zone))

    def _local(self, wall: datetime, zone: ZoneInfo) -> datetime:
        """A local wall time to write with TZID; in a gap or fold RFC 5545 resolves it as we do."""
        self.years[zone.key].add(wall.year)
        return wall.replace(tzinfo=zone)

    def _instant(self, instant: datetime, zone: ZoneInfo, *, wall: datetime | None = None) -> Any:
        """The instant in local time with TZID when that reads back as the same instant (and as
        ``wall`` when given), else in UTC."""
        local = instant.astimezone(zone).replace(tzinfo=None, fold=0)
        if resolve_local(local, zone).instant == instant and wall in (None, local):
            return self._local(local, zone)
        return instant.astimezone(UTC)


def _calendar(title: str | None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    name = "sessionctl" if title is None else _plain(title)
    calendar.add("name", vText(name))
    calendar.add("x-wr-calname", vText(name))
    return calendar


def _group_key(group: list[Event]) -> tuple[datetime, str]:
    master = group[0]
    return (master.decoded("dtstart").astimezone(UTC), str(master["uid"]))


def _tag(prog: Program) -> str:
    seed = f"{prog.name}\n{prog.created_at.astimezone(UTC).isoformat()}"
    return hashlib.sha256(seed.encode()).hexdigest()[:8]


def _plain(text: str) -> str:
    """User text on one line: a control character could end a content line or fold it."""
    return _CONTROL.sub(" ", text)


def _describe_round(r: Round, prog: Program) -> str:
    zone = load_zone(r.timezone)
    series = "" if r.series_id is None else f", series {r.series_id}"
    lines = [f"{prog.name} round {r.number} (id {r.id}{series})"]
    if r.opt_in_at is not None:
        lines.append(f"Opt-in: {format_local(r.opt_in_at, zone)}")
    lines.append(f"Match: {format_local(r.match_at, zone)}")
    return "\n".join(lines)


def _describe_series(plan: _Plan, series: Series, prog: Program) -> str:
    rule = plan.rule
    lines = [f"{prog.name} series {series.id}: a round {_EVERY[rule.repeat.weeks or 1]}"]
    if rule.first_opt_in is not None:
        lines.append(f"Opt-in: {_weekly(rule.first_opt_in)} {rule.zone.key}")
    lines.append(f"Match: {_weekly(rule.first_match)} {rule.zone.key}")
    return "\n".join(lines)


def _weekly(wall: datetime) -> str:
    return f"{WEEKDAYS[wall.weekday()]} {wall:%H:%M}"


# --- VTIMEZONE ---------------------------------------------------------------------------------

_Observance = tuple[timedelta, timedelta, str, bool]  # offset from, offset to, name, daylight


def _vtimezone(zone: ZoneInfo, first_year: int, last_year: int) -> Timezone:
    """The zone's offsets from 1 January of ``first_year`` to that of ``last_year``.

    Each onset is written, as RFC 5545 §3.6.5 reads it, in the offset in force before it.
    Offset changes less than a day apart are not told apart (none since the 1990s).
    """
    start = datetime(first_year, 1, 1, tzinfo=zone).astimezone(UTC)
    stop = datetime(last_year, 1, 1, tzinfo=zone).astimezone(UTC)
    onsets: dict[_Observance, list[datetime]] = {}
    state = _state(start, zone)
    onsets[(state[0], *state)] = [start.astimezone(zone).replace(tzinfo=None)]
    for moment in _transitions(zone, start, stop):
        before, state = state, _state(moment, zone)
        onsets.setdefault((before[0], *state), []).append((moment + before[0]).replace(tzinfo=None))
    tz = Timezone()
    tz.add("tzid", zone.key)
    for (offset_from, offset_to, name, daylight), times in onsets.items():
        part = TimezoneDaylight() if daylight else TimezoneStandard()
        part.add("dtstart", times[0])
        if times[1:]:
            part.add("rdate", times[1:])
        part.add("tzname", name)
        part.add("tzoffsetfrom", offset_from)
        part.add("tzoffsetto", offset_to)
        tz.add_component(part)
    return tz


def _state(moment: datetime, zone: ZoneInfo) -> tuple[timedelta, str, bool]:
    local = moment.astimezone(zone)
    offset = local.utcoffset() or timedelta()
    return offset, local.tzname() or "", bool(local.dst())


def _transitions(zone: ZoneInfo, start: datetime, stop: datetime) -> list[datetime]:
    """The UTC instants in [start, stop) where the zone's offset, name or DST flag changes."""
    found: list[datetime] = []
    day = timedelta(days=1)
    low = start
    while low < stop:
        high = min(low + day, stop)
        if _state(low, zone) != _state(high, zone):
            found.append(_first_change(zone, low, high))
        low = high
    return found


def _first_change(zone: ZoneInfo, low: datetime, high: datetime) -> datetime:
    """The first second in (low, high] whose state differs from low's."""
    before = _state(low, zone)
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if _state(middle, zone) == before:
            low = middle
        else:
            high = middle
    return high
