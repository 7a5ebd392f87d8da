"""Counts read right: "1 answer", "2 answers", never "1 answers" or "message(s)"."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tests.conftest import Invoke, assert_error, ok

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
MATCH = "2026-06-08 09:00"


@pytest.fixture(autouse=True)
def frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _program(cli: Invoke, name: str, members: int) -> list[str]:
    ok(cli("program", "add", name, "--tz", "UTC", "--sender", "team@example.com"))
    emails = [f"{name}{i}@example.com" for i in range(members)]
    rows = "".join(f"{email},\n" for email in emails)
    imported = ok(cli("member", "import", name, "-", input="email,name\n" + rows))
    noun = "member" if members == 1 else "members"
    assert (
        imported.stdout == f"Imported {members} {noun}: {members} added, 0 updated, 0 unchanged.\n"
    )
    return emails


def test_one_of_each_is_singular_through_a_round(cli: Invoke) -> None:
    [email] = _program(cli, "solo", 1)
    ok(cli("schedule", "solo", "--opt-in", "now", "--match", MATCH))
    assert ok(cli("run-due", "--dry-run")).stdout == "would open round 1 (solo): 1 opt-in message\n"
    assert ok(cli("run-due")).stdout.splitlines() == [
        "round 1 (solo): opened, 1 opt-in message",
        "messages: 1 sent",
    ]
    answered = ok(cli("respond", "1", email, "yes"))
    assert answered.stdout == "Round 1: 1 answer recorded (1 yes, 0 no).\n"
    ok(cli("update", "1", "--match", "now"))
    assert ok(cli("run-due", "--dry-run")).stdout == "would match round 1 (solo): 1 participant\n"
    assert ok(cli("run-due")).stdout.splitlines() == [
        "round 1 (solo): matched 1 person into 0 groups, 1 no-match message",
        "messages: 1 sent",
    ]


def test_several_are_plural_through_a_round(cli: Invoke) -> None:
    emails = _program(cli, "trio", 3)
    ok(cli("schedule", "trio", "--opt-in", "now", "--match", MATCH))
    assert ok(cli("run-due")).stdout.splitlines() == [
        "round 1 (trio): opened, 3 opt-in messages",
        "messages: 3 sent",
    ]
    answers = "email,answer\n" + "".join(f"{e},yes\n" for e in emails[:2])
    answered = ok(cli("respond", "1", "--import", "-", input=answers))
    assert answered.stdout == "Round 1: 2 answers recorded (2 yes, 0 no).\n"
    ok(cli("update", "1", "--match", "now"))
    assert ok(cli("run-due", "--dry-run")).stdout == "would match round 1 (trio): 2 participants\n"
    assert ok(cli("run-due")).stdout.splitlines()[0] == (
        "round 1 (trio): matched 2 people into 1 group"
    )


def test_retries_and_pending_messages_are_counted_right(
    cli: Invoke, monkeypatch: pytest.MonkeyPatch, frozen: time_machine.Traveller
) -> None:
    _program(cli, "solo", 1)
    ok(cli("schedule", "solo", "--opt-in", "now", "--match", MATCH))
    monkeypatch.setenv("SESSIONCTL_TRANSPORT", "smtp://127.0.0.1:1")  # nothing listens there
    first = cli("run-due")
    assert first.code == 1
    assert "1 waiting for a retry" in first.stdout
    waiting = cli("run-due")  # before the retry is due: only the reason for exit 1
    assert (waiting.code, waiting.stdout) == (1, "")
    assert (
        waiting.stderr == "error: 1 message waits for a retry, the next at 2026-06-01 09:02 UTC\n"
    )
    frozen.shift(timedelta(minutes=5))
    assert ok(cli("run-due", "--dry-run")).stdout == "would send 1 pending message\n"


def test_rounds_of_a_series_are_counted(cli: Invoke) -> None:
    _program(cli, "weekly", 0)
    series = ["--opt-in", "2026-06-02 09:00", "--match", MATCH, "--repeat", "weekly"]
    scheduled = ok(cli("schedule", "weekly", *series, "--count", "3"))
    assert scheduled.stdout.splitlines()[0] == "3 rounds scheduled:"
    cancelled = ok(cli("cancel", "2", "--following"))
    assert cancelled.stdout.splitlines()[0] == "2 rounds cancelled:"
    last = ok(cli("cancel", "1", "--following"))  # only round 1 is left to cancel
    assert last.stdout.startswith("Round 1 cancelled: weekly, opt-in ")


def test_settings_and_refusals_count_right(cli: Invoke) -> None:
    _program(cli, "solo", 0)
    shown = ok(cli("program", "set", "solo", "--lookback", "1")).stdout
    assert "lookback    1 round" in [line.rstrip() for line in shown.splitlines()]
    weekly = ["--opt-in", "2026-06-02 09:00", "--match", "2026-06-09 10:00", "--repeat", "weekly"]
    assert_error(
        cli("schedule", "solo", *weekly),
        "the open window (7 days 1 hour) must be shorter than the 1-week interval, "
        "or rounds would overlap",
    )
