"""run-due | respond | groups | messages: what happens once rounds are under way."""

from typing import TYPE_CHECKING, Annotated

import typer

from sessionctl.cli import values
from sessionctl.cli.state import JsonOption, TzOption, state
from sessionctl.cli.views import CsvOption

if TYPE_CHECKING:
    from sessionctl.services.responses import AnswerReport

RoundArg = Annotated[int, typer.Argument(metavar="ROUND", help="Round id, as printed by list.")]


def run_due(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would happen; change nothing.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Open rounds, form groups and send the messages that are due.

    With an inbox set up (SESSIONCTL_INBOX), replies, bounces and unsubscribes are read first
    (see sessionctl inbox), so that answers count before the groups are formed.
    Temporary delivery failures are retried on later runs. Prints nothing when nothing was
    due; one line per round acted on; errors on stderr, and there one note per run when mail
    went out from sessionctl@localhost (a program without --sender). Exit 0 when all due work
    was delivered, 1 when a message failed or waits for a retry, or when messages another host
    holds (SESSIONCTL_CLAIM_LEASE) were all that was left.

    \b
    Example:
      sessionctl run-due --dry-run
      */5 * * * * sessionctl run-due      (a crontab line)
    """
    import os

    from sessionctl import clock
    from sessionctl.cli.inbox import mailbox_opener
    from sessionctl.delivery.transports import open_transport, parse_transport
    from sessionctl.render import console
    from sessionctl.services.rundue import run_due as run

    settings = state(ctx).settings()
    inbox = mailbox_opener(settings)
    spec = parse_transport(settings.transport, default_maildir=settings.data_dir / "outbox")
    # Built (not connected) now, so that a missing password stops the run before it changes
    # anything, rather than after it opened rounds and claimed messages.
    transport = open_transport(spec, password=os.environ.get("SESSIONCTL_SMTP_PASSWORD"))
    report = run(
        state(ctx).database(),
        clock=clock.now,
        open_transport=lambda: transport,
        inbox=inbox,
        dry_run=dry_run,
        lock=os.environ.get("SESSIONCTL_RUN_LOCK", "1") != "0",
    )
    for line in report.errors:
        console.err().print(console.plain(f"error: {line}"), soft_wrap=True)
    for line in report.notes:
        console.note(line)
    if as_json:
        console.print_json(report.to_json())
    else:
        for line in report.lines:  # one line each, never wrapped: cron mails and logs read them
            console.line(console.plain(line))
    if report.exit_code:
        raise typer.Exit(report.exit_code)


def respond(
    ctx: typer.Context,
    round_id: Annotated[
        int | None, typer.Argument(metavar="ROUND", help="Round id, as printed by list.")
    ] = None,
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
    token: Annotated[
        str | None,
        typer.Option("--token", metavar="TOKEN", help="The token of a join or skip link."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Record members' opt-in answers.

    Give one answer, a CSV file of email,answer (all or nothing), or the token of a join or
    skip link.

    \b
    Example:
      sessionctl respond 12 ana@example.com yes
      sessionctl respond 12 --import answers.csv
      sessionctl respond --token MS4xMi4zNDUueQ.nMl-6xnq304Q8sr8N9eLbBTF5VwNjcLWDvZLSYFXHb4
    """
    from sessionctl import clock
    from sessionctl.domain.words import plural
    from sessionctl.errors import InputError
    from sessionctl.render import console
    from sessionctl.services import responses

    if token is not None:
        if round_id is not None or import_file is not None:
            raise InputError("--token goes alone: the token names the round and the member")
        done = responses.respond_token(state(ctx).database(), token, now=clock.now())
        yes = int(done.answer)
        report = responses.AnswerReport(done.round, 1, yes, 1 - yes)
    elif round_id is None:
        raise InputError("give ROUND EMAIL yes|no, ROUND --import FILE, or --token TOKEN")
    else:
        report = _respond(ctx, round_id, email, answer, import_file)
    if as_json:
        console.print_json(report.to_json())
    else:
        counts = f"{plural(report.recorded, 'answer')} recorded ({report.yes} yes, {report.no} no)"
        console.line(console.plain(f"Round {report.round}: {counts}."))


def _respond(
    ctx: typer.Context,
    round_id: int,
    email: str | None,
    answer: str | None,
    import_file: str | None,
) -> "AnswerReport":
    from sessionctl import clock
    from sessionctl.cli.members import read_text
    from sessionctl.errors import InputError
    from sessionctl.services import responses

    if import_file is not None:
        if email is not None:
            raise InputError("give either EMAIL yes|no or --import FILE, not both")
        answers = responses.parse_csv(read_text(import_file))
    elif email is None or answer is None:
        raise InputError("give ROUND EMAIL yes|no, or ROUND --import FILE")
    else:
        answers = [responses.Answer(email, responses.parse_answer(answer))]
    return responses.respond(state(ctx).database(), round_id, answers, now=clock.now())


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
    as_csv: CsvOption = False,
) -> None:
    """Show the groups of a round and who got no match.

    Pairs who met in an earlier round are named, with when. --csv prints one row per member:
    group,email,name,team, the group numbered from 1 and empty for who got no match.

    \b
    Example:
      sessionctl groups 12
      sessionctl groups 12 --preview --json
      sessionctl groups 12 --csv > groups.csv
    """
    from sessionctl.cli import times
    from sessionctl.cli.views import check_one_format, write_csv
    from sessionctl.render import console, runs
    from sessionctl.services.groups import round_groups
    from sessionctl.services.rounds import get_round

    shown = times.zone(tz) if tz else None  # checked with --json too, though JSON shows no time
    db = state(ctx).database()
    check_one_format(as_json=as_json, as_csv=as_csv)
    info = round_groups(db, round_id, preview=preview)
    if as_csv:
        rows = [(n, *who) for n, group in enumerate(info.groups, start=1) for who in group]
        write_csv(("group", "email", "name", "team"), [*rows, *(("", *w) for w in info.no_match)])
        return
    if as_json:
        console.print_json(info.to_json())
    else:
        zone = shown or get_round(db, round_id).zone
        console.show(runs.groups(info, zone=zone))


