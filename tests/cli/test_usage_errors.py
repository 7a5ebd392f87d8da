"""Every usage error is one line in sessionctl's voice that names the option or argument at
fault, exits 2, prints nothing on stdout and changes nothing; Typer's, Click's and Pydantic's
own wording never shows."""

from __future__ import annotations

from typing import Literal

import pytest
import typer

from tests.conftest import Invoke, assert_error, ok

PARSING = [
    # unknown command, with and without a suggestion
    (["lst"], "unknown command 'lst': did you mean 'list'? (see sessionctl --help)"),
    (["db", "frobnicate"], "unknown command 'frobnicate' (see sessionctl db --help)"),
    (
        ["member", "lisst", "coffee"],
        "unknown command 'lisst': did you mean 'list'? (see sessionctl member --help)",
    ),
    # unknown option, with and without a suggestion
    (
        ["program", "list", "--jsn"],
        "unknown option --jsn: did you mean --json? (see sessionctl program list --help)",
    ),
    (["program", "list", "-x"], "unknown option -x (see sessionctl program list --help)"),
    (["--frobnicate", "list"], "unknown option --frobnicate (see sessionctl --help)"),
    # missing argument, option, command
    (["member", "add", "coffee"], "missing argument EMAIL (see sessionctl member add --help)"),
    (["program", "show"], "missing argument NAME (see sessionctl program show --help)"),
    (["schedule", "coffee"], "missing option --match WHEN (see sessionctl schedule --help)"),
    (["--db", "x.db"], "missing command (see sessionctl --help)"),
    # an option without its value, a flag with one
    (["planning", "--weeks"], "--weeks: needs a value (--weeks N)"),
    (["ics", "-o"], "-o: needs a value (--output FILE)"),
    (["--db"], "--db: needs a value (--db PATH|URL)"),
    (["program", "list", "--json=yes"], "--json: takes no value"),
    # extra arguments
    (["program", "show", "a", "b"], "unexpected argument 'b' (see sessionctl program show --help)"),
    (
        ["respond", "1", "a@example.com", "yes", "c", "d", "e"],
        "unexpected arguments 'c', 'd' and 'e' (see sessionctl respond --help)",
    ),
]

VALUES = [
    # whole numbers and their ranges (Typer's checks, said as the rule)
    (["planning", "--weeks", "0"], "--weeks: must be 1 to 104 (got 0)"),
    (["planning", "--weeks", "x"], "--weeks: must be a whole number (got 'x')"),
    (["planning", "--weeks", "1.5"], "--weeks: must be a whole number (got '1.5')"),
    (["serve", "--port", "70000"], "--port: must be 0 to 65535 (got 70000)"),
    (["show", "twelve"], "ROUND: must be a whole number (got 'twelve')"),
    (["groups", "3x"], "ROUND: must be a whole number (got '3x')"),
    (["program", "add", "p", "--group-size", "9"], "--group-size: must be 2 to 6 (got 9)"),
    (["program", "set", "p", "--group-size", "1"], "--group-size: must be 2 to 6 (got 1)"),
    (["program", "set", "p", "--grace-hours", "0"], "--grace-hours: must be 1 to 336 (got 0)"),
    (
        ["schedule", "p", "--match", "now", "--repeat", "weekly", "--count", "0"],
        "--count: must be 1 or more (got 0)",
    ),
    # our own checks of option values, named by the option
    (
        ["program", "set", "p", "--sender", "nope"],
        "--sender: invalid email 'nope': use a plain address such as ana@example.com",
    ),
    (
        ["program", "add", "p", "--link-base", "ftp://x"],
        "--link-base: invalid link base 'ftp://x': use an http(s) URL such as "
        "https://coffee.example.com",
    ),
    (
        ["program", "set", "p", "--lookback", "some"],
        "--lookback: invalid lookback 'some': give a number of rounds (1 or more) or all",
    ),
    (
        ["list", "--status", "closed"],
        "--status: invalid status 'closed': use one of planned, open, done, cancelled, missed",
    ),
    (
        ["messages", "--status", "queued"],
        "--status: invalid status 'queued': use pending, sending, sent or failed",
    ),
    (
        ["schedule", "p", "--match", "now", "--repeat", "daily"],
        "--repeat: unknown repeat 'daily': use one of once, weekly, 2-weeks, 3-weeks, 4-weeks",
    ),
]

