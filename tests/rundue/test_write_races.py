"""Every write command run by several processes at once: a conflict is resolved, never shown.

On SQLite the write lock takes turns; on PostgreSQL (``SESSIONCTL_TEST_DB``) row locks and
upserts do. Each process imports sessionctl first and then waits for one shared start instant,
so the commands really overlap instead of being spread out by interpreter start-up.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import Invoke, Result, sql
from tests.rundue.conftest import add_program, figures, ok, schedule

pytestmark = pytest.mark.slow

_AT_ONCE = (
    "import sys, time\n"
    "from sessionctl.cli import run\n"
    "start = float(sys.argv[1])\n"
    "time.sleep(max(0.0, start - time.time()))\n"
    "sys.exit(run(sys.argv[2:]))\n"
)


def _at_once(commands: list[list[str]], *, inputs: list[str] | None = None) -> list[Result]:
    """Run each command as its own process, all starting at the same instant."""
    start = time.time() + 3.0  # every interpreter has imported sessionctl by then
    env = {**os.environ, "SESSIONCTL_RUN_LOCK": "0"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _AT_ONCE, str(start), *command],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for command in commands
    ]
    results = []
    for index, proc in enumerate(procs):
        out, err = proc.communicate(input=(inputs or [""] * len(procs))[index], timeout=120)
        results.append(Result(proc.returncode, out, err))
    return results


def _all_ok(results: list[Result]) -> None:
    assert [(r.code, r.stderr) for r in results] == [(0, "")] * len(results)


def test_runs_extending_an_open_ended_series_make_each_round_once(cli: Invoke) -> None:
    add_program(cli, "coffee", members=2)
    ok(cli("schedule", "coffee", "--opt-in", "2026-12-07 09:00", "--match", "2026-12-09 09:00",
           "--repeat", "weekly"))  # fmt: skip
    before = ok(cli("list", "coffee", "--json")).json()
    first = min(r["id"] for r in before)
    for _ in range(3):  # a race is a matter of chance: give it several
        # As if time had moved on: the series lacks the rounds that run-due makes.
        sql("DELETE FROM round WHERE id > :keep", keep=first)
        _all_ok(_at_once([["run-due"]] * 6))
        after = ok(cli("list", "coffee", "--json")).json()
        assert len(after) == len(before)
        assert sorted(r["match_at"] for r in after) == sorted(r["match_at"] for r in before)


def test_many_answers_for_one_member_at_once_leave_one_answer(cli: Invoke) -> None:
    add_program(cli, "coffee", members=3)
    round_id = schedule(cli, "coffee", "--opt-in", "now", "--match", "2099-01-01 09:00")
    ok(cli("run-due"))
    email = "coffee.000@example.com"
    answers = ["yes", "no"] * 4
    _all_ok(_at_once([["respond", str(round_id), email, answer] for answer in answers]))
    invited, opted_in, declined, no_answer = figures(cli, round_id)
    assert (invited, opted_in + declined, no_answer) == (3, 1, 2)


def test_imports_of_the_same_new_members_at_once_add_each_once(cli: Invoke) -> None:
    add_program(cli, "coffee")
    rows = "".join(f"new{i}@example.com,New {i}\n" for i in range(40))
    results = _at_once(
        [["member", "import", "coffee", "-"]] * 4, inputs=["email,name\n" + rows] * 4
    )
    _all_ok(results)
    reports = sorted(r.stdout for r in results)
    assert reports[-1] == "Imported 40 members: 40 added, 0 updated, 0 unchanged.\n"
    assert reports[:-1] == ["Imported 40 members: 0 added, 0 updated, 40 unchanged.\n"] * 3
    listed = ok(cli("member", "list", "coffee", "--json")).json()
    assert sorted(m["email"] for m in listed) == sorted(f"new{i}@example.com" for i in range(40))


def test_adding_one_member_at_once_adds_it_once_and_refuses_the_rest_clearly(
    cli: Invoke,
) -> None:
    add_program(cli, "coffee")
    results = _at_once([["member", "add", "coffee", "ana@example.com", "--name", "Ana"]] * 4)
    assert sorted(r.code for r in results) == [0, 2, 2, 2]
    for refused in (r for r in results if r.code):
        assert refused.stderr.startswith("error: ana@example.com is already a member of coffee")
    assert len(ok(cli("member", "list", "coffee", "--json")).json()) == 1


def test_adding_one_program_at_once_adds_it_once_and_refuses_the_rest_clearly(
    cli: Invoke,
) -> None:
    ok(cli("db", "upgrade"))
    results = _at_once([["program", "add", "coffee", "--tz", "UTC"]] * 4)
    assert sorted(r.code for r in results) == [0, 2, 2, 2]
    for refused in (r for r in results if r.code):
        assert refused.stderr == (
            "error: program 'coffee' already exists: change it with "
            "'sessionctl program set coffee'\n"
        )
    assert [p["name"] for p in ok(cli("program", "list", "--json")).json()] == ["coffee"]


def test_runs_opening_and_matching_at_once_do_each_once(cli: Invoke, isolated: Path) -> None:
    add_program(cli, "coffee", members=6)
    add_program(cli, "lunch", members=6, opt_in=False, group_size=3)
    opening = schedule(cli, "coffee", "--opt-in", "now", "--match", "2099-01-01 09:00")
    matching = schedule(cli, "lunch", "--match", "now")
    results = _at_once([["run-due", "--json"]] * 4)
    assert [r.code for r in results] == [0] * 4
    opened = [i for r in results for i in r.json()["opened"]]
    matched = [i for r in results for i in r.json()["matched"]]
    assert (opened, matched) == ([opening], [matching])
    assert sum(r.json()["sent"] for r in results) == 6 + 6
    assert figures(cli, opening)[0] == 6


def test_updates_and_a_run_at_once_leave_a_consistent_round(cli: Invoke) -> None:
    add_program(cli, "coffee", members=4)
    round_id = schedule(cli, "coffee", "--opt-in", "now", "--match", "2099-01-01 09:00")
    ok(cli("run-due"))
    moves = [["update", str(round_id), "--match", f"2099-01-0{day} 09:00"] for day in (2, 3, 4)]
    results = _at_once([*moves, ["run-due"], ["respond", str(round_id), "coffee.001@example.com",
                                              "yes"]])  # fmt: skip
    _all_ok(results)
    shown = ok(cli("show", str(round_id), "--json")).json()
    assert shown["match_at"][:10] in {"2099-01-02", "2099-01-03", "2099-01-04"}
    assert (shown["status"], shown["opted_in"]) == ("open", 1)


def test_join_and_skip_links_used_at_once_leave_one_answer(cli: Invoke, isolated: Path) -> None:
    from tests.cli.test_links import _links

    link_base = ["--link-base", "https://coffee.example.com", "--sender", "team@example.com"]
    ok(cli("program", "add", "coffee", "--tz", "UTC", *link_base))
    ok(cli("member", "add", "coffee", "ana@example.com", "--name", "Ana"))
    round_id = schedule(cli, "coffee", "--opt-in", "now", "--match", "2099-01-01 09:00")
    ok(cli("run-due"))
    links = _links(isolated)
    tokens = [links["join"], links["skip"]] * 4
    _all_ok(_at_once([["respond", "--token", token] for token in tokens]))
    invited, opted_in, declined, no_answer = figures(cli, round_id)
    assert (invited, opted_in + declined, no_answer) == (1, 1, 0)
