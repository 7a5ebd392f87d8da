"""run-due | respond | groups | messages: what happens once rounds are under way."""

from typing import Annotated

import typer

from sessionctl.cli.state import JsonOption, TzOption, state

RoundArg = Annotated[int, typer.Argument(metavar="ROUND", help="Round number.")]


def run_due(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would happen; change nothing.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Send whatever is due: open rounds, form groups, deliver and retry messages.

    Prints nothing when nothing was due; one line per round acted on; errors on stderr.
    Exit 0 when all due work was delivered, 1 when a message failed or waits for a retry.

    \b
    Example:
      sessionctl run-due --dry-run
      */5 * * * * sessionctl run-due      (a crontab line)
    """
    import os

    from sessionctl import clock
    from sessionctl.delivery.transports import open_transport, parse_transport
    from sessionctl.render import console
    from sessionctl.services.rundue import run_due as run

    settings = state(ctx).settings()
    spec = parse_transport(settings.transport, default_maildir=settings.data_dir / "outbox")
    # Built (not connected) now, so that a missing password stops the run before it changes
    # anything, rather than after it opened rounds and claimed messages.
    transport = open_transport(spec, password=os.environ.get("SESSIONCTL_SMTP_PASSWORD"))
    report = run(
        state(ctx).database(),
        clock=clock.now,
        open_transport=lambda: transport,
        dry_run=dry_run,
        lock=os.environ.get("SESSIONCTL_RUN_LOCK", "1") != "0",
    )
    for line in report.errors:
        console.err().print(console.plain(f"error: {line}"))
    if as_json:
        console.print_json(report.to_json())
    else:
        for line in report.lines:
            console.out().print(console.plain(line))
    if report.exit_code:
        raise typer.Exit(report.exit_code)


def respond(
    ctx: typer.Context,
    round_id: Annotated[int | None, typer.Argument(metavar="ROUND", help="Round number.")] = None,
    email: Annotated[str | None, typer.Argument(metavar="EMAIL", help="Member's email.")] = None,
    answer: Annotated[str | None, typer.Argument(metavar="yes|no", help="The answer.")] = None,
    import_file: Annotated[
        str | None,
        typer.Option(
            "--import",
            metavar="FILE|-",
            help="CSV with a header row email,answer; - reads standard input.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Record opt-in answers: one, or a CSV of email,answer (all or nothing).

    \b
    Example:
      sessionctl respond 12 ana@example.com yes
      sessionctl respond 12 --import answers.csv
    """
    from sessionctl import clock
    from sessionctl.cli.members import read_text
    from sessionctl.errors import InputError
    from sessionctl.render import console
    from sessionctl.services import responses

    if round_id is None:
        raise InputError("give ROUND EMAIL yes|no, or ROUND --import FILE")
    if import_file is not None:
        if email is not None:
            raise InputError("give either EMAIL yes|no or --import FILE, not both")
        answers = responses.parse_csv(read_text(import_file))
    elif email is None or answer is None:
        raise InputError("give ROUND EMAIL yes|no, or ROUND --import FILE")
    else:
        answers = [responses.Answer(email, responses.parse_answer(answer))]
    report = responses.respond(state(ctx).database(), round_id, answers, now=clock.now())
    if as_json:
        console.print_json(report.to_json())
    else:
        counts = f"{report.recorded} answers recorded ({report.yes} yes, {report.no} no)"
        console.out().print(console.plain(f"Round {report.round}: {counts}."))


def groups(
    ctx: typer.Context,
    round_id: RoundArg,
    preview: Annotated[
        bool,
        typer.Option(
            "--preview", help="Show the groups an open round would form now; store nothing."
        ),
    ] = False,
    tz: TzOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the groups of a round, who got no match, and which pairs met before.

    \b
    Example:
      sessionctl groups 12
      sessionctl groups 12 --preview --json
    """
    from sessionctl.domain.times import load_zone
    from sessionctl.render import console, runs
    from sessionctl.services.groups import round_groups
    from sessionctl.services.rounds import get_round

    db = state(ctx).database()
    info = round_groups(db, round_id, preview=preview)
    if as_json:
        console.print_json(info.to_json())
    else:
        zone = load_zone(tz) if tz else get_round(db, round_id).zone
        console.out().print(runs.groups(info, zone=zone))


def messages(
    ctx: typer.Context,
    round_id: Annotated[
        int | None, typer.Argument(metavar="[ROUND]", help="Round number (default: all).")
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(
            "--status", metavar="pending|sent|failed", help="Only messages in this state."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """List messages with their delivery state, attempts and last error.

    \b
    Example:
      sessionctl messages 12 --status failed
    """
    from sessionctl.errors import InputError
    from sessionctl.render import console, runs
    from sessionctl.services.messages import list_messages

    if status is not None and status not in ("pending", "sent", "failed"):
        raise InputError(f"invalid status {status!r}: use pending, sent or failed")
    infos = list_messages(state(ctx).database(), round_id=round_id, status=status)
    if as_json:
        console.print_json([i.to_json() for i in infos])
    else:
        console.out().print(runs.messages(infos))


def register(app: typer.Typer) -> None:
    app.command("respond")(respond)
    app.command("groups")(groups)
    app.command("messages")(messages)
    app.command("run-due")(run_due)
