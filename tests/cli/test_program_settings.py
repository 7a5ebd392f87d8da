"""The grace window, the matching lookback and the reminder are program settings that run-due
honours."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from tests.conftest import Invoke

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_grace_and_lookback_are_set_and_shown(cli: Invoke) -> None:
    assert cli("program", "add", "coffee", "--tz", "UTC").code == 0
    changed = cli("program", "set", "coffee", "--grace-hours", "48", "--lookback", "3", "--json")
    assert changed.code == 0, changed.stderr
    assert (changed.json()["grace_hours"], changed.json()["lookback"]) == (48, 3)
    back = cli("program", "set", "coffee", "--lookback", "all", "--json").json()
    assert (back["grace_hours"], back["lookback"]) == (48, None)


def test_reminder_settings_are_set_shown_and_cleared(cli: Invoke) -> None:
    added = cli("program", "add", "coffee", "--tz", "UTC", "--reminder", "12", "--json")
    assert added.code == 0, added.stderr
    assert (added.json()["reminder_hours"], added.json()["reminder_below"]) == (12, None)
    changed = cli("program", "set", "coffee", "--reminder", "48", "--reminder-below", "60%")
    assert changed.code == 0, changed.stderr
    shown = cli("program", "show", "coffee", "--json").json()
    assert (shown["reminder_hours"], shown["reminder_below"]) == (48, 60)
    rows = [line.rstrip() for line in cli("program", "show", "coffee").stdout.splitlines()]
    assert "reminder    48 h before the match, when under 60% joined" in rows

    back = cli("program", "set", "coffee", "--reminder-below", "median", "--json").json()
    assert (back["reminder_hours"], back["reminder_below"]) == (48, None)
    rows = [line.rstrip() for line in cli("program", "show", "coffee").stdout.splitlines()]
    assert "reminder    48 h before the match, when fewer joined than usual (median)" in rows
    off = cli("program", "set", "coffee", "--reminder", "0", "--json").json()
    assert off["reminder_hours"] == 0
    rows = [line.rstrip() for line in cli("program", "show", "coffee").stdout.splitlines()]
    assert "reminder    none" in rows


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--reminder", "337", "--reminder: must be 0 to 336 (got 337)"),
        ("--reminder", "soon", "--reminder: must be a whole number (got 'soon')"),
        (
            "--reminder-below",
            "0",
            "--reminder-below: invalid percentage '0': give 1 to 100, or median for the "
            "program's usual share",
        ),
        (
            "--reminder-below",
            "101",
            "--reminder-below: invalid percentage '101': give 1 to 100, or median for the "
            "program's usual share",
        ),
        ("--grace-hours", "0", "--grace-hours: must be 1 to 336 (got 0)"),
        (
            "--lookback",
            "0",
            "--lookback: invalid lookback '0': give a number of rounds (1 or more) or all",
        ),
        (
            "--lookback",
            "some",
            "--lookback: invalid lookback 'some': give a number of rounds (1 or more) or all",
        ),
    ],
)
def test_bad_settings_are_refused_and_change_nothing(
    cli: Invoke, option: str, value: str, message: str
) -> None:
    assert cli("program", "add", "coffee", "--tz", "UTC").code == 0
    before = cli("program", "show", "coffee", "--json").json()
    result = cli("program", "set", "coffee", option, value)
    assert (result.code, result.stdout, result.stderr) == (2, "", f"error: {message}\n")
    assert cli("program", "show", "coffee", "--json").json() == before


@pytest.mark.parametrize(("grace", "status"), [("24", "missed"), ("48", "done")])
def test_a_late_run_matches_within_the_program_grace_window(
    cli: Invoke, grace: str, status: str
) -> None:
    with time_machine.travel(NOW, tick=False):
        assert cli("program", "add", "coffee", "--tz", "UTC", "--no-opt-in").code == 0
        assert cli("program", "set", "coffee", "--grace-hours", grace).code == 0
        for address in ("ana@example.com", "bob@example.com"):
            assert cli("member", "add", "coffee", address).code == 0
        assert cli("schedule", "coffee", "--match", "2026-11-26 09:00").code == 0
    # The machine was down: the next run comes 30 hours after the match time.
    with time_machine.travel(datetime(2026, 11, 27, 15, 0, tzinfo=UTC), tick=False):
        result = cli("run-due", "--json")
        assert result.code == 0, result.stderr
        [shown] = cli("list", "--json").json()
    assert shown["status"] == status
    summary = result.json()
    assert (summary["missed"], summary["matched"]) == (
        ([1], []) if status == "missed" else ([], [1])
    )
    assert summary["sent"] == (0 if status == "missed" else 2)