def messages(
    ctx: typer.Context,
    round_id: Annotated[
        int | None, typer.Argument(metavar="ROUND", help="Round id (default: all rounds).")
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            metavar="STATUS",
            parser=values.message_status,
            help="Only messages in this state: pending, sending (claimed by a run, shown with "
            "its host), sent or failed.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """List messages with their delivery state and last error.

    \b
    Example:
      sessionctl messages 12 --status failed
      sessionctl messages --status sending
    """
    from sessionctl.render import console, runs
    from sessionctl.services.messages import list_messages

    infos = list_messages(state(ctx).database(), round_id=round_id, status=status)
    if as_json:
        console.print_json([i.to_json() for i in infos])
    else:
        console.show(runs.messages(infos))


def register(app: typer.Typer) -> None:
    app.command("respond")(respond)
    app.command("groups")(groups)
    app.command("messages")(messages)
    app.command("run-due")(run_due)
    from sessionctl.cli.inbox import inbox

    app.command("inbox")(inbox)
    app.command("serve")(serve)


def serve(
    ctx: typer.Context,
    host: Annotated[
        str,
        typer.Option(
            "--host", metavar="ADDRESS", help="Address to listen on (default: 127.0.0.1)."
        ),
    ] = "127.0.0.1",
    port: Annotated[
        int,
        typer.Option(
            "--port",
            metavar="PORT",
            min=0,
            max=65535,
            help="Port to listen on; 0 picks a free one (default: 8080).",
        ),
    ] = 8080,
) -> None:
    """Serve the answer pages of the emails' links over HTTP.

    A member's link shows a page to join or skip the round, pause until a date, or leave the
    program; /leave/TOKEN is the one-click unsubscribe (RFC 8058) of every email. Put a TLS
    proxy in front of it, and set the program's link base to the public address:
    program set NAME --link-base URL. The proxy must pass the Host header on: answers posted
    from another origin are refused.

    \b
    Example:
      sessionctl serve --port 8080
    """
    from sessionctl import clock
    from sessionctl.errors import RunError
    from sessionctl.render import console
    from sessionctl.web import make_server

    try:
        server = make_server(state(ctx).database(), host=host, port=port, clock=clock.now)
    except OSError as err:
        raise RunError(f"cannot listen on {host}:{port}: {err.strerror}") from err
    bound_port = server.server_address[1]
    console.err().print(
        console.plain(f"Answering links on http://{host}:{bound_port} (Ctrl-C stops)")
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
