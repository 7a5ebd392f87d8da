"""The planning grid: weeks of Monday-to-Sunday columns, each round a card over its open window.

A card runs from the local day of its opt-in to the local day of its match in the view zone
(a round without opt-in is a one-day card on its match day). Cards read without colour too:

    ▌#12 09:00 coffee ━━━━━━━━→10:00     opens Monday 09:00, matches Thursday 10:00
    ━#12 ━━━━━━━━━━━━→10:00               continued from the week before
    ×#13 ┄┄┄┄┄┄┄┄┄┄┄┄→10:00               cancelled (also dimmed and struck)

Past rounds (final status, or a match day before today) are dimmed; today's day header is
reversed and starts with ``▶``. Overlapping cards stack in lanes. Every line fits ``width``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.text import Text

from sessionctl.domain.rounds import FINAL, Status
from sessionctl.domain.times import format_local, to_zone
from sessionctl.render.text import literal
from sessionctl.services.rounds import RoundView

TODAY = "▶"
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_GAP = 1
_MIN_CELL, _MAX_CELL = 3, 32
_MIN_NAME = 4  # a truncated name keeps at least three characters and the ellipsis
_EMPTY = "No rounds in these weeks: see 'sessionctl schedule --help'."
_LEGEND = "▌ opt-in  ━ open  → match  × cancelled (struck)  dim: past"


@dataclass(frozen=True)
class _Card:
    view: RoundView
    first: date  # local day the card starts: opt-in, or match without opt-in
    last: date  # local day of the match
    opens: datetime | None  # local opt-in time
    matches: datetime  # local match time
    past: bool

    @property
    def cancelled(self) -> bool:
        return self.view.status is Status.CANCELLED


@dataclass(frozen=True)
class _Segment:
    """The part of a card inside one week: columns ``left`` to ``right``, 0 being Monday."""

    card: _Card
    left: int
    right: int
    starts: bool
    ends: bool


def planning(
    views: Sequence[RoundView],
    *,
    zone: ZoneInfo,
    today: date,
    start: date,
    weeks: int,
    show_program: bool,
    width: int,
) -> RenderableType:
    """The calendar of ``weeks`` weeks from the Monday ``start``, at most ``width`` columns."""
    cell = max(_MIN_CELL, min(_MAX_CELL, (width - 6 * _GAP) // 7))
    monday = start - timedelta(days=start.weekday())
    cards = sorted(
        (_card_of(v, zone=zone, today=today) for v in views),
        key=lambda c: (c.first, c.opens or c.matches, c.view.id),
    )
    lines: list[Text] = []
    shown = 0
    for week in range(weeks):
        first = monday + timedelta(weeks=week)
        segments = [s for c in cards if (s := _segment_of(c, first)) is not None]
        shown += len(segments)
        lines += _week(first, segments, cell=cell, today=today, show_program=show_program)
    lines += _footer(zone, monday, weeks=weeks, empty=not shown)
    for line in lines:
        line.rstrip()
    grid = Text("\n").join(lines)
    grid.no_wrap = True
    grid.overflow = "ellipsis"
    # In a Group: Console.print merges bare Text arguments and would drop no_wrap.
    return Group(grid)


def _card_of(v: RoundView, *, zone: ZoneInfo, today: date) -> _Card:
    matches = to_zone(v.match_at, zone)
    opens = None if v.opt_in_at is None else to_zone(v.opt_in_at, zone)
    first = min(opens.date(), matches.date()) if opens is not None else matches.date()
    past = v.status in FINAL or matches.date() < today
    return _Card(v, first, matches.date(), opens, matches, past)


def _segment_of(card: _Card, monday: date) -> _Segment | None:
    sunday = monday + timedelta(days=6)
    if card.last < monday or card.first > sunday:
        return None
    left = max(card.first, monday)
    right = min(card.last, sunday)
    return _Segment(
        card,
        left=(left - monday).days,
        right=(right - monday).days,
        starts=card.first >= monday,
        ends=card.last <= sunday,
    )


def _week(
    monday: date, segments: list[_Segment], *, cell: int, today: date, show_program: bool
) -> list[Text]:
    total = 7 * cell + 6 * _GAP
    lines = [_rule(monday, total), _header(monday, cell=cell, today=today)]
    lanes = _stack(segments)
    if not lanes:
        lines.append(Text("no rounds", style="dim"))
    for lane in lanes:
        lines.append(_lane(lane, cell=cell, show_program=show_program))
    return lines


def _rule(monday: date, total: int) -> Text:
    label = f"── {_week_label(monday)} "
    return Text(label + "─" * max(0, total - cell_len(label)), style="dim")


def _week_label(monday: date) -> str:
    sunday = monday + timedelta(days=6)
    begin = f"{_MONTHS[monday.month - 1]} {monday.day}"
    if monday.year != sunday.year:
        return f"{begin}, {monday.year} – {_MONTHS[sunday.month - 1]} {sunday.day}, {sunday.year}"
    if monday.month != sunday.month:
        return f"{begin} – {_MONTHS[sunday.month - 1]} {sunday.day}, {sunday.year}"
    return f"{begin} – {sunday.day}, {sunday.year}"


def _header(monday: date, *, cell: int, today: date) -> Text:
    days = [monday + timedelta(days=index) for index in range(7)]
    # One label form for the whole row: the longest that fits every day (and today's marker).
    form = next(
        (f for f in range(len(_DAY_FORMS)) if all(_fits(d, f, cell, today) for d in days)),
        len(_DAY_FORMS) - 1,
    )
    line = Text()
    for index, day in enumerate(days):
        if index:
            line.append(" " * _GAP)
        label = _day_label(day, form)
        if day.day == 1 and _fits(day, form, cell - 4, today):
            label += f" {_MONTHS[day.month - 1]}"
        if day == today:
            line.append(_fit(TODAY + label, cell), style="bold reverse")
        else:
            line.append(_fit(label, cell), style="dim" if index >= 5 else "bold")
    return line


_DAY_FORMS = ("{name} {day}", "{short} {day}", "{day}")


def _day_label(day: date, form: int) -> str:
    """``Wed 10``, ``We 10`` or ``10`` for narrower cells."""
    name = _DAYS[day.weekday()]
    return _DAY_FORMS[form].format(name=name, short=name[:2], day=day.day)


def _fits(day: date, form: int, cell: int, today: date) -> bool:
    return len(_day_label(day, form)) + (day == today) <= cell


def _fit(text: str, cell: int) -> str:
    fitted = Text(text)
    fitted.truncate(cell, overflow="ellipsis", pad=True)
    return fitted.plain


def _stack(segments: list[_Segment]) -> list[list[_Segment]]:
    """Greedy lanes: each segment goes in the first lane whose last card ends before it."""
    lanes: list[list[_Segment]] = []
    for segment in sorted(segments, key=lambda s: (s.left, s.starts, s.right)):
        lane = next((lane for lane in lanes if lane[-1].right < segment.left), None)
        if lane is None:
            lanes.append([segment])
        else:
            lane.append(segment)
    return lanes


def _lane(lane: list[_Segment], *, cell: int, show_program: bool) -> Text:
    line = Text()
    at = 0
    for segment in lane:
        x = segment.left * (cell + _GAP)
        line.append(" " * (x - at))
        span = (segment.right - segment.left) * (cell + _GAP) + cell
        line.append_text(_card_text(segment, span, show_program=show_program))
        at = x + span
    return line


def _card_text(segment: _Segment, span: int, *, show_program: bool) -> Text:
    """The card's characters over ``span`` cells: number first, then match time, name, opt-in."""
    card = segment.card
    color = card.view.color
    style = f"dim strike {color}" if card.cancelled else (f"dim {color}" if card.past else color)
    lead = "×" if card.cancelled else ("▌" if segment.starts else "━")
    head = Text.assemble((lead, style), (f"#{card.view.id}", f"bold {style}"))
    if head.cell_len >= span:
        head.truncate(span, overflow="ellipsis")
        return head
    tail = f"→{card.matches:%H:%M}" if segment.ends else ""
    if head.cell_len + cell_len(tail) > span:
        tail = "→" if segment.ends else ""
    room = span - head.cell_len - cell_len(tail)
    opens = f" {card.opens:%H:%M}" if segment.starts and card.opens is not None else ""
    name = literal(card.view.program, style) if show_program else Text()
    label = _label(opens, name, room=room, style=style)
    fill = span - head.cell_len - label.cell_len - cell_len(tail)
    rule = "┄" if card.cancelled else "━"
    head.append_text(label)
    head.append((" " + rule * (fill - 1) if fill else "") + tail, style)
    return head


