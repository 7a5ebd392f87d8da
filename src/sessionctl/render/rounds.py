"""Rounds for people: the list table, the one-round panel, --watch, and change summaries."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from rich.console import RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from sessionctl.domain.rounds import FINAL, Status
from sessionctl.domain.times import format_local, to_zone
from sessionctl.domain.words import plural
from sessionctl.render import console
from sessionctl.render.grid import Cell, Column, Grid
from sessionctl.render.text import clean, literal

if TYPE_CHECKING:
    from sessionctl.services.notices import Notices
    from sessionctl.services.rounds import RoundView
    from sessionctl.services.scheduling import Outcome

STATUS_STYLE = {
    Status.PLANNED: "cyan",
    Status.OPEN: "bold green",
    Status.DONE: "dim",
    Status.CANCELLED: "red",
    Status.MISSED: "yellow",
}
SWATCH = "●"


def when(instant: datetime | None, zone: ZoneInfo, *, weekday: bool = False) -> str:
    """``2026-06-10 09:00 CEST``; ``Wed 2026-06-10 09:00 CEST`` with ``weekday``, where there is
    room (confirmations, the round panel; tables stay compact)."""
    return "-" if instant is None else format_local(instant, zone, weekday=weekday)


def status_text(status: Status) -> Text:
    return Text(str(status), style=STATUS_STYLE[status])


def swatch(view: RoundView) -> Text:
    return Text(SWATCH, style=view.color)


def colour_name(color: str) -> str:
    """A round's colour in the words people use ("bright green"), for output without colours."""
    return clean(color).replace("_", " ")


def table(
    views: Sequence[RoundView], *, zone: ZoneInfo | None, show_program: bool, width: int = 160
) -> RenderableType:
    """One row per round; where a row would not fit, opt-in and match stack in one column."""
    if not views:
        return Text("No rounds: schedule one with 'sessionctl schedule PROGRAM --match WHEN'.")
    times = _shown_times(views, zone=zone)
    grid = _grid(views, times, show_program=show_program, stacked=False, width=width)
    if grid.natural_width > width:
        grid = _grid(views, times, show_program=show_program, stacked=True, width=width)
    return grid


def _shown_times(views: Sequence[RoundView], *, zone: ZoneInfo | None) -> list[tuple[str, str]]:
    """Each round's opt-in and match as shown: in ``zone``, else in the round's own."""
    clocks: dict[ZoneInfo, LocalTimes] = {}
    shown: list[tuple[str, str]] = []
    for v in views:
        clock = clocks.get(zone or v.zone)
        if clock is None:
            clock = clocks[zone or v.zone] = LocalTimes(zone or v.zone)
        shown.append((clock(v.opt_in_at), clock(v.match_at)))
    return shown


def _grid(
    views: Sequence[RoundView],
    times: Sequence[tuple[str, str]],
    *,
    show_program: bool,
    stacked: bool,
    width: int,
) -> Grid:
    names = {name: clean(name) for name in {v.program for v in views}}  # once, not per round
    rows = [
        _row(v, opt_in, match, program=names[v.program] if show_program else None, stacked=stacked)
        for v, (opt_in, match) in zip(views, times, strict=True)
    ]
    return Grid(_columns(show_program=show_program, stacked=stacked), rows, width=width)


class LocalTimes:
    """``when`` for many instants in one zone: the zone's name for each offset is worked out
    once, not once per time, where ``format_local`` spends most of its time."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._names: dict[tuple[str | None, timedelta | None], str] = {}

    def __call__(self, instant: datetime | None) -> str:
        if instant is None:
            return "-"
        local = to_zone(instant, self.zone)
        key = (local.tzname(), local.utcoffset())
        name = self._names.get(key)
        if name is None or local.year < 1000:  # isoformat pads the year, format_local does not
            shown = format_local(instant, self.zone)
            self._names[key] = shown.rsplit(" ", 1)[1]
            return shown
        return f"{local.isoformat(' ', 'minutes')[:16]} {name}"


def _columns(*, show_program: bool, stacked: bool) -> list[Column]:
    columns = [Column("Round", right=True), Column("No.", right=True)]
    if show_program:
        columns.append(Column("Program", shrink=True, minimum=8))
    columns.append(Column("Status"))
    columns += [Column("Opt-in → match")] if stacked else [Column("Opt-in"), Column("Match")]
    return [*columns, Column("Repeat", shrink=True, minimum=6), Column("Yes/no/inv", right=True)]


def _row(
    v: RoundView, opt_in: str, match: str, *, program: str | None, stacked: bool
) -> list[Cell]:
    """One round's cells; ``program`` is its clean name, None where the column is not shown."""
    dim = "dim" if v.status in FINAL else ""
    f = v.figures
    row: list[Cell] = [[[(SWATCH, v.color), (f" {v.id}", "")]], [[(str(v.number), "")]]]
    if program is not None:
        row.append([[(program, dim)]])
    row.append([[(v.status.value, STATUS_STYLE[v.status])]])
    if stacked:
        row.append([[(opt_in, dim)], [(match, dim)]])
    else:
        row += [[[(opt_in, dim)]], [[(match, dim)]]]
    row += [[[(v.repeat, dim)]], [[(f"{f.opted_in}/{f.declined}/{f.invited}", dim)]]]
    return row


