"""How wide output is: whole values off a terminal, COLUMNS when set, the terminal's width on a
terminal, and lines of our own words (confirmations, notes, errors) never broken in two."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from rich.cells import cell_len

from tests import terminal
from tests.conftest import Invoke, ok

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
PROGRAM = "coffee-paris-and-the-whole-ile-de-france-region"
EMAIL = "alexandra.konstantinopoulou-vanderberg@engineering.subsidiary.example.com"
NAME = "Alexandra Konstantinopoulou-Vanderberg"
TEAM = "platform reliability engineering"
ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def members(cli: Invoke) -> None:
    ok(cli("program", "add", PROGRAM, "--tz", "Europe/Paris", "--sender", "team@example.com"))
    ok(cli("member", "add", PROGRAM, EMAIL, "--name", NAME, "--team", TEAM))
    ok(cli("member", "add", PROGRAM, "ana@example.com", "--name", "Ana"))


def _widest(text: str) -> int:
    return max(cell_len(ESCAPES.sub("", line)) for line in text.splitlines())


def _row(text: str, value: str) -> str:
    [row] = [line for line in text.splitlines() if value in line]
    return row


# --- not a terminal -----------------------------------------------------------------------------


def test_piped_tables_print_whole_values_and_no_padding(
    cli: Invoke, members: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COLUMNS")
    listed = ok(cli("member", "list", PROGRAM)).stdout
    assert "…" not in listed
    row = _row(listed, EMAIL)  # one row: the name and team beside the email, not wrapped below
    assert NAME in row and TEAM in row
    assert _widest(listed) > 120  # wider than any default terminal: no width was imposed
    assert all(line == line.rstrip() for line in listed.splitlines())


def test_piped_round_list_and_messages_print_whole_values(
    cli: Invoke, members: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok(cli("schedule", PROGRAM, "--opt-in", "now", "--match", "2026-06-10 09:00"))
    ok(cli("run-due"))
    monkeypatch.delenv("COLUMNS")
    listed = ok(cli("list")).stdout
    assert PROGRAM in listed and "…" not in listed
    sent = ok(cli("messages")).stdout
    assert "…" not in sent
    assert "sent" in _row(sent, EMAIL)


def test_piped_confirmations_stay_on_one_line(
    cli: Invoke, members: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COLUMNS")
    other = "kristoffer.bartholomew-montgomery@engineering.subsidiary.example.com"
    added = ok(cli("member", "add", PROGRAM, other))
    assert added.stdout == f"Member {other} added to {PROGRAM}.\n"
    scheduled = ok(cli("schedule", PROGRAM, "--opt-in", "now", "--match", "2026-12-01 08:00"))
    assert scheduled.stdout.count("\n") == 1
    updated = ok(cli("update", "1", "--match", "2026-12-01 08:36"))
    assert updated.stdout == (
        f"Round 1 updated: {PROGRAM}, opt-in Mon 2026-06-01 11:00 CEST, "
        "match Tue 2026-12-01 08:36 CET.\n"
    )


def test_columns_fits_tables_but_never_breaks_a_line_of_ours(
    cli: Invoke, members: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    listed = ok(cli("member", "list", PROGRAM)).stdout
    assert _widest(listed) <= 60
    assert EMAIL not in listed and "…" in listed
    monkeypatch.setenv("COLUMNS", "40")
    other = "kristoffer.bartholomew-montgomery@engineering.subsidiary.example.com"
    added = ok(cli("member", "add", PROGRAM, other))
    assert added.stdout == f"Member {other} added to {PROGRAM}.\n"


def test_errors_stay_one_line_whatever_the_width(
    cli: Invoke, members: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "30")
    refused = cli("member", "add", PROGRAM, EMAIL)
    assert refused.code == 2 and refused.stdout == ""
    assert refused.stderr.count("\n") == 1 and refused.stderr.startswith(f"error: {EMAIL} ")
    ok(cli("schedule", PROGRAM, "--opt-in", "now", "--match", "2026-06-10 09:00"))
    monkeypatch.setenv("SESSIONCTL_TRANSPORT", "smtp://127.0.0.1:1")  # nothing listens there
    failed = cli("run-due")
    assert failed.code == 1 and "cannot reach SMTP server" in failed.stderr
    assert [line for line in failed.stderr.splitlines() if not line.startswith("error: ")] == []


# --- a pseudo-terminal --------------------------------------------------------------------------


def test_a_terminal_fits_tables_to_its_width(cli: Invoke, members: None) -> None:
    shown = terminal.run("member", "list", PROGRAM, columns=60)
    assert (shown.code, shown.stderr) == (0, "")
    assert _widest(shown.stdout) <= 60
    assert "…" in shown.stdout
    assert EMAIL not in ESCAPES.sub("", shown.stdout)


def test_piped_at_a_terminal_prints_whole_values(cli: Invoke, members: None) -> None:
    """``sessionctl member list X | cat`` typed at a narrow terminal: stdin is that terminal."""
    listed = terminal.run("member", "list", PROGRAM, columns=40, stdout_is_terminal=False)
    assert (listed.code, listed.stderr) == (0, "")
    assert "…" not in listed.stdout and "\x1b" not in listed.stdout
    row = _row(listed.stdout, EMAIL)
    assert NAME in row and TEAM in row
