"""program add | set | list | show."""

from typing import Annotated, Any

import typer

from sessionctl.cli import values
from sessionctl.cli.state import JsonOption, state

app = typer.Typer(
    help="Define matching programs and their settings.\n\n"
    "\b\nExample:\n  sessionctl program add coffee-paris --tz Europe/Paris\n"
    "  sessionctl program list",
    no_args_is_help=True,
)

NameArg = Annotated[str, typer.Argument(metavar="NAME", help="Program name, e.g. coffee-paris.")]


class _Setting:
    """One program setting: an option of ``program add`` that says its default, and of
    ``program set`` that says it stays unchanged when omitted."""

    def __init__(self, *decls: str, text: str, default: str, **extra: Any) -> None:
        self.adding = typer.Option(*decls, help=f"{text} (default: {default}).", **extra)
        self.changing = typer.Option(*decls, help=f"{text} (unchanged if omitted).", **extra)


_TZ = _Setting(
    "--tz", metavar="ZONE", text="IANA timezone of the program", default="this machine's"
)
_OPT_IN = _Setting(
    "--opt-in/--no-opt-in", text="Ask members to opt in before each round", default="on"
)
_GROUP_SIZE = _Setting(
    "--group-size",
    metavar="N",
    min=2,  # domain.validation.GROUP_SIZES, not imported: help must start fast
    max=6,
    text="People per group, 2 to 6",
    default="2",
)
_TITLE = _Setting(
    "--title",
    metavar="TEXT",
    parser=values.title,
    text="Title shown in messages",
    default="the name",
)
_SENDER = _Setting(
    "--sender",
    metavar="EMAIL",
    parser=values.sender,
    text="From address of the program's messages",
    default="sessionctl@localhost",
)
_LINK_BASE = _Setting(
    "--link-base",
    metavar="URL",
    parser=values.link_base,
    text="Base URL of the join and skip links in opt-in emails",
    default="none, so no links",
)
_GRACE = _Setting(
    "--grace-hours",
    metavar="N",
    min=1,  # domain.validation.GRACE_HOURS
    max=24 * 14,
    text="How many hours late run-due may still match a round, 1 to 336, before calling it missed",
    default="24",
)
_LOOKBACK = _Setting(
    "--lookback",
    metavar="N|all",
    parser=values.lookback,
    text="How many past rounds matching avoids repeats from",
    default="all",
)


_REPLY_TO = _Setting(
    "--reply-to",
    metavar="EMAIL",
    parser=values.sender,
    text="Address members reply to, read back by 'sessionctl inbox'",
    default="none, so replies go to the sender",
)
_BOUNCE_LIMIT = _Setting(
    "--bounce-limit",
    metavar="N",
    min=1,  # domain.validation.BOUNCE_LIMITS
    max=100,
    text="Hard bounces in a row after which a member is deactivated, 1 to 100",
    default="3",
)


_LANGUAGE = _Setting(
    "--language",
    metavar="en|fr",
    parser=values.language,
    text="Language of the default emails and of their dates",
    default="en",
)
_ICEBREAKERS = _Setting(
    "--icebreakers",
    metavar="FILE|-|default",
    text="Conversation starters for match emails, one per line; default: the shipped list",
    default="the shipped list",
)
_REMINDER = _Setting(
    "--reminder",
    metavar="HOURS",
    min=0,  # domain.validation.REMINDER_HOURS
    max=24 * 14,
    text="Hours before the match to remind those who have not answered, 0 (none) to 336",
    default="24",
)
_REMINDER_BELOW = _Setting(
    "--reminder-below",
    metavar="PERCENT|median",
    parser=values.reminder_below,
    text="Remind only when fewer of the invited than this joined; median: the program's usual "
    "share over its last 10 rounds, 50 before it has any",
    default="median",
)


