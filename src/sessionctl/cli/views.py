"""list | show | planning | ics: read-only views of rounds."""

import functools
import gc
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ParamSpec

import typer

from sessionctl.cli import values
from sessionctl.cli.state import JsonOption, TzOption, state

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from sessionctl.render.planning import ZoneSource

P = ParamSpec("P")
CsvOption = Annotated[
    bool,
    typer.Option(
        "--csv", help="Print CSV (RFC 4180) for spreadsheets instead of a table; not with --json."
    ),
]
ProgramArg = Annotated[
    str | None, typer.Argument(metavar="PROGRAM", help="Program name (default: all programs).")
]


def list_(
    ctx: typer.Context,
    program: ProgramArg = None,
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            metavar="STATUS",
            parser=values.round_status,
            help="Only rounds in this state: planned, open, done, cancelled or missed.",
        ),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--from", metavar="DATE", help="First match date to show, e.g. 2026-06-10 or 'Jun 10'."
        ),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option("--to", metavar="DATE", help="Last match date to show, e.g. 'next fri'."),
    ] = None,
    tz: TzOption = None,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """List rounds, upcoming and past, with status, times and answers.

    Times are in the program's zone; across programs, in the zone of tz in the config file,
    else this machine's (--tz to choose). With --json or --csv, each round's times are in its
    own zone, with their offset, unless --tz is given.

    \b
    Example:
      sessionctl list coffee-paris --status open --json
      sessionctl list coffee-paris --csv > rounds.csv
    """
    from sessionctl import clock
    from sessionctl.cli import times
    from sessionctl.domain.rounds import parse_status
    from sessionctl.render import console
    from sessionctl.render import rounds as render
    from sessionctl.services.rounds import RoundFilter, list_rounds

    check_one_format(as_json=as_json, as_csv=as_csv)
    db = state(ctx).database()
    zone, _ = _view_zone(ctx, program, tz)
    as_json = as_json or as_csv  # the same rows: times as JSON gives them
    today = clock.now().astimezone(zone).date()  # "today", "next wed" in the shown zone
    # Dates are read in the zone the times are shown in: for JSON without --tz, each round's own.
    flt = RoundFilter(
        program=program,
        status=parse_status(status) if status else None,
        start=times.day(start, option="--from", today=today) if start else None,
        end=times.day(end, option="--to", today=today) if end else None,
        zone=None if as_json and not tz else zone,
    )
    views = list_rounds(db, flt)
    if as_csv:
        shown = [v.to_json(zone if tz else None) for v in views]
        write_csv(_LIST_COLUMNS, [[row[c] for c in _LIST_COLUMNS] for row in shown])
        return
    if as_json:
        # JSON times are in --tz when given, else in each round's own zone (the contract).
        console.print_json([v.to_json(zone if tz else None) for v in views])
        return
    width = console.out().width
    console.show(render.table(views, zone=zone, show_program=program is None, width=width))


