"""db status | db upgrade."""

import typer

from sessionctl.cli.state import JsonOption, state

app = typer.Typer(
    help="Inspect and upgrade the database schema.\n\n"
    "\b\nExample:\n  sessionctl db status\n  sessionctl db upgrade",
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
    console.out().print(tables.sentence("database  ", current.database))
    head = f" (this version: {current.head})"
    revision = tables.sentence("schema    ", current.revision or "-", head)
    console.out().print(revision)
    console.out().print(f"state     {words[current.state]}")


@app.command("upgrade")
def upgrade(ctx: typer.Context) -> None:
    """Apply pending schema migrations (other commands do this on first use).

    \b
    Example:
      sessionctl db upgrade
    """
    from sessionctl.render import console
    from sessionctl.store import schema

    db = state(ctx).database(migrate=False)
    # ensure_current refuses a newer database with its path in the message; upgrade() alone
    # builds that message without the path.
    schema.ensure_current(db)
    console.out().print(f"schema {schema.status(db).revision} is up to date.")
