"""Scheduling: create rounds and series, move them, cancel them, extend open-ended series."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, func, select

from sessionctl.domain.recurrence import (
    Occurrence,
    Repeat,
    SeriesRule,
    before_horizon,
    check_series_horizon,
    parse_repeat,
)
from sessionctl.domain.rounds import Status, check_cancel, check_change, colours_after
from sessionctl.domain.times import (
    HORIZON,
    check_horizon,
    format_local,
    load_zone,
    resolve_ahead,
    resolve_local,
    to_zone,
    too_far,
)
from sessionctl.domain.when import parse_date, parse_when
from sessionctl.errors import InputError, naming
from sessionctl.services import notices
from sessionctl.services.notices import Notices, Silence
from sessionctl.services.programs import get_program
from sessionctl.services.rounds import RoundView, find_round, views_of
from sessionctl.store.engine import Database
from sessionctl.store.models import Program, Round, Series

PLAN_AHEAD = timedelta(weeks=26)  # how far ahead open-ended series have their rounds
ORDER_CHECK = timedelta(weeks=520)
MAX_ROUNDS = 520


@dataclass(frozen=True)
class ScheduleRequest:
    match: str
    opt_in: str | None = None
    tz: str | None = None
    repeat: str = "once"
    count: int | None = None
    until: str | None = None  # a DATE as typed


@dataclass(frozen=True)
class ChangeRequest:
    opt_in: str | None = None
    match: str | None = None
    tz: str | None = None
    following: bool = False
    quiet: bool = False  # no change notice to the members of an open round


@dataclass
class Outcome:
    """Rounds created or changed, sentences about times that DST moved, and, after a change
    (``update``, ``cancel``), what each open round it changed sends its members."""

    rounds: list[RoundView] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    notices: list[Notices] | None = None


@dataclass(frozen=True)
class _Point:
    """A requested time: its local wall time for the rule, and the instant to store."""

    local: datetime
    instant: datetime
    now: bool = False
    exact: bool = False  # given with an offset: that instant, even in a fall-back fold

    @property
    def pinned(self) -> bool:
        """``now`` or an explicit offset: the instant itself, not the wall time read again."""
        return self.now or self.exact


def schedule(db: Database, program: str, req: ScheduleRequest, *, now: datetime) -> Outcome:
    repeat = parse_repeat(req.repeat)
    with db.session(write=True) as s:
        # Locked: rounds made at once for this program (another schedule, a run-due extending a
        # series) take their numbers one after the other.
        prog = get_program(s, program, lock=True)
        if prog.archived:
            raise InputError(
                f"program {program!r} is archived: bring it back with "
                f"'sessionctl program unarchive {program}' to schedule rounds"
            )
        with naming("--tz"):
            zone = load_zone(req.tz or prog.timezone)
        until = _until(req.until, zone=zone, now=now)
        opt_in = _opt_in_point(prog, req.opt_in, zone=zone, now=now)
        match = _point(req.match, zone=zone, now=now, what="match")
        if match.now and opt_in is not None:
            raise InputError("the match time must be after the opt-in time: give a later --match")
        rule = SeriesRule(
            zone=zone,
            repeat=repeat,
            first_match=match.local,
            first_opt_in=None if opt_in is None else opt_in.local,
            count=req.count,
            until=until,
        )
        series = _new_series(s, prog, rule, now=now)
        occurrences = _planned(rule, now=now)
        outcome = Outcome()
        first = next_number(s, prog)
        colour = None
        for number, occurrence in enumerate(occurrences, start=first):
            r = _new_round(
                prog, series, occurrence, number=number, zone=zone, now=now, after=colour
            )
            colour = r.color
            pinned = (False, False)
            if occurrence.index == 0:
                _pin(r, opt_in=opt_in, match=match)
                _check_future(r, opt_in=opt_in, match=match, zone=zone, now=now)
                pinned = (opt_in is not None and opt_in.pinned, match.pinned)
            s.add(r)
            outcome.notes.extend(_notes(occurrence, zone, pinned=pinned))
        s.flush()
        outcome.rounds = views_of(s, _series_rounds(s, series, fallback=r))
        return outcome


def update(db: Database, round_id: int, req: ChangeRequest, *, now: datetime) -> Outcome:
    with db.session(write=True) as s:
        r = find_round(s, round_id, lock=True)
        status = Status(r.status)
        check_change(
            round_id,
            status,
            opt_in=req.opt_in is not None,
            match=req.match is not None,
            zone=req.tz is not None,
        )
        series = _series_of(s, r) if req.following else None
        if req.following and series is None:
            raise InputError(f"round {round_id} is not part of a series: drop --following")
        if req.following and req.match is not None and req.match.strip().lower() == "now":
            raise InputError("--match now moves one round: drop --following")
        sent: list[Notices] = []
        outcome = Outcome(notices=sent)
        before = r.match_at
        _move(r, req, status=status, now=now, notes=outcome.notes)
        changed = [r]
        if series is not None:
            changed += _move_following(s, series, r, status=status, now=now, notes=outcome.notes)
        s.flush()
        if status is Status.OPEN and r.match_at != before:  # only an open round's match moves
            now_asked = req.match is not None and req.match.strip().lower() == "now"
            silence = Silence.QUIET if req.quiet else Silence.NOW if now_asked else None
            sent.append(notices.after_change(s, r, now=now, silence=silence))
        outcome.rounds = views_of(s, changed)
        return outcome


def cancel(
    db: Database, round_id: int, *, following: bool, now: datetime, quiet: bool = False
) -> Outcome:
    """Cancel the round (and with ``following`` the later rounds of its series); the members
    invited to those that were open get a notice, unless ``quiet``."""
    with db.session(write=True) as s:
        r = find_round(s, round_id, lock=True)
        check_cancel(round_id, Status(r.status))
        changed = [r]
        if following:
            series = _series_of(s, r)
            if series is None:
                raise InputError(f"round {round_id} is not part of a series: drop --following")
            series.ended_at = now
            s.add(series)
            changed += [
                later
                for later in _later_rounds(s, series, r.series_index)
                if later.status in (Status.PLANNED, Status.OPEN)
            ]
        was_open = [c for c in changed if c.status == Status.OPEN]
        for c in changed:
            c.status = Status.CANCELLED
            s.add(c)
        s.flush()
        silence = Silence.QUIET if quiet else None
        sent = [notices.after_change(s, c, now=now, silence=silence) for c in was_open]
        return Outcome(rounds=views_of(s, changed), notices=sent)


def extend_series(s: Session, *, now: datetime) -> int:
    """Create the rounds of open-ended series up to the horizon; return how many were made."""
    created = 0
    open_ended = (
        select(Series)
        .where(
            col(Series.ended_at).is_(None),
            col(Series.count).is_(None),
            col(Series.until).is_(None),
        )
        .order_by(col(Series.id))
        # Concurrent runs (several hosts on PostgreSQL) extend a series one after the other, each
        # seeing the rounds the one before it made; SQLite's write lock already does this.
        .with_for_update()
    )
    for series in s.exec(open_ended).all():
        last = s.exec(
            select(Round.series_index, Round.color)
            .where(Round.series_id == series.id)
            .order_by(col(Round.series_index).desc())
            .limit(1)
        ).first()
        index, colour = last if last is not None else (0, None)
        rule = rule_of(series)
        ahead = before_horizon(rule.occurrences(start=index + 1, until_instant=_plan_end(now)))
        if not ahead:
            continue
        # The program's lock, as ``schedule`` takes it, before its numbers are read.
        prog = s.get(Program, series.program_id, with_for_update=True)
        assert prog is not None
        if prog.archived:  # an archived program gets no new rounds, not even its series'
            continue
        first = next_number(s, prog)
        for number, occurrence in enumerate(ahead, start=first):
            r = _new_round(
                prog, series, occurrence, number=number, zone=rule.zone, now=now, after=colour
            )
            s.add(r)
            colour = r.color
            created += 1
        s.flush()  # the next series of this program numbers on from these
    return created


def next_number(s: Session, prog: Program) -> int:
    """The number of the program's next round: one more than the highest given, so a
    cancelled or missed round keeps its number and none is given twice. Call it holding the
    program's row lock (``get_program(lock=True)``), or two transactions may read the same."""
    highest = s.exec(select(func.max(Round.number)).where(Round.program_id == prog.id)).one()
    return (highest or 0) + 1