def show(
    ctx: typer.Context,
    round_id: Annotated[int, typer.Argument(metavar="ROUND", help="Round id, as printed by list.")],
    tz: TzOption = None,
    watch: Annotated[
        bool,
        typer.Option(
            "--watch", help="Keep the figures refreshing until the round is done (Ctrl-C stops)."
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Show one round's times, status and answers.

    Once the round is open, its figures are live; --watch keeps them refreshing.

    \b
    Example:
      sessionctl show 12 --watch
    """
    from sessionctl import clock
    from sessionctl.cli import times
    from sessionctl.render import console
    from sessionctl.render import rounds as render
    from sessionctl.services.rounds import get_round

    db = state(ctx).database()
    zone = times.zone(tz) if tz else None
    view = get_round(db, round_id)
    if as_json:
        console.print_json(view.to_json(zone))
    elif watch:
        render.watch(lambda: get_round(db, round_id), zone=zone, now=clock.now)
    else:
        repeats = None
        if view.status == "done":
            from sessionctl.services.groups import round_groups

            repeats = round_groups(db, round_id).repeated_pairs
        styled = console.out().color_system is not None
        panel = render.panel(view, zone=zone, now=clock.now(), repeats=repeats, styled=styled)
        console.show(panel)


def planning(
    ctx: typer.Context,
    program: ProgramArg = None,
    tz: TzOption = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--from", metavar="DATE", help="A date in the first week shown (default: today)."
        ),
    ] = None,
    weeks: Annotated[
        int,
        typer.Option(
            "--weeks", metavar="N", min=1, max=104, help="Weeks to show, 1 to 104 (default: 6)."
        ),
    ] = 6,
) -> None:
    """Show the coming weeks as a calendar of rounds.

    Each round is a card over its open window, from its opt-in to its match.

    The legend tells planned, open, past and cancelled cards apart. Times are in the program's
    zone; across programs, in the zone of tz in the config file, else this machine's.

    \b
    Example:
      sessionctl planning coffee-paris --weeks 8 --tz America/New_York
    """
    from datetime import date, timedelta

    from sessionctl import clock
    from sessionctl.cli import times
    from sessionctl.domain.times import week_span
    from sessionctl.render import console
    from sessionctl.render.planning import planning as render_planning
    from sessionctl.services.rounds import RoundFilter, list_rounds

    db = state(ctx).database()
    zone, source = _view_zone(ctx, program, tz)
    now = clock.now()
    today = now.astimezone(zone).date()
    first = times.day(start, option="--from", today=today) if start else today
    monday, last = week_span(first, weeks=weeks)
    ahead = min(last, date.max - timedelta(days=35)) + timedelta(days=35)  # not past 9999
    views = list_rounds(db, RoundFilter(program=program, start=monday, end=ahead, zone=zone))
    grid = render_planning(
        views,
        zone=zone,
        source=source,
        today=today,
        start=monday,
        weeks=weeks,
        show_program=program is None,
        width=console.out().width,
    )
    console.show(grid)


def ics(
    ctx: typer.Context,
    program: ProgramArg = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o", "--output", metavar="FILE", help="Write to FILE instead of standard output."
        ),
    ] = None,
) -> None:
    """Export the planning as an iCalendar file.

    Each round is an event over its open window, from its opt-in to its match; cancelled
    rounds are left out.

    \b
    Example:
      sessionctl ics coffee-paris -o coffee.ics
    """
    import sys

    from sessionctl.errors import InputError
    from sessionctl.render import console
    from sessionctl.services.calendar import export_ics

    export = export_ics(state(ctx).database(), program)
    for note in export.skipped:
        console.note(note)
    if output is None:
        sys.stdout.buffer.write(export.data)
        sys.stdout.flush()
        return
    try:
        output.write_bytes(export.data)
    except OSError as err:
        raise InputError(f"cannot write {output}: {err.strerror}") from err


_LIST_COLUMNS = (
    "id",
    "number",
    "program",
    "status",
    "timezone",
    "opt_in_at",
    "match_at",
    "repeat",
    "series",
    "invited",
    "opted_in",
    "declined",
    "no_answer",
)


def check_one_format(*, as_json: bool, as_csv: bool) -> None:
    """--json and --csv each replace the table: one of them at most."""
    if as_json and as_csv:
        from sessionctl.errors import InputError

        raise InputError("--csv and --json go one at a time: give one of them")


def write_csv(header: "Sequence[str]", rows: "Iterable[Sequence[object]]") -> None:
    """CSV on standard output: RFC 4180 (CRLF line ends, quotes where needed), None as an
    empty cell, and every text cell through ``safe_cell`` so a spreadsheet never runs it."""
    import csv
    import io
    import sys

    from sessionctl.domain.csvsafe import safe_cell

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(
            ["" if v is None else safe_cell(v) if isinstance(v, str) else v for v in row]
        )
    sys.stdout.write(out.getvalue())
    sys.stdout.flush()


def _view_zone(
    ctx: typer.Context, program: str | None, tz: str | None
) -> "tuple[ZoneInfo, ZoneSource]":
    """--tz, else the program's zone for one program, else the zone in the config file, else
    this machine's; and which of them it is."""
    from sessionctl import config
    from sessionctl.cli import times
    from sessionctl.domain.times import load_zone
    from sessionctl.services.rounds import program_zone

    if tz:
        return times.zone(tz), "option"
    if program:
        return program_zone(state(ctx).database(), program), "program"
    configured = state(ctx).settings().tz
    if configured:
        return load_zone(configured), "config"
    return load_zone(config.local_zone_name()), "machine"


def _collector_paused(command: Callable[P, None]) -> Callable[P, None]:
    """The command with the cyclic garbage collector paused while it runs.

    A view imports most of what it uses on the way, then makes tens of thousands of
    short-lived containers, none in a cycle: the collector would walk them, and all that was
    imported before, over and over. Paused, ``list`` over a thousand rounds ends about 15 ms
    sooner, a quarter of what it adds to the cost of its imports (bench/views.py). Reference
    counting still frees everything as usual; a cycle, if any, waits for the collector.
    """

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        if not gc.isenabled():
            command(*args, **kwargs)
            return
        gc.disable()
        try:
            command(*args, **kwargs)
        finally:
            gc.enable()

    return run


def register(app: typer.Typer) -> None:
    app.command("list")(_collector_paused(list_))
    app.command("planning")(_collector_paused(planning))
    app.command("show")(show)
    app.command("ics")(ics)
