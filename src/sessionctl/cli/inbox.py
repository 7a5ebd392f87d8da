"""inbox: read members' replies, bounces and unsubscribes."""

from typing import TYPE_CHECKING, Annotated

import typer

from sessionctl.cli.state import JsonOption, state

if TYPE_CHECKING:
    from collections.abc import Callable

    from sessionctl.config import Settings
    from sessionctl.inbox import Mailbox


def inbox(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what each mail would do; change nothing.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Read members' replies, bounces and unsubscribes.

    run-due does it too, before it matches.

    The inbox is SESSIONCTL_INBOX or inbox = "…" in the config file: imaps://USER@HOST/FOLDER,
    imap+starttls://USER@HOST:143/FOLDER or maildir:PATH; the IMAP password comes from
    SESSIONCTL_IMAP_PASSWORD only. Replies count once each; auto-replies are ignored; mail
    that is not an answer to ours is never touched. Read mail is moved to the
    sessionctl-processed folder; a reply that could not be read stays for you, listed here.

    \b
    Example:
      sessionctl inbox --dry-run
      SESSIONCTL_INBOX=maildir:~/Maildir sessionctl inbox --json
    """
    from sessionctl import clock
    from sessionctl.render import console
    from sessionctl.render.inbox import lines
    from sessionctl.services.inbox import read_inbox

    settings = state(ctx).settings()
    opener = mailbox_opener(settings, required=True)
    assert opener is not None
    report = read_inbox(
        state(ctx).database(),
        open_mailbox=opener[1],
        source=opener[0],
        clock=clock.now,
        dry_run=dry_run,
    )
    if report.busy:
        console.note("another run is reading the inbox: this one left it alone")
    for problem in report.problems:
        console.note(problem)
    if as_json:
        console.print_json(report.to_json())
        return
    for text in lines(report):
        console.line(console.plain(text))


def mailbox_opener(
    settings: "Settings", *, required: bool = False
) -> "tuple[str, Callable[[], Mailbox]] | None":
    """The inbox as (its description, a function that opens it), or None when none is
    set up and ``required`` is off. A missing password is refused now, before any change."""
    import os

    from sessionctl.errors import InputError

    if settings.inbox is None:
        if not required:
            return None
        raise InputError(
            'no inbox is set up: set SESSIONCTL_INBOX, or inbox = "…" in the config file, to '
            "imaps://USER@HOST/FOLDER, imap+starttls://USER@HOST:143/FOLDER or maildir:PATH"
        )
    from sessionctl.inbox import open_inbox
    from sessionctl.inbox.spec import parse_inbox

    spec = parse_inbox(settings.inbox)
    mailbox = open_inbox(spec, password=os.environ.get("SESSIONCTL_IMAP_PASSWORD"))
    return spec.describe(), lambda: mailbox