def _label(opens: str, name: Text, *, room: int, style: str) -> Text:
    """Opt-in time and program name within ``room``; the name wins over the time."""
    if not name:
        return Text(opens if cell_len(opens) <= room else "", style)
    if cell_len(opens) + 1 + name.cell_len <= room:
        return Text.assemble((opens, style), " ", name)
    if room - cell_len(opens) < 1 + _MIN_NAME:
        opens = ""
    if room - cell_len(opens) < 1 + _MIN_NAME:
        return Text()
    name.truncate(room - cell_len(opens) - 1, overflow="ellipsis")
    return Text.assemble((opens, style), " ", name)


def _footer(zone: ZoneInfo, monday: date, *, weeks: int, empty: bool) -> list[Text]:
    names = _abbreviations(zone, monday, weeks=weeks)
    where = f"Times in {zone.key}" + (f" ({names})" if names != zone.key else "")
    lines = [Text(where), Text(_LEGEND, style="dim")]
    if empty:
        lines.append(Text(_EMPTY))
    return lines


def _abbreviations(zone: ZoneInfo, monday: date, *, weeks: int) -> str:
    """The zone's names over the weeks shown, e.g. ``CET/CEST`` across a change of clocks."""
    seen: dict[str | None, str] = {}
    for offset in range(7 * weeks):
        noon = datetime.combine(monday + timedelta(days=offset), time(12), tzinfo=zone)
        if noon.tzname() not in seen:  # format_local turns "+0530" into "UTC+05:30"
            seen[noon.tzname()] = format_local(noon, zone).rsplit(" ", 1)[1]
    return "/".join(dict.fromkeys(seen.values()))
