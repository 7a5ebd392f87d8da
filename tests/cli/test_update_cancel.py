"""update and cancel through the real CLI: what each status allows, one round or --following.

Time is frozen at 2026-11-25 12:00 UTC (13:00 in Paris), a Wednesday.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine

from tests.conftest import Invoke, assert_error, copy_database, ok, seed_database, sql

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
NOW_PARIS = "2026-11-25T13:00:00+01:00"


@pytest.fixture(autouse=True)
def frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


_ok = ok
_assert_error = assert_error


def _rounds(cli: Invoke) -> list[dict[str, Any]]:
    result = _ok(cli("list", "--json"))
    assert result.stderr == ""
    rounds: list[dict[str, Any]] = result.json()
    return rounds


def _by_id(rounds: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {r["id"]: r for r in rounds}


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _set_round(round_id: int, **columns: str) -> None:
    sets = ", ".join(f"{name} = :{name}" for name in columns)
    changed = sql(f"UPDATE round SET {sets} WHERE id = :id RETURNING id", **columns, id=round_id)
    assert changed == [(round_id,)]


def _open_by_run_due(cli: Invoke) -> None:
    """Open round 1 for real: its opt-in time is now, so run-due opens it (no members yet)."""
    result = cli("run-due", "--json")
    assert (result.code, result.stderr) == (0, "")
    assert result.json()["opened"] == [1]


def _open_round(round_id: int, *, opened_at: str = "2026-11-25 12:00:00") -> None:
    """Put a later round in the ``open`` state directly (datetimes are stored as naive UTC):
    run-due opens rounds in time order, so an open round after a planned one of the same
    series cannot be reached otherwise in one frozen instant."""
    _set_round(round_id, status="open", opened_at=opened_at)


# --- the starting database, made once per module through the real CLI ------------------------
#
# Each CLI call costs tens of milliseconds, so this is built once and each test gets a copy.
#   1-4  coffee-paris weekly series: opt-in Wednesdays 13:00 (the first "now"), match Fridays
#        09:00, from 2026-11-25/27 to 2026-12-16/18.
#   5    coffee-paris one-off: opt-in 2026-12-01 09:00, match 2026-12-03 09:00.
#   6    tea-paris (no opt-in) one-off: match 2026-12-05 10:00.
SEED_COMMANDS = (
    ("program", "add", "coffee-paris", "--tz", "Europe/Paris"),
    ("program", "add", "tea-paris", "--tz", "Europe/Paris", "--no-opt-in"),
    (
        "schedule", "coffee-paris", "--opt-in", "now", "--match", "2026-11-27 09:00",
        "--repeat", "weekly", "--count", "4",
    ),
    ("schedule", "coffee-paris", "--opt-in", "2026-12-01 09:00", "--match", "2026-12-03 09:00"),
    ("schedule", "tea-paris", "--match", "2026-12-05 10:00"),
    ("list", "--json"),
)  # fmt: skip


@pytest.fixture(scope="module")
def _seed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    folder = tmp_path_factory.mktemp("seed")
    out = seed_database(folder, SEED_COMMANDS, now=NOW)
    return folder / "seed.db", json.loads(out)


@pytest.fixture
def before(_seed: tuple[Path, list[dict[str, Any]]], db_path: Path) -> list[dict[str, Any]]:
    """This test's database, a copy of the seed; returns ``list --json`` of the seed."""
    seed, rounds = _seed
    copy_database(seed, db_path)
    assert [r["id"] for r in rounds] == [1, 5, 2, 6, 3, 4]  # by match time
    return [{**r} for r in rounds]


def test_seed_is_what_the_tests_assume(before: list[dict[str, Any]], cli: Invoke) -> None:
    rounds = _by_id(before)
    assert [(rounds[i]["opt_in_at"], rounds[i]["match_at"]) for i in (1, 2, 3, 4)] == [
        (NOW_PARIS, "2026-11-27T09:00:00+01:00"),
        ("2026-12-02T13:00:00+01:00", "2026-12-04T09:00:00+01:00"),
        ("2026-12-09T13:00:00+01:00", "2026-12-11T09:00:00+01:00"),
        ("2026-12-16T13:00:00+01:00", "2026-12-18T09:00:00+01:00"),
    ]
    assert {rounds[i]["series"] for i in (1, 2, 3, 4)} == {1}
    assert rounds[5]["series"] is None
    assert rounds[6]["opt_in_at"] is None
    assert _rounds(cli) == before