# User text with line breaks and escapes stays on the one line, escaped.
HOSTILE = [
    (["l\nst"], "unknown command 'l\\nst': did you mean 'list'? (see sessionctl --help)"),
    (["planning", "--weeks", "1\n2"], "--weeks: must be a whole number (got '1\\n2')"),
    (
        ["program", "show", "a", "\x1b[2J\nb"],
        "unexpected argument '\\x1b[2J\\nb' (see sessionctl program show --help)",
    ),
    (
        ["program", "list", "--a\nb"],
        "unknown option --a\\x0ab (see sessionctl program list --help)",
    ),
    (
        ["program", "set", "p", "--sender", "a\nb@example.com"],
        "--sender: invalid email 'a\\nb@example.com': use a plain address such as ana@example.com",
    ),
]


def _ids(cases: list[tuple[list[str], str]]) -> list[str]:
    return [" ".join(args).replace("\n", "\\n") for args, _ in cases]


@pytest.mark.parametrize(("args", "message"), PARSING, ids=_ids(PARSING))
def test_command_line_errors_name_what_is_wrong_and_where_to_look(
    cli: Invoke, args: list[str], message: str
) -> None:
    assert_error(cli(*args), message)


@pytest.mark.parametrize(("args", "message"), VALUES, ids=_ids(VALUES))
def test_bad_values_name_the_option_or_argument_and_the_rule(
    cli: Invoke, args: list[str], message: str
) -> None:
    assert_error(cli(*args), message)


@pytest.mark.parametrize(("args", "message"), HOSTILE, ids=_ids(HOSTILE))
def test_user_text_in_an_error_keeps_it_one_line(
    cli: Invoke, args: list[str], message: str
) -> None:
    assert_error(cli(*args), message)


def test_a_bad_value_is_refused_before_anything_changes(cli: Invoke) -> None:
    ok(cli("program", "add", "coffee", "--tz", "UTC"))
    before = ok(cli("program", "show", "coffee", "--json")).json()
    for bad in (["--grace-hours", "999"], ["--sender", "nope"], ["--lookback", "x"]):
        result = cli("program", "set", "coffee", "--title", "Changed", "--group-size", "3", *bad)
        assert result.code == 2
        assert result.stderr.startswith(f"error: {bad[0]}: ")
    assert ok(cli("program", "show", "coffee", "--json")).json() == before


def test_values_that_clear_a_setting_are_still_accepted(cli: Invoke) -> None:
    ok(cli("program", "add", "coffee", "--tz", "UTC", "--sender", "c@example.com"))
    cleared = ok(cli("program", "set", "coffee", "--sender", "", "--link-base", "", "--json"))
    assert (cleared.json()["sender"], cleared.json()["link_base"]) == (None, None)


def test_a_bare_group_still_shows_its_help(cli: Invoke) -> None:
    result = cli("db")
    assert (result.code, result.stderr) == (2, "")
    assert result.stdout.startswith("Usage: sessionctl db [OPTIONS] COMMAND [ARGS]...\n")


def test_a_choice_error_lists_the_choices() -> None:
    """No sessionctl option is a Typer choice today; this pins the form one would get, on a
    command polished as sessionctl's are."""
    from sessionctl.cli import helptext, usage

    tiny = typer.Typer()

    @tiny.command()
    def pick(colour: Literal["red", "green", "blue"] = typer.Option("red", "--colour")) -> None:
        """Pick a colour."""

    command = helptext.polish(typer.main.get_command(tiny))
    with pytest.raises(typer.BadParameter) as raised:
        command.main(["--colour", "pink"], prog_name="pick", standalone_mode=False)
    assert usage.describe(raised.value) == (
        "--colour: must be one of red, green or blue (got 'pink')"
    )


def test_the_ranges_the_command_line_checks_are_the_domain_rules(cli: Invoke) -> None:
    from sessionctl.domain.validation import GRACE_HOURS, GROUP_SIZES

    settings = ["--group-size", str(GROUP_SIZES[-1]), "--grace-hours", str(GRACE_HOURS[-1])]
    ok(cli("program", "add", "coffee", "--tz", "UTC", *settings))
    ok(cli("program", "set", "coffee", "--group-size", str(GROUP_SIZES[0])))
    ok(cli("program", "set", "coffee", "--grace-hours", str(GRACE_HOURS[0])))
    sizes = f"{GROUP_SIZES[0]} to {GROUP_SIZES[-1]}"
    hours = f"{GRACE_HOURS[0]} to {GRACE_HOURS[-1]}"
    for option, beyond, rule in [
        ("--group-size", GROUP_SIZES[0] - 1, sizes),
        ("--group-size", GROUP_SIZES[-1] + 1, sizes),
        ("--grace-hours", GRACE_HOURS[0] - 1, hours),
        ("--grace-hours", GRACE_HOURS[-1] + 1, hours),
    ]:
        result = cli("program", "set", "coffee", option, str(beyond))
        assert_error(result, f"{option}: must be {rule} (got {beyond})")
