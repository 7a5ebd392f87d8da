"""list and show through the real CLI: filters, zones, ordering, the table, the panel, JSON.

Time is frozen at 2026-11-25 12:00 UTC (13:00 in Paris, 07:00 in New York), a Wednesday.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine

from sessionctl.domain.rounds import PALETTE
from tests.conftest import Invoke, assert_error, copy_database, ok, seed_database, sql

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


_ok = ok
_assert_error = assert_error


def _listed(cli: Invoke, *args: str) -> list[dict[str, Any]]:
    rounds: list[dict[str, Any]] = _ok(cli("list", *args, "--json")).json()
    return rounds


def _ids(cli: Invoke, *args: str) -> list[int]:
    return [r["id"] for r in _listed(cli, *args)]


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --- the starting database, made once per module through the real CLI ------------------------
#
# Each CLI call costs tens of milliseconds, so this is built once and each test gets a copy.
#   1    coffee-paris one-off: opt-in 2026-12-01 09:00, match 2026-12-03 09:00 Paris (08:00Z).
#   2    tea-ny (no opt-in) one-off: match 2026-12-02 18:00 New York (23:00Z, 00:00 in Paris).
#   3    coffee-paris one-off: opt-in now, match 2026-11-30 00:30 Paris (11-29 23:30Z).
#   4-5  coffee-paris weekly: opt-in Mondays 09:00, match Thursdays 09:00, 12-10 and 12-17;
#        round 5 cancelled.
# By match time: 3, 2, 1, 4, 5.
SEED_COMMANDS = (
    ("program", "add", "coffee-paris", "--tz", "Europe/Paris"),
    ("program", "add", "tea-ny", "--tz", "America/New_York", "--no-opt-in"),
    ("schedule", "coffee-paris", "--opt-in", "2026-12-01 09:00", "--match", "2026-12-03 09:00"),
    ("schedule", "tea-ny", "--match", "2026-12-02 18:00"),
    ("schedule", "coffee-paris", "--opt-in", "now", "--match", "2026-11-30 00:30"),
    (
        "schedule", "coffee-paris", "--opt-in", "2026-12-07 09:00", "--match", "2026-12-10 09:00",
        "--repeat", "weekly", "--count", "2",
    ),
    ("cancel", "5"),
    ("list", "--json"),
)  # fmt: skip


@pytest.fixture(scope="module")
def _seed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    folder = tmp_path_factory.mktemp("seed")
    out = seed_database(folder, SEED_COMMANDS, now=NOW)
    return folder / "seed.db", json.loads(out)


@pytest.fixture
def seeded(_seed: tuple[Path, list[dict[str, Any]]], db_path: Path) -> list[dict[str, Any]]:
    """This test's database, a copy of the seed; returns ``list --json`` of the seed."""
    seed, rounds = _seed
    copy_database(seed, db_path)
    return [{**r} for r in rounds]


def _open_round_3() -> None:
    """Round 3 opened at NOW, written as sessionctl stores it (naive UTC)."""
    opened = sql(
        "UPDATE round SET status = 'open', opened_at = :now WHERE id = 3 RETURNING id",
        now="2026-11-25 12:00:00",
    )
    assert opened == [(3,)]


def _colors(rounds: list[dict[str, Any]]) -> dict[int, str]:
    return {r["id"]: r["color"] for r in rounds}


# --- list --json -----------------------------------------------------------------------------


def test_list_json_all_programs_by_match_time(cli: Invoke, seeded: list[dict[str, Any]]) -> None:
    rounds = _listed(cli)
    assert rounds == seeded
    colors = _colors(rounds)
    assert set(colors.values()) <= set(PALETTE)

    def expected(**fields: Any) -> dict[str, Any]:
        base = {
            "program": "coffee-paris",
            "status": "planned",
            "timezone": "Europe/Paris",
            "opened_at": None,
            "matched_at": None,
            "repeat": "once",
            "series": None,
            "invited": 0,
            "opted_in": 0,
            "declined": 0,
            "no_answer": 0,
            "reminded": 0,
        }
        data = {**base, **fields}
        data["color"] = colors[data["id"]]
        return {key: data[key] for key in rounds[0]}  # the cli.md key order

    assert rounds == [
        expected(
            id=3,
            number=2,  # coffee-paris's second round; tea-ny's first is round 2
            opt_in_at="2026-11-25T13:00:00+01:00",
            match_at="2026-11-30T00:30:00+01:00",
        ),
        expected(
            id=2,
            number=1,
            program="tea-ny",
            timezone="America/New_York",
            opt_in_at=None,
            match_at="2026-12-02T18:00:00-05:00",
        ),
        expected(
            id=1,
            number=1,
            opt_in_at="2026-12-01T09:00:00+01:00",
            match_at="2026-12-03T09:00:00+01:00",
        ),
        expected(
            id=4,
            number=3,
            repeat="weekly",
            series=1,
            opt_in_at="2026-12-07T09:00:00+01:00",
            match_at="2026-12-10T09:00:00+01:00",
        ),
        expected(
            id=5,
            number=4,
            status="cancelled",
            repeat="weekly",
            series=1,
            opt_in_at="2026-12-14T09:00:00+01:00",
            match_at="2026-12-17T09:00:00+01:00",
        ),
    ]
    matches = [_instant(r["match_at"]) for r in rounds]
    assert matches == sorted(matches)