QUIET = {"notices": 0}  # update and cancel say how many members get a change notice


def _expect(before: list[dict[str, Any]], changes: dict[int, dict[str, Any]]) -> Any:
    """``before`` with ``changes`` applied per round id, in the same order."""
    return [{**r, **changes.get(r["id"], {})} for r in before]


def _sorted_by_match(rounds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rounds, key=lambda r: (_instant(r["match_at"]), r["id"]))


# --- planned rounds --------------------------------------------------------------------------


def test_planned_round_opt_in_changes(cli: Invoke, before: list[dict[str, Any]]) -> None:
    result = _ok(cli("update", "5", "--opt-in", "2026-12-02 10:00", "--json"))
    assert result.stderr == ""
    change = {"opt_in_at": "2026-12-02T10:00:00+01:00"}
    assert result.json() == {**_by_id(before)[5], **change, **QUIET}
    assert _rounds(cli) == _expect(before, {5: change})


def test_planned_round_match_changes(cli: Invoke, before: list[dict[str, Any]]) -> None:
    result = _ok(cli("update", "5", "--match", "2026-12-06 18:00", "--json"))
    change = {"match_at": "2026-12-06T18:00:00+01:00"}
    assert result.json() == {**_by_id(before)[5], **change, **QUIET}
    assert _rounds(cli) == _sorted_by_match(_expect(before, {5: change}))


def test_planned_round_both_times_change_human_output(
    cli: Invoke, before: list[dict[str, Any]]
) -> None:
    result = cli("update", "5", "--opt-in", "2026-12-07 08:00", "--match", "2026-12-08 17:30")
    assert result.code == 0
    assert result.stderr == ""
    assert result.stdout == (
        "Round 5 updated: coffee-paris, opt-in Mon 2026-12-07 08:00 CET, "
        "match Tue 2026-12-08 17:30 CET.\n"
    )
    change = {"opt_in_at": "2026-12-07T08:00:00+01:00", "match_at": "2026-12-08T17:30:00+01:00"}
    assert _rounds(cli) == _sorted_by_match(_expect(before, {5: change}))


def test_planned_round_opt_in_now(cli: Invoke, before: list[dict[str, Any]]) -> None:
    result = _ok(cli("update", "5", "--opt-in", "now", "--json"))
    assert result.json()["opt_in_at"] == NOW_PARIS
    assert _instant(result.json()["opt_in_at"]) == NOW


def test_planned_round_tz_alone_keeps_wall_times_and_moves_instants(
    cli: Invoke, before: list[dict[str, Any]]
) -> None:
    result = _ok(cli("update", "5", "--tz", "America/New_York", "--json"))
    assert result.stderr == ""
    change = {
        "timezone": "America/New_York",
        "opt_in_at": "2026-12-01T09:00:00-05:00",
        "match_at": "2026-12-03T09:00:00-05:00",
    }
    assert result.json() == {**_by_id(before)[5], **change, **QUIET}
    old = _by_id(before)[5]
    for field in ("opt_in_at", "match_at"):
        assert _instant(change[field]) - _instant(old[field]) == timedelta(hours=6)
    assert _rounds(cli) == _sorted_by_match(_expect(before, {5: change}))


def test_planned_round_tz_with_match_reads_the_match_in_the_new_zone(
    cli: Invoke, before: list[dict[str, Any]]
) -> None:
    result = _ok(cli("update", "5", "--tz", "Asia/Tokyo", "--match", "2026-12-03 20:00", "--json"))
    assert result.json() == {
        **_by_id(before)[5],
        "timezone": "Asia/Tokyo",
        "opt_in_at": "2026-12-01T09:00:00+09:00",
        "match_at": "2026-12-03T20:00:00+09:00",
        **QUIET,
    }