def rule_of(series: Series) -> SeriesRule:
    return SeriesRule(
        zone=load_zone(series.timezone),
        repeat=Repeat(series.repeat),
        first_match=datetime.fromisoformat(series.base_match),
        first_opt_in=None
        if series.base_opt_in is None
        else datetime.fromisoformat(series.base_opt_in),
        count=series.count,
        until=series.until,
    )


def _opt_in_point(
    prog: Program, text: str | None, *, zone: ZoneInfo, now: datetime
) -> _Point | None:
    if prog.opt_in and text is None:
        raise InputError(f"program {prog.name} uses opt-in: give --opt-in WHEN or --opt-in now")
    if not prog.opt_in and text is not None:
        raise InputError(f"program {prog.name} does not use opt-in: drop --opt-in")
    return None if text is None else _point(text, zone=zone, now=now, what="opt-in")


def _point(text: str, *, zone: ZoneInfo, now: datetime, what: str) -> _Point:
    """The time asked for with ``--opt-in`` or ``--match`` (``what``), read in ``zone``; refused
    when it is at or after the scheduling ``HORIZON``. Errors name the option."""
    with naming(f"--{what}"):
        when = parse_when(text, now=now, zone=zone)
        if when.now:
            local = now.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)
            return _Point(local=local, instant=now, now=True)
        if when.instant is not None:
            check_horizon(when.instant, subject=text.strip())
            return _Point(
                local=when.instant.astimezone(zone).replace(tzinfo=None),
                instant=when.instant,
                exact=True,
            )
        assert when.local is not None
        resolved = resolve_ahead(when.local, zone=zone, subject=_wall(when.local))
        return _Point(local=when.local, instant=resolved.instant)


