"""schedule | update | cancel: create and move rounds."""

from typing import Annotated

import typer

from sessionctl.cli import values
from sessionctl.cli.state import JsonOption, state

RoundArg = Annotated[
    int, typer.Argument(metavar="ROUND", help="Round id, as printed by schedule and list.")
]
FollowingOpt = Annotated[
    bool, typer.Option("--following", help="Also apply to the later rounds of its series.")
]
QuietOpt = Annotated[
    bool,
    typer.Option("--quiet", help="Send no change notice to the members invited to an open round."),
]


def schedule(
    ctx: typer.Context,
    program: Annotated[str, typer.Argument(metavar="PROGRAM", help="Program name.")],
    match: Annotated[
        str,
        typer.Option(
            "--match",
            metavar="WHEN",
            help="Match time in the round's zone, e.g. '2026-06-10 09:00' or 'wed 9am'.",
        ),
    ],
    opt_in: Annotated[
        str | None,
        typer.Option(
            "--opt-in", metavar="WHEN|now", help="Opt-in time as --match, or now (if opt-in)."
        ),
    ] = None,
    tz: Annotated[
        str | None,
        typer.Option("--tz", metavar="ZONE", help="Zone of the times (default: the program's)."),
    ] = None,
    repeat: Annotated[
        str,
        typer.Option(
            "--repeat",
            metavar="RULE",
            parser=values.repeat,
            help="once (the default), weekly, 2-weeks, 3-weeks or 4-weeks.",
        ),
    ] = "once",
    count: Annotated[
        int | None,
        typer.Option(
            "--count", metavar="N", min=1, help="Number of rounds in the series (default: no end)."
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", metavar="DATE", help="Last match date, e.g. 'Dec 31'."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Schedule a round, or a series of rounds.

    The rounds of a series keep the first one's weekdays and local times.

    \b
    Example:
      sessionctl schedule coffee-paris --match "2026-06-10 09:00" \\
          --opt-in "2026-06-04 09:00" --repeat weekly
    """
    from sessionctl import clock
    from sessionctl.render import rounds as render
    from sessionctl.services import scheduling

    req = scheduling.ScheduleRequest(match, opt_in, tz, repeat, count, until)
    outcome = scheduling.schedule(state(ctx).database(), program, req, now=clock.now())
    render.outcome(outcome, as_json=as_json, verb="scheduled", many=True)


def update(
    ctx: typer.Context,
    round_id: RoundArg,
    opt_in: Annotated[
        str | None,
        typer.Option(
            "--opt-in",
            metavar="WHEN|now",
            help="New opt-in time, as --match (planned rounds only).",
        ),
    ] = None,
    match: Annotated[
        str | None,
        typer.Option(
            "--match", metavar="WHEN|now", help="New match time; now means at the next run-due."
        ),
    ] = None,
    tz: Annotated[
        str | None,
        typer.Option(
            "--tz",
            metavar="ZONE",
            help="New zone; wall times stay unless given (planned rounds only).",
        ),
    ] = None,
    following: FollowingOpt = False,
    quiet: QuietOpt = False,
    as_json: JsonOption = False,
) -> None:
    """Move a round to new times.

    With --following, the later rounds of its series move too. A planned round can change its
    opt-in, match and zone; an open round only its match time. When an open round's match
    moves, each member its opt-in went to gets a change notice with the new time at the next
    run-due, unless --quiet (or --match now: its match emails follow then). The JSON gains
    notices: how many members will get one.

    \b
    Example:
      sessionctl update 12 --match now
      sessionctl update 12 --match "2026-06-11 14:00" --following
      sessionctl update 12 --match "2026-06-12 10:00" --quiet
    """
    from sessionctl import clock
    from sessionctl.render import rounds as render
    from sessionctl.services import scheduling

    req = scheduling.ChangeRequest(opt_in, match, tz, following, quiet)
    outcome = scheduling.update(state(ctx).database(), round_id, req, now=clock.now())
    render.outcome(outcome, as_json=as_json, verb="updated", many=following)


def cancel(
    ctx: typer.Context,
    round_id: RoundArg,
    following: FollowingOpt = False,
    quiet: QuietOpt = False,
    as_json: JsonOption = False,
) -> None:
    """Cancel a round, so that nothing more is sent for it.

    With --following, the later rounds of its series are cancelled too. Each member an open
    round's opt-in went to gets a notice of the cancellation at the next run-due, unless
    --quiet. The JSON gains notices: how many members will get one.

    \b
    Example:
      sessionctl cancel 12 --following
      sessionctl cancel 12 --quiet
    """
    from sessionctl import clock
    from sessionctl.render import rounds as render
    from sessionctl.services import scheduling

    outcome = scheduling.cancel(
        state(ctx).database(), round_id, following=following, now=clock.now(), quiet=quiet
    )
    render.outcome(outcome, as_json=as_json, verb="cancelled", many=following)


def register(app: typer.Typer) -> None:
    app.command("schedule")(schedule)
    app.command("update")(update)
    app.command("cancel")(cancel)
