"""Times far ahead, through the real CLI: schedule and update refuse times at or after the
horizon (2100-01-01 00:00 UTC); views and ics survive rounds stored beyond it by older versions
and dates near years 1 and 9999.

Time is frozen at 2026-11-25 12:00 UTC (13:00 in Paris), a Wednesday.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import recurring_ical_events
import time_machine
from icalendar import Calendar

from tests.conftest import Invoke, assert_error, ok, sql

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
HORIZON = datetime(2100, 1, 1, tzinfo=UTC)
FAR = "is too far ahead: schedule rounds before 2100-01-01 00:00 UTC"
COFFEE = ("schedule", "coffee-paris")  # opt-in, Europe/Paris
TEA = ("schedule", "tea-paris")  # no opt-in, Europe/Paris


@pytest.fixture(autouse=True)
def frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def programs(cli: Invoke) -> None:
    ok(cli("program", "add", "coffee-paris", "--tz", "Europe/Paris"))
    ok(cli("program", "add", "tea-paris", "--tz", "Europe/Paris", "--no-opt-in"))


def _rounds(cli: Invoke, *args: str) -> list[dict[str, Any]]:
    result = ok(cli("list", *args, "--json"))
    assert result.stderr == ""
    rounds: list[dict[str, Any]] = result.json()
    return rounds


def _count(table: str) -> int:
    ((found,),) = sql(f"SELECT count(*) FROM {table}")
    return int(found)


def _store_far(round_id: int, **columns: str) -> None:
    """What an older sessionctl let through: times past the horizon, written as it stores them."""
    sets = ", ".join(f"{name} = :{name}" for name in columns)
    changed = sql(f"UPDATE round SET {sets} WHERE id = :id RETURNING id", **columns, id=round_id)
    assert changed == [(round_id,)]


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# schedule


@pytest.mark.usefixtures("programs")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            (*COFFEE, "--opt-in", "now", "--match", "9999-12-31 09:00"),
            f"--match: 9999-12-31 09:00 {FAR}",
            id="year-9999",
        ),
        pytest.param(
            (*TEA, "--match", "2100-01-01 01:00"),
            f"--match: 2100-01-01 01:00 {FAR}",
            id="paris-exactly-at-the-horizon",
        ),
        pytest.param(
            (*TEA, "--match", "9999-12-31T23:59+14:00"),
            f"--match: 9999-12-31T23:59+14:00 {FAR}",
            id="offset-east",
        ),
        pytest.param(
            (*TEA, "--match", "9999-12-31T23:59-14:00"),
            f"--match: 9999-12-31T23:59-14:00 {FAR}",
            id="offset-past-year-9999-in-utc",
        ),
        pytest.param(
            (*TEA, "--match", "2099-12-31T23:59:30-00:01"),
            f"--match: 2099-12-31T23:59:30-00:01 {FAR}",
            id="offset-just-past",
        ),
        pytest.param(
            (*TEA, "--match", "9999-12-31 23:59", "--tz", "America/Adak"),
            f"--match: 9999-12-31 23:59 {FAR}",
            id="far-west-zone-year-9999",
        ),
        pytest.param(
            (*TEA, "--match", "2099-12-31 14:00", "--tz", "America/Adak"),
            f"--match: 2099-12-31 14:00 {FAR}",
            id="far-west-zone-new-years-eve",
        ),
        pytest.param(
            (*TEA, "--match", "9999-12-31 23:59", "--tz", "Pacific/Kiritimati"),
            f"--match: 9999-12-31 23:59 {FAR}",
            id="far-east-zone",
        ),
        pytest.param(
            (*COFFEE, "--opt-in", "2100-06-01 09:00", "--match", "2100-06-03 09:00"),
            f"--opt-in: 2100-06-01 09:00 {FAR}",
            id="opt-in",
        ),
        pytest.param(
            (*TEA, "--match", "2099-06-03 09:00", "--repeat", "weekly", "--until", "2100-01-01"),
            f"--until: 2100-01-01 {FAR}",
            id="until-the-horizon-date",
        ),
        pytest.param(
            (*TEA, "--match", "2026-12-02 09:00", "--repeat", "weekly", "--until", "9999-12-31"),
            f"--until: 9999-12-31 {FAR}",
            id="until-year-9999",
        ),
        pytest.param(
            (*TEA, "--match", "2099-06-03 09:00", "--repeat", "weekly", "--count", "32"),
            f"round 32 of the series (match 2100-01-06 09:00) {FAR} (give --count 31 or less)",
            id="series-count",
        ),
        pytest.param(
            (*TEA, "--match", "2099-12-03 14:30", "--tz", "America/Adak",
             "--repeat", "weekly", "--until", "2099-12-31"),
            f"round 5 of the series (match 2099-12-31 14:30) {FAR} (give an earlier --until)",
            id="series-until-in-a-west-zone",
        ),
        pytest.param(
            (*TEA, "--match", "10 Jun 9999 09:00"),
            f"--match: 9999-06-10 09:00 {FAR}",
            id="other-form",
        ),
    ],
)  # fmt: skip
def test_schedule_refuses_times_past_the_horizon_and_stores_nothing(
    cli: Invoke, args: tuple[str, ...], message: str
) -> None:
    assert_error(cli(*args), message)
    assert _count("round") == 0
    assert _count("series") == 0


@pytest.mark.usefixtures("programs")
def test_times_just_before_the_horizon_are_accepted(cli: Invoke) -> None:
    ok(cli(*TEA, "--match", "2100-01-01 00:59"))  # 23:59 UTC
    ok(cli(*TEA, "--match", "2099-12-31T23:59:59Z"))
    ok(cli(*TEA, "--match", "2100-01-01 13:59", "--tz", "Pacific/Kiritimati"))
    ok(cli(*TEA, "--match", "2099-06-03 09:00", "--repeat", "weekly", "--count", "31"))
    rounds = _rounds(cli)
    assert len(rounds) == 3 + 31
    assert max(_instant(r["match_at"]) for r in rounds) == HORIZON - timedelta(seconds=1)


@pytest.mark.usefixtures("programs")
def test_open_ended_series_stop_before_the_horizon(
    cli: Invoke, frozen: time_machine.Traveller
) -> None:
    frozen.move_to(datetime(2099, 9, 1, 12, 0, tzinfo=UTC))
    ok(cli(*TEA, "--match", "2099-09-02 09:00", "--repeat", "weekly"))
    matches = [_instant(r["match_at"]) for r in _rounds(cli)]
    # Every Wednesday 09:00 Paris (08:00 UTC) up to the last one before the horizon.
    assert matches[-1] == datetime(2099, 12, 30, 8, 0, tzinfo=UTC)
    assert len(matches) == 18
    frozen.move_to(datetime(2099, 12, 31, 12, 0, tzinfo=UTC))
    ok(cli("run-due"))  # extends open-ended series: nothing left to create
    assert [_instant(r["match_at"]) for r in _rounds(cli)] == matches


# update


@pytest.fixture
def series(cli: Invoke, programs: None) -> None:
    """Rounds 1-3: Wednesdays 2099-12-09, 16 and 23 at 15:00 Paris, weekly; round 4 on
    2099-12-31 at 15:00 Paris (14:00 UTC)."""
    ok(cli(*TEA, "--match", "2099-12-09 15:00", "--repeat", "weekly", "--count", "3"))
    ok(cli(*TEA, "--match", "2099-12-31 15:00"))


@pytest.mark.usefixtures("series")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ("update", "1", "--match", "9999-12-31 09:00"),
            f"--match: 9999-12-31 09:00 {FAR}",
            id="match",
        ),
        pytest.param(
            ("update", "1", "--match", "9999-12-31T23:59-14:00"),
            f"--match: 9999-12-31T23:59-14:00 {FAR}",
            id="offset",
        ),
        pytest.param(
            ("update", "4", "--tz", "America/Adak"),  # 15:00 there is 01:00 UTC on 2100-01-01
            f"--tz: the match time 2099-12-31 15:00 {FAR}",
            id="zone-change-reads-the-wall-time-in-the-new-zone",
        ),
        pytest.param(
            ("update", "1", "--match", "2099-12-30 15:00", "--following"),
            f"round 2 (match 2100-01-06 15:00) {FAR} (drop --following to move this round alone)",
            id="following",
        ),
    ],
)
def test_update_refuses_times_past_the_horizon_and_changes_nothing(
    cli: Invoke, args: tuple[str, ...], message: str
) -> None:
    before = _rounds(cli)
    assert_error(cli(*args), message)
    assert _rounds(cli) == before


@pytest.mark.usefixtures("series")
def test_update_to_the_last_minute_before_the_horizon_is_accepted(cli: Invoke) -> None:
    ok(cli("update", "1", "--match", "2100-01-01 00:59"))
    assert _rounds(cli)[-1]["match_at"] == "2100-01-01T00:59:00+01:00"


# rounds stored past the horizon by an older version

SPAN = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2029, 1, 1, tzinfo=UTC))
SKIPPED = "is past the scheduling horizon 2100-01-01 00:00 UTC"


@pytest.fixture
def stored_far(cli: Invoke, programs: None) -> None:
    """Rounds 1-5: a weekly coffee series from 2027-01-06; 6 and 7: one-off tea rounds in March.
    Round 3 (mid-series), round 5 (last of the series) and round 7 are then moved to the end of
    year 9999 in the database, as sessionctl accepted before it had a horizon."""
    ok(cli(*COFFEE, "--opt-in", "2027-01-04 09:00", "--match", "2027-01-06 09:00",
           "--repeat", "weekly", "--count", "5"))  # fmt: skip
    ok(cli(*TEA, "--match", "2027-03-06 09:00"))
    ok(cli(*TEA, "--match", "2027-03-07 09:00", "--tz", "UTC"))
    end_of_9999 = "9999-12-31 23:00:00.000000"
    _store_far(3, match_at=end_of_9999)
    _store_far(5, opt_in_at="9999-12-30 23:00:00.000000", match_at=end_of_9999)
    _store_far(7, match_at=end_of_9999)


def _windows(data: bytes) -> list[tuple[datetime, datetime]]:
    found = []
    for event in recurring_ical_events.of(Calendar.from_ical(data)).between(*SPAN):
        start, end = event["DTSTART"].dt, event.get("DTEND", event["DTSTART"]).dt
        found.append((start.astimezone(UTC), end.astimezone(UTC)))
    return sorted(found)


def _listed_windows(rounds: list[dict[str, Any]]) -> list[tuple[datetime, datetime]]:
    found = []
    for r in rounds:
        match = _instant(r["match_at"])
        found.append((_instant(r["opt_in_at"]) if r["opt_in_at"] else match, match))
    return sorted(found)


@pytest.mark.usefixtures("stored_far")
@pytest.mark.parametrize("program", [(), ("coffee-paris",)], ids=["all", "one-program"])
def test_ics_skips_each_round_past_the_horizon_and_exports_the_others(
    cli: Invoke, tmp_path: Path, program: tuple[str, ...]
) -> None:
    target = tmp_path / "out.ics"
    result = ok(cli("ics", *program, "-o", str(target)))
    notes = [
        f"note: skipped round 3 of coffee-paris: its match time 9999-12-31 23:00 UTC {SKIPPED}",
        f"note: skipped round 5 of coffee-paris: its opt-in time 9999-12-31 00:00 CET {SKIPPED}",
        f"note: skipped round 7 of tea-paris: its match time 9999-12-31 23:00 UTC {SKIPPED}",
    ]
    assert result.stderr.splitlines() == (notes if program == () else notes[:2])
    kept = [r for r in _rounds(cli, *program) if r["id"] not in (3, 5, 7)]
    assert [r["id"] for r in kept] == ([1, 2, 4, 6] if program == () else [1, 2, 4])
    assert _windows(target.read_bytes()) == _listed_windows(kept)


@pytest.mark.usefixtures("stored_far")
def test_ics_of_a_cancelled_far_round_says_nothing(cli: Invoke) -> None:
    ok(cli("cancel", "7"))
    result = ok(cli("ics", "tea-paris"))
    assert result.stderr == ""
    assert len(list(Calendar.from_ical(result.stdout).walk("VEVENT"))) == 1


@pytest.mark.usefixtures("stored_far")
def test_views_and_run_due_show_rounds_past_the_horizon(
    cli: Invoke, frozen: time_machine.Traveller
) -> None:
    # East of UTC the local time would be in year 10000: the instant is shown in UTC instead.
    kiritimati = ("--tz", "Pacific/Kiritimati")
    by_id = {r["id"]: r for r in _rounds(cli, *kiritimati)}
    assert by_id[7]["match_at"] == "9999-12-31T23:00:00+00:00"
    assert by_id[6]["match_at"] == "2027-03-06T22:00:00+14:00"
    assert "9999-12-31 23:00 UTC" in ok(cli("list", *kiritimati)).stdout
    assert "9999-12-31 23:00 UTC" in ok(cli("show", "7", *kiritimati)).stdout
    assert ok(cli("show", "7", "--json")).json()["match_at"] == "9999-12-31T23:00:00+00:00"
    week = ok(cli("planning", "--from", "9999-12-26", "--weeks", "1", *kiritimati)).stdout
    assert "Dec 20 – 26, 9999" in week
    assert "#3 coffee-paris" in week  # open from 2027 to the end of 9999
    frozen.move_to(datetime(2027, 1, 4, 9, 0, tzinfo=UTC))
    result = ok(cli("run-due"))
    assert result.stderr == ""
    assert "round 1 (coffee-paris): opened" in result.stdout


# view dates near years 1 and 9999


@pytest.mark.usefixtures("stored_far")
def test_list_from_year_1_to_year_9999_shows_every_round(cli: Invoke) -> None:
    ids = [1, 2, 4, 6, 3, 5, 7]
    assert [r["id"] for r in _rounds(cli, "--from", "0001-01-01", "--to", "9999-12-31")] == ids
    for zone in ("Pacific/Kiritimati", "America/Adak"):
        everything = _rounds(cli, "--from", "0001-01-01", "--to", "9999-12-31", "--tz", zone)
        assert [r["id"] for r in everything] == ids
    assert _rounds(cli, "--to", "0001-01-01") == []
    assert [r["id"] for r in _rounds(cli, "--from", "9999-12-31")] == [3, 5, 7]


@pytest.mark.usefixtures("programs")
@pytest.mark.parametrize(
    ("start", "weeks", "label"),
    [("0001-01-01", "6", "Jan 1 – 7, 1"), ("0001-01-07", "1", "Jan 1 – 7, 1"),
     ("9999-12-26", "1", "Dec 20 – 26, 9999"), ("9999-11-01", "8", "Dec 20 – 26, 9999")],
)  # fmt: skip
def test_planning_shows_weeks_near_years_1_and_9999(
    cli: Invoke, start: str, weeks: str, label: str
) -> None:
    for zone in ("Pacific/Kiritimati", "America/Adak"):
        result = ok(cli("planning", "--from", start, "--weeks", weeks, "--tz", zone))
        assert label in result.stdout
        assert result.stderr == ""


@pytest.mark.usefixtures("programs")
@pytest.mark.parametrize(
    ("start", "weeks", "span"),
    [
        ("9999-12-27", "1", "1 week from 9999-12-27 runs"),
        ("9999-12-01", "6", "6 weeks from 9999-12-01 run"),
    ],
)
def test_planning_past_year_9999_is_one_line(
    cli: Invoke, start: str, weeks: str, span: str
) -> None:
    assert_error(
        cli("planning", "--from", start, "--weeks", weeks),
        f"{span} past 9999-12-31: give an earlier date or fewer weeks",
    )
