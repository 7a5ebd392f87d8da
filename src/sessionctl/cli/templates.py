"""program template: see or replace a program's message templates."""

from typing import Annotated

import typer

from sessionctl.cli.state import JsonOption, state


def template(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="Program name.")],
    kind: Annotated[
        str | None,
        typer.Argument(
            metavar="KIND",
            help="opt_in, match, no_match, notice or reminder (default: all kinds).",
        ),
    ] = None,
    subject: Annotated[
        str | None, typer.Option("--subject", metavar="TEXT", help="New subject template.")
    ] = None,
    body: Annotated[
        str | None,
        typer.Option(
            "--body",
            metavar="FILE|-",
            help="New body template from a file; - reads standard input.",
        ),
    ] = None,
    reset: Annotated[
        bool, typer.Option("--reset", help="Go back to the default for KIND.")
    ] = False,
    preview: Annotated[
        bool,
        typer.Option("--preview", help="Show KIND's message as a member gets it, headers first."),
    ] = False,
    member: Annotated[
        str | None,
        typer.Option(
            "--member", metavar="EMAIL", help="Preview for this member (default: the first)."
        ),
    ] = None,
    round_id: Annotated[
        int | None,
        typer.Option(
            "--round", metavar="ROUND", help="Preview with this round (default: the next one)."
        ),
    ] = None,
    test_send: Annotated[
        str | None,
        typer.Option(
            "--test-send",
            metavar="ADDRESS",
            help="Send KIND's message once to ADDRESS as a test, through the transport.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Show or change a program's message templates.

    With no option it shows the templates (all kinds, or KIND's); --subject, --body and --reset
    change KIND's template. --preview prints KIND's message exactly as a member will get it,
    with the real data of the next round (or --round, for --member); --test-send sends that
    message once to ADDRESS through the configured transport, "[test]" in its subject and an
    X-Sessionctl-Test header, recorded nowhere. Links in both are look-alikes that answer
    nothing.

    The kinds: opt_in invites members to a round; reminder goes before the match to those
    who have not answered (program set --reminder); notice tells those invited that an open
    round's match time moved or that it was cancelled; match and no_match give the result.

    Templates use $placeholders; an unknown one is refused and $$ is a dollar sign:

    \b
      $name          the member's name (their address when they have none)
      $program       the program's title
      $round         the round's number within the program
      $opt_in_at     when the round opened for answers
      $match_at      when the groups are formed: the deadline to answer
      $join_url      opt_in, reminder, notice: the link to join (empty without a link base)
      $skip_url      opt_in, reminder, notice: the link to skip (empty without a link base)
      $links         opt_in, reminder, notice: how to answer (links, reply words, whom to tell)
      $change        notice: what changed, e.g. "is cancelled" or "now forms its groups on ..."
      $group         match: each partner on a line, as Name (team) <email>
      $group_mailto  match: a mailto: link to the whole group, with a ready subject
      $icebreaker    match: a conversation starter from the program's list
      $next_round    no_match: when the next round opens, or that none is planned yet
      $manage_url    the member's page to pause or leave (empty without a link base)
      $how_to_leave  how to pause or leave: page link, reply words or whom to write to

    A placeholder alone on the last line of a paragraph shows as buttons, a list or a note in
    the HTML part, and leaves its paragraph out when it is empty (as $links of a notice of a
    cancelled round: answers are closed). A body without $how_to_leave
    gets it as a footer. The defaults follow the program's language (en or fr).

    \b
    Example:
      sessionctl program template coffee-paris match --subject '$program: meet your match'
      sessionctl program template coffee-paris opt_in --body opt-in.txt
      sessionctl program template coffee-paris match --preview --member ana@example.com
      sessionctl program template coffee-paris opt_in --test-send me@example.com
      sessionctl program template coffee-paris notice --preview --round 12
    """
    from sessionctl.cli.members import read_text
    from sessionctl.errors import InputError
    from sessionctl.render import console
    from sessionctl.render.tables import templates as render_templates
    from sessionctl.services import templates

    changing = subject is not None or body is not None or reset
    if preview or test_send is not None:
        from sessionctl.cli.preview import show_or_send

        if kind is None or changing or as_json or (preview and test_send is not None):
            raise InputError("--preview and --test-send take one KIND and go alone")
        parsed = templates.parse_kind(kind)
        show_or_send(ctx, name, parsed, member=member, round_id=round_id, test_send=test_send)
        return
    if member is not None or round_id is not None:
        raise InputError("--member and --round go with --preview or --test-send")
    db = state(ctx).database()
    if kind is None:
        if changing:
            raise InputError(f"give the KIND to change: {templates.KINDS}")
        infos = templates.show_templates(db, name)
    else:
        parsed = templates.parse_kind(kind)
        if reset and (subject is not None or body is not None):
            raise InputError("--reset goes alone: drop --subject and --body")
        if reset:
            infos = [templates.reset_template(db, name, parsed)]
        elif changing:
            text = None if body is None else read_text(body)
            infos = [templates.set_template(db, name, parsed, subject=subject, body=text)]
        else:
            infos = [i for i in templates.show_templates(db, name) if i.kind == parsed]
    if as_json:
        console.print_json([i.to_json() for i in infos])
    else:
        console.show(render_templates(infos))
