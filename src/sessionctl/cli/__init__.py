"""The command line: one Typer app, sub-apps per command group, and one error boundary."""

import sys
from collections.abc import Sequence
from functools import cache
from typing import Annotated, Any

import typer

from sessionctl import __version__
from sessionctl.cli import db, members, programs, rounds, runs, stats, templates, views
from sessionctl.cli.state import AppState, state
from sessionctl.errors import SessionctlError

app = typer.Typer(
    name="sessionctl",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
programs.app.command("template")(templates.template)
app.add_typer(programs.app, name="program")
app.add_typer(members.app, name="member")
rounds.register(app)
views.register(app)
runs.register(app)
stats.register(app)
app.add_typer(db.app, name="db")


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"sessionctl {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db_option: Annotated[
        str | None,
        typer.Option(
            "--db",
            metavar="PATH|URL",
            help="SQLite file or database URL (default: SESSIONCTL_DB, then the config file, "
            "then sessionctl.db in the user data folder).",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Schedule and run matching programs: coffee roulettes, mentoring pairs, lunch groups.

    \b
    Example:
      sessionctl program add coffee-paris --tz Europe/Paris
      sessionctl member import coffee-paris members.csv
    """
    state(ctx).db_option = db_option


def run(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit code; every error becomes one ``error:`` line."""
    shared = AppState()
    args = list(sys.argv[1:] if argv is None else argv)
    for index, arg in enumerate(args, start=1):
        if not _is_utf8(arg):
            return _fail(f"argument {index} is not valid UTF-8 text: check its encoding", 2)
    try:
        result = _command().main(
            args=args,
            prog_name="sessionctl",
            standalone_mode=False,
            obj=shared,
        )
    except SessionctlError as err:
        return _fail(err.message, err.exit_code)
    except typer.TyperException as err:
        return _fail_usage(err)
    except typer.Exit as err:
        return err.exit_code
    except (typer.Abort, KeyboardInterrupt):
        return _fail("interrupted", 130)
    except BrokenPipeError:
        sys.stderr.close()
        return 1
    except (OverflowError, ValueError) as err:
        if not _out_of_range(err):
            raise
        return _fail("a date, time or number is out of range: use a smaller one", 2)
    except OSError as err:  # a file or folder the system refused (a full disk, a permission)
        where = f": {err.filename}" if err.filename else ""
        return _fail(f"{err.strerror or err}{where}", 1)
    finally:
        shared.close()
    return result if isinstance(result, int) else 0


@cache
def _command() -> Any:
    """The Click command tree, built once per process (tests call ``run`` many times), with
    our own help and usage classes and shell completion attached to its parameters by name."""
    from sessionctl.cli import completion, helptext

    command = helptext.polish(typer.main.get_command(app))
    completion.attach(command)
    return command


def main() -> None:
    sys.exit(run())


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes arrive as lone surrogates
        return False
    return True


def _out_of_range(err: Exception) -> bool:
    """Date arithmetic past year 1 or 9999, or integers too large for the database."""
    text = str(err)
    return isinstance(err, OverflowError) or "out of range" in text


def _fail(message: str, code: int) -> int:
    from sessionctl.render.text import clean

    sys.stdout.flush()
    sys.stderr.write(f"error: {clean(message)}\n")
    return code


def _fail_usage(err: typer.TyperException) -> int:
    """Typer's and Click's usage errors, said in one line of our own (see cli/usage.py)."""
    from sessionctl.cli import usage

    context = getattr(err, "ctx", None)
    if type(err).__name__ == "NoArgsIsHelpError" and context is not None:
        sys.stdout.write(context.get_help() + "\n")  # a bare group shows its help, as git does
        return 2
    return _fail(usage.describe(err), getattr(err, "exit_code", 2) or 2)
