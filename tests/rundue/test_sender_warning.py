"""A program without --sender sends from sessionctl@localhost: program add and set say how to
set one, and run-due says so once per run on stderr, only when it sent mail for such a program."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine

from tests.conftest import Invoke, ok

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
FIX = "set a sender with: sessionctl program set {} --sender EMAIL"


def will_go(name: str) -> str:
    return f"note: messages will go out from sessionctl@localhost; {FIX.format(name)}\n"


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def _open(cli: Invoke, name: str, members: int, *options: str) -> None:
    """A program with members and a round whose opt-in is due now."""
    assert cli("program", "add", name, "--tz", "UTC", *options).code == 0
    rows = "".join(f"{name}{i}@example.com,\n" for i in range(members))
    ok(cli("member", "import", name, "-", input="email,name\n" + rows))
    ok(cli("schedule", name, "--opt-in", "now", "--match", "2026-06-08 09:00"))


def test_program_add_without_a_sender_says_how_to_set_one(cli: Invoke) -> None:
    added = cli("program", "add", "coffee", "--tz", "UTC")
    assert added.code == 0
    assert added.stdout.splitlines()[0] == "Program coffee added."
    assert added.stderr == will_go("coffee")
    as_json = cli("program", "add", "lunch", "--tz", "UTC", "--json")
    assert as_json.code == 0
    assert json.loads(as_json.stdout)["sender"] is None  # stdout stays pure JSON
    assert as_json.stderr == will_go("lunch")


def test_program_set_says_it_only_while_there_is_no_sender(cli: Invoke) -> None:
    added = cli("program", "add", "coffee", "--tz", "UTC", "--sender", "team@example.com")
    assert (added.code, added.stderr) == (0, "")
    assert ok(cli("program", "set", "coffee", "--group-size", "3")).stderr == ""
    cleared = cli("program", "set", "coffee", "--sender", "", "--json")
    assert (cleared.code, cleared.stderr) == (0, will_go("coffee"))
    still = cli("program", "set", "coffee", "--group-size", "2")
    assert (still.code, still.stderr) == (0, will_go("coffee"))
    assert ok(cli("program", "set", "coffee", "--sender", "team@example.com")).stderr == ""
    assert ok(cli("program", "show", "coffee")).stderr == ""  # showing changes nothing: no note


def test_run_due_says_it_once_for_every_program_it_sent_for(cli: Invoke) -> None:
    _open(cli, "coffee", 3)
    _open(cli, "lunch", 2)
    _open(cli, "tea", 2, "--sender", "tea@example.com")
    result = cli("run-due")
    assert result.code == 0
    assert result.stderr == (
        "note: messages went out from sessionctl@localhost for programs coffee, lunch; "
        f"{FIX.format('NAME')}\n"
    )
    assert result.stdout.splitlines() == [
        "round 1 (coffee): opened, 3 opt-in messages",
        "round 2 (lunch): opened, 2 opt-in messages",
        "round 3 (tea): opened, 2 opt-in messages",
        "messages: 7 sent",
    ]


def test_run_due_json_keeps_stdout_pure_and_names_the_one_program(cli: Invoke) -> None:
    _open(cli, "coffee", 2)
    result = cli("run-due", "--json")
    assert result.code == 0
    assert json.loads(result.stdout)["sent"] == 2
    assert result.stderr == (
        "note: messages went out from sessionctl@localhost for program coffee; "
        f"{FIX.format('coffee')}\n"
    )


def test_nothing_sent_means_no_note(cli: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli("program", "add", "coffee", "--tz", "UTC").code == 0
    quiet = cli("run-due")  # nothing due: cron mails nothing
    assert (quiet.code, quiet.stdout, quiet.stderr) == (0, "", "")
    _open(cli, "lunch", 2)
    preview = ok(cli("run-due", "--dry-run"))
    assert preview.stderr == ""
    monkeypatch.setenv("SESSIONCTL_TRANSPORT", "smtp://127.0.0.1:1")  # nothing listens there
    failed = cli("run-due")
    assert failed.code == 1
    assert "note:" not in failed.stderr and "sessionctl@localhost" not in failed.stderr
    monkeypatch.delenv("SESSIONCTL_TRANSPORT")
    again = cli("run-due")  # a working transport, but the retry is not due yet: nothing sent
    assert (again.code, again.stdout) == (1, "")
    assert "note:" not in again.stderr
