"""Shell completion through the real program: what bash, zsh and fish receive on a Tab press.

A few tests run the program as the shells' completion scripts do (a process of its own, with the
environment Typer's scripts set; bash through its real completion function); the rest run the
same entry point in this process, which is much faster, reading the fish format.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sessionctl.cli import run
from tests import testdb
from tests.conftest import Invoke, copy_database, ok, seed_database, sql

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

# Rounds: 1 coffee-paris open, 2 lunch-nyc planned, 3 coffee-paris done (set in `seeded`),
# 4 coffee-paris cancelled. Members of coffee-paris: ana and Bob active, cy removed.
SEED_COMMANDS = (
    ("program", "add", "coffee-paris", "--tz", "Europe/Paris", "--title", "Coffee Paris"),
    ("program", "add", "lunch-nyc", "--tz", "America/New_York"),
    ("member", "add", "coffee-paris", "ana@example.com", "--name", "Ana Lima", "--team", "design"),
    ("member", "add", "coffee-paris", "Bob@Example.com", "--name", "Bob [b]Stone :coffee:"),
    ("member", "add", "coffee-paris", "cy@example.com", "--name", "Cy"),
    ("member", "remove", "coffee-paris", "cy@example.com"),
    ("member", "add", "lunch-nyc", "dee@example.com"),
    ("schedule", "coffee-paris", "--opt-in", "now", "--match", "2026-06-10 09:00"),
    ("run-due",),
    ("schedule", "lunch-nyc", "--opt-in", "2026-06-08 09:00", "--match", "2026-06-11 12:00"),
    (
        "schedule", "coffee-paris", "--opt-in", "2026-06-15 09:00", "--match", "2026-06-17 09:00",
        "--repeat", "weekly", "--count", "2",
    ),
    ("cancel", "4"),
)  # fmt: skip

ROUND_HELP = {
    "1": "coffee-paris, 2026-06-10 09:00 CEST, open",
    "2": "lunch-nyc, 2026-06-11 12:00 EDT, planned",
    "3": "coffee-paris, 2026-06-17 09:00 CEST, done",
    "4": "coffee-paris, 2026-06-24 09:00 CEST, cancelled",
}


@pytest.fixture(scope="module")
def _seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("seed")
    seed_database(folder, SEED_COMMANDS, now=NOW)
    return folder / "seed.db"


@pytest.fixture
def seeded(_seed: Path, db_path: Path) -> None:
    copy_database(_seed, db_path)
    assert sql("UPDATE round SET status = 'done' WHERE id = 3 RETURNING id") == [(3,)]


def _complete(
    typed: str, *, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> list[str]:
    """What fish receives for the command line ``typed``, run through the entry point here."""
    capsys.readouterr()
    with monkeypatch.context() as mp:
        mp.setenv("_SESSIONCTL_COMPLETE", "complete_fish")
        mp.setenv("_TYPER_COMPLETE_FISH_ACTION", "get-args")
        mp.setenv("_TYPER_COMPLETE_ARGS", typed)
        with pytest.raises(SystemExit) as exited:
            run([])
    out, err = capsys.readouterr()
    assert (exited.value.code, err) == (0, ""), typed
    return [line for line in out.splitlines() if line]


def _shell_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "_TYPER_COMPLETE_FISH_ACTION": "get-args", **extra}


def _subprocess(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sessionctl", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


# --- as each shell runs it --------------------------------------------------------------------


def test_bash_gets_the_ids_of_the_rounds_the_command_can_change(
    seeded: None, tmp_path: Path
) -> None:
    """Through bash itself: the script from --show-completion, its function, its COMPREPLY."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    program = bin_dir / "sessionctl"
    program.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m sessionctl "$@"\n')
    program.chmod(0o755)
    script = (
        'eval "$(sessionctl --show-completion bash)"\n'
        'COMP_WORDS=(sessionctl update ""); COMP_CWORD=2\n'
        # as bash calls it: the command, the word, the word before
        '_sessionctl_completion sessionctl "" update\n'
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", "--norc", "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stdout) == (0, "1\n2\n"), done.stderr  # values only