def _until(text: str | None, *, zone: ZoneInfo, now: datetime) -> date | None:
    """``--until``: relative dates count from today in the round's zone; without a year, the
    coming one."""
    if text is None:
        return None
    with naming("--until"):
        return parse_date(text, today=to_zone(now, zone).date(), upcoming=True)


def _wall(local: datetime) -> str:
    return f"{local:%Y-%m-%d %H:%M}"


def _check_future(
    r: Round, *, opt_in: _Point | None, match: _Point, zone: ZoneInfo, now: datetime
) -> None:
    """Round 0's times (already pinned) must be ahead, unless given as ``now``."""
    if opt_in is not None and r.opt_in_at is not None and not opt_in.now and r.opt_in_at <= now:
        raise _past("--opt-in", r.opt_in_at, zone)
    if not match.now and r.match_at <= now:
        raise _past("--match", r.match_at, zone)


def _past(option: str, instant: datetime, zone: ZoneInfo) -> InputError:
    return InputError(f"{option}: {format_local(instant, zone)} is in the past")


def _planned(rule: SeriesRule, *, now: datetime) -> list[Occurrence]:
    if rule.count is not None and rule.count > MAX_ROUNDS:
        raise InputError(
            f"--count {rule.count} is more than {MAX_ROUNDS} rounds: give a smaller one"
        )
    if rule.until is not None and rule.until >= HORIZON.date():
        raise too_far(f"--until: {rule.until}")
    if rule.until is not None and rule.repeat.weeks is not None:
        span = (rule.until - rule.first_match.date()).days // (7 * rule.repeat.weeks) + 1
        if span > MAX_ROUNDS:
            raise InputError(
                f"--until: {rule.until} makes {span} rounds, more than {MAX_ROUNDS}: "
                "give an earlier date"
            )
    bounded = rule.count is not None or rule.until is not None
    occurrences = rule.occurrences(until_instant=None if bounded else _plan_end(now))
    if len(occurrences) > MAX_ROUNDS:
        many = f"that makes {len(occurrences)} rounds, more than {MAX_ROUNDS}"
        raise InputError(f"{many}: give a smaller --count or an earlier --until")
    if bounded:
        check_series_horizon(occurrences, rule=rule)
    occurrences = before_horizon(occurrences)
    if not occurrences:
        occurrences = [rule.occurrence(0)]
    _check_order(rule, now=now)
    return occurrences


