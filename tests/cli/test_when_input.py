"""Times and dates as people type them, through the real CLI with a frozen clock.

Time is frozen at 2026-11-25 12:00 UTC: a Wednesday, 13:00 in Paris, 07:00 in New York.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine

from tests.conftest import Invoke, assert_error, copy_database, ok, seed_database

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
# Thursday 00:30 in Paris, still Wednesday 18:30 in New York.
LATE = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)

PROGRAMS = (
    ("program", "add", "coffee-paris", "--tz", "Europe/Paris"),
    ("program", "add", "tea-paris", "--tz", "Europe/Paris", "--no-opt-in"),
)
ROUNDS = (
    ("schedule", "tea-paris", "--match", "2026-12-02 09:00"),
    ("schedule", "coffee-paris", "--opt-in", "2026-12-01 09:00", "--match", "2026-12-03 09:00"),
    ("list", "--json"),
)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture(scope="module")
def _programs_seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("programs")
    seed_database(folder, PROGRAMS, now=NOW)
    return folder / "seed.db"


@pytest.fixture(scope="module")
def _rounds_seed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("rounds")
    listed = seed_database(folder, (*PROGRAMS, *ROUNDS), now=NOW)
    return folder / "seed.db", listed


@pytest.fixture
def programs(_programs_seed: Path, db_path: Path) -> None:
    """coffee-paris (Europe/Paris, with opt-in) and tea-paris (Europe/Paris, without)."""
    copy_database(_programs_seed, db_path)


@pytest.fixture
def rounds(_rounds_seed: tuple[Path, str], db_path: Path) -> list[dict[str, Any]]:
    """The programs, round 1 of tea-paris (Wed 2026-12-02 09:00) and round 2 of coffee-paris
    (opt-in Tue 2026-12-01 09:00, match Thu 2026-12-03 09:00); their JSON."""
    seed, listed = _rounds_seed
    copy_database(seed, db_path)
    data: list[dict[str, Any]] = json.loads(listed)
    return data


def _rounds(cli: Invoke) -> Any:
    return ok(cli("list", "--json")).json()


def _match_at(cli: Invoke, round_id: int = 1) -> str:
    shown: str = ok(cli("show", str(round_id), "--json")).json()["match_at"]
    return shown


# schedule and update read what people type, in the round's zone, and echo the weekday


@pytest.mark.usefixtures("programs")
@pytest.mark.parametrize(
    ("typed", "shown", "match_at"),
    [
        ("next wed 09:00", "Wed 2026-12-02 09:00 CET", "2026-12-02T09:00:00+01:00"),
        ("wed 9am", "Wed 2026-12-02 09:00 CET", "2026-12-02T09:00:00+01:00"),
        ("tomorrow 9:30pm", "Thu 2026-11-26 21:30 CET", "2026-11-26T21:30:00+01:00"),
        ("today 17:00", "Wed 2026-11-25 17:00 CET", "2026-11-25T17:00:00+01:00"),
        ("Dec 10 9:30", "Thu 2026-12-10 09:30 CET", "2026-12-10T09:30:00+01:00"),
        ("Jun 10 9am", "Thu 2027-06-10 09:00 CEST", "2027-06-10T09:00:00+02:00"),
        ("10 Jun 2027 09:00", "Thu 2027-06-10 09:00 CEST", "2027-06-10T09:00:00+02:00"),
        ("2026-12-10 9am", "Thu 2026-12-10 09:00 CET", "2026-12-10T09:00:00+01:00"),
        ("2026-12-10T09:00Z", "Thu 2026-12-10 10:00 CET", "2026-12-10T10:00:00+01:00"),
        ("2026-12-10 09:00 UTC-05:00", "Thu 2026-12-10 15:00 CET", "2026-12-10T15:00:00+01:00"),
    ],
)
def test_schedule_reads_typed_times_and_echoes_them_with_the_weekday(
    cli: Invoke, typed: str, shown: str, match_at: str
) -> None:
    result = ok(cli("schedule", "tea-paris", "--match", typed))
    assert result.stdout == f"Round 1 scheduled: tea-paris, match {shown}.\n"
    assert result.stderr == ""
    assert _match_at(cli) == match_at


@pytest.mark.usefixtures("programs")
def test_the_confirmation_names_both_weekdays(cli: Invoke) -> None:
    result = ok(
        cli("schedule", "coffee-paris", "--opt-in", "Jun 9 9am", "--match", "Thu 10 Jun 09:00")
    )
    assert result.stdout == (
        "Round 1 scheduled: coffee-paris, opt-in Wed 2027-06-09 09:00 CEST, "
        "match Thu 2027-06-10 09:00 CEST.\n"
    )


@pytest.mark.usefixtures("programs")
def test_relative_days_count_in_the_zone_the_times_are_read_in(
    cli: Invoke, frozen: time_machine.Traveller
) -> None:
    frozen.move_to(LATE)
    ok(cli("schedule", "tea-paris", "--match", "tomorrow 09:00"))
    ok(cli("schedule", "tea-paris", "--match", "tomorrow 09:00", "--tz", "America/New_York"))
    assert _match_at(cli, 1) == "2026-11-27T09:00:00+01:00"  # already Thursday in Paris
    assert _match_at(cli, 2) == "2026-11-26T09:00:00-05:00"
    # update reads them in the round's own zone, or in the new --tz.
    ok(cli("update", "2", "--match", "thu 10:00"))
    assert _match_at(cli, 2) == "2026-11-26T10:00:00-05:00"
    ok(cli("update", "1", "--match", "thu 10:00", "--tz", "America/New_York"))
    assert _match_at(cli, 1) == "2026-11-26T10:00:00-05:00"


@pytest.mark.usefixtures("programs")
def test_a_pasted_confirmation_reads_back_as_the_same_time(cli: Invoke) -> None:
    echoed = ok(cli("schedule", "tea-paris", "--match", "wed 09:00")).stdout
    pasted = echoed.removeprefix("Round 1 scheduled: tea-paris, match ").removesuffix(".\n")
    assert pasted == "Wed 2026-12-02 09:00 CET"
    result = ok(cli("update", "1", "--match", pasted, "--json"))
    assert result.json()["match_at"] == "2026-12-02T09:00:00+01:00"
    assert result.stderr == ""


@pytest.mark.usefixtures("rounds")
def test_the_zones_abbreviation_picks_a_side_of_a_fall_back_fold(cli: Invoke) -> None:
    # 02:30 happens twice in Paris on 2027-10-31: first in CEST, then in CET.
    first = ok(cli("update", "1", "--match", "2027-10-31 02:30", "--json"))
    assert first.json()["match_at"] == "2027-10-31T02:30:00+02:00"
    assert first.stderr == (
        "note: 2027-10-31 02:30 happens twice in Europe/Paris; using the first (CEST, +02:00)\n"
    )
    second = ok(cli("update", "1", "--match", "2027-10-31 02:30 CET", "--json"))
    assert second.json()["match_at"] == "2027-10-31T02:30:00+01:00"
    assert second.stderr == ""


# --until, --from and --to take the same day forms


@pytest.mark.usefixtures("programs")
def test_until_takes_a_typed_date(cli: Invoke) -> None:
    created = ok(
        cli("schedule", "tea-paris", "--match", "wed 9am", "--repeat", "weekly",
            "--until", "Dec 16", "--json")
    ).json()  # fmt: skip
    assert [r["match_at"] for r in created] == [
        "2026-12-02T09:00:00+01:00",
        "2026-12-09T09:00:00+01:00",
        "2026-12-16T09:00:00+01:00",
    ]


@pytest.mark.usefixtures("rounds")
def test_list_dates_take_the_typed_forms_and_mean_this_year(cli: Invoke) -> None:
    def ids(*args: str) -> list[int]:
        return [r["id"] for r in ok(cli("list", *args, "--json")).json()]

    assert ids("--from", "Dec 3") == [2]
    assert ids("--to", "tomorrow") == []
    assert ids("--from", "today", "--to", "next wed") == [1]
    # Without a year a view's date is this year's (Jan 1 2026), not the coming one.
    assert ids("--from", "Jan 1", "--to", "31 Dec 2026") == [1, 2]


@pytest.mark.usefixtures("rounds")
def test_planning_from_takes_a_typed_date(cli: Invoke) -> None:
    result = ok(cli("planning", "--from", "next tue", "--weeks", "1"))
    assert "Nov 30 – Dec 6, 2026" in result.stdout
    assert "#1" in result.stdout


# errors name the option at fault, in one line, and change nothing

TEA = ("schedule", "tea-paris")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((*TEA, "--match", "2026-13-01 09:00"),
         "--match: invalid time '2026-13-01 09:00': month must be 1 to 12; "
         "write e.g. 2026-06-10 09:00"),
        ((*TEA, "--match", "banana 9am"),
         "--match: invalid time 'banana 9am': 'banana' is not a date or time word; "
         "write e.g. 2026-06-10 09:00"),
        ((*TEA, "--match", "9"),
         "--match: invalid time '9': '9' alone is not a time or a date; "
         "write e.g. 2026-06-10 09:00"),
        ((*TEA, "--match", "2026-12-10"),
         "--match: invalid time '2026-12-10': no time of day; write e.g. 2026-12-10 09:00"),
        ((*TEA, "--match", "2026-01-01 09:00"), "--match: 2026-01-01 09:00 CET is in the past"),
        ((*TEA, "--match", "today 9am"), "--match: 2026-11-25 09:00 CET is in the past"),
        (("schedule", "coffee-paris", "--opt-in", "03/04/2027 9am", "--match", "Apr 5 2027 9am"),
         "--opt-in: invalid time '03/04/2027 9am': '03/04/2027' could be day/month or "
         "month/day; write e.g. 2027-04-03 or 3 Apr 2027"),
        ((*TEA, "--match", "wed 9am", "--tz", "Europe/Pari"),
         "--tz: unknown timezone 'Europe/Pari' (did you mean Europe/Paris?)"),
        ((*TEA, "--match", "wed 9am", "--repeat", "weekly", "--until", "31/12/2026"),
         "--until: invalid date '31/12/2026': numeric dates are read only year first; "
         "write e.g. 2026-12-31 or 31 Dec 2026"),
        ((*TEA, "--match", "wed 9am", "--repeat", "weekly", "--until", "tomorrow 9am"),
         "--until: invalid date 'tomorrow 9am': give a date without a time of day"),
        ((*TEA, "--match", "wed 9am", "--repeat", "weekly", "--until", "tomorrow"),
         "--until: 2026-11-26 is before the first match, on 2026-12-02"),
        (("update", "1", "--match", "tomorrow 25:00"),
         "--match: invalid time 'tomorrow 25:00': hour must be 0 to 23; "
         "write e.g. 2026-06-10 09:00"),
        (("update", "2", "--opt-in", "yesterday 9am"),
         "--opt-in: invalid time 'yesterday 9am': 'yesterday' is not a date or time word; "
         "write e.g. 2026-06-10 09:00"),
        (("update", "1", "--tz", "paris"),
         "--tz: unknown timezone 'paris' (did you mean Europe/Paris?)"),
        (("list", "--from", "3/4"),
         "--from: invalid date '3/4': could be day/month or month/day; "
         "write e.g. 3 Apr or 4 Mar"),
        (("list", "--to", "someday"),
         "--to: invalid date 'someday': 'someday' is not a date or time word; "
         "write e.g. 2026-06-10"),
        (("list", "--tz", "Tokio"), "--tz: unknown timezone 'Tokio' (did you mean Asia/Tokyo?)"),
        (("planning", "--from", "2026-02-30"),
         "--from: invalid date '2026-02-30': February 2026 has 28 days; write e.g. 2026-06-10"),
        (("show", "1", "--tz", "Mars/Olympus"),
         "--tz: unknown timezone 'Mars/Olympus': use an IANA name such as Europe/Paris"),
        (("program", "add", "tea-ny", "--tz", "New York"),
         "--tz: unknown timezone 'New York' (did you mean America/New_York?)"),
        (("program", "set", "tea-paris", "--tz", "Europe/Pariss"),
         "--tz: unknown timezone 'Europe/Pariss' (did you mean Europe/Paris?)"),
    ],
)  # fmt: skip
def test_time_date_and_zone_errors_name_the_option_and_change_nothing(
    cli: Invoke, rounds: list[dict[str, Any]], args: tuple[str, ...], message: str
) -> None:
    assert_error(cli(*args), message)
    assert _rounds(cli) == rounds
    programs = ok(cli("program", "list", "--json")).json()
    assert [(p["name"], p["timezone"]) for p in programs] == [
        ("coffee-paris", "Europe/Paris"),
        ("tea-paris", "Europe/Paris"),
    ]


def test_views_without_typed_times_never_load_dateutil() -> None:
    code = (
        "import sys\n"
        "from sessionctl.cli import run\n"
        "codes = [run(['--help']), run(['program', 'add', 'tea', '--tz', 'UTC']),\n"
        "         run(['list']), run(['list', '--from', '2026-06-10', '--tz', 'Asia/Tokyo'])]\n"
        "print(codes, sorted({m.split('.')[0] for m in sys.modules} & {'dateutil'}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[0, 0, 0, 0] []"
