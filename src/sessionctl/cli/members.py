"""member add | import | list | remove."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from sessionctl.cli.state import JsonOption, state

app = typer.Typer(
    help="Manage the members of a program.\n\n"
    "\b\nExample:\n  sessionctl member import coffee-paris members.csv\n"
    "  sessionctl member list coffee-paris",
    no_args_is_help=True,
)

ProgramArg = Annotated[str, typer.Argument(metavar="PROGRAM", help="Program name.")]
EmailArg = Annotated[str, typer.Argument(metavar="EMAIL", help="Member's email address.")]


@app.command("add")
def add(
    ctx: typer.Context,
    program: ProgramArg,
    email: EmailArg,
    name: Annotated[str, typer.Option("--name", metavar="TEXT", help="Member's name.")] = "",
    team: Annotated[
        str | None, typer.Option("--team", metavar="TEXT", help="Member's team.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Add a member (or bring back a removed one).

    \b
    Example:
      sessionctl member add coffee-paris ana@example.com --name "Ana Lima" --team design
    """
    from sessionctl import clock
    from sessionctl.render import console, tables
    from sessionctl.services import members

    row = members.MemberRow(email, name, team)
    info = members.add_member(state(ctx).database(), program, row, now=clock.now())
    if as_json:
        console.print_json(info.to_json())
    else:
        console.line(tables.sentence("Member ", info.email, " added to ", program, "."))


@app.command("import")
def import_(
    ctx: typer.Context,
    program: ProgramArg,
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE|-",
            help="CSV with a header row email,name[,team]; - reads standard input.",
        ),
    ],
    as_json: JsonOption = False,
) -> None:
    """Add or update members from a CSV file; one bad row imports nothing.

    \b
    Example:
      sessionctl member import coffee-paris members.csv
      printf 'email,name\\nana@example.com,Ana\\n' | sessionctl member import coffee-paris -
    """
    from sessionctl import clock
    from sessionctl.render import console, tables
    from sessionctl.services import members

    report = members.import_members(
        state(ctx).database(), program, read_text(file), now=clock.now()
    )
    if as_json:
        console.print_json(report.to_json())
    else:
        console.line(tables.import_report(report))


@app.command("list")
def list_(
    ctx: typer.Context,
    program: ProgramArg,
    include_all: Annotated[bool, typer.Option("--all", help="Include removed members.")] = False,
    as_json: JsonOption = False,
) -> None:
    """List a program's members.

    \b
    Example:
      sessionctl member list coffee-paris --all --json
    """
    from sessionctl.render import console, tables
    from sessionctl.services import members

    infos = members.list_members(state(ctx).database(), program, include_inactive=include_all)
    if as_json:
        console.print_json([i.to_json() for i in infos])
    else:
        console.show(tables.members(infos, show_active=include_all))


@app.command("remove")
def remove(ctx: typer.Context, program: ProgramArg, email: EmailArg) -> None:
    """Deactivate a member; their history stays.

    \b
    Example:
      sessionctl member remove coffee-paris ana@example.com
    """
    from sessionctl import clock
    from sessionctl.render import console, tables
    from sessionctl.services import members

    info = members.remove_member(state(ctx).database(), program, email, now=clock.now())
    console.line(tables.sentence("Member ", info.email, " removed from ", program, "."))


def read_text(file: str) -> str:
    """The whole text of FILE, or of standard input for '-'; a clear error when unreadable."""
    from sessionctl.errors import InputError

    try:
        if file == "-":
            # Like utf-8-sig for files: spreadsheet exports piped in start with a BOM.
            text = sys.stdin.read().removeprefix("\ufeff")
            text.encode("utf-8")  # undecodable bytes arrive as lone surrogates
            return text
        return Path(file).read_text(encoding="utf-8-sig")
    except UnicodeError as err:
        raise InputError(f"cannot read {file}: it is not UTF-8 text") from err
    except OSError as err:
        raise InputError(f"cannot read {file}: {err.strerror or err}") from err
