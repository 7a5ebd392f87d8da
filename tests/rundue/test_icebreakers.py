"""Conversation starters: the program's list (or the default of its language), and a group's
pick, never the one a member got in their previous match when the list allows it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Invoke, sql
from tests.rundue.conftest import add_program, ok, refused, schedule

STARTERS = ["What made you smile this week?", "Tea or coffee, and why?", "Your best trip?"]


def _starters_by_round(program: str = "coffee") -> dict[int, dict[str, str]]:
    rows = sql(
        "SELECT r.number, m.email, g.icebreaker FROM group_member g "
        "JOIN round r ON r.id = g.round_id JOIN member m ON m.id = g.member_id "
        "JOIN program p ON p.id = r.program_id WHERE p.name = :name ORDER BY r.number",
        name=program,
    )
    found: dict[int, dict[str, str]] = {}
    for number, email, starter in rows:
        found.setdefault(number, {})[email] = starter
    return found


def test_no_member_gets_the_same_starter_two_rounds_running(cli: Invoke, tmp_path: Path) -> None:
    listing = tmp_path / "starters.txt"
    listing.write_text("# our own\n" + "\n".join(STARTERS) + "\n\n", encoding="utf-8")
    emails = add_program(cli, "coffee", members=5, opt_in=False)
    shown = ok(cli("program", "set", "coffee", "--icebreakers", str(listing), "--json")).json()
    assert shown["icebreakers"] == 3

    for day in range(1, 7):  # six rounds, matched one after the other
        round_id = schedule(cli, "coffee", "--match", f"2099-01-0{day} 09:00")
        ok(cli("update", str(round_id), "--match", "now"))
        ok(cli("run-due"))

    rounds = _starters_by_round()
    assert sorted(rounds) == [1, 2, 3, 4, 5, 6]
    for number in range(2, 7):
        for email in emails:
            before, now = rounds[number - 1].get(email), rounds[number].get(email)
            assert now in STARTERS
            assert before is None or now != before, (number, email)


def test_a_program_uses_the_default_list_of_its_language(cli: Invoke) -> None:
    add_program(cli, "cafe", members=2, opt_in=False)
    shown = ok(cli("program", "set", "cafe", "--language", "fr", "--json")).json()
    assert (shown["language"], shown["icebreakers"]) == ("fr", None)
    round_id = schedule(cli, "cafe", "--match", "2099-01-01 09:00")
    ok(cli("update", str(round_id), "--match", "now"))
    ok(cli("run-due"))

    [starter] = set(_starters_by_round("cafe")[1].values())

    assert starter.endswith(" ?")  # French typography: a space before the question mark


def test_icebreakers_come_from_standard_input_and_go_back_to_the_default(cli: Invoke) -> None:
    add_program(cli, "coffee")
    got = ok(cli("program", "set", "coffee", "--icebreakers", "-", "--json", input="One?\nTwo?\n"))
    back = ok(cli("program", "set", "coffee", "--icebreakers", "default", "--json"))

    assert got.json()["icebreakers"] == 2
    assert back.json()["icebreakers"] is None


@pytest.mark.parametrize(
    ("given", "fragment"),
    [
        ("# only a comment\n\n", "--icebreakers holds no icebreaker: write one per line"),
        ("fine\nbad \x1b[31m line\n", "--icebreakers line 2: invalid icebreaker"),
    ],
)
def test_a_bad_list_is_refused_and_changes_nothing(cli: Invoke, given: str, fragment: str) -> None:
    add_program(cli, "coffee")
    refused(cli("program", "set", "coffee", "--icebreakers", "-", input=given), fragment)
    assert ok(cli("program", "show", "coffee", "--json")).json()["icebreakers"] is None


def test_an_unknown_language_is_refused(cli: Invoke) -> None:
    add_program(cli, "coffee")
    refused(
        cli("program", "set", "coffee", "--language", "de"), "--language: invalid language 'de'"
    )