def test_zsh_gets_round_ids_described_by_program_date_and_status(seeded: None) -> None:
    env = _shell_env(_SESSIONCTL_COMPLETE="complete_zsh", _TYPER_COMPLETE_ARGS="sessionctl show ")
    done = _subprocess(env)
    items = "\n".join(
        f'"{number}":"{text.replace(":", chr(92) * 2 + ":")}"'
        for number, text in ROUND_HELP.items()
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == f"_arguments '*: :(({items}))'\n"


def test_fish_gets_the_members_who_may_answer_with_their_names(seeded: None) -> None:
    env = _shell_env(
        _SESSIONCTL_COMPLETE="complete_fish", _TYPER_COMPLETE_ARGS="sessionctl respond 1 "
    )
    done = _subprocess(env)
    assert (done.returncode, done.stderr) == (0, "")
    # Names exactly as stored: not read as markup, not wrapped at the terminal's width.
    assert done.stdout == (
        "ana@example.com\tAna Lima (design)\nBob@Example.com\tBob [b]Stone :coffee:\n"
    )


def test_a_missing_database_gives_nothing_and_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "sessionctl.db"
    env = _shell_env(
        _SESSIONCTL_COMPLETE="complete_bash",
        COMP_WORDS="sessionctl\nshow\n",
        COMP_CWORD="2",
        SESSIONCTL_DB=str(missing),
    )
    done = _subprocess(env)
    assert (done.returncode, done.stdout, done.stderr) == (0, "\n", "")
    assert not missing.parent.exists()


# --- what each parameter offers (in this process) ---------------------------------------------


def test_program_names_complete_where_a_program_is_named(
    seeded: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    both = ["coffee-paris\tCoffee Paris", "lunch-nyc"]  # a title equal to the name says nothing
    expected = {
        "sessionctl list ": both,
        "sessionctl planning l": ["lunch-nyc"],
        "sessionctl ics C": ["coffee-paris\tCoffee Paris"],
        "sessionctl schedule ": both,
        "sessionctl member import ": both,
        "sessionctl program show ": both,
        "sessionctl program set lunch": ["lunch-nyc"],
        "sessionctl program add ": [],  # a new name
        "sessionctl list x": [],
    }
    for typed, candidates in expected.items():
        assert _complete(typed, monkeypatch=monkeypatch, capsys=capsys) == candidates, typed


def test_round_ids_are_those_the_command_can_act_on(
    seeded: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = {
        "show": "1234",
        "messages": "1234",
        "update": "12",  # planned or open
        "cancel": "12",
        "respond": "1",  # open
        "groups": "123",  # formed, or to preview
    }
    for command, numbers in expected.items():
        got = _complete(f"sessionctl {command} ", monkeypatch=monkeypatch, capsys=capsys)
        assert got == [f"{n}\t{ROUND_HELP[n]}" for n in numbers], command
    for typed, candidates in {"show 3": ["3"], "show 5": [], "show x": []}.items():
        got = _complete(f"sessionctl {typed}", monkeypatch=monkeypatch, capsys=capsys)
        assert [line.split("\t")[0] for line in got] == candidates, typed


def test_emails_are_the_members_of_the_program_or_round_typed(
    seeded: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ana, bob = "ana@example.com\tAna Lima (design)", "Bob@Example.com\tBob [b]Stone :coffee:"
    expected = {
        "sessionctl member remove coffee-paris ": [ana, bob],
        "sessionctl member remove coffee-paris b": [bob],  # whatever the letter case
        "sessionctl member add coffee-paris ": ["cy@example.com\tCy, removed"],  # to bring back
        "sessionctl member remove lunch-nyc ": ["dee@example.com"],
        "sessionctl member remove nosuch ": [],
        "sessionctl member pause coffee-paris ": [ana, bob],  # pause and resume: members in
        "sessionctl member avoid coffee-paris ana@example.com ": [
            ana,
            bob,
            "cy@example.com\tCy, removed",
        ],
        "sessionctl respond 1 ": [ana, bob],
        "sessionctl respond 2 ": ["dee@example.com"],
        "sessionctl respond 1 ana@example.com ": ["yes", "no"],
    }
    for typed, candidates in expected.items():
        assert _complete(typed, monkeypatch=monkeypatch, capsys=capsys) == candidates, typed


def test_fixed_values_and_time_zones(
    empty_db: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = {
        "sessionctl list --status ": ["planned", "open", "done", "cancelled", "missed"],
        "sessionctl list --status=c": ["cancelled"],
        "sessionctl messages --status ": ["pending", "sending", "sent", "failed"],
        "sessionctl schedule x --repeat ": ["once", "weekly", "2-weeks", "3-weeks", "4-weeks"],
        "sessionctl schedule x --repeat 2": ["2-weeks"],
        "sessionctl list --tz europe/pa": ["Europe/Paris"],
        "sessionctl program add x --tz America/New_Y": ["America/New_York"],
        "sessionctl update 1 --tz Nowhere/": [],
    }
    for typed, candidates in expected.items():
        assert _complete(typed, monkeypatch=monkeypatch, capsys=capsys) == candidates, typed


def test_the_database_is_the_one_db_names(
    empty_db: None,
    cli: Invoke,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    other = tmp_path / "other.db"
    ok(cli("--db", str(other), "program", "add", "tea-tokyo", "--tz", "Asia/Tokyo"))
    typed = f"sessionctl --db {other} list "
    assert _complete(typed, monkeypatch=monkeypatch, capsys=capsys) == ["tea-tokyo"]
    assert _complete("sessionctl list ", monkeypatch=monkeypatch, capsys=capsys) == []


def test_a_broken_or_unreachable_database_gives_nothing_and_is_left_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all\n" * 100)
    # This run's server, or on SQLite a port where nothing listens.
    server = testdb.URL.rsplit("/", 1)[0] if testdb.ON_POSTGRES else "postgresql://127.0.0.1:1"
    for database in (empty, garbage, f"{server}/no_such_database"):
        typed = f"sessionctl --db {database} show "
        assert _complete(typed, monkeypatch=monkeypatch, capsys=capsys) == [], database
    assert (empty.stat().st_size, garbage.stat().st_size) == (0, 2200)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["empty.db", "garbage.db", "home"]
    config = tmp_path / "home" / "config" / "sessionctl" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("db = [unclosed\n")  # the commands refuse it; completion stays silent
    assert _complete("sessionctl show ", monkeypatch=monkeypatch, capsys=capsys) == []
