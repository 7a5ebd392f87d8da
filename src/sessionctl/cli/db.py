"""db status | db upgrade | db check | db backup."""

from typing import Annotated

import typer

from sessionctl.cli.state import JsonOption, state

app = typer.Typer(
    help="Inspect, upgrade, check and back up the database.\n\n"
    "\b\nExample:\n  sessionctl db status\n  sessionctl db check\n"
    "  sessionctl db backup ~/backups/sessionctl-$(date +%F).db",
    no_args_is_help=True,
)


@app.command("status")
def status(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Show the database location and whether its schema is up to date.

    \b
    Example:
      sessionctl db status --json
    """
    from sessionctl.render import console, tables
    from sessionctl.store import schema

    current = schema.status(state(ctx).database(migrate=False))
    if as_json:
        console.print_json(current.to_json())
        return
    words = {
        "empty": "empty: its tables are created on first use or by 'sessionctl db upgrade'",
        "behind": "older than this sessionctl: run 'sessionctl db upgrade'",
        "current": "up to date",
        "newer": "written by a newer sessionctl: upgrade sessionctl",
    }
    console.line(tables.sentence("database  ", current.database))
    head = f" (this version: {current.head})"
    console.line(tables.sentence("schema    ", current.revision or "-", head))
    console.line(f"state     {words[current.state]}")


@app.command("upgrade")
def upgrade(ctx: typer.Context) -> None:
    """Create the database or apply pending schema migrations.

    Other commands do this on first use.

    \b
    Example:
      sessionctl db upgrade
    """
    from sessionctl.render import console
    from sessionctl.store import schema

    # Opening upgrades (refusing a newer database, its path in the message) and prints a note
    # for each stored row the upgrade cleaned.
    db = state(ctx).database(create=True)
    console.line(f"schema {schema.status(db).revision} is up to date.")


@app.command("check")
def check(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Check the database's integrity and foreign keys.

    On damage, print a summary and exit 1.

    \b
    Example:
      sessionctl db check || mail -s "sessionctl database damaged" admin@example.com
    """
    from sessionctl.render import console
    from sessionctl.store import maintenance

    # Not migrated first: a damaged file must be checked as it is.
    report = maintenance.check(state(ctx).database(migrate=False))
    if as_json:
        console.print_json(report.to_json())
    elif report.ok:
        console.line(console.plain(report.summary()))
    if not report.ok:
        console.err().print(console.plain(f"error: {report.summary()}"), soft_wrap=True)
        raise typer.Exit(1)


@app.command("backup")
def backup(
    ctx: typer.Context,
    file: Annotated[str, typer.Argument(metavar="FILE", help="The new file to write.")],
    as_json: JsonOption = False,
) -> None:
    """Write a consistent copy of the database to a new file.

    The copy has mode 0600, and other commands may run while it is taken.

    \b
    Example:
      sessionctl db backup ~/backups/sessionctl-$(date +%F).db
    """
    from sessionctl.render import console, tables
    from sessionctl.store import maintenance

    target = maintenance.backup_target(state(ctx).settings(), file)
    report = maintenance.backup(state(ctx).database(), target)
    if as_json:
        console.print_json(report.to_json())
    else:
        console.line(tables.sentence("Backup written to ", report.file, "."))
