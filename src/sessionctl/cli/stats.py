"""stats: what matched rounds gave, per round and per program."""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING, Annotated

import typer

from sessionctl.cli.state import JsonOption, state

if TYPE_CHECKING:
    from datetime import date

    from sessionctl.services.stats import Stats

ProgramArg = Annotated[
    str | None, typer.Argument(metavar="PROGRAM", help="Program name (default: all programs).")
]
FromOption = Annotated[
    str | None,
    typer.Option("--from", metavar="DATE", help="First match date to count, e.g. 2026-01-01."),
]
ToOption = Annotated[
    str | None,
    typer.Option("--to", metavar="DATE", help="Last match date to count, e.g. 'Jun 30'."),
]
CsvOption = Annotated[
    bool, typer.Option("--csv", help="Print CSV, one row per round, for a spreadsheet.")
]


def stats(
    ctx: typer.Context,
    program: ProgramArg = None,
    start: FromOption = None,
    end: ToOption = None,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """Show what matched rounds gave: answers, participation and groups.

    Per round: invited, joined, declined, no answer, participation, groups, repeated pairs
    and failed messages; per program, the totals and the participation of the last 12 rounds.
    Only matched (done) rounds count; 'sessionctl list' shows the others. Dates are match
    dates, each in its round's zone. Participation is the share of the invited who joined;
    for a round without opt-in, of the program's members when it matched.

    \b
    Example:
      sessionctl stats coffee-paris --from 2026-01-01
      sessionctl stats --csv > stats.csv
    """
    from sessionctl.errors import InputError

    if as_json and as_csv:
        raise InputError("--json and --csv cannot be used together: choose one")
    # Thousands of short-lived rows and cells, none in a cycle: the cyclic collector would walk
    # them, and all that was imported, over and over (as for list: see cli/views.py).
    gc.disable()
    try:
        _show(ctx, program=program, start=start, end=end, as_json=as_json, as_csv=as_csv)
    finally:
        gc.enable()


def _show(
    ctx: typer.Context,
    *,
    program: str | None,
    start: str | None,
    end: str | None,
    as_json: bool,
    as_csv: bool,
) -> None:
    from sessionctl.render import console
    from sessionctl.services.stats import stats as gather

    first, last = _read_dates(ctx, program=program, start=start, end=end)
    found = gather(state(ctx).database(), program=program, start=first, end=last)
    if as_json:
        console.print_json(found.to_json())
    elif as_csv:
        _write_csv(found)
    else:
        from sessionctl.render.stats import report

        for shown in report(found, width=console.out().width):
            console.show(shown)


def _read_dates(
    ctx: typer.Context, *, program: str | None, start: str | None, end: str | None
) -> tuple[date | None, date | None]:
    """--from and --to; "today" and dates without a year are read in the program's zone (the
    zone of the config file, else this machine's, across programs)."""
    if start is None and end is None:
        return None, None
    from sessionctl import clock, config
    from sessionctl.cli import times
    from sessionctl.domain.times import load_zone
    from sessionctl.services.rounds import program_zone

    if program is not None:
        zone = program_zone(state(ctx).database(), program)
    else:
        zone = load_zone(state(ctx).settings().tz or config.local_zone_name())
    today = clock.now().astimezone(zone).date()
    first = times.day(start, option="--from", today=today) if start else None
    last = times.day(end, option="--to", today=today) if end else None
    if first is not None and last is not None and last < first:
        from sessionctl.errors import InputError

        raise InputError(f"--to {last.isoformat()} is before --from {first.isoformat()}")
    return first, last


def _write_csv(found: Stats) -> None:
    import sys

    from sessionctl.render.stats import csv_text

    sys.stdout.write(csv_text(found))
    sys.stdout.flush()


def register(app: typer.Typer) -> None:
    app.command("stats")(stats)
