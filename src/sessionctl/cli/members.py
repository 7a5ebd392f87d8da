"""member add | import | list | show | set | remove | pause | resume | avoid."""

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


NameOption = Annotated[str | None, typer.Option("--name", metavar="TEXT", help="Member's name.")]
TeamOption = Annotated[
    str | None, typer.Option("--team", metavar="TEXT", help='Member\'s team; "" for none.')
]


@app.command("add")
def add(
    ctx: typer.Context,
    program: ProgramArg,
    email: EmailArg,
    name: NameOption = None,
    team: TeamOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a member, or bring back a removed one with their name and team.

    Options given replace the stored name and team of a member who comes back.

    \b
    Example:
      sessionctl member add coffee-paris ana@example.com --name "Ana Lima" --team design
    """
    from sessionctl import clock
    from sessionctl.render import console, tables
    from sessionctl.services import members
    from sessionctl.services.member_rows import MemberRow

    row = MemberRow(email, name, team)
    added = members.add_member(state(ctx).database(), program, row, now=clock.now())
    if as_json:
        console.print_json(added.member.to_json())
    else:
        verb = " re-added to " if added.re_added else " added to "
        console.line(tables.sentence("Member ", added.member.email, verb, program, "."))


@app.command("import")
def import_(
    ctx: typer.Context,
    program: ProgramArg,
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE|-",
            help="CSV with a header row naming its columns (email required, name and team "
            "read, others ignored); - reads standard input.",
        ),
    ],
    as_json: JsonOption = False,
) -> None:
    """Add, update or bring back members from a CSV file.

    The header names the columns, in any order and case: email (required), name and team;
    other columns are ignored and named in a note. Fields are separated by commas, semicolons
    or tabs, as in the header. A column the file lacks leaves that field as stored. One bad
    row imports nothing, and the error names its line.

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
    if report.ignored:
        console.note(f"ignored columns: {', '.join(report.ignored)}")
    if as_json:
        console.print_json(report.to_json())
    else:
        console.line(tables.import_report(report))


@app.command("list")
def list_(
    ctx: typer.Context,
    program: ProgramArg,
    include_all: Annotated[bool, typer.Option("--all", help="Include removed members.")] = False,
    with_stats: Annotated[
        bool,
        typer.Option(
            "--stats", help="Add rounds joined, the last match date and the times in a trio."
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """List a program's members.

    With --stats, each member's history: the rounds that matched them (in a group, or alone),
    the date of the last round that grouped them, and how often they were in a group made
    bigger to take an odd one out (a trio, when pairs are the rule).

    \b
    Example:
      sessionctl member list coffee-paris --all --json
      sessionctl member list coffee-paris --stats
    """
    from sessionctl import clock
    from sessionctl.render import console, tables
    from sessionctl.services import members

    infos = members.list_members(
        state(ctx).database(),
        program,
        include_inactive=include_all,
        now=clock.now(),
        with_stats=with_stats,
    )
    if as_json:
        console.print_json([i.to_json() for i in infos])
    else:
        console.show(tables.members(infos, show_active=include_all))


@app.command("show")
def show(
    ctx: typer.Context, program: ProgramArg, email: EmailArg, as_json: JsonOption = False
) -> None:
    """Show one member, active or removed: name, team, dates and rounds.

    \b
    Example:
      sessionctl member show coffee-paris ana@example.com --json
    """
    from sessionctl import clock
    from sessionctl.render import console
    from sessionctl.render import members as render
    from sessionctl.services import members

    detail = members.show_member(state(ctx).database(), program, email, now=clock.now())
    if as_json:
        console.print_json(detail.to_json())
    else:
        console.show(render.panel(detail))


@app.command("set")
def set_(
    ctx: typer.Context,
    program: ProgramArg,
    email: EmailArg,
    name: Annotated[
        str | None, typer.Option("--name", metavar="TEXT", help="New name; unchanged if omitted.")
    ] = None,
    team: Annotated[
        str | None,
        typer.Option("--team", metavar="TEXT", help='New team, "" for none; unchanged if omitted.'),
    ] = None,
    new_email: Annotated[
        str | None,
        typer.Option("--email", metavar="EMAIL", help="New address; unchanged if omitted."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Change a member's name, team or address (also of a removed member).

    A new address must not be another member's. Answer links already sent to the old address
    stop working; 'sessionctl respond' records an answer instead.

    \b
    Example:
      sessionctl member set coffee-paris ana@example.com --team research
      sessionctl member set coffee-paris ana@example.com --email ana.lima@example.com
    """
    from sessionctl.errors import InputError
    from sessionctl.render import console
    from sessionctl.render import members as render
    from sessionctl.services import members

    if name is None and team is None and new_email is None:
        raise InputError("nothing to change: give --name, --team or --email")
    changed = members.set_member(
        state(ctx).database(), program, email, name=name, team=team, new_email=new_email
    )
    if as_json:
        console.print_json(changed.after.to_json())
    else:
        console.line(render.changed(changed, program=program))


@app.command("remove")
def remove(ctx: typer.Context, program: ProgramArg, email: EmailArg) -> None:
    """Deactivate a member; their history stays.

    Their answer to a round not matched yet no longer counts, and an opt-in message not
    sent yet is not sent. 'sessionctl member add' brings them back.

    \b
    Example:
      sessionctl member remove coffee-paris ana@example.com
    """
    from sessionctl import clock
    from sessionctl.render import console, tables
    from sessionctl.services import members

    info = members.remove_member(state(ctx).database(), program, email, now=clock.now())
    console.line(tables.sentence("Member ", info.email, " removed from ", program, "."))


@app.command("pause")
def pause(
    ctx: typer.Context,
    program: ProgramArg,
    email: EmailArg,
    until: Annotated[
        str,
        typer.Option(
            "--until",
            metavar="DATE",
            help="The first day rounds invite them again, after today in the program's zone, "
            "e.g. 2026-07-01, 'Jul 1' or 'next monday'.",
        ),
    ],
    as_json: JsonOption = False,
) -> None:
    """Pause a member until the date they are back, without anyone acting.

    Rounds that open before the date (their opt-in day, or their match day without an
    opt-in) send them no opt-in and leave them out of the groups. Their answer to the rounds
    open now becomes a skip; they may still answer again. Pausing a paused member moves the
    date. --json prints the member as 'member show --json' does.

    \b
    Example:
      sessionctl member pause coffee-paris ana@example.com --until 2026-09-01
    """
    from sessionctl import clock
    from sessionctl.render import console
    from sessionctl.render import members as render
    from sessionctl.services import pauses

    result = pauses.pause_member(
        state(ctx).database(), program, email, until=until, now=clock.now()
    )
    if as_json:
        console.print_json(result.member.to_json())
    else:
        console.line(render.paused(result))


@app.command("resume")
def resume(
    ctx: typer.Context, program: ProgramArg, email: EmailArg, as_json: JsonOption = False
) -> None:
    """End a member's pause now.

    A member who is not paused stays as they are (exit 0). A round open now that did not
    invite them (it opened during the pause) sends them its opt-in at the next run-due.
    --json prints the member as 'member show --json' does.

    \b
    Example:
      sessionctl member resume coffee-paris ana@example.com
    """
    from sessionctl import clock
    from sessionctl.render import console
    from sessionctl.render import members as render
    from sessionctl.services import pauses

    result = pauses.resume_member(state(ctx).database(), program, email, now=clock.now())
    if as_json:
        console.print_json(result.member.to_json())
    else:
        console.line(render.resumed(result))


@app.command("avoid")
def avoid(
    ctx: typer.Context,
    program: ProgramArg,
    first: Annotated[
        str | None,
        typer.Argument(
            metavar="EMAIL",
            help="One member of the rule; without the two, the rules are listed.",
            show_default=False,
        ),
    ] = None,
    second: Annotated[
        str | None,
        typer.Argument(metavar="EMAIL", help="The other member of the rule.", show_default=False),
    ] = None,
    remove: Annotated[
        bool, typer.Option("--remove", help="Stop keeping the two members apart.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Keep two members apart, or list the pairing rules.

    Two members kept apart are not put in one group when matching finds a grouping that keeps
    them apart (it searches for one before anything else); 'groups' and 'groups --preview'
    say when a rule had to give way and why. Adding a rule that
    exists, or removing one that does not, changes nothing. The rules of removed members
    stay and matter again if they come back. --json prints the program's rules (after the
    change): a list of objects whose keys a and b are the two emails.

    \b
    Example:
      sessionctl member avoid coffee-paris ana@example.com bo@example.com
      sessionctl member avoid coffee-paris ana@example.com bo@example.com --remove
      sessionctl member avoid coffee-paris --json
    """
    from sessionctl import clock
    from sessionctl.errors import InputError
    from sessionctl.render import console
    from sessionctl.render import members as render
    from sessionctl.services import pairing

    db = state(ctx).database()
    if first is None and not remove:
        found = pairing.list_rules(db, program)
        if as_json:
            console.print_json([r.to_json() for r in found.rules])
        else:
            console.show(render.rules(found))
        return
    if first is None or second is None:
        what = "the two emails of the rule to remove" if remove else "two emails, or none"
        raise InputError(f"give {what}: e.g. 'sessionctl member avoid {program} EMAIL EMAIL'")
    if remove:
        change = pairing.remove_rule(db, program, first, second)
    else:
        change = pairing.add_rule(db, program, first, second, now=clock.now())
    if as_json:
        console.print_json([r.to_json() for r in change.after.rules])
    else:
        console.line(render.rule_change(change, program=program))


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