def test_planned_round_without_opt_in_changes_its_match(
    cli: Invoke, before: list[dict[str, Any]]
) -> None:
    result = _ok(cli("update", "6", "--match", "2026-12-06 10:00", "--json"))
    assert result.json() == {**_by_id(before)[6], "match_at": "2026-12-06T10:00:00+01:00", **QUIET}


def test_update_says_when_it_moved_a_time(cli: Invoke, before: list[dict[str, Any]]) -> None:
    result = _ok(cli("update", "6", "--match", "2027-03-28 02:30", "--json"))
    assert result.stderr == (
        "note: 2027-03-28 02:30 does not exist in Europe/Paris (clocks go forward); "
        "moved to 03:30\n"
    )
    assert result.json()["match_at"] == "2027-03-28T03:30:00+02:00"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ("5", "--match", "2026-12-01 09:00"),
            "the match time must be after the opt-in time",
            id="match-equals-opt-in",
        ),
        pytest.param(
            ("5", "--opt-in", "2026-12-03 10:00"),
            "the match time must be after the opt-in time",
            id="opt-in-after-match",
        ),
        pytest.param(
            ("5", "--match", "now"),
            "the match time must be after the opt-in time",
            id="match-now-before-opt-in",
        ),
        pytest.param(
            ("5", "--opt-in", "2026-11-25 12:00"),
            "--opt-in: 2026-11-25 12:00 CET is in the past",
            id="opt-in-past",
        ),
        pytest.param(
            ("6", "--match", "2026-11-24 10:00"),
            "--match: 2026-11-24 10:00 CET is in the past",
            id="match-past",
        ),
        pytest.param(
            ("6", "--opt-in", "2026-12-01 09:00"),
            "round 6 belongs to a program without opt-in: drop --opt-in",
            id="opt-in-without-opt-in",
        ),
        pytest.param(
            ("5",), "nothing to change: give --opt-in, --match or --tz", id="nothing",
        ),
        pytest.param(
            ("5", "--tz", "Europe/Pariss"),
            "--tz: unknown timezone 'Europe/Pariss' (did you mean Europe/Paris?)",
            id="unknown-zone",
        ),
        pytest.param(
            ("5", "--match", "2026-12-03 9"),
            "--match: invalid time '2026-12-03 9': '9' is not a time of day; "
            "write e.g. 2026-12-03 09:00",
            id="invalid-time",
        ),
        pytest.param(
            ("5", "--match", "2026-12-05 09:00", "--following"),
            "round 5 is not part of a series: drop --following",
            id="following-on-one-off",
        ),
        pytest.param(
            ("2", "--match", "now", "--following"),
            "--match now moves one round: drop --following",
            id="following-with-match-now",
        ),
        pytest.param(
            ("3", "--match", "2026-12-16 13:00", "--following"),
            "the open window (7 days 0 hours) must be shorter than the 1-week interval, "
            "or rounds would overlap",
            id="following-window-too-long",
        ),
        pytest.param(
            ("99", "--match", "2026-12-05 09:00"),
            "no round 99: see 'sessionctl list'",
            id="unknown-round",
        ),
    ],
)  # fmt: skip
def test_refused_changes_change_nothing(
    cli: Invoke, before: list[dict[str, Any]], args: tuple[str, ...], message: str
) -> None:
    _assert_error(cli("update", *args), message)
    assert _rounds(cli) == before


def test_round_that_is_not_a_number_is_a_usage_error(
    cli: Invoke, before: list[dict[str, Any]]
) -> None:
    result = cli("update", "two", "--match", "now")
    assert (result.code, result.stdout) == (2, "")
    assert result.stderr == "error: ROUND: must be a whole number (got 'two')\n"
    assert _rounds(cli) == before


# --- one round of a series, or the following ones too ---------------------------------------


def test_series_round_without_following_changes_only_that_round(
    cli: Invoke, before: list[dict[str, Any]]
) -> None:
    result = _ok(cli("update", "3", "--match", "2026-12-12 10:00", "--json"))
    change = {"match_at": "2026-12-12T10:00:00+01:00"}
    assert result.json() == {**_by_id(before)[3], **change, **QUIET}  # one object, not a list
    assert _rounds(cli) == _expect(before, {3: change})


