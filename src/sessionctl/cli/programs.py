"""program add | set | list | show."""

from typing import Annotated

import typer

from sessionctl.cli.state import JsonOption, state

app = typer.Typer(
    help="Define matching programs and their settings.\n\n"
    "\b\nExample:\n  sessionctl program add coffee-paris --tz Europe/Paris\n"
    "  sessionctl program list",
    no_args_is_help=True,
)

NameArg = Annotated[str, typer.Argument(metavar="NAME", help="Program name, e.g. coffee-paris.")]
TzOpt = Annotated[
    str | None,
    typer.Option(
        "--tz", metavar="ZONE", help="IANA timezone of the program (default: this machine's)."
    ),
]
OptInOpt = Annotated[
    bool | None,
    typer.Option(
        "--opt-in/--no-opt-in", help="Ask members to opt in before each round (default: on)."
    ),
]
GroupSizeOpt = Annotated[
    int | None,
    typer.Option(
        "--group-size", min=None, metavar="N", help="People per group, 2 to 6 (default: 2)."
    ),
]
TitleOpt = Annotated[
    str | None,
    typer.Option("--title", metavar="TEXT", help="Title shown in messages (default: the name)."),
]
SenderOpt = Annotated[
    str | None,
    typer.Option("--sender", metavar="EMAIL", help="From address of the program's messages."),
]
LinkBaseOpt = Annotated[
    str | None,
    typer.Option("--link-base", metavar="URL", help="Base URL for personal join/skip links."),
]
GraceOpt = Annotated[
    int | None,
    typer.Option(
        "--grace-hours",
        metavar="N",
        help="How late run-due may still match a round before calling it missed (default: 24).",
    ),
]
LookbackOpt = Annotated[
    str | None,
    typer.Option(
        "--lookback",
        metavar="N|all",
        help="How many past rounds matching avoids repeats from (default: all).",
    ),
]


@app.command("add")
def add(
    ctx: typer.Context,
    name: NameArg,
    tz: TzOpt = None,
    opt_in: OptInOpt = None,
    group_size: GroupSizeOpt = None,
    title: TitleOpt = None,
    sender: SenderOpt = None,
    link_base: LinkBaseOpt = None,
    grace_hours: GraceOpt = None,
    lookback: LookbackOpt = None,
    as_json: JsonOption = False,
) -> None:
    """Add a program.

    \b
    Example:
      sessionctl program add coffee-paris --tz Europe/Paris --title "Coffee Paris"
    """
    from sessionctl import clock, config
    from sessionctl.services import programs

    changes = programs.ProgramChanges(
        tz, opt_in, group_size, title, sender, link_base, grace_hours, lookback
    )
    programs.check_new_program(name, changes=changes)  # bad input creates no database file
    db = state(ctx).database(create=True)
    info = programs.add_program(
        db, name, changes=changes, now=clock.now(), default_zone=config.local_zone_name()
    )
    _emit(info, as_json=as_json, verb="added")


@app.command("set")
def set_(
    ctx: typer.Context,
    name: NameArg,
    tz: TzOpt = None,
    opt_in: OptInOpt = None,
    group_size: GroupSizeOpt = None,
    title: TitleOpt = None,
    sender: SenderOpt = None,
    link_base: LinkBaseOpt = None,
    grace_hours: GraceOpt = None,
    lookback: LookbackOpt = None,
    as_json: JsonOption = False,
) -> None:
    """Change a program's settings; options not given stay as they are.

    \b
    Example:
      sessionctl program set coffee-paris --group-size 3 --no-opt-in
    """
    from sessionctl.services import programs

    changes = programs.ProgramChanges(
        tz, opt_in, group_size, title, sender, link_base, grace_hours, lookback
    )
    info = programs.set_program(state(ctx).database(), name, changes=changes)
    _emit(info, as_json=as_json, verb="updated")


@app.command("list")
def list_(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List the programs.

    \b
    Example:
      sessionctl program list --json
    """
    from sessionctl.render import console, tables
    from sessionctl.services import programs

    infos = programs.list_programs(state(ctx).database())
    if as_json:
        console.print_json([i.to_json() for i in infos])
    else:
        console.show(tables.programs(infos))


@app.command("show")
def show(ctx: typer.Context, name: NameArg, as_json: JsonOption = False) -> None:
    """Show one program's settings.

    \b
    Example:
      sessionctl program show coffee-paris
    """
    from sessionctl.services import programs

    _emit(programs.show_program(state(ctx).database(), name), as_json=as_json)


def _emit(info: object, *, as_json: bool, verb: str | None = None) -> None:
    """The program as JSON or as a table; after a change, how to set a sender if it has none
    (on stderr, so that stdout stays the confirmation, or pure JSON)."""
    from sessionctl.render import console, tables
    from sessionctl.services.programs import ProgramInfo, sender_note

    assert isinstance(info, ProgramInfo)
    if as_json:
        console.print_json(info.to_json())
    else:
        if verb:
            console.line(tables.sentence("Program ", info.name, f" {verb}."))
        console.show(tables.program(info))
    if verb and info.sender is None:
        console.note(sender_note([info.name]))
