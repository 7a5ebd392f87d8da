"""Help reads cleanly: usage lines as in the manual, option tables that say defaults in words
(and "unchanged if omitted" where a command changes settings), whole first sentences in
command lists, and no name split over two lines however narrow the terminal."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer

from sessionctl.cli import app
from tests.conftest import Invoke, ok


def _walk(command: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    found = [(path, command)]
    for name, child in getattr(command, "commands", {}).items():
        found += _walk(child, (*path, name))
    return found


TREE = _walk(typer.main.get_command(app))
PATHS = [path for path, _ in TREE]
GROUPS = [path for path, command in TREE if hasattr(command, "commands")]
SETTINGS = ["--tz", "--opt-in / --no-opt-in", "--group-size", "--title", "--sender"]
SETTINGS += ["--link-base", "--grace-hours", "--lookback", "--reminder ", "--reminder-below"]


def _help(cli: Invoke, path: tuple[str, ...]) -> str:
    result = ok(cli(*path, "--help"))
    assert result.stderr == ""
    return result.stdout


def _section(text: str, title: str) -> dict[str, str]:
    """A help section's rows (``Options:``, ``Commands:``), each help joined into one line."""
    rows: dict[str, str] = {}
    lines = text.split(f"\n{title}:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    term = ""
    for line in lines:
        if re.match(r"  \S", line):
            term, _, help_text = re.split(r"(\s{2,}|$)", line.strip(), maxsplit=1)
            rows[term] = help_text.strip()
        else:  # the help of a long term, or the rest of a wrapped help
            rows[term] = f"{rows[term]} {line.strip()}".strip()
    return rows


def _description(text: str) -> str:
    """The first paragraph under the usage line, on one line."""
    after_usage = text.split("\n\n", 2)[1]
    return " ".join(after_usage.split())


# --- program set says what it does with options left out --------------------------------------


def test_program_set_says_unchanged_if_omitted_for_each_setting(cli: Invoke) -> None:
    options = _section(_help(cli, ("program", "set")), "Options")
    for name in SETTINGS:
        term = next(t for t in options if t.startswith(name))
        assert options[term].endswith("(unchanged if omitted)."), term
        assert "default" not in options[term], term


def test_program_add_says_the_default_of_each_setting(cli: Invoke) -> None:
    options = _section(_help(cli, ("program", "add")), "Options")
    defaults = {
        "--tz ZONE": "this machine's",
        "--opt-in / --no-opt-in": "on",
        "--group-size N": "2",
        "--title TEXT": "the name",
        "--sender EMAIL": "sessionctl@localhost",
        "--grace-hours N": "24",
        "--lookback N|all": "all",
        "--reminder HOURS": "24",
        "--reminder-below PERCENT|median": "median",
    }
    for term, default in defaults.items():
        assert options[term].endswith(f"(default: {default})."), term
    assert "(default: none" in options["--link-base URL"]


def test_every_option_with_a_value_says_its_default_in_words(cli: Invoke) -> None:
    for path, command in TREE:
        for param in command.params:
            quiet = not param.default or param.hidden
            if quiet or param.param_type_name != "option":
                continue
            assert "(default: " in (param.help or "") or "(the default)" in (param.help or ""), (
                path,
                param.opts,
            )


# --- usage lines -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "usage"),
    [
        ((), "sessionctl [OPTIONS] COMMAND [ARGS]..."),
        (("program",), "sessionctl program [OPTIONS] COMMAND [ARGS]..."),
        (("program", "set"), "sessionctl program set NAME [OPTIONS]"),
        (("member", "add"), "sessionctl member add PROGRAM EMAIL [OPTIONS]"),
        (("schedule",), "sessionctl schedule PROGRAM --match WHEN [OPTIONS]"),
        (("list",), "sessionctl list [PROGRAM] [OPTIONS]"),
        (("messages",), "sessionctl messages [ROUND] [OPTIONS]"),
        (("respond",), "sessionctl respond [ROUND] [EMAIL] [yes|no] [OPTIONS]"),
        (("program", "template"), "sessionctl program template NAME [KIND] [OPTIONS]"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, tuple) else None,
)
def test_usage_lines_read_as_in_the_manual(cli: Invoke, path: tuple[str, ...], usage: str) -> None:
    assert _help(cli, path).splitlines()[0] == f"Usage: {usage}"


@pytest.mark.parametrize("path", PATHS, ids=lambda path: " ".join(path) or "sessionctl")
def test_help_has_no_typer_notation(cli: Invoke, path: tuple[str, ...]) -> None:
    text = _help(cli, path)
    for noise in ("{", "[[", "<str>", "<int", "range>", "[required]", "[default:", "x<=", "x>="):
        assert noise not in text, noise
    arguments = _section(text, "Arguments") if "\nArguments:\n" in text else {}
    for term in arguments:
        assert re.fullmatch(r"[A-Z]+|yes\|no|FILE\|-", term), term


@pytest.mark.parametrize("path", PATHS, ids=lambda path: " ".join(path) or "sessionctl")
def test_no_name_is_split_over_two_lines_on_a_narrow_terminal(
    cli: Invoke, monkeypatch: pytest.MonkeyPatch, path: tuple[str, ...]
) -> None:
    monkeypatch.setenv("COLUMNS", "40")  # narrower than help ever lays out (50)
    text = _help(cli, path)
    assert not re.search(r"[A-Za-z]-\n", text), text  # "--link-\nbase", "YYYY-\nMM-DD"
    assert all(line == line.rstrip() for line in text.splitlines())
    command = dict(TREE)[path]
    for param in command.params:
        for name in (*param.opts, *param.secondary_opts):
            if name.startswith("-") and not param.hidden:
                assert re.search(rf"(^|[\s,/]){re.escape(name)}([\s,.;:)]|$)", text, re.M), name


def test_a_required_option_keeps_its_value_on_the_usage_line(
    cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    usage = _help(cli, ("schedule",)).split("\n\n", 1)[0]
    assert "--match WHEN" in usage
    assert " ".join(usage.split()) == "Usage: sessionctl schedule PROGRAM --match WHEN [OPTIONS]"


# --- command lists -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", GROUPS, ids=lambda path: " ".join(path) or "sessionctl")
def test_command_lists_show_each_first_sentence_whole_on_one_line(
    cli: Invoke, path: tuple[str, ...]
) -> None:
    text = _help(cli, path)
    listed = _section(text, "Commands")
    commands = dict(TREE)[path].commands
    assert list(listed) == list(commands)
    block = text.split("\nCommands:\n", 1)[1]
    assert len(block.strip().splitlines()) == len(commands), "a first sentence was wrapped"
    for name, sentence in listed.items():
        assert "..." not in sentence
        assert sentence.endswith("."), name
        own = _description(_help(cli, (*path, name)))
        assert own.startswith(sentence), name
        assert own == sentence or own[len(sentence)] == " ", name


@pytest.mark.parametrize("path", GROUPS, ids=lambda path: " ".join(path) or "sessionctl")
def test_command_lists_wrap_rather_than_cut_on_a_narrow_terminal(
    cli: Invoke, monkeypatch: pytest.MonkeyPatch, path: tuple[str, ...]
) -> None:
    wide = _section(_help(cli, path), "Commands")
    monkeypatch.setenv("COLUMNS", "40")
    assert _section(_help(cli, path), "Commands") == wide