def test_following_moves_later_rounds_and_leaves_earlier_ones(
    cli: Invoke, before: list[dict[str, Any]]
) -> None:
    result = _ok(cli("update", "2", "--match", "2026-12-05 10:00", "--following", "--json"))
    assert result.stderr == ""
    changes = {
        2: {"match_at": "2026-12-05T10:00:00+01:00"},
        3: {"match_at": "2026-12-12T10:00:00+01:00"},
        4: {"match_at": "2026-12-19T10:00:00+01:00"},
    }
    old = _by_id(before)
    assert result.json() == [{**old[i], **changes[i], **QUIET} for i in (2, 3, 4)]
    after = _rounds(cli)
    assert after == _sorted_by_match(_expect(before, changes))
    assert _by_id(after)[1] == old[1]  # the earlier round of the series is untouched


def test_following_moves_opt_in_of_later_rounds(cli: Invoke, before: list[dict[str, Any]]) -> None:
    result = _ok(cli("update", "3", "--opt-in", "2026-12-10 08:00", "--following", "--json"))
    changes = {
        3: {"opt_in_at": "2026-12-10T08:00:00+01:00"},
        4: {"opt_in_at": "2026-12-17T08:00:00+01:00"},
    }
    assert [r["id"] for r in result.json()] == [3, 4]
    assert _rounds(cli) == _expect(before, changes)


def test_following_tz_moves_later_rounds_to_the_zone_at_the_same_wall_times(
    cli: Invoke, before: list[dict[str, Any]]
) -> None:
    _ok(cli("update", "3", "--tz", "America/New_York", "--following"))
    ny = "America/New_York"
    changes = {
        3: {
            "timezone": ny,
            "opt_in_at": "2026-12-09T13:00:00-05:00",
            "match_at": "2026-12-11T09:00:00-05:00",
        },
        4: {
            "timezone": ny,
            "opt_in_at": "2026-12-16T13:00:00-05:00",
            "match_at": "2026-12-18T09:00:00-05:00",
        },
    }
    assert _rounds(cli) == _expect(before, changes)


def test_following_skips_later_rounds_that_are_no_longer_planned(
    cli: Invoke, before: list[dict[str, Any]]
) -> None:
    _ok(cli("cancel", "4"))
    result = _ok(cli("update", "2", "--match", "2026-12-04 11:00", "--following", "--json"))
    assert [r["id"] for r in result.json()] == [2, 3]
    changes = {
        2: {"match_at": "2026-12-04T11:00:00+01:00"},
        3: {"match_at": "2026-12-11T11:00:00+01:00"},
        4: {"status": "cancelled"},
    }
    assert _rounds(cli) == _expect(before, changes)


def test_following_across_dst_keeps_weekday_and_wall_time(
    cli: Invoke, before: list[dict[str, Any]]
) -> None:
    created = _ok(
        cli("schedule", "tea-paris", "--match", "2027-03-18 10:00", "--repeat", "weekly",
            "--count", "3", "--json")
    ).json()  # fmt: skip
    first = created[0]["id"]
    result = _ok(cli("update", str(first), "--match", "2027-03-21 02:30", "--following", "--json"))
    assert result.stderr == (
        "note: 2027-03-28 02:30 does not exist in Europe/Paris (clocks go forward); "
        "moved to 03:30\n"
    )
    assert [r["match_at"] for r in result.json()] == [
        "2027-03-21T02:30:00+01:00",
        "2027-03-28T03:30:00+02:00",
        "2027-04-04T02:30:00+02:00",
    ]
    assert _rounds(cli)[: len(before)] == before


def test_following_later_keeps_the_rounds_of_a_series_with_an_end_date(
    cli: Invoke, before: list[dict[str, Any]]
) -> None:
    created = _ok(
        cli("schedule", "tea-paris", "--match", "2026-12-03 09:00", "--repeat", "weekly",
            "--until", "2026-12-17", "--json")
    ).json()  # fmt: skip
    ids = [r["id"] for r in created]
    assert len(ids) == 3
    result = cli("update", str(ids[1]), "--match", "2026-12-11 09:00", "--following", "--json")
    assert result.code == 0, result.stderr
    assert [(r["id"], r["match_at"]) for r in result.json()] == [
        (ids[1], "2026-12-11T09:00:00+01:00"),
        (ids[2], "2026-12-18T09:00:00+01:00"),
    ]
    after = _by_id(_rounds(cli))
    assert after[ids[0]] == created[0]