def test_list_one_program(cli: Invoke, seeded: list[dict[str, Any]]) -> None:
    assert _listed(cli, "coffee-paris") == [r for r in seeded if r["program"] == "coffee-paris"]
    assert _ids(cli, "coffee-paris") == [3, 1, 4, 5]
    assert _ids(cli, "tea-ny") == [2]


def test_list_unknown_program(cli: Invoke, seeded: list[dict[str, Any]]) -> None:
    result = cli("list", "tea-paris", "--json")
    _assert_error(result, "no program named 'tea-paris': see 'sessionctl program list'")


@pytest.mark.parametrize(
    ("args", "ids"),
    [
        (("--status", "planned"), [3, 2, 1, 4]),
        (("--status", "cancelled"), [5]),
        (("--status", "open"), []),
        (("coffee-paris", "--status", "planned"), [3, 1, 4]),
        (("tea-ny", "--status", "cancelled"), []),
    ],
)
def test_list_status(
    cli: Invoke, seeded: list[dict[str, Any]], args: tuple[str, ...], ids: list[int]
) -> None:
    assert _ids(cli, *args) == ids


def test_list_status_sees_rounds_run_due_opened(cli: Invoke, seeded: list[dict[str, Any]]) -> None:
    # Stands in for run-due until run-due tests exist (datetimes are stored as naive UTC).
    _open_round_3()
    [opened] = _listed(cli, "--status", "open")
    assert opened["id"] == 3
    assert opened["opened_at"] == "2026-11-25T13:00:00+01:00"


def test_list_bad_status(cli: Invoke, seeded: list[dict[str, Any]]) -> None:
    _assert_error(
        cli("list", "--status", "Planned"),
        "--status: invalid status 'Planned': use one of planned, open, done, cancelled, missed",
    )


@pytest.mark.parametrize(
    ("args", "ids"),
    [
        # Without --tz, each round's match date in its own zone.
        (("--from", "2026-11-30"), [3, 2, 1, 4, 5]),
        (("--from", "2026-12-01"), [2, 1, 4, 5]),
        (("--to", "2026-12-02"), [3, 2]),
        (("--from", "2026-12-03", "--to", "2026-12-03"), [1]),
        (("--from", "2026-12-04", "--to", "2026-12-16"), [4]),
        (("--from", "2026-12-18"), []),
        # With --tz, dates in that zone: round 3 is on 11-29 in UTC, round 2 on 12-03 in Paris.
        (("--from", "2026-11-30", "--tz", "UTC"), [2, 1, 4, 5]),
        (("--to", "2026-12-02", "--tz", "Europe/Paris"), [3]),
        (("--from", "2026-12-03", "--to", "2026-12-03", "--tz", "Europe/Paris"), [2, 1]),
        (("--from", "2026-11-29", "--to", "2026-11-29", "--tz", "America/New_York"), [3]),
        (("coffee-paris", "--from", "2026-12-01", "--status", "planned"), [1, 4]),
    ],
)
def test_list_from_to(
    cli: Invoke, seeded: list[dict[str, Any]], args: tuple[str, ...], ids: list[int]
) -> None:
    assert _ids(cli, *args) == ids


@pytest.mark.parametrize("option", ["--from", "--to"])
def test_list_bad_date(cli: Invoke, seeded: list[dict[str, Any]], option: str) -> None:
    _assert_error(
        cli("list", option, "30/11/2026"),
        f"{option}: invalid date '30/11/2026': numeric dates are read only year first; "
        "write e.g. 2026-11-30 or 30 Nov 2026",
    )