def panel(
    view: RoundView,
    *,
    zone: ZoneInfo | None,
    now: datetime,
    repeats: int | None = None,
    styled: bool = True,
) -> RenderableType:
    """One round; ``repeats`` is the number of its pairs who met before (done rounds).

    ``styled``: the output shows colours, so the colour is its swatch; otherwise it is named.
    """
    shown = zone or view.zone
    final = view.status in FINAL
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column()
    grid.add_row("program", Text.assemble(literal(view.program, "bold"), f", round {view.number}"))
    grid.add_row("status", status_text(view.status))
    if view.opt_in_program:
        grid.add_row("opt-in", when(view.opt_in_at, shown, weekday=True))
    # A countdown only while the match is still to come: a final round will never match.
    until = "" if final else _until(view.match_at, now)
    grid.add_row("match", Text.assemble(when(view.match_at, shown, weekday=True), until))
    grid.add_row("zone", view.zone.key)
    grid.add_row("repeat", _recurrence(view))
    grid.add_row("colour", swatch(view) if styled else Text(colour_name(view.color)))
    if view.opened_at is not None:
        f = view.figures
        grid.add_row("opened", when(view.opened_at, shown))
        grid.add_row("opt-in sent", f"{f.sent} of {f.invited}")
        grid.add_row("opted in", str(f.opted_in))
        grid.add_row("declined", str(f.declined))
        grid.add_row("did not answer" if final else "no answer yet", str(f.no_answer))
        grid.add_row("reminded", str(f.reminded))
    if view.matched_at is not None:
        grid.add_row("matched", when(view.matched_at, shown))
    if repeats is not None:
        grid.add_row("repeated pairs", str(repeats))
    title = Text.assemble(swatch(view), f" Round {view.id}")
    return Panel(grid, title=title, title_align="left", expand=False, border_style=view.color)


def watch(
    fetch: Callable[[], RoundView], *, zone: ZoneInfo | None, now: Callable[[], datetime]
) -> None:
    """Refresh the panel in place until the round is final or the admin presses Ctrl-C."""
    import time

    from rich.live import Live

    view = fetch()
    out = console.out()
    styled = out.color_system is not None
    try:
        with Live(
            panel(view, zone=zone, now=now(), styled=styled), console=out, auto_refresh=False
        ) as live:
            while view.status not in FINAL:
                time.sleep(2)
                view = fetch()
                live.update(panel(view, zone=zone, now=now(), styled=styled), refresh=True)
    except KeyboardInterrupt:
        return


def outcome(result: Outcome, *, as_json: bool, verb: str, many: bool) -> None:
    """Print notes on stderr, then the rounds: an array with ``many``, else one object. After
    a change, each round's JSON says how many ``notices`` it sends, and a line per open round
    says so for people."""
    for note in result.notes:
        console.note(note)
    if as_json:
        data = [v.to_json() for v in result.rounds]
        if result.notices is not None:
            counts = {n.round_id: n.count for n in result.notices}
            data = [{**d, "notices": counts.get(d["id"], 0)} for d in data]
        console.print_json(data if many else data[0])
        return
    if len(result.rounds) == 1:
        v = result.rounds[0]
        console.line(Text.assemble(f"Round {v.id} {verb}: ", literal(v.program, "bold"), _times(v)))
    else:
        console.line(f"{plural(len(result.rounds), 'round')} {verb}:")
        width = console.out().width
        console.show(table(result.rounds, zone=None, show_program=False, width=width))
    for sent in result.notices or ():
        console.line(_notice_line(sent))


def _notice_line(sent: Notices) -> str:
    """What a change of an open round sends its members, in one sentence."""
    start = f"Round {sent.round_id}: "
    if sent.silence == "quiet":
        return start + "no change notice (--quiet)."
    if sent.silence == "now":
        return start + "no change notice, its match emails follow at the next run-due."
    if not sent.count:
        return start + "no change notice, no member has had its opt-in."
    return start + f"{plural(sent.count, 'member')} will get a change notice at the next run-due."


def _times(v: RoundView) -> str:
    opt_in = f", opt-in {when(v.opt_in_at, v.zone, weekday=True)}" if v.opt_in_at else ""
    return f"{opt_in}, match {when(v.match_at, v.zone, weekday=True)}."


def _recurrence(view: RoundView) -> str:
    if view.series is None:
        return view.repeat
    # Not "round 2": the panel's round numbers are the id and the number within the program.
    return f"{view.repeat} ({_ordinal(view.series_index + 1)} of series {view.series})"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _until(moment: datetime, now: datetime) -> str:
    delta = moment - now
    if delta.total_seconds() <= 0:
        return ""
    days, seconds = delta.days, delta.seconds
    hours, minutes = seconds // 3600, seconds % 3600 // 60
    text = f"{days}d {hours}h" if days else f"{hours}h {minutes}m"
    return f"  (in {text})"
