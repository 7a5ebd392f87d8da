"""Rounds for people: the list table, the one-round panel, --watch, and change summaries."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from rich import box
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from sessionctl.domain.rounds import Status
from sessionctl.domain.times import format_local
from sessionctl.render import console
from sessionctl.render.text import literal
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


def when(instant: datetime | None, zone: ZoneInfo) -> str:
    return "-" if instant is None else format_local(instant, zone)


def status_text(status: Status) -> Text:
    return Text(str(status), style=STATUS_STYLE[status])


def swatch(view: RoundView) -> Text:
    return Text(SWATCH, style=view.color)


def table(
    views: Sequence[RoundView], *, zone: ZoneInfo | None, show_program: bool, width: int = 160
) -> RenderableType:
    """One row per round; below about 110 columns opt-in and match stack in one column."""
    if not views:
        return Text("No rounds: schedule one with 'sessionctl schedule PROGRAM --match WHEN'.")
    stacked = width < 110
    grid = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    grid.add_column("Round", justify="right", no_wrap=True, min_width=5)
    if show_program:
        grid.add_column("Program", overflow="fold", min_width=8)
    grid.add_column("Status", no_wrap=True, min_width=9)
    time_width = len("2026-06-10 09:00 CEST")
    if stacked:
        grid.add_column("Opt-in → match", no_wrap=True, min_width=time_width)
    else:
        grid.add_column("Opt-in", no_wrap=True, min_width=time_width)
        grid.add_column("Match", no_wrap=True, min_width=time_width)
    grid.add_column("Repeat", overflow="fold", min_width=6)
    grid.add_column("Yes/no/inv", justify="right", no_wrap=True)
    for v in views:
        shown = zone or v.zone
        f = v.figures
        row: list[RenderableType] = [Text.assemble(swatch(v), f" {v.id}")]
        if show_program:
            row.append(literal(v.program))
        row.append(status_text(v.status))
        if stacked:
            row.append(f"{when(v.opt_in_at, shown)}\n{when(v.match_at, shown)}")
        else:
            row += [when(v.opt_in_at, shown), when(v.match_at, shown)]
        row += [v.repeat, f"{f.opted_in}/{f.declined}/{f.invited}"]
        final = v.status in (Status.DONE, Status.CANCELLED, Status.MISSED)
        grid.add_row(*row, style="dim" if final else "")
    return grid


def panel(view: RoundView, *, zone: ZoneInfo | None, now: datetime) -> RenderableType:
    shown = zone or view.zone
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column()
    grid.add_row("program", literal(view.program, "bold"))
    grid.add_row("status", status_text(view.status))
    if view.opt_in_program:
        grid.add_row("opt-in", when(view.opt_in_at, shown))
    grid.add_row("match", Text.assemble(when(view.match_at, shown), _until(view.match_at, now)))
    grid.add_row("zone", view.zone.key)
    grid.add_row("repeat", _recurrence(view))
    grid.add_row("colour", Text.assemble(swatch(view), f" {view.color}"))
    if view.opened_at is not None:
        f = view.figures
        grid.add_row("opened", when(view.opened_at, shown))
        grid.add_row("opt-in sent", f"{f.sent} of {f.invited}")
        grid.add_row("opted in", str(f.opted_in))
        grid.add_row("declined", str(f.declined))
        grid.add_row("no answer yet", str(f.no_answer))
    if view.matched_at is not None:
        grid.add_row("matched", when(view.matched_at, shown))
    title = Text.assemble(swatch(view), f" Round {view.id}")
    return Panel(grid, title=title, title_align="left", expand=False, border_style=view.color)


def watch(
    fetch: Callable[[], RoundView], *, zone: ZoneInfo | None, now: Callable[[], datetime]
) -> None:
    """Refresh the panel in place until the round is final or the admin presses Ctrl-C."""
    import time

    from rich.live import Live

    view = fetch()
    try:
        with Live(
            panel(view, zone=zone, now=now()), console=console.out(), auto_refresh=False
        ) as live:
            while view.status not in (Status.DONE, Status.CANCELLED, Status.MISSED):
                time.sleep(2)
                view = fetch()
                live.update(panel(view, zone=zone, now=now()), refresh=True)
    except KeyboardInterrupt:
        return


def outcome(result: Outcome, *, as_json: bool, verb: str, many: bool) -> None:
    """Print notes on stderr, then the rounds: an array with ``many``, else one object."""
    for note in result.notes:
        console.err().print(Text(f"note: {note}"))
    if as_json:
        data = [v.to_json() for v in result.rounds]
        console.print_json(data if many else data[0])
        return
    out = console.out()
    if len(result.rounds) == 1:
        v = result.rounds[0]
        out.print(Text.assemble(f"Round {v.id} {verb}: ", literal(v.program, "bold"), _times(v)))
        return
    out.print(
        Group(
            Text(f"{len(result.rounds)} rounds {verb}:"),
            table(result.rounds, zone=None, show_program=False),
        )
    )


def _times(v: RoundView) -> str:
    opt_in = f", opt-in {when(v.opt_in_at, v.zone)}" if v.opt_in_at else ""
    return f"{opt_in}, match {when(v.match_at, v.zone)}."


def _recurrence(view: RoundView) -> str:
    if view.series is None:
        return view.repeat
    return f"{view.repeat} (series {view.series}, round {view.series_index + 1})"


def _until(moment: datetime, now: datetime) -> str:
    delta = moment - now
    if delta.total_seconds() <= 0:
        return ""
    days, seconds = delta.days, delta.seconds
    hours, minutes = seconds // 3600, seconds % 3600 // 60
    text = f"{days}d {hours}h" if days else f"{hours}h {minutes}m"
    return f"  (in {text})"