def _plan_end(now: datetime) -> datetime:
    """How far open-ended series have their rounds created: ``PLAN_AHEAD``, never past the
    scheduling ``HORIZON``."""
    return min(now + PLAN_AHEAD, HORIZON)


def _check_order(rule: SeriesRule, *, now: datetime) -> None:
    """Refuse a rule whose times a DST jump puts out of order on some day of the next years.

    Wall-clock windows are checked by the rule itself; a time moved forward by a gap can still
    land on or after the time meant to follow it when the two are closer than the gap.
    """
    checked = rule.occurrences(until_instant=now + ORDER_CHECK) or [rule.occurrence(0)]
    for this, following in zip(checked, [*checked[1:], None], strict=True):
        if this.opt_in is not None and this.opt_in.instant >= this.match.instant:
            raise _out_of_order(this, "its opt-in is not before its match", rule.zone)
        if following is not None and following.starts_at <= this.match.instant:
            raise _out_of_order(this, "its match is not before the next round starts", rule.zone)


def _out_of_order(occurrence: Occurrence, what: str, zone: ZoneInfo) -> InputError:
    day = occurrence.match.local.date()
    return InputError(
        f"on {day} a daylight-saving change in {zone.key} shifts the round's times so that "
        f"{what}: choose times further apart"
    )


def _new_series(s: Session, prog: Program, rule: SeriesRule, *, now: datetime) -> Series | None:
    if rule.repeat is Repeat.ONCE:
        return None
    series = Series(
        program_id=prog.id or 0,
        repeat=str(rule.repeat),
        timezone=rule.zone.key,
        base_match=rule.first_match.isoformat(),
        base_opt_in=None if rule.first_opt_in is None else rule.first_opt_in.isoformat(),
        count=rule.count,
        until=rule.until,
        created_at=now,
    )
    s.add(series)
    s.flush()
    return series


def _new_round(
    prog: Program,
    series: Series | None,
    occurrence: Occurrence,
    *,
    number: int,
    zone: ZoneInfo,
    now: datetime,
    after: str | None,
) -> Round:
    """A planned round; ``after`` is the colour of the round before it in its series."""
    return Round(
        program_id=prog.id or 0,
        number=number,
        series_id=None if series is None else series.id,
        series_index=occurrence.index,
        status=Status.PLANNED,
        timezone=zone.key,
        opt_in_at=None if occurrence.opt_in is None else occurrence.opt_in.instant,
        match_at=occurrence.match.instant,
        color=random.choice(colours_after(after)),
        seed=random.getrandbits(62),
        created_at=now,
    )


def _pin(r: Round, *, opt_in: _Point | None, match: _Point) -> None:
    """``now`` means this instant, not the minute the rule keeps for later rounds; a time with
    an offset means that instant, even where its wall time happens twice."""
    if opt_in is not None and opt_in.pinned:
        r.opt_in_at = opt_in.instant
    if match.pinned:
        r.match_at = match.instant


def _series_rounds(s: Session, series: Series | None, *, fallback: Round) -> list[Round]:
    if series is None:
        return [fallback]
    return list(
        s.exec(select(Round).where(Round.series_id == series.id).order_by(col(Round.series_index)))
    )


def _series_of(s: Session, r: Round) -> Series | None:
    return None if r.series_id is None else s.get(Series, r.series_id)


def _later_rounds(s: Session, series: Series, index: int) -> list[Round]:
    query = select(Round).where(Round.series_id == series.id, col(Round.series_index) > index)
    return list(s.exec(query.order_by(col(Round.series_index))))


def _notes(
    occurrence: Occurrence, zone: ZoneInfo, *, pinned: tuple[bool, bool] = (False, False)
) -> list[str]:
    """Sentences about moved or ambiguous wall times, except for times given as instants."""
    points = zip((occurrence.opt_in, occurrence.match), pinned, strict=True)
    notes = [p.note(zone) for p, exact in points if p is not None and not exact]
    return [n for n in notes if n]


def _local(instant: datetime | None, zone: ZoneInfo) -> datetime | None:
    return None if instant is None else to_zone(instant, zone).replace(tzinfo=None)


