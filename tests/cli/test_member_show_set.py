"""member show, member set, and a removed member coming back with member add.

Time is frozen at T0 (Monday 2026-06-01 09:00 UTC, 11:00 in Paris).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine

from tests.conftest import Invoke, assert_error, member_json, ok

PROGRAM = "coffee-paris"
T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
ANA = "ana@example.com"
UNKNOWN = (
    "no member zed@example.com in coffee-paris: see 'sessionctl member list coffee-paris --all'"
)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def coffee(cli: Invoke, frozen: time_machine.Traveller) -> None:
    ok(cli("program", "add", PROGRAM, "--tz", "Europe/Paris"))
    ok(cli("member", "add", PROGRAM, ANA, "--name", "Ana Lima", "--team", "design"))


def _members(cli: Invoke) -> Any:
    return ok(cli("member", "list", PROGRAM, "--all", "--json")).json()


def _shown(cli: Invoke, email: str = ANA) -> Any:
    return ok(cli("member", "show", PROGRAM, email, "--json")).json()


def _panel(cli: Invoke, email: str = ANA) -> dict[str, str]:
    result = ok(cli("member", "show", PROGRAM, email))
    assert result.stderr == ""
    rows = [line.strip().split(None, 1) for line in result.stdout.splitlines()]
    return {label: value for label, value in rows}


# --- member show ---------------------------------------------------------------------------------


def test_show_json_has_the_list_keys_plus_dates_and_rounds(cli: Invoke) -> None:
    assert _shown(cli) == {
        **member_json(ANA, "Ana Lima", "design"),
        "added_at": "2026-06-01T11:00:00+02:00",
        "removed_at": None,
        "rounds_invited": 0,
        "rounds_joined": 0,
    }
    [listed] = _members(cli)
    assert listed.keys() <= _shown(cli).keys()


def test_show_for_people(cli: Invoke) -> None:
    assert _panel(cli) == {
        "email": ANA,
        "name": "Ana Lima",
        "team": "design",
        "program": PROGRAM,
        "status": "active",
        "added": "2026-06-01 11:00 CEST",
        "rounds": "invited to 0, joined 0",
    }


def test_show_a_removed_member_says_since_when(cli: Invoke, frozen: time_machine.Traveller) -> None:
    frozen.move_to(datetime(2026, 6, 3, 16, 30, tzinfo=UTC))
    ok(cli("member", "remove", PROGRAM, ANA))
    shown = _shown(cli, ANA.upper())  # found whatever the case
    assert (shown["active"], shown["removed_at"]) == (False, "2026-06-03T18:30:00+02:00")
    panel = _panel(cli)
    assert (panel["status"], panel["added"]) == (
        "removed 2026-06-03 18:30 CEST",
        "2026-06-01 11:00 CEST",
    )
    assert (panel["name"], panel["team"]) == ("Ana Lima", "design")


def test_show_counts_the_rounds_a_member_was_invited_to_and_joined(cli: Invoke) -> None:
    for email in ("bo@example.com", "cy@example.com"):
        ok(cli("member", "add", PROGRAM, email))
    for answers in ([ANA, "bo@example.com"], [ANA]):  # a pair, then Ana alone (no match)
        [r] = ok(
            cli("schedule", PROGRAM, "--opt-in", "now", "--match", "2026-06-10 09:00", "--json")
        ).json()
        ok(cli("run-due"))
        for email in answers:
            ok(cli("respond", str(r["id"]), email, "yes"))
        ok(cli("update", str(r["id"]), "--match", "now"))
        ok(cli("run-due"))
    counts = {
        email: (_shown(cli, email)["rounds_invited"], _shown(cli, email)["rounds_joined"])
        for email in (ANA, "bo@example.com", "cy@example.com")
    }
    assert counts == {ANA: (2, 2), "bo@example.com": (2, 1), "cy@example.com": (2, 0)}
    assert _panel(cli)["rounds"] == "invited to 2, joined 2"


def test_show_an_unknown_member_or_program(cli: Invoke) -> None:
    assert_error(
        cli("member", "show", PROGRAM, "zed@example.com"),
        UNKNOWN,
    )
    assert_error(
        cli("member", "show", "tea", ANA, "--json"),
        "no program named 'tea': see 'sessionctl program list'",
    )


# --- member set ----------------------------------------------------------------------------------


def test_set_changes_what_is_given_and_says_what_changed(cli: Invoke) -> None:
    result = ok(cli("member", "set", PROGRAM, ANA, "--name", " Ana Souza "))
    assert result.stdout == "Member ana@example.com in coffee-paris: name now Ana Souza.\n"
    assert _members(cli) == [member_json(ANA, "Ana Souza", "design")]
    result = ok(
        cli(
            "member",
            "set",
            PROGRAM,
            "ANA@example.com",
            "--team",
            "",
            "--email",
            "ana.souza@example.com",
        )
    )
    assert result.stdout == (
        "Member ana@example.com in coffee-paris: email now ana.souza@example.com, team cleared.\n"
    )
    assert _members(cli) == [member_json("ana.souza@example.com", "Ana Souza")]
    assert _shown(cli, "ana.souza@example.com")["added_at"] == "2026-06-01T11:00:00+02:00"


def test_set_json_prints_the_member_as_list_does(cli: Invoke) -> None:
    result = ok(cli("member", "set", PROGRAM, ANA, "--team", "research", "--json"))
    assert result.json() == member_json(ANA, "Ana Lima", "research")
    assert _members(cli) == [result.json()]


def test_set_with_the_values_it_has_changes_nothing(cli: Invoke) -> None:
    result = ok(cli("member", "set", PROGRAM, ANA, "--name", "Ana Lima", "--team", "design"))
    assert result.stdout == (
        "Member ana@example.com in coffee-paris: unchanged, it already has these values.\n"
    )


def test_set_may_change_the_case_of_the_address(cli: Invoke) -> None:
    result = ok(cli("member", "set", PROGRAM, ANA, "--email", "Ana@Example.com"))
    assert result.stdout == "Member ana@example.com in coffee-paris: email now Ana@Example.com.\n"
    assert _members(cli) == [member_json("Ana@Example.com", "Ana Lima", "design")]


def test_set_without_an_option_names_the_options(cli: Invoke) -> None:
    assert_error(
        cli("member", "set", PROGRAM, ANA), "nothing to change: give --name, --team or --email"
    )


def test_set_refuses_the_address_of_another_member(cli: Invoke) -> None:
    ok(cli("member", "add", PROGRAM, "bo@example.com", "--name", "Bo"))
    ok(cli("member", "add", PROGRAM, "gone@example.com"))
    ok(cli("member", "remove", PROGRAM, "gone@example.com"))
    before = _members(cli)
    assert_error(
        cli("member", "set", PROGRAM, ANA, "--email", "BO@example.com", "--name", "X"),
        "bo@example.com is already a member of coffee-paris: choose another address",
    )
    assert_error(
        cli("member", "set", PROGRAM, ANA, "--email", "gone@example.com"),
        "gone@example.com is already a removed member of coffee-paris: choose another address",
    )
    assert _members(cli) == before


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--email", "ana@", "invalid email 'ana@': use a plain address such as ana@example.com"),
        (
            "--name",
            "Ana\x1b[2J",
            "invalid name 'Ana\\x1b[2J': it must be one line without control or "
            "bidi-override characters",
        ),
        (
            "--team",
            "ops\u202e",
            "invalid team 'ops\\u202e': it must be one line without control or "
            "bidi-override characters",
        ),
        ("--name", "x" * 201, "name is too long (201 characters, at most 200)"),
    ],
)
def test_set_validates_like_add(cli: Invoke, option: str, value: str, message: str) -> None:
    assert_error(cli("member", "set", PROGRAM, ANA, option, value), message)
    assert _members(cli) == [member_json(ANA, "Ana Lima", "design")]


def test_set_an_unknown_member(cli: Invoke) -> None:
    assert_error(
        cli("member", "set", PROGRAM, "zed@example.com", "--name", "Zed"),
        UNKNOWN,
    )


def test_set_a_removed_member_keeps_them_removed_and_their_new_name_comes_back(
    cli: Invoke,
) -> None:
    ok(cli("member", "remove", PROGRAM, ANA))
    ok(cli("member", "set", PROGRAM, ANA, "--name", "Ana Souza"))
    assert _members(cli) == [member_json(ANA, "Ana Souza", "design", active=False)]
    ok(cli("member", "add", PROGRAM, ANA))
    assert _members(cli) == [member_json(ANA, "Ana Souza", "design")]


# --- member add of a removed member ----------------------------------------------------------


def test_adding_a_removed_member_back_restores_name_and_team(cli: Invoke) -> None:
    ok(cli("member", "remove", PROGRAM, ANA))
    result = ok(cli("member", "add", PROGRAM, "Ana@Example.com"))
    assert result.stdout == "Member Ana@Example.com re-added to coffee-paris.\n"
    assert _members(cli) == [member_json("Ana@Example.com", "Ana Lima", "design")]
    shown = _shown(cli)
    assert (shown["removed_at"], shown["added_at"]) == (None, "2026-06-01T11:00:00+02:00")


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--name", "Ana Souza"], member_json(ANA, "Ana Souza", "design")),
        (["--team", "research"], member_json(ANA, "Ana Lima", "research")),
        (["--team", ""], member_json(ANA, "Ana Lima")),
        (["--name", "", "--team", "ops"], member_json(ANA, "", "ops")),
    ],
)
def test_options_given_override_the_stored_values(
    cli: Invoke, options: list[str], expected: Any
) -> None:
    ok(cli("member", "remove", PROGRAM, ANA))
    result = ok(cli("member", "add", PROGRAM, ANA, *options, "--json"))
    assert result.json() == expected
    assert _members(cli) == [expected]


def test_adding_an_active_member_again_points_to_member_set(cli: Invoke) -> None:
    assert_error(
        cli("member", "add", PROGRAM, ANA, "--name", "Other"),
        "ana@example.com is already a member of coffee-paris: change a name or team with "
        "'sessionctl member set coffee-paris ana@example.com'",
    )