def test_list_tz_shows_every_time_in_that_zone(cli: Invoke, seeded: list[dict[str, Any]]) -> None:
    rounds = _listed(cli, "--tz", "Asia/Tokyo")
    assert [r["id"] for r in rounds] == [r["id"] for r in seeded]
    for shown, own in zip(rounds, seeded, strict=True):
        # The round keeps its zone; only the way its times are written changes.
        assert shown["timezone"] == own["timezone"]
        for field in ("opt_in_at", "match_at", "opened_at", "matched_at"):
            if own[field] is None:
                assert shown[field] is None
            else:
                assert shown[field].endswith("+09:00")
                assert _instant(shown[field]) == _instant(own[field])
        rest = {k: v for k, v in shown.items() if not k.endswith("_at")}
        assert rest == {k: v for k, v in own.items() if not k.endswith("_at")}
    # Dates move with the zone: 18:00 in New York on 12-02 is 08:00 on 12-03 in Tokyo.
    assert rounds[1]["match_at"] == "2026-12-03T08:00:00+09:00"
    assert rounds[0]["opt_in_at"] == "2026-11-25T21:00:00+09:00"


def test_list_unknown_tz(cli: Invoke, seeded: list[dict[str, Any]]) -> None:
    _assert_error(
        cli("list", "--tz", "Paris"),
        "--tz: unknown timezone 'Paris' (did you mean Europe/Paris?)",
    )


def test_list_empty(cli: Invoke, empty_db: None) -> None:
    result = _ok(cli("list"))
    assert result.stdout == (
        "No rounds: schedule one with 'sessionctl schedule PROGRAM --match WHEN'.\n"
    )
    assert _ok(cli("list", "--json")).stdout == "[]\n"


# --- list for people -------------------------------------------------------------------------


def _table(stdout: str) -> tuple[list[str], list[list[str]]]:
    """The header cells and the rows (split on spaces) of a list table."""
    assert "\x1b" not in stdout  # not a terminal: no styling
    lines = [line.strip() for line in stdout.splitlines() if line.strip()]
    header = re.split(r"\s{2,}", lines[0])
    assert set(lines[1]) == {"─"}
    rows = [line.split() for line in lines[2:]]
    assert all(row[0] == "●" for row in rows)
    return header, [row[1:] for row in rows]


def _cells(row: str) -> list[str]:
    return row.split()


def test_list_table_all_programs(cli: Invoke, seeded: list[dict[str, Any]]) -> None:
    # Across programs, times are shown in this machine's zone (UTC in the tests).
    header, rows = _table(_ok(cli("list")).stdout)
    header_line = _ok(cli("list")).stdout.splitlines()[0]
    assert header == [
        "Round",
        "No.",
        "Program",
        "Status",
        "Opt-in",
        "Match",
        "Repeat",
        "Yes/no/inv",
    ]
    assert header_line.startswith("Round  No.  Program")
    assert rows == [
        _cells("3 2 coffee-paris planned 2026-11-25 12:00 UTC 2026-11-29 23:30 UTC once 0/0/0"),
        _cells("2 1 tea-ny planned - 2026-12-02 23:00 UTC once 0/0/0"),
        _cells("1 1 coffee-paris planned 2026-12-01 08:00 UTC 2026-12-03 08:00 UTC once 0/0/0"),
        _cells("4 3 coffee-paris planned 2026-12-07 08:00 UTC 2026-12-10 08:00 UTC weekly 0/0/0"),
        _cells("5 4 coffee-paris cancelled 2026-12-14 08:00 UTC 2026-12-17 08:00 UTC weekly 0/0/0"),
    ]


def test_list_table_one_program_has_no_program_column(
    cli: Invoke, seeded: list[dict[str, Any]]
) -> None:
    header, rows = _table(_ok(cli("list", "tea-ny")).stdout)
    assert header == ["Round", "No.", "Status", "Opt-in", "Match", "Repeat", "Yes/no/inv"]
    assert rows == [_cells("2 1 planned - 2026-12-02 18:00 EST once 0/0/0")]


def test_list_table_tz(cli: Invoke, seeded: list[dict[str, Any]]) -> None:
    _, rows = _table(_ok(cli("list", "--tz", "Asia/Tokyo", "--status", "planned")).stdout)
    assert [row[:3] for row in rows] == [
        ["3", "2", "coffee-paris"],
        ["2", "1", "tea-ny"],
        ["1", "1", "coffee-paris"],
        ["4", "3", "coffee-paris"],
    ]
    assert rows[1][5:8] == ["2026-12-03", "08:00", "JST"]
    assert rows[0][4:10] == ["2026-11-25", "21:00", "JST", "2026-11-30", "08:30", "JST"]