def _move(r: Round, req: ChangeRequest, *, status: Status, now: datetime, notes: list[str]) -> None:
    """Apply the change to one round, checking order, window and past times."""
    old_zone = load_zone(r.timezone)
    with naming("--tz"):
        zone = load_zone(req.tz) if req.tz else old_zone
    match = _point(req.match, zone=zone, now=now, what="match") if req.match else None
    if status is Status.OPEN:
        assert match is not None
        if not match.now and match.instant <= now:
            raise _past("--match", match.instant, zone)
        r.match_at = match.instant
        notes.extend(_resolved_notes(match, zone))
        return
    opt_in = _point(req.opt_in, zone=zone, now=now, what="opt-in") if req.opt_in else None
    if opt_in is not None and r.opt_in_at is None:
        raise InputError(f"round {r.id} belongs to a program without opt-in: drop --opt-in")
    new_opt = _moved(opt_in, r.opt_in_at, zone=zone, old_zone=old_zone, now=now, what="opt-in")
    new_match = _moved(match, r.match_at, zone=zone, old_zone=old_zone, now=now, what="match")
    assert new_match is not None
    if new_opt is not None and new_match <= new_opt:
        raise InputError("the match time must be after the opt-in time")
    r.timezone, r.opt_in_at, r.match_at = zone.key, new_opt, new_match
    for point in (opt_in, match):
        if point is not None:
            notes.extend(_resolved_notes(point, zone))


def _moved(
    point: _Point | None,
    current: datetime | None,
    *,
    zone: ZoneInfo,
    old_zone: ZoneInfo,
    now: datetime,
    what: str,
) -> datetime | None:
    """The new instant: the one asked for, or the current wall time read in the new zone.

    Errors name ``--opt-in`` or ``--match`` (``what``) for a time given, else ``--tz``.
    """
    if point is None and (current is None or zone == old_zone):
        return current
    if point is not None:
        if not point.now and point.instant <= now:
            raise _past(f"--{what}", point.instant, zone)
        return point.instant
    local = _local(current, old_zone)
    assert local is not None
    with naming("--tz"):
        instant = resolve_ahead(local, zone=zone, subject=f"the {what} time {_wall(local)}").instant
        if instant <= now:
            when = format_local(instant, zone)
            raise InputError(f"the {what} time would be {when}, in the past")
    return instant


def _resolved_notes(point: _Point, zone: ZoneInfo) -> list[str]:
    if point.pinned:
        return []
    note = resolve_local(point.local, zone).note(zone)
    return [note] if note else []


def _move_following(
    s: Session, series: Series, r: Round, *, status: Status, now: datetime, notes: list[str]
) -> list[Round]:
    """Re-anchor the series on round r's new local times and move its later planned rounds."""
    zone = load_zone(r.timezone)
    rule = rule_of(series)
    step = timedelta(weeks=r.series_index * (rule.repeat.weeks or 0))
    new_match = _local(r.match_at, zone)
    assert new_match is not None
    new_base = new_match - step
    if series.until is not None:
        # The end date moves with the series, so moving it later does not drop its last rounds.
        series.until += new_base.date() - rule.first_match.date()
    series.base_match = new_base.isoformat()
    if status is Status.PLANNED and r.opt_in_at is not None:
        new_opt = _local(r.opt_in_at, zone)
        assert new_opt is not None
        series.base_opt_in = (new_opt - step).isoformat()
    series.timezone = zone.key
    rule = rule_of(series)  # validates the new window against the interval
    s.add(series)
    moved: list[Round] = []
    for later in _later_rounds(s, series, r.series_index):
        if later.status != Status.PLANNED:
            continue
        occurrence = rule.occurrence(later.series_index)
        if occurrence.match.instant >= HORIZON:
            subject = f"round {later.id} (match {_wall(occurrence.match.local)})"
            raise too_far(subject, fix="drop --following to move this round alone")
        later.timezone = zone.key
        later.opt_in_at = None if occurrence.opt_in is None else occurrence.opt_in.instant
        later.match_at = occurrence.match.instant
        notes.extend(_notes(occurrence, zone))
        s.add(later)
        moved.append(later)
    return moved