# --- open rounds: only the match time --------------------------------------------------------


@pytest.mark.parametrize(
    ("match", "expected"),
    [
        ("2026-11-29 18:00", "2026-11-29T18:00:00+01:00"),  # later
        ("2026-11-26 08:00", "2026-11-26T08:00:00+01:00"),  # earlier
        ("now", NOW_PARIS),
    ],
)
def test_open_round_match_moves(
    cli: Invoke, before: list[dict[str, Any]], match: str, expected: str
) -> None:
    _open_by_run_due(cli)
    result = _ok(cli("update", "1", "--match", match, "--json"))
    assert result.stderr == ""
    change = {"status": "open", "opened_at": NOW_PARIS, "match_at": expected}
    assert result.json() == {**_by_id(before)[1], **change, **QUIET}
    assert _rounds(cli) == _sorted_by_match(_expect(before, {1: change}))


def test_open_round_change_says_what_notice_it_sends(
    cli: Invoke, before: list[dict[str, Any]]
) -> None:
    _open_by_run_due(cli)  # no members: the opt-in went to nobody
    result = _ok(cli("update", "1", "--match", "2026-11-29 18:00"))
    assert result.stdout.splitlines() == [
        "Round 1 updated: coffee-paris, opt-in Wed 2026-11-25 13:00 CET, "
        "match Sun 2026-11-29 18:00 CET.",
        "Round 1: no change notice, no member has had its opt-in.",
    ]
    quiet = _ok(cli("cancel", "1", "--following", "--quiet"))
    assert quiet.stdout.splitlines()[0] == "4 rounds cancelled:"
    assert quiet.stdout.splitlines()[-1] == "Round 1: no change notice (--quiet)."


def test_open_round_match_in_the_past_is_refused(cli: Invoke, before: list[dict[str, Any]]) -> None:
    _open_by_run_due(cli)
    opened = _rounds(cli)
    result = cli("update", "1", "--match", "2026-11-25 12:30")
    _assert_error(result, "--match: 2026-11-25 12:30 CET is in the past")
    assert _rounds(cli) == opened


@pytest.mark.parametrize(
    "args",
    [
        ("--opt-in", "2026-11-26 09:00"),
        ("--opt-in", "now"),
        ("--tz", "America/New_York"),
        ("--opt-in", "2026-11-26 09:00", "--match", "2026-11-28 09:00"),
        ("--tz", "UTC", "--match", "2026-11-28 09:00", "--following"),
    ],
)
def test_open_round_refuses_opt_in_and_zone(
    cli: Invoke, before: list[dict[str, Any]], args: tuple[str, ...]
) -> None:
    _open_by_run_due(cli)
    opened = _rounds(cli)
    result = cli("update", "1", *args)
    _assert_error(result, "round 1 is open: its opt-in went out, so only --match can change")
    assert _rounds(cli) == opened


def test_open_round_following_moves_later_matches(
    cli: Invoke, before: list[dict[str, Any]]
) -> None:
    _open_by_run_due(cli)
    result = _ok(cli("update", "1", "--match", "2026-11-28 09:00", "--following", "--json"))
    changes = {
        1: {"status": "open", "opened_at": NOW_PARIS, "match_at": "2026-11-28T09:00:00+01:00"},
        2: {"match_at": "2026-12-05T09:00:00+01:00"},
        3: {"match_at": "2026-12-12T09:00:00+01:00"},
        4: {"match_at": "2026-12-19T09:00:00+01:00"},
    }
    assert [r["id"] for r in result.json()] == [1, 2, 3, 4]
    assert _rounds(cli) == _sorted_by_match(_expect(before, changes))


# --- done, cancelled and missed rounds change no more ----------------------------------------

