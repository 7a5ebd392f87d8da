"""The planning grid: weeks of Monday-to-Sunday columns, each round a card over its open window.

A card runs from the local day of its opt-in to the local day of its match in the view zone
(a round without opt-in is a one-day card on its match day). Its line tells the round's state,
so cards read without colour too:

    ▌#12 09:00 coffee ━━━━━━━━→10:00     planned: opens Monday 09:00, matches Thursday 10:00
    ▌#12 09:00 coffee ════════→10:00     open: the opt-in went out, answers are coming in
    ▌#12 09:00 coffee ────────→10:00     past: done or missed, or its match day has gone
    ━#12 ━━━━━━━━━━━━→10:00               continued from the week before
    ×#13 ┄┄┄┄┄┄┄┄┄┄┄┄→10:00               cancelled

On a terminal, cards take their round's colour; open ones are bold, past ones dimmed,
cancelled ones dimmed and struck, and the legend shows each look in its style. Today's day
header is reversed and starts with ``▶``. Overlapping cards stack in lanes. Every line fits
``width``; when it is unlimited (not a terminal), days are as narrow as keeps every label whole.

Lines are built as (text, style) pieces: without styling (not a terminal) they are written as
plain strings, and Rich's ``Text`` is made only for a terminal. Cards and their parts in each
week are named tuples, which cost less to define and make than dataclasses.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Literal, NamedTuple
from zoneinfo import ZoneInfo

from rich.cells import cell_len, set_cell_size
from rich.text import Text

from sessionctl.domain.rounds import FINAL, Status
from sessionctl.domain.times import WEEKDAYS, format_local, to_zone
from sessionctl.render.console import UNLIMITED
from sessionctl.render.grid import cut
from sessionctl.render.text import clean

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult

    from sessionctl.render.grid import Line
    from sessionctl.services.rounds import RoundView

TODAY = "▶"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_GAP = 1
_MIN_CELL, _MAX_CELL = 3, 32
_MIN_NAME = 4  # a truncated name keeps at least three characters and the ellipsis
_EMPTY = "No rounds in these weeks: see 'sessionctl schedule --help'."

Look = Literal["planned", "open", "past", "cancelled"]
# The line a card's window is drawn with, and its style on a terminal (besides its colour).
_FILL: dict[Look, str] = {"planned": "━", "open": "═", "past": "─", "cancelled": "┄"}
_STYLE: dict[Look, str] = {"planned": "", "open": "bold", "past": "dim", "cancelled": "dim strike"}
_LEGEND: list[tuple[Look | None, str, str]] = [  # (look, sample, what it means)
    ("planned", "▌━━→", "planned"),
    ("open", "▌══→", "open"),
    ("past", "▌──→", "past"),
    ("cancelled", "×┄┄→", "cancelled"),
    (None, "▌", "opt-in"),
    (None, "→", "match"),
]
ZoneSource = Literal["option", "program", "config", "machine"]
_SOURCES: dict[ZoneSource, str] = {
    "option": "as asked with --tz",
    "program": "the program's zone",
    "config": "the zone in the config file",
    "machine": "this machine's zone",
}


class _Card(NamedTuple):
    view: RoundView
    first: date  # local day the card starts: opt-in, or match without opt-in
    last: date  # local day of the match
    opens: datetime | None  # local opt-in time
    matches: datetime  # local match time
    look: Look


class _Segment(NamedTuple):
    """The part of a card inside one week: columns ``left`` to ``right``, 0 being Monday."""

    card: _Card
    left: int
    right: int
    starts: bool
    ends: bool


class Planning:
    """The calendar as lines of styled pieces, at most ``width`` cells wide once written."""

    def __init__(self, lines: list[Line], *, width: int) -> None:
        self.lines = lines
        self.width = width

    def plain(self) -> str:
        """The calendar as text without styles, for output that is not a terminal."""
        return "".join(_plain(line, self.width) + "\n" for line in self.lines)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        texts = []
        for line in self.lines:
            text = Text.assemble(*line)
            text.rstrip()
            texts.append(text)
        grid = Text("\n").join(texts)
        grid.no_wrap = True
        grid.overflow = "ellipsis"
        yield grid


def planning(
    views: Sequence[RoundView],
    *,
    zone: ZoneInfo,
    source: ZoneSource,
    today: date,
    start: date,
    weeks: int,
    show_program: bool,
    width: int,
) -> Planning:
    """The calendar of ``weeks`` weeks from the Monday ``start``, at most ``width`` columns
    (unlimited: as narrow as still shows every label whole); ``source`` says where the zone came
    from, for the footer."""
    monday = start - timedelta(days=start.weekday())
    cards = sorted(
        (_card_of(v, zone=zone, today=today) for v in views),
        key=lambda c: (c.first, c.opens or c.matches, c.view.id),
    )
    weekly: list[tuple[date, list[_Segment]]] = []
    for week in range(weeks):
        first = monday + timedelta(weeks=week)
        last = first + timedelta(days=6)
        in_week = [_segment_of(c, first) for c in cards if c.last >= first and c.first <= last]
        weekly.append((first, in_week))
    segments = [s for _, in_week in weekly for s in in_week]
    if width >= UNLIMITED:
        cell = _cell_showing_all(segments, show_program=show_program)
    else:
        cell = max(_MIN_CELL, min(_MAX_CELL, (width - 6 * _GAP) // 7))
    lines: list[Line] = []
    for first, in_week in weekly:
        lines += _week(first, in_week, cell=cell, today=today, show_program=show_program)
    lines += _footer(zone, source, monday, weeks=weeks, width=width, empty=not segments)
    return Planning(lines, width=width)


def _cell_showing_all(segments: list[_Segment], *, show_program: bool) -> int:
    """The narrowest day, no narrower than at 80 columns (where every day label fits), at which
    each card keeps its whole label and one cell of its line, the look it has without colour.

    Off a terminal nothing may be cut, but a calendar has no whole value beyond its labels:
    wider days would only pad every line. A long name widens them past a wide terminal's."""
    cell = (80 - 6 * _GAP) // 7
    for segment in segments:
        card, days = segment.card, segment.right - segment.left
        need = 1 + cell_len(f"#{card.view.id}") + 2  # lead, number, a blank and one of line
        need += 6 if segment.starts and card.opens is not None else 0  # " 09:00"
        need += (1 + cell_len(clean(card.view.program))) if show_program else 0
        need += 6 if segment.ends else 0  # "→10:00"
        cell = max(cell, -(-(need - days * _GAP) // (days + 1)))  # span: days × (cell + gap) + cell
    return cell


def _card_of(v: RoundView, *, zone: ZoneInfo, today: date) -> _Card:
    matches = to_zone(v.match_at, zone)
    opens = None if v.opt_in_at is None else to_zone(v.opt_in_at, zone)
    first = min(opens.date(), matches.date()) if opens is not None else matches.date()
    return _Card(v, first, matches.date(), opens, matches, _look(v, matches.date(), today))


def _look(v: RoundView, match_day: date, today: date) -> Look:
    if v.status is Status.CANCELLED:
        return "cancelled"
    if v.status in FINAL or match_day < today:
        return "past"
    return "open" if v.status is Status.OPEN else "planned"


def _segment_of(card: _Card, monday: date) -> _Segment:
    sunday = monday + timedelta(days=6)
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
) -> list[Line]:
    total = 7 * cell + 6 * _GAP
    lines = [_rule(monday, total), _header(monday, cell=cell, today=today)]
    lanes = _stack(segments)
    if not lanes:
        lines.append([("no rounds", "dim")])
    for lane in lanes:
        lines.append(_lane(lane, cell=cell, show_program=show_program))
    return lines


def _rule(monday: date, total: int) -> Line:
    label = f"── {_week_label(monday)} "
    return [(label + "─" * max(0, total - cell_len(label)), "dim")]


def _week_label(monday: date) -> str:
    sunday = monday + timedelta(days=6)
    begin = f"{_MONTHS[monday.month - 1]} {monday.day}"
    if monday.year != sunday.year:
        return f"{begin}, {monday.year} – {_MONTHS[sunday.month - 1]} {sunday.day}, {sunday.year}"
    if monday.month != sunday.month:
        return f"{begin} – {_MONTHS[sunday.month - 1]} {sunday.day}, {sunday.year}"
    return f"{begin} – {sunday.day}, {sunday.year}"


def _header(monday: date, *, cell: int, today: date) -> Line:
    days = [monday + timedelta(days=index) for index in range(7)]
    # One label form for the whole row: the longest that fits every day (and today's marker).
    form = next(
        (f for f in range(len(_DAY_FORMS)) if all(_fits(d, f, cell, today) for d in days)),
        len(_DAY_FORMS) - 1,
    )
    line: Line = []
    for index, day in enumerate(days):
        if index:
            line.append((" " * _GAP, ""))
        label = _day_label(day, form)
        if day.day == 1 and _fits(day, form, cell - 4, today):
            label += f" {_MONTHS[day.month - 1]}"
        if day == today:
            line.append((_fit(TODAY + label, cell), "bold reverse"))
        else:
            line.append((_fit(label, cell), "dim" if index >= 5 else "bold"))
    return line


_DAY_FORMS = ("{name} {day}", "{short} {day}", "{day}")


def _day_label(day: date, form: int) -> str:
    """``Wed 10``, ``We 10`` or ``10`` for narrower cells."""
    name = WEEKDAYS[day.weekday()][:3]
    return _DAY_FORMS[form].format(name=name, short=name[:2], day=day.day)


def _fits(day: date, form: int, cell: int, today: date) -> bool:
    return len(_day_label(day, form)) + (day == today) <= cell


def _fit(text: str, cell: int) -> str:
    """``text`` in exactly ``cell`` cells: padded, or cut with an ellipsis."""
    size = cell_len(text)
    if size <= cell:
        return text + " " * (cell - size)
    return set_cell_size(text, cell - 1) + "…"


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


def _lane(lane: list[_Segment], *, cell: int, show_program: bool) -> Line:
    line: Line = []
    at = 0
    for segment in lane:
        x = segment.left * (cell + _GAP)
        line.append((" " * (x - at), ""))
        span = (segment.right - segment.left) * (cell + _GAP) + cell
        line += _card_text(segment, span, show_program=show_program)
        at = x + span
    return line


def _card_text(segment: _Segment, span: int, *, show_program: bool) -> Line:
    """The card's characters over ``span`` cells: number first, then match time, name, opt-in."""
    card = segment.card
    style = f"{_STYLE[card.look]} {card.view.color}".lstrip()
    fill = _FILL[card.look]
    lead = "×" if card.look == "cancelled" else ("▌" if segment.starts else fill)
    number = f"#{card.view.id}"
    head = 1 + cell_len(number)
    if head >= span:
        return cut([(lead, style), (number, f"bold {style}")], span)
    tail = f"→{card.matches:%H:%M}" if segment.ends else ""
    if head + cell_len(tail) > span:
        tail = "→" if segment.ends else ""
    room = span - head - cell_len(tail)
    opens = f" {card.opens:%H:%M}" if segment.starts and card.opens is not None else ""
    name = clean(card.view.program) if show_program else ""
    label = _label(opens, name, room=room, style=style)
    rest = span - head - sum(cell_len(text) for text, _ in label) - cell_len(tail)
    return [
        (lead, style),
        (number, f"bold {style}"),
        *label,
        ((" " + fill * (rest - 1) if rest else "") + tail, style),
    ]


def _label(opens: str, name: str, *, room: int, style: str) -> Line:
    """Opt-in time and program name within ``room``; the name wins over the time."""
    if not name:
        return [(opens if cell_len(opens) <= room else "", style)]
    if cell_len(opens) + 1 + cell_len(name) <= room:
        return [(opens, style), (" ", ""), (name, style)]
    if room - cell_len(opens) < 1 + _MIN_NAME:
        opens = ""
    if room - cell_len(opens) < 1 + _MIN_NAME:
        return []
    name = cut([(name, style)], room - cell_len(opens) - 1)[0][0]
    return [(opens, style), (" ", ""), (name, style)]


def _footer(
    zone: ZoneInfo, source: ZoneSource, monday: date, *, weeks: int, width: int, empty: bool
) -> list[Line]:
    names = _abbreviations(zone, monday, weeks=weeks)
    where = f"Times in {zone.key}" + (f" ({names})" if names != zone.key else "")
    lines: list[Line] = [[(f"{where}: {_SOURCES[source]}", "")], *_legend(width)]
    if empty:
        lines.append([(_EMPTY, "")])
    return lines


def _legend(width: int) -> Iterator[Line]:
    """Each card look in its own style, then what the marks mean, on as many lines as needed."""
    line: Line = []
    used = 0
    for look, sample, meaning in _LEGEND:
        size = cell_len(sample) + 1 + len(meaning)
        if line and used + 2 + size > width:
            yield line
            line, used = [], 0
        if line:
            line.append(("  ", ""))
            used += 2
        line += [(sample, _STYLE[look] if look else "dim"), (f" {meaning}", "dim")]
        used += size
    yield line


def _abbreviations(zone: ZoneInfo, monday: date, *, weeks: int) -> str:
    """The zone's names over the weeks shown, e.g. ``CET/CEST`` across a change of clocks."""
    seen: dict[str | None, str] = {}
    for offset in range(7 * weeks):
        noon = datetime.combine(monday + timedelta(days=offset), time(12), tzinfo=zone)
        if noon.tzname() not in seen:  # format_local turns "+0530" into "UTC+05:30"
            seen[noon.tzname()] = format_local(noon, zone).rsplit(" ", 1)[1]
    return "/".join(dict.fromkeys(seen.values()))


def _plain(line: Line, width: int) -> str:
    """A line as ``Planning.__rich_console__`` prints it without styles: trailing spaces off,
    cut with an ellipsis past ``width``."""
    text = "".join([t for t, _ in line]).rstrip()
    if (len(text) if text.isascii() else cell_len(text)) <= width:
        return text
    return cut([(text, "")], width)[0][0]
