"""Recurring rounds: once, or every 1 to 4 weeks on the same weekday at the same local times.

A series is anchored to its first round: round k is k·N weeks after round 0 in local dates, and
only then resolved to UTC instants, so each round keeps its weekday and wall-clock time across
daylight-saving changes and a moved or late round never shifts the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sessionctl.domain.times import HORIZON, Resolved, resolve_local, too_far
from sessionctl.domain.words import plural
from sessionctl.errors import InputError


class Repeat(StrEnum):
    """How often a series repeats; the value is what users type."""

    ONCE = "once"
    WEEKLY = "weekly"
    EVERY_2_WEEKS = "2-weeks"
    EVERY_3_WEEKS = "3-weeks"
    EVERY_4_WEEKS = "4-weeks"

    @property
    def weeks(self) -> int | None:
        """The interval in weeks; ``None`` for a one-off round."""
        return _WEEKS[self]


_WEEKS: dict[Repeat, int | None] = {
    Repeat.ONCE: None,
    Repeat.WEEKLY: 1,
    Repeat.EVERY_2_WEEKS: 2,
    Repeat.EVERY_3_WEEKS: 3,
    Repeat.EVERY_4_WEEKS: 4,
}


def parse_repeat(text: str) -> Repeat:
    """Parse a repeat value; surrounding spaces and letter case are ignored."""
    try:
        return Repeat(text.strip().lower())
    except ValueError:
        allowed = ", ".join(repeat.value for repeat in Repeat)
        raise InputError(f"unknown repeat {text!r}: use one of {allowed}") from None


@dataclass(frozen=True)
class Occurrence:
    """Round ``index`` (0-based) of a series, with its resolved opt-in (if any) and match."""

    index: int
    opt_in: Resolved | None
    match: Resolved

    @property
    def starts_at(self) -> datetime:
        """The UTC instant the round begins: its opt-in, or its match when it has no opt-in."""
        return (self.opt_in or self.match).instant


@dataclass(frozen=True)
class SeriesRule:
    """The recurrence of a series of rounds, in naive local wall times of ``zone``.

    ``count`` is the total number of rounds; ``until`` the last local date (inclusive) on which a
    round's match may fall, judged on the requested date, before any gap move. Neither means
    open-ended. Invalid rules raise ``InputError`` on
    construction (see ``validate``); aware datetimes raise ``ValueError`` (a programming error).
    """

    zone: ZoneInfo
    repeat: Repeat
    first_match: datetime
    first_opt_in: datetime | None
    count: int | None = None
    until: date | None = None

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Reject a rule users could not have meant.

        Errors: ``count`` with ``until``; ``count`` below 1; ``until`` before the first match's
        date; ``count`` above 1 or any ``until`` on a one-off round; a window that fails
        ``check_window``.
        """
        if _is_aware(self.first_match) or _is_aware(self.first_opt_in):
            raise ValueError("SeriesRule expects naive local datetimes")
        if self.count is not None and self.until is not None:
            raise InputError("use --count or --until, not both")
        if self.count is not None and self.count < 1:
            raise InputError(f"invalid count {self.count}: a series has at least 1 round")
        if self.until is not None and self.until < self.first_match.date():
            first = self.first_match.date().isoformat()
            raise InputError(f"--until: {self.until} is before the first match, on {first}")
        if self.repeat is Repeat.ONCE and (self.until is not None or (self.count or 1) > 1):
            raise InputError("a one-off round does not repeat: drop --count and --until")
        check_window(opt_in=self.first_opt_in, match=self.first_match, repeat=self.repeat)

    def occurrence(self, index: int) -> Occurrence:
        """Round ``index``: round 0's local date-times shifted by ``index`` intervals, resolved.

        The shift is date arithmetic on wall times, so weekday and wall-clock time are kept and
        only the UTC instants move with DST; a time in a gap or fold is resolved as
        ``resolve_local`` says. Raises ``IndexError`` when the series has no such round
        (negative, past ``count`` or ``until``, or above 0 for a one-off round).
        """
        if not self._contains(index):
            raise IndexError(f"round {index} is not part of this series")
        step = self._step(index)
        opt_in = None
        if self.first_opt_in is not None:
            opt_in = resolve_local(self.first_opt_in + step, self.zone)
        match = resolve_local(self.first_match + step, self.zone)
        return Occurrence(index=index, opt_in=opt_in, match=match)

    def occurrences(
        self, *, start: int = 0, until_instant: datetime | None = None
    ) -> list[Occurrence]:
        """Rounds from index ``start`` on, within ``count``/``until`` and, when ``until_instant``
        (aware) is given, whose ``starts_at`` is at or before it.

        A one-off rule gives at most round 0. An open-ended rule (repeating, with neither
        ``count`` nor ``until``) needs ``until_instant``: ``ValueError`` otherwise, as for a
        negative ``start``.
        """
        if start < 0:
            raise ValueError(f"start must not be negative, got {start}")
        if until_instant is None and self._is_open_ended():
            raise ValueError("an open-ended series needs until_instant")
        found: list[Occurrence] = []
        index = start
        # Rounds start at least a week apart while DST moves instants by hours, so the first
        # round past until_instant ends the list.
        while self._contains(index):
            occurrence = self.occurrence(index)
            if until_instant is not None and occurrence.starts_at > until_instant:
                break
            found.append(occurrence)
            index += 1
        return found

    def _step(self, index: int) -> timedelta:
        return timedelta(weeks=index * (self.repeat.weeks or 0))

    def _contains(self, index: int) -> bool:
        if index < 0 or (self.repeat is Repeat.ONCE and index > 0):
            return False
        if self.count is not None and index >= self.count:
            return False
        return self.until is None or (self.first_match + self._step(index)).date() <= self.until

    def _is_open_ended(self) -> bool:
        return self.repeat is not Repeat.ONCE and self.count is None and self.until is None