def test_list_table_all_programs_uses_the_machine_zone(
    cli: Invoke, seeded: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    _, rows = _table(_ok(cli("list", "--status", "planned")).stdout)
    # Round 1 matches at 09:00 in Paris: 03:00 in New York.
    assert rows[2][:1] + rows[2][7:10] == ["1", "2026-12-03", "03:00", "EST"]


# --- show ------------------------------------------------------------------------------------


def _panel(stdout: str) -> tuple[str, dict[str, str]]:
    """The title and the label -> value rows of a show panel."""
    assert "\x1b" not in stdout
    lines = stdout.splitlines()
    title = lines[0].strip("╭╮─ ")
    assert lines[-1].startswith("╰")
    rows: dict[str, str] = {}
    for line in lines[1:-1]:
        label, value = re.split(r"\s{2,}", line.strip("│ "), maxsplit=1)
        rows[label] = value
    return title, rows


def test_show_panel(cli: Invoke, seeded: list[dict[str, Any]]) -> None:
    title, rows = _panel(_ok(cli("show", "1")).stdout)
    color = _colors(seeded)[1]
    assert title == "● Round 1"
    assert rows == {
        "program": "coffee-paris, round 1",
        "status": "planned",
        "opt-in": "Tue 2026-12-01 09:00 CET",
        "match": "Thu 2026-12-03 09:00 CET  (in 7d 20h)",
        "zone": "Europe/Paris",
        "repeat": "once",
        "colour": color.replace("_", " "),  # in words off a terminal: "bright green"
    }


def test_show_panel_series_round(cli: Invoke, seeded: list[dict[str, Any]]) -> None:
    _, rows = _panel(_ok(cli("show", "5")).stdout)
    assert rows["status"] == "cancelled"
    assert rows["program"] == "coffee-paris, round 4"
    assert rows["repeat"] == "weekly (2nd of series 1)"
    assert rows["match"] == "Thu 2026-12-17 09:00 CET"  # cancelled: no countdown


def test_show_panel_without_opt_in(cli: Invoke, seeded: list[dict[str, Any]]) -> None:
    _, rows = _panel(_ok(cli("show", "2")).stdout)
    assert "opt-in" not in rows
    assert rows["match"] == "Wed 2026-12-02 18:00 EST  (in 7d 11h)"
    assert rows["zone"] == "America/New_York"


def test_show_panel_of_an_open_round_has_its_figures(
    cli: Invoke, seeded: list[dict[str, Any]]
) -> None:
    # Stands in for run-due until run-due tests exist (datetimes are stored as naive UTC).
    _open_round_3()
    _, rows = _panel(_ok(cli("show", "3")).stdout)
    assert rows["status"] == "open"
    assert rows["opened"] == "2026-11-25 13:00 CET"
    assert rows["opt-in sent"] == "0 of 0"
    assert (rows["opted in"], rows["declined"], rows["no answer yet"]) == ("0", "0", "0")


def test_show_tz(cli: Invoke, seeded: list[dict[str, Any]]) -> None:
    _, rows = _panel(_ok(cli("show", "1", "--tz", "America/New_York")).stdout)
    assert rows["opt-in"] == "Tue 2026-12-01 03:00 EST"
    assert rows["match"] == "Thu 2026-12-03 03:00 EST  (in 7d 20h)"
    assert rows["zone"] == "Europe/Paris"  # the round's own zone stays
    shown = _ok(cli("show", "2", "--tz", "Europe/Paris", "--json")).json()
    assert shown["match_at"] == "2026-12-03T00:00:00+01:00"
    assert shown["timezone"] == "America/New_York"


def test_show_json_equals_the_list_element(cli: Invoke, seeded: list[dict[str, Any]]) -> None:
    for element in seeded:
        assert _ok(cli("show", str(element["id"]), "--json")).json() == element
    listed = _listed(cli, "--tz", "Asia/Kolkata")
    assert _ok(cli("show", "2", "--json", "--tz", "Asia/Kolkata")).json() == listed[1]


def test_show_unknown_round(cli: Invoke, seeded: list[dict[str, Any]]) -> None:
    _assert_error(cli("show", "6"), "no round 6: see 'sessionctl list'")
    _assert_error(cli("show", "6", "--json"), "no round 6: see 'sessionctl list'")


def test_show_unknown_tz(cli: Invoke, seeded: list[dict[str, Any]]) -> None:
    _assert_error(
        cli("show", "1", "--tz", "Nowhere/Town"),
        "--tz: unknown timezone 'Nowhere/Town': use an IANA name such as Europe/Paris",
    )