FINAL_WHY = {
    "done": "its groups were formed and match messages created",
    "cancelled": "it was cancelled",
    "missed": "its time passed while nothing ran",
}


@pytest.mark.parametrize("status", ["done", "cancelled", "missed"])
def test_final_rounds_refuse_every_change_and_cancel(
    cli: Invoke, before: list[dict[str, Any]], status: str
) -> None:
    _set_round(2, status=status)
    final = _rounds(cli)
    refused = f"round 2 is {status}, so it cannot change: {FINAL_WHY[status]}"
    for args in (
        ("--match", "2026-12-05 09:00"),
        ("--match", "now"),
        ("--opt-in", "2026-12-03 09:00"),
        ("--tz", "UTC"),
        ("--match", "2026-12-05 09:00", "--following"),
    ):
        _assert_error(cli("update", "2", *args), refused)
    if status == "cancelled":
        not_cancelled = "round 2 is already cancelled: nothing more will be sent"
    else:
        not_cancelled = f"round 2 is {status}, so it cannot be cancelled: {FINAL_WHY[status]}"
    _assert_error(cli("cancel", "2"), not_cancelled)
    _assert_error(cli("cancel", "2", "--following"), not_cancelled)
    assert _rounds(cli) == final


# --- cancel ----------------------------------------------------------------------------------


def test_cancel_a_planned_round(cli: Invoke, before: list[dict[str, Any]]) -> None:
    result = cli("cancel", "5")
    assert result.code == 0
    assert result.stderr == ""
    assert result.stdout == (
        "Round 5 cancelled: coffee-paris, "
        "opt-in Tue 2026-12-01 09:00 CET, match Thu 2026-12-03 09:00 CET.\n"
    )
    assert _rounds(cli) == _expect(before, {5: {"status": "cancelled"}})


def test_cancel_json(cli: Invoke, before: list[dict[str, Any]]) -> None:
    result = _ok(cli("cancel", "6", "--json"))
    assert result.json() == {**_by_id(before)[6], "status": "cancelled", **QUIET}


def test_cancel_an_open_round(cli: Invoke, before: list[dict[str, Any]]) -> None:
    _open_by_run_due(cli)
    _ok(cli("cancel", "1"))
    change = {"status": "cancelled", "opened_at": NOW_PARIS}
    assert _rounds(cli) == _expect(before, {1: change})


def test_cancel_following_cancels_the_rest_of_the_series(
    cli: Invoke, before: list[dict[str, Any]]
) -> None:
    result = cli("cancel", "2", "--following")
    assert result.code == 0
    assert result.stderr == ""
    lines = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    assert lines[0] == "3 rounds cancelled:"
    rows = [line.split() for line in lines if line.startswith("●")]
    assert [(row[1], row[3]) for row in rows] == [
        ("2", "cancelled"), ("3", "cancelled"), ("4", "cancelled"),
    ]  # fmt: skip
    cancelled = {"status": "cancelled"}
    assert _rounds(cli) == _expect(before, {2: cancelled, 3: cancelled, 4: cancelled})


def test_cancel_following_leaves_later_final_rounds_alone(
    cli: Invoke, before: list[dict[str, Any]]
) -> None:
    _set_round(4, status="missed")
    _open_round(3)
    result = _ok(cli("cancel", "2", "--following", "--json"))
    assert [(r["id"], r["status"]) for r in result.json()] == [(2, "cancelled"), (3, "cancelled")]
    changes = {
        2: {"status": "cancelled"},
        3: {"status": "cancelled", "opened_at": NOW_PARIS},
        4: {"status": "missed"},
    }
    assert _rounds(cli) == _expect(before, changes)


def test_cancel_following_on_a_one_off_round_is_refused(
    cli: Invoke, before: list[dict[str, Any]]
) -> None:
    _assert_error(
        cli("cancel", "5", "--following"), "round 5 is not part of a series: drop --following"
    )
    assert _rounds(cli) == before


def test_cancel_unknown_round(cli: Invoke, before: list[dict[str, Any]]) -> None:
    _assert_error(cli("cancel", "42"), "no round 42: see 'sessionctl list'")
    assert _rounds(cli) == before