def before_horizon(occurrences: list[Occurrence]) -> list[Occurrence]:
    """The occurrences up to the first whose match is at or after the ``HORIZON``."""
    kept: list[Occurrence] = []
    for occurrence in occurrences:
        if occurrence.match.instant >= HORIZON:
            break
        kept.append(occurrence)
    return kept


def check_series_horizon(occurrences: list[Occurrence], *, rule: SeriesRule) -> None:
    """Refuse a series with an end (--count, --until) whose later rounds pass the ``HORIZON``:
    cutting it silently would leave fewer rounds than asked for."""
    for occurrence in occurrences:
        if occurrence.match.instant >= HORIZON:
            fix = f"give --count {occurrence.index} or less"
            if rule.until is not None:
                fix = "give an earlier --until"
            wall = occurrence.match.local
            subject = f"round {occurrence.index + 1} of the series (match {wall:%Y-%m-%d %H:%M})"
            raise too_far(subject, fix=fix if occurrence.index else None)


def _is_aware(moment: datetime | None) -> bool:
    return moment is not None and moment.tzinfo is not None


def check_window(*, opt_in: datetime | None, match: datetime, repeat: Repeat) -> None:
    """Reject an opt-in/match pair (naive local wall times) whose rounds would not make sense.

    Errors: the match is not strictly after the opt-in; or the series repeats and the open window
    (opt-in to match, in wall-clock time) is as long as the interval or longer. Without an
    opt-in there is no window and nothing to check.

    Caveat: the check is on wall-clock durations, as the spec says. A window within a gap's
    length of the interval (e.g. weekly, opt-in 03:10, match 02:50 six days later) can still put
    a match moved forward by a spring-forward gap after the next round's opt-in.
    """
    if opt_in is None:
        return
    window = match - opt_in
    if window <= timedelta(0):
        raise InputError("the match time must be after the opt-in time")
    weeks = repeat.weeks
    if weeks is not None and window >= timedelta(weeks=weeks):
        raise InputError(
            f"the open window ({_describe(window)}) must be shorter than the {weeks}-week "
            "interval, or rounds would overlap"
        )


def _describe(duration: timedelta) -> str:
    """``6 days 0 hours``; minutes only when there are some."""
    hours, rest = divmod(duration.seconds, 3600)
    parts = [plural(duration.days, "day"), plural(hours, "hour")]
    if rest // 60:
        parts.append(plural(rest // 60, "minute"))
    return " ".join(parts)
