"""schedule through the real CLI: one-off rounds, series across DST changes, and rejections.

Time is frozen at 2026-11-25 12:00 UTC (13:00 in Paris, 07:00 in New York), a Wednesday.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import time_machine

from sessionctl.domain.rounds import PALETTE
from tests.conftest import Invoke, Result, assert_error, copy_database, ok, seed_database, sql

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


_ok = ok
_assert_error = assert_error


def _rounds(cli: Invoke, *args: str) -> Any:
    result = _ok(cli("list", *args, "--json"))
    assert result.stderr == ""
    return result.json()


def _round(**fields: Any) -> dict[str, Any]:
    """A round's JSON with the defaults of a fresh planned one-off coffee-paris round."""
    data: dict[str, Any] = {
        "id": 1,
        "number": 1,
        "program": "coffee-paris",
        "status": "planned",
        "timezone": "Europe/Paris",
        "opt_in_at": None,
        "match_at": None,
        "opened_at": None,
        "matched_at": None,
        "repeat": "once",
        "series": None,
        "color": None,
        "invited": 0,
        "opted_in": 0,
        "declined": 0,
        "no_answer": 0,
        "reminded": 0,
    }
    unknown = set(fields) - set(data)
    assert not unknown, unknown
    return {**data, **fields}


def _without_colors(rounds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rounds with ``color`` checked against the palette and set aside (it is random)."""
    for r in rounds:
        assert r["color"] in PALETTE
    return [{**r, "color": None} for r in rounds]


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _table_count(table: str) -> int:
    ((count,),) = sql(f"SELECT count(*) FROM {table}")
    return int(count)


def _add(cli: Invoke, name: str, zone: str, *options: str) -> None:
    _ok(cli("program", "add", name, "--tz", zone, *options))


# Each CLI call costs tens of milliseconds, so the programs most tests start from are made once
# per module through the real CLI, and each test starts from its own copy of that database.
PROGRAMS = (
    ("program", "add", "coffee-paris", "--tz", "Europe/Paris"),
    ("program", "add", "tea-paris", "--tz", "Europe/Paris", "--no-opt-in"),
)


def _seed(folder: Path, *commands: tuple[str, ...]) -> tuple[Path, str]:
    """Run ``commands`` at NOW against ``folder/seed.db``; return it and the last stdout."""
    return folder / "seed.db", seed_database(folder, commands, now=NOW)


_restore = copy_database


@pytest.fixture(scope="module")
def _programs_seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _seed(tmp_path_factory.mktemp("programs"), *PROGRAMS)[0]


@pytest.fixture
def programs(_programs_seed: Path, db_path: Path) -> None:
    """coffee-paris (Europe/Paris, with opt-in) and tea-paris (Europe/Paris, without)."""
    _restore(_programs_seed, db_path)


coffee = tea = programs


# --- one-off rounds --------------------------------------------------------------------------


@pytest.mark.usefixtures("coffee")
def test_one_off_with_opt_in_prints_the_cli_md_shape(cli: Invoke) -> None:
    result = _ok(
        cli(
            "schedule", "coffee-paris",
            "--opt-in", "2026-12-01 09:00", "--match", "2026-12-03 09:00", "--json",
        )
    )  # fmt: skip
    assert result.stderr == ""
    created = result.json()
    assert isinstance(created, list)
    assert len(created) == 1
    assert list(created[0]) == [
        "id", "number", "program", "status", "timezone", "opt_in_at", "match_at", "opened_at",
        "matched_at", "repeat", "series", "color", "invited", "opted_in", "declined", "no_answer",
        "reminded",
    ]  # fmt: skip
    assert _without_colors(created) == [
        _round(opt_in_at="2026-12-01T09:00:00+01:00", match_at="2026-12-03T09:00:00+01:00")
    ]
    assert _rounds(cli) == created


@pytest.mark.usefixtures("coffee")
def test_one_off_human_output_is_one_sentence(cli: Invoke) -> None:
    result = cli(
        "schedule", "coffee-paris", "--opt-in", "2026-12-01 09:00", "--match", "2026-12-03T09:00"
    )
    assert result.code == 0
    assert result.stderr == ""
    assert result.stdout == (
        "Round 1 scheduled: coffee-paris, opt-in Tue 2026-12-01 09:00 CET, "
        "match Thu 2026-12-03 09:00 CET.\n"
    )


@pytest.mark.usefixtures("coffee")
def test_opt_in_now_is_the_current_instant(cli: Invoke) -> None:
    result = _ok(
        cli("schedule", "coffee-paris", "--opt-in", "now", "--match", "2026-11-26 09:00", "--json")
    )
    assert result.stderr == ""
    [created] = result.json()
    assert created["opt_in_at"] == "2026-11-25T13:00:00+01:00"
    assert _instant(created["opt_in_at"]) == NOW
    assert created["match_at"] == "2026-11-26T09:00:00+01:00"


@pytest.mark.usefixtures("coffee")
def test_opt_in_now_is_case_and_space_insensitive(cli: Invoke) -> None:
    result = _ok(
        cli(
            "schedule", "coffee-paris", "--opt-in", " NOW ", "--match", "2026-11-26 09:00", "--json"
        )
    )
    assert _instant(result.json()[0]["opt_in_at"]) == NOW


@pytest.mark.usefixtures("tea")
def test_program_without_opt_in_takes_only_match(cli: Invoke) -> None:
    result = _ok(cli("schedule", "tea-paris", "--match", "2026-12-03 09:00", "--json"))
    assert result.stderr == ""
    assert _without_colors(result.json()) == [
        _round(program="tea-paris", match_at="2026-12-03T09:00:00+01:00")
    ]


@pytest.mark.usefixtures("tea")
def test_program_without_opt_in_takes_match_now(cli: Invoke) -> None:
    result = _ok(cli("schedule", "tea-paris", "--match", "now", "--json"))
    [created] = result.json()
    assert created["opt_in_at"] is None
    assert _instant(created["match_at"]) == NOW


@pytest.mark.usefixtures("tea")
@pytest.mark.parametrize("opt_in", ["2026-12-01 09:00", "now"])
def test_program_without_opt_in_refuses_opt_in(cli: Invoke, opt_in: str) -> None:
    result = cli("schedule", "tea-paris", "--opt-in", opt_in, "--match", "2026-12-03 09:00")
    _assert_error(result, "program tea-paris does not use opt-in: drop --opt-in")
    assert _rounds(cli) == []
    assert _table_count("round") == 0


@pytest.mark.usefixtures("coffee")
def test_program_with_opt_in_needs_opt_in(cli: Invoke) -> None:
    result = cli("schedule", "coffee-paris", "--match", "2026-12-03 09:00")
    _assert_error(result, "program coffee-paris uses opt-in: give --opt-in WHEN or --opt-in now")
    assert _rounds(cli) == []


@pytest.mark.usefixtures("coffee")
def test_tz_overrides_the_program_zone(cli: Invoke) -> None:
    result = _ok(
        cli(
            "schedule", "coffee-paris", "--tz", "Asia/Tokyo",
            "--opt-in", "2026-12-01 09:00", "--match", "2026-12-03 09:00", "--json",
        )
    )  # fmt: skip
    assert _without_colors(result.json()) == [
        _round(
            timezone="Asia/Tokyo",
            opt_in_at="2026-12-01T09:00:00+09:00",
            match_at="2026-12-03T09:00:00+09:00",
        )
    ]
    # The round lives in Tokyo; show gives its own zone, views of the program the program's.
    shown = _ok(cli("show", "1"))
    assert "2026-12-01 09:00 JST" in shown.stdout
    assert "2026-12-03 09:00 JST" in shown.stdout
    listed = _ok(cli("list", "coffee-paris"))
    assert "2026-12-01 01:00 CET" in listed.stdout


@pytest.mark.usefixtures("coffee")
def test_times_with_an_explicit_offset_are_that_instant(cli: Invoke) -> None:
    result = _ok(
        cli(
            "schedule", "coffee-paris",
            "--opt-in", "2026-12-01T09:00+05:00", "--match", "2026-12-03T09:00Z", "--json",
        )
    )  # fmt: skip
    [created] = result.json()
    assert result.stderr == ""
    # Shown in the round's zone (the program's), as the same instants.
    assert created["timezone"] == "Europe/Paris"
    assert created["opt_in_at"] == "2026-12-01T05:00:00+01:00"
    assert created["match_at"] == "2026-12-03T10:00:00+01:00"
    assert _instant(created["opt_in_at"]) == datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
    assert _instant(created["match_at"]) == datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def test_explicit_offset_in_a_fall_back_fold_is_kept(
    cli: Invoke, frozen: time_machine.Traveller
) -> None:
    """01:30-05:00 on the New York fall-back day is the second 01:30, not the first."""
    frozen.move_to(datetime(2026, 10, 1, 12, 0, tzinfo=UTC))
    _add(cli, "tea-ny", "America/New_York", "--no-opt-in")
    result = _ok(cli("schedule", "tea-ny", "--match", "2026-11-01T01:30-05:00", "--json"))
    assert result.stderr == ""
    assert result.json()[0]["match_at"] == "2026-11-01T01:30:00-05:00"

    weekly = _ok(
        cli(
            "schedule", "tea-ny", "--match", "2026-11-01T06:30Z",
            "--repeat", "weekly", "--count", "2", "--json",
        )
    )  # fmt: skip
    assert weekly.stderr == ""
    assert [r["match_at"] for r in weekly.json()] == [
        "2026-11-01T01:30:00-05:00",
        "2026-11-08T01:30:00-05:00",
    ]


# --- series and daylight-saving time ---------------------------------------------------------


def _schedule_json(cli: Invoke, *args: str) -> Result:
    result = _ok(cli("schedule", *args, "--json"))
    return result


@pytest.mark.usefixtures("coffee")
def test_paris_weekly_across_the_spring_change_moves_the_gap_time(cli: Invoke) -> None:
    result = _schedule_json(
        cli, "coffee-paris",
        "--opt-in", "2027-03-19 09:00", "--match", "2027-03-21 02:30",
        "--repeat", "weekly", "--count", "3",
    )  # fmt: skip
    assert result.stderr == (
        "note: 2027-03-28 02:30 does not exist in Europe/Paris (clocks go forward); "
        "moved to 03:30\n"
    )
    rounds = result.json()
    series = rounds[0]["series"]
    assert series is not None
    assert _without_colors(rounds) == [
        _round(
            id=1,
            repeat="weekly",
            series=series,
            opt_in_at="2027-03-19T09:00:00+01:00",
            match_at="2027-03-21T02:30:00+01:00",
        ),
        _round(
            id=2,
            number=2,
            repeat="weekly",
            series=series,
            opt_in_at="2027-03-26T09:00:00+01:00",
            match_at="2027-03-28T03:30:00+02:00",
        ),
        _round(
            id=3,
            number=3,
            repeat="weekly",
            series=series,
            opt_in_at="2027-04-02T09:00:00+02:00",
            match_at="2027-04-04T02:30:00+02:00",
        ),
    ]
    assert _instant(rounds[1]["match_at"]) == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    assert _rounds(cli) == rounds


@pytest.mark.usefixtures("coffee")
def test_series_human_output_lists_the_rounds_and_the_note_goes_to_stderr(cli: Invoke) -> None:
    result = cli(
        "schedule", "coffee-paris",
        "--opt-in", "2027-03-19 09:00", "--match", "2027-03-21 02:30",
        "--repeat", "weekly", "--count", "3",
    )  # fmt: skip
    assert result.code == 0
    assert result.stderr.startswith("note: 2027-03-28 02:30 does not exist")
    lines = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    assert lines[0] == "3 rounds scheduled:"
    rows = [line for line in lines if line.startswith("●")]
    assert [row.split()[1] for row in rows] == ["1", "2", "3"]
    assert "2027-03-28 03:30 CEST" in rows[1]
    assert "2027-03-21 02:30 CET" in rows[0]
    assert "2027-04-04 02:30 CEST" in rows[2]
    assert all("planned" in row and "weekly" in row for row in rows)


def test_new_york_weekly_across_the_fall_change_uses_the_first_occurrence(
    cli: Invoke, frozen: time_machine.Traveller
) -> None:
    # The November 2026 change (Nov 1) is before the usual frozen instant: go back to October.
    frozen.move_to(datetime(2026, 10, 1, 12, 0, tzinfo=UTC))
    _add(cli, "tea-ny", "America/New_York", "--no-opt-in")
    result = _schedule_json(
        cli, "tea-ny", "--match", "2026-10-25 01:30", "--repeat", "weekly", "--count", "3"
    )
    assert result.stderr == (
        "note: 2026-11-01 01:30 happens twice in America/New_York; using the first (EDT, -04:00)\n"
    )
    rounds = result.json()
    assert [r["match_at"] for r in rounds] == [
        "2026-10-25T01:30:00-04:00",
        "2026-11-01T01:30:00-04:00",
        "2026-11-08T01:30:00-05:00",
    ]
    assert [r["timezone"] for r in rounds] == ["America/New_York"] * 3
    assert _instant(rounds[1]["match_at"]) == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


def test_lord_howe_half_hour_gap(cli: Invoke) -> None:
    _add(cli, "tea-lh", "Australia/Lord_Howe", "--no-opt-in")
    result = _schedule_json(
        cli, "tea-lh", "--match", "2027-09-26 02:15", "--repeat", "weekly", "--count", "3"
    )
    assert result.stderr == (
        "note: 2027-10-03 02:15 does not exist in Australia/Lord_Howe (clocks go forward); "
        "moved to 02:45\n"
    )
    assert [r["match_at"] for r in result.json()] == [
        "2027-09-26T02:15:00+10:30",
        "2027-10-03T02:45:00+11:00",
        "2027-10-10T02:15:00+11:00",
    ]


def test_lord_howe_half_hour_fold(cli: Invoke) -> None:
    _add(cli, "tea-lh", "Australia/Lord_Howe", "--no-opt-in")
    result = _schedule_json(
        cli, "tea-lh", "--match", "2027-03-28 01:45", "--repeat", "weekly", "--count", "3"
    )
    assert result.stderr == (
        "note: 2027-04-04 01:45 happens twice in Australia/Lord_Howe; using the first (+11:00)\n"
    )
    assert [r["match_at"] for r in result.json()] == [
        "2027-03-28T01:45:00+11:00",
        "2027-04-04T01:45:00+11:00",
        "2027-04-11T01:45:00+10:30",
    ]


@pytest.mark.usefixtures("coffee")
@pytest.mark.parametrize("weeks", [2, 3, 4])
def test_every_n_weeks_across_a_change_keeps_weekday_and_wall_time(cli: Invoke, weeks: int) -> None:
    # Tuesday opt-in, Thursday match, from before the 2027-03-28 change to well after it.
    result = _schedule_json(
        cli, "coffee-paris",
        "--opt-in", "2027-03-02 10:00", "--match", "2027-03-04 10:00",
        "--repeat", f"{weeks}-weeks", "--count", "4",
    )  # fmt: skip
    assert result.stderr == ""
    rounds = result.json()
    assert len(rounds) == 4
    for k, r in enumerate(rounds):
        opt_in, match = _instant(r["opt_in_at"]), _instant(r["match_at"])
        assert r["repeat"] == f"{weeks}-weeks"
        assert match.date() == date(2027, 3, 4) + timedelta(weeks=k * weeks)
        assert opt_in.date() == date(2027, 3, 2) + timedelta(weeks=k * weeks)
        assert (match.weekday(), match.hour, match.minute) == (3, 10, 0)
        assert (opt_in.weekday(), opt_in.hour, opt_in.minute) == (1, 10, 0)
        summer = match.date() > date(2027, 3, 28)
        assert match.utcoffset() == timedelta(hours=2 if summer else 1)
    # In UTC the rounds are one interval apart, except across the change: an hour less.
    matches = [_instant(r["match_at"]) for r in rounds]
    gaps = [later - earlier for earlier, later in pairwise(matches)]
    interval = timedelta(weeks=weeks)
    assert sorted(gaps) == [interval - timedelta(hours=1), interval, interval]


@pytest.mark.usefixtures("tea")
def test_count_makes_that_many_rounds_in_one_series(cli: Invoke) -> None:
    result = _schedule_json(
        cli, "tea-paris", "--match", "2026-12-03 09:00", "--repeat", "weekly", "--count", "5"
    )
    rounds = result.json()
    assert [r["id"] for r in rounds] == [1, 2, 3, 4, 5]
    assert {r["series"] for r in rounds} == {rounds[0]["series"]}
    assert rounds[0]["series"] is not None
    assert [r["match_at"][:10] for r in rounds] == [
        "2026-12-03", "2026-12-10", "2026-12-17", "2026-12-24", "2026-12-31",
    ]  # fmt: skip
    assert _rounds(cli) == rounds


@pytest.mark.usefixtures("tea")
def test_count_1_on_a_series_makes_one_round(cli: Invoke) -> None:
    result = _schedule_json(
        cli, "tea-paris", "--match", "2026-12-03 09:00", "--repeat", "weekly", "--count", "1"
    )
    [created] = result.json()
    assert created["repeat"] == "weekly"
    assert created["series"] is not None


@pytest.mark.usefixtures("tea")
@pytest.mark.parametrize(
    ("until", "days"),
    [
        ("2026-12-17", ["2026-12-03", "2026-12-10", "2026-12-17"]),  # inclusive
        ("2026-12-16", ["2026-12-03", "2026-12-10"]),
        ("2026-12-03", ["2026-12-03"]),
    ],
)
def test_until_is_the_last_local_match_date(cli: Invoke, until: str, days: list[str]) -> None:
    # 00:30 in Paris is the evening before in UTC: the date is judged in the round's zone.
    result = _schedule_json(
        cli, "tea-paris", "--match", "2026-12-03 00:30", "--repeat", "weekly", "--until", until
    )
    assert [r["match_at"][:10] for r in result.json()] == days
    assert [r["match_at"][:10] for r in _rounds(cli)] == days


@pytest.mark.usefixtures("tea")
def test_open_ended_weekly_plans_at_least_26_weeks_ahead(cli: Invoke) -> None:
    result = _schedule_json(cli, "tea-paris", "--match", "2026-11-26 09:00", "--repeat", "weekly")
    rounds = result.json()
    matches = [_instant(r["match_at"]) for r in rounds]
    assert len(rounds) >= 26
    assert {r["series"] for r in rounds} == {rounds[0]["series"]}
    # Every week from the first round on, at 09:00 Paris time, with no gap ...
    for k, match in enumerate(matches):
        assert match.date() == date(2026, 11, 26) + timedelta(weeks=k)
        assert (match.hour, match.minute) == (9, 0)
    # ... up to 26 weeks ahead: the next one would be beyond that.
    assert matches[-1] + timedelta(weeks=1) > NOW + timedelta(weeks=26)
    assert _rounds(cli) == rounds


# --- rejections: exit 2, one error line, nothing created -------------------------------------


@pytest.fixture(scope="module")
def _existing_seed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    return _seed(
        tmp_path_factory.mktemp("existing"),
        *PROGRAMS,
        ("schedule", "tea-paris", "--match", "2026-12-03 09:00"),
        ("list", "--json"),
    )


@pytest.fixture
def existing(_existing_seed: tuple[Path, str], db_path: Path) -> list[dict[str, Any]]:
    """The programs and one round already scheduled, so "unchanged" means more than "empty"."""
    seed, listed = _existing_seed
    _restore(seed, db_path)
    rounds: list[dict[str, Any]] = json.loads(listed)
    assert len(rounds) == 1
    return rounds


COFFEE = ("schedule", "coffee-paris")
TEA = ("schedule", "tea-paris")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            (*COFFEE, "--opt-in", "2026-12-03 09:00", "--match", "2026-12-03 09:00"),
            "the match time must be after the opt-in time",
            id="match-equals-opt-in",
        ),
        pytest.param(
            (*COFFEE, "--opt-in", "2026-12-03 09:00", "--match", "2026-12-02 09:00"),
            "the match time must be after the opt-in time",
            id="match-before-opt-in",
        ),
        pytest.param(
            (*COFFEE, "--opt-in", "now", "--match", "now"),
            "the match time must be after the opt-in time: give a later --match",
            id="both-now",
        ),
        pytest.param(
            (*COFFEE, "--opt-in", "2026-11-25 12:59", "--match", "2026-12-03 09:00"),
            "--opt-in: 2026-11-25 12:59 CET is in the past",
            id="opt-in-past",
        ),
        pytest.param(
            (*COFFEE, "--opt-in", "2026-11-25T13:00+01:00", "--match", "2026-12-03 09:00"),
            "--opt-in: 2026-11-25 13:00 CET is in the past",
            id="opt-in-exactly-now-given-as-a-time",
        ),
        pytest.param(
            (*TEA, "--match", "2026-11-25 12:30"),
            "--match: 2026-11-25 12:30 CET is in the past",
            id="match-past",
        ),
        pytest.param(
            (*TEA, "--match", "2026-11-20 09:00", "--repeat", "weekly", "--count", "3"),
            "--match: 2026-11-20 09:00 CET is in the past",
            id="series-starting-in-the-past",
        ),
        pytest.param(
            (*TEA, "--match", "2026-12-03 09:00", "--tz", "Mars/Olympus"),
            "--tz: unknown timezone 'Mars/Olympus': use an IANA name such as Europe/Paris",
            id="unknown-zone",
        ),
        pytest.param(
            (*TEA, "--match", "banana 9am"),
            "--match: invalid time 'banana 9am': 'banana' is not a date or time word; "
            "write e.g. 2026-06-10 09:00",
            id="unparseable-match",
        ),
        pytest.param(
            (*COFFEE, "--opt-in", "2026-12-01", "--match", "2026-12-03 09:00"),
            "--opt-in: invalid time '2026-12-01': no time of day; write e.g. 2026-12-01 09:00",
            id="unparseable-opt-in",
        ),
        pytest.param(
            (*TEA, "--match", "2027-02-30 09:00"),
            "--match: invalid time '2027-02-30 09:00': February 2027 has 28 days; "
            "write e.g. 2026-06-10 09:00",
            id="impossible-date",
        ),
        pytest.param(
            (*COFFEE, "--opt-in", "2026-11-30 09:00", "--match", "2026-12-07 09:00",
             "--repeat", "weekly"),
            "the open window (7 days 0 hours) must be shorter than the 1-week interval, "
            "or rounds would overlap",
            id="weekly-window-7-days",
        ),
        pytest.param(
            (*COFFEE, "--opt-in", "2026-11-30 09:00", "--match", "2026-12-08 10:30",
             "--repeat", "weekly", "--count", "2"),
            "the open window (8 days 1 hour 30 minutes) must be shorter than the 1-week "
            "interval, or rounds would overlap",
            id="weekly-window-over-7-days",
        ),
        pytest.param(
            (*COFFEE, "--opt-in", "2026-11-30 09:00", "--match", "2026-12-14 09:00",
             "--repeat", "2-weeks"),
            "the open window (14 days 0 hours) must be shorter than the 2-week interval, "
            "or rounds would overlap",
            id="2-weeks-window-14-days",
        ),
        pytest.param(
            (*TEA, "--match", "2026-12-03 09:00", "--repeat", "weekly", "--count", "0"),
            "--count: must be 1 or more (got 0)",
            id="count-0",
        ),
        pytest.param(
            (*TEA, "--match", "2026-12-03 09:00", "--repeat", "weekly", "--count", "-1"),
            "--count: must be 1 or more (got -1)",
            id="count-negative",
        ),
        pytest.param(
            (*TEA, "--match", "2026-12-03 09:00", "--repeat", "weekly",
             "--count", "3", "--until", "2026-12-31"),
            "use --count or --until, not both",
            id="count-and-until",
        ),
        pytest.param(
            (*TEA, "--match", "2026-12-03 09:00", "--count", "3"),
            "a one-off round does not repeat: drop --count and --until",
            id="count-on-once",
        ),
        pytest.param(
            (*TEA, "--match", "2026-12-03 09:00", "--repeat", "weekly", "--until", "2026-12-02"),
            "--until: 2026-12-02 is before the first match, on 2026-12-03",
            id="until-before-first",
        ),
        pytest.param(
            (*TEA, "--match", "2026-12-03 09:00", "--repeat", "weekly", "--until", "2026-12-32"),
            "--until: invalid date '2026-12-32': December 2026 has 31 days; write e.g. 2026-06-10",
            id="until-invalid",
        ),
        pytest.param(
            ("schedule", "coffee-rome", "--match", "2026-12-03 09:00"),
            "no program named 'coffee-rome': see 'sessionctl program list'",
            id="unknown-program",
        ),
        pytest.param(
            (*TEA, "--match", "2026-12-03 09:00", "--repeat", "daily"),
            "--repeat: unknown repeat 'daily': use one of once, weekly, 2-weeks, 3-weeks, 4-weeks",
            id="bad-repeat",
        ),
        pytest.param(
            (*TEA, "--match", "2026-12-03 09:00", "--repeat", "5-weeks"),
            "--repeat: unknown repeat '5-weeks': use one of once, weekly, 2-weeks, 3-weeks, "
            "4-weeks",
            id="bad-repeat-5-weeks",
        ),
    ],
)  # fmt: skip
def test_rejected_and_nothing_created(
    cli: Invoke,
    existing: list[dict[str, Any]],
    args: tuple[str, ...],
    message: str,
) -> None:
    series_before = _table_count("series")
    result = cli(*args)
    _assert_error(result, message)
    assert _rounds(cli) == existing
    assert _table_count("series") == series_before


def test_count_that_is_not_a_number_is_a_usage_error(
    cli: Invoke, existing: list[dict[str, Any]]
) -> None:
    result = cli(*TEA, "--match", "2026-12-03 09:00", "--repeat", "weekly", "--count", "x")
    _assert_error(result, "--count: must be a whole number (got 'x')")
    assert _rounds(cli) == existing


def test_missing_match_is_a_usage_error(cli: Invoke, existing: list[dict[str, Any]]) -> None:
    result = cli("schedule", "tea-paris")
    _assert_error(result, "missing option --match WHEN (see sessionctl schedule --help)")
    assert _rounds(cli) == existing


@pytest.mark.usefixtures("coffee")
def test_opt_in_now_is_accepted_where_a_past_time_is_not(cli: Invoke) -> None:
    refused = cli(
        "schedule", "coffee-paris", "--opt-in", "2026-11-25 12:00", "--match", "2026-11-26 09:00"
    )
    _assert_error(refused, "--opt-in: 2026-11-25 12:00 CET is in the past")
    accepted = _ok(
        cli("schedule", "coffee-paris", "--opt-in", "now", "--match", "2026-11-26 09:00")
    )
    assert accepted.stdout.startswith(
        "Round 1 scheduled: coffee-paris, opt-in Wed 2026-11-25 13:00 CET"
    )