@app.command("add")
def add(
    ctx: typer.Context,
    name: NameArg,
    tz: Annotated[str | None, _TZ.adding] = None,
    opt_in: Annotated[bool | None, _OPT_IN.adding] = None,
    group_size: Annotated[int | None, _GROUP_SIZE.adding] = None,
    title: Annotated[str | None, _TITLE.adding] = None,
    sender: Annotated[str | None, _SENDER.adding] = None,
    link_base: Annotated[str | None, _LINK_BASE.adding] = None,
    grace_hours: Annotated[int | None, _GRACE.adding] = None,
    lookback: Annotated[str | None, _LOOKBACK.adding] = None,
    reply_to: Annotated[str | None, _REPLY_TO.adding] = None,
    bounce_limit: Annotated[int | None, _BOUNCE_LIMIT.adding] = None,
    language: Annotated[str | None, _LANGUAGE.adding] = None,
    icebreakers: Annotated[str | None, _ICEBREAKERS.adding] = None,
    reminder: Annotated[int | None, _REMINDER.adding] = None,
    reminder_below: Annotated[str | None, _REMINDER_BELOW.adding] = None,
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
        timezone=tz,
        opt_in=opt_in,
        group_size=group_size,
        title=title,
        sender=sender,
        link_base=link_base,
        grace_hours=grace_hours,
        lookback=lookback,
        reply_to=reply_to,
        bounce_limit=bounce_limit,
        language=language,
        icebreakers=_starters(icebreakers),
        reminder_hours=reminder,
        reminder_below=reminder_below,
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
    tz: Annotated[str | None, _TZ.changing] = None,
    opt_in: Annotated[bool | None, _OPT_IN.changing] = None,
    group_size: Annotated[int | None, _GROUP_SIZE.changing] = None,
    title: Annotated[str | None, _TITLE.changing] = None,
    sender: Annotated[str | None, _SENDER.changing] = None,
    link_base: Annotated[str | None, _LINK_BASE.changing] = None,
    grace_hours: Annotated[int | None, _GRACE.changing] = None,
    lookback: Annotated[str | None, _LOOKBACK.changing] = None,
    reply_to: Annotated[str | None, _REPLY_TO.changing] = None,
    bounce_limit: Annotated[int | None, _BOUNCE_LIMIT.changing] = None,
    language: Annotated[str | None, _LANGUAGE.changing] = None,
    icebreakers: Annotated[str | None, _ICEBREAKERS.changing] = None,
    reminder: Annotated[int | None, _REMINDER.changing] = None,
    reminder_below: Annotated[str | None, _REMINDER_BELOW.changing] = None,
    as_json: JsonOption = False,
) -> None:
    """Change a program's settings.

    Only the options given change; the others keep their values.

    \b
    Example:
      sessionctl program set coffee-paris --group-size 3 --no-opt-in
      sessionctl program set coffee-paris --reminder 48 --reminder-below 60
    """
    from sessionctl.services import programs

    changes = programs.ProgramChanges(
        timezone=tz,
        opt_in=opt_in,
        group_size=group_size,
        title=title,
        sender=sender,
        link_base=link_base,
        grace_hours=grace_hours,
        lookback=lookback,
        reply_to=reply_to,
        bounce_limit=bounce_limit,
        language=language,
        icebreakers=_starters(icebreakers),
        reminder_hours=reminder,
        reminder_below=reminder_below,
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


def _starters(icebreakers: str | None) -> str | None:
    """The text of --icebreakers FILE (or standard input); ``default`` as it is."""
    if icebreakers is None or icebreakers == "default":
        return icebreakers
    from sessionctl.cli.members import read_text

    return read_text(icebreakers)


# --- lifecycle: rename, archive, unarchive, delete --------------------------------------------


@app.command("rename")
def rename(
    ctx: typer.Context,
    old: Annotated[str, typer.Argument(metavar="OLD", help="The program's name now.")],
    new: Annotated[str, typer.Argument(metavar="NEW", help="Its new name, e.g. coffee-lyon.")],
    as_json: JsonOption = False,
) -> None:
    """Rename a program.

    Emails already sent and their links keep working: they name the program by its id.

    \b
    Example:
      sessionctl program rename coffee-paris coffee-lyon
    """
    from sessionctl.services import programs

    info = programs.rename_program(state(ctx).database(), old, new)
    _changed(info, as_json=as_json, done=f" renamed from {old}.")


@app.command("archive")
def archive(ctx: typer.Context, name: NameArg, as_json: JsonOption = False) -> None:
    """Archive a program: no new rounds, and run-due skips it.

    Its members, rounds and messages are kept; schedule refuses it, and run-due leaves its
    rounds as they are (planned rounds stay planned). 'program unarchive' brings it back.

    \b
    Example:
      sessionctl program archive coffee-paris
    """
    from sessionctl.services import programs

    info = programs.set_archived(state(ctx).database(), name, archived=True)
    _changed(info, as_json=as_json, done=" archived: run-due leaves its rounds alone.")


@app.command("unarchive")
def unarchive(ctx: typer.Context, name: NameArg, as_json: JsonOption = False) -> None:
    """Bring an archived program back.

    From then on run-due acts on its rounds again: a round whose time passed meanwhile opens
    late, or is called missed once past the program's grace hours.

    \b
    Example:
      sessionctl program unarchive coffee-paris
    """
    from sessionctl.services import programs

    info = programs.set_archived(state(ctx).database(), name, archived=False)
    _changed(info, as_json=as_json, done=" is active again.")


@app.command("delete")
def delete(
    ctx: typer.Context,
    name: NameArg,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Delete without asking (for scripts).")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Delete even while one of its rounds is open.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Delete a program and all its data.

    Its members, series, rounds, answers, groups and messages go too. Asks first on a
    terminal; scripts pass --yes. Refused while a round is open (its members are waiting for
    their match) unless --force. This cannot be undone: to keep the data, archive it instead.

    \b
    Example:
      sessionctl program delete coffee-paris
      sessionctl program delete coffee-paris --yes --force
    """
    from sessionctl.render import console, tables
    from sessionctl.services import programs

    db = state(ctx).database()
    if not yes:
        _confirm_delete(programs.program_footprint(db, name, force=force))
    gone = programs.delete_program(db, name, force=force)
    if as_json:
        console.print_json(gone.to_json())
    else:
        deleted = f" deleted, with {_counts(gone.members, gone.rounds)}."
        console.line(tables.sentence("Program ", gone.name, deleted))


def _confirm_delete(found: object) -> None:
    """Ask on a terminal; without one, refuse: a script must say --yes."""
    import sys

    from sessionctl.errors import InputError
    from sessionctl.services.programs import Footprint

    assert isinstance(found, Footprint)
    if not sys.stdin.isatty():
        raise InputError(
            f"not deleting program {found.name!r} without confirmation: "
            "pass --yes to delete it from a script"
        )
    question = f"Delete program {found.name} with {_counts(found.members, found.rounds)}?"
    if not typer.confirm(question, default=False, err=True):
        typer.echo("Nothing deleted.", err=True)
        raise typer.Exit(1)


def _counts(members: int, rounds: int) -> str:
    from sessionctl.domain.words import plural

    return f"{plural(members, 'member')} and {plural(rounds, 'round')}"


def _changed(info: object, *, as_json: bool, done: str) -> None:
    """A lifecycle change: one sentence (or the program as JSON)."""
    from sessionctl.render import console, tables
    from sessionctl.services.programs import ProgramInfo

    assert isinstance(info, ProgramInfo)
    if as_json:
        console.print_json(info.to_json())
    else:
        console.line(tables.sentence("Program ", info.name, done))
