"""`show`'s panel as people read it: the colour as a swatch on a terminal and in words
elsewhere, a countdown only while the match is to come, "did not answer" once it is over."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from sessionctl.domain.rounds import PALETTE
from tests import terminal
from tests.conftest import Invoke, ok

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
SGR = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(autouse=True)
def frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def answered(cli: Invoke) -> None:
    """Round 1 open since 09:00, matching in two days; one of its three members said yes."""
    ok(cli("program", "add", "coffee", "--tz", "UTC", "--sender", "team@example.com"))
    rows = "".join(f"m{i}@example.com,\n" for i in range(3))
    ok(cli("member", "import", "coffee", "-", input="email,name\n" + rows))
    ok(cli("schedule", "coffee", "--opt-in", "now", "--match", "2026-06-03 09:00"))
    ok(cli("run-due"))
    ok(cli("respond", "1", "m0@example.com", "yes"))


def _rows(text: str) -> dict[str, str]:
    """The panel's label -> value rows (SGR codes removed)."""
    rows = {}
    for line in SGR.sub("", text).splitlines()[1:-1]:
        label, _, value = line.strip("│ ").partition("  ")
        rows[label] = value.strip()
    return rows


def test_an_open_round_counts_down_and_names_its_colour_when_piped(
    cli: Invoke, answered: None
) -> None:
    color = ok(cli("show", "1", "--json")).json()["color"]
    rows = _rows(ok(cli("show", "1")).stdout)
    assert rows["match"] == "Wed 2026-06-03 09:00 UTC  (in 2d 0h)"
    assert rows["no answer yet"] == "2"
    assert rows["colour"] == color.replace("_", " ")  # "bright green", never "bright_green"
    assert "_" not in rows["colour"] and "●" not in rows["colour"]


def test_a_done_round_has_no_countdown_and_says_who_did_not_answer(
    cli: Invoke, answered: None
) -> None:
    ok(cli("update", "1", "--match", "now"))
    ok(cli("run-due"))
    rows = _rows(ok(cli("show", "1")).stdout)
    assert rows["status"] == "done"
    assert rows["match"] == "Mon 2026-06-01 09:00 UTC"
    assert rows["did not answer"] == "2"
    assert "no answer yet" not in rows


def test_cancelled_and_missed_rounds_have_no_countdown(
    cli: Invoke, answered: None, frozen: time_machine.Traveller
) -> None:
    ok(cli("cancel", "1"))
    cancelled = _rows(ok(cli("show", "1")).stdout)
    assert cancelled["match"] == "Wed 2026-06-03 09:00 UTC"
    assert cancelled["did not answer"] == "2"
    ok(cli("schedule", "coffee", "--opt-in", "2026-06-10 09:00", "--match", "2026-06-12 09:00"))
    frozen.shift(timedelta(days=20))  # nothing ran meanwhile
    ok(cli("run-due"))
    missed = _rows(ok(cli("show", "2")).stdout)
    assert (missed["status"], missed["match"]) == ("missed", "Fri 2026-06-12 09:00 UTC")


def test_json_keeps_the_colour_as_it_is(cli: Invoke, answered: None) -> None:
    assert ok(cli("show", "1", "--json")).json()["color"] in PALETTE


def test_a_terminal_shows_the_colour_as_its_swatch_only(cli: Invoke, answered: None) -> None:
    color = ok(cli("show", "1", "--json")).json()["color"]
    shown = terminal.run("show", "1", columns=80)
    assert (shown.code, shown.stderr) == (0, "")
    [line] = [line for line in shown.stdout.splitlines() if "colour" in line]
    assert SGR.search(line), "no colour on a terminal: this test proves nothing"
    assert _rows(shown.stdout)["colour"] == "●"
    assert color not in shown.stdout and color.replace("_", " ") not in shown.stdout
