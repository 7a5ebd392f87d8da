"""Rounds as members see them: each program numbers its rounds from 1, in the order they are
made. Commands and JSON keep the global id and add ``number``; emails, answer pages and custom
templates say the number; Message-IDs and tokens stay bound to the id."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import time_machine

from tests.cli.test_serve_hardening import serving
from tests.conftest import Invoke, assert_error, ok, sql
from tests.rundue.conftest import outbox
from tests.rundue.test_write_races import _at_once

LINK = re.compile(r"https://coffee\.example\.com/answer/(\S+)")


def _schedule(cli: Invoke, program: str, *args: str) -> list[dict[str, Any]]:
    created: list[dict[str, Any]] = ok(cli("schedule", program, *args, "--json")).json()
    return created


def _numbers(cli: Invoke, *args: str) -> list[tuple[int, str, int]]:
    """(id, program, number) of every listed round, by id."""
    listed = ok(cli("list", *args, "--json")).json()
    return sorted((r["id"], r["program"], r["number"]) for r in listed)


def _programs(cli: Invoke, *names: str, opt_in: bool = False) -> None:
    for name in names:
        ok(cli("program", "add", name, "--tz", "UTC", "--opt-in" if opt_in else "--no-opt-in"))


# --- numbering ----------------------------------------------------------------------------------


def test_each_program_counts_its_own_rounds_from_1(cli: Invoke) -> None:
    _programs(cli, "coffee", "tea")
    series = _schedule(
        cli, "coffee", "--match", "2099-01-07 09:00", "--repeat", "weekly", "--count", "3"
    )
    [tea] = _schedule(cli, "tea", "--match", "2099-01-08 09:00")
    [coffee] = _schedule(cli, "coffee", "--match", "2099-03-01 09:00")
    assert [(r["id"], r["number"]) for r in series] == [(1, 1), (2, 2), (3, 3)]
    assert (tea["id"], tea["number"]) == (4, 1)
    assert (coffee["id"], coffee["number"]) == (5, 4)
    # Scripts read the number right after the id, in every round JSON.
    assert list(tea)[:3] == ["id", "number", "program"]
    assert _numbers(cli) == [
        (1, "coffee", 1),
        (2, "coffee", 2),
        (3, "coffee", 3),
        (4, "tea", 1),
        (5, "coffee", 4),
    ]
    assert ok(cli("show", "4", "--json")).json() == tea
    moved = ok(cli("update", "5", "--match", "2099-03-02 09:00", "--json")).json()
    assert (moved["id"], moved["number"]) == (5, 4)
    cancelled = ok(cli("cancel", "2", "--following", "--json")).json()
    assert [(r["id"], r["number"], r["status"]) for r in cancelled] == [
        (2, 2, "cancelled"),
        (3, 3, "cancelled"),
    ]


def test_cancelled_and_missed_rounds_keep_their_numbers_and_none_is_given_twice(
    cli: Invoke,
) -> None:
    _programs(cli, "coffee")
    with time_machine.travel(datetime(2026, 6, 1, 8, tzinfo=UTC), tick=False):
        _schedule(cli, "coffee", "--match", "2026-06-02 09:00")
        _schedule(cli, "coffee", "--match", "2026-06-09 09:00")
        ok(cli("cancel", "2"))
    with time_machine.travel(datetime(2026, 6, 20, 8, tzinfo=UTC), tick=False):
        assert ok(cli("run-due", "--json")).json()["missed"] == [1]  # past its grace window
        [later] = _schedule(cli, "coffee", "--match", "2026-06-23 09:00")
    assert (later["id"], later["number"]) == (3, 3)
    listed = ok(cli("list", "coffee", "--json")).json()
    assert [(r["number"], r["status"]) for r in listed] == [
        (1, "missed"),
        (2, "cancelled"),
        (3, "planned"),
    ]


def test_run_due_numbers_a_series_on_from_rounds_scheduled_meanwhile(cli: Invoke) -> None:
    start = datetime(2026, 6, 1, 8, tzinfo=UTC)
    _programs(cli, "coffee", "tea")
    with time_machine.travel(start, tick=False):
        series = _schedule(cli, "coffee", "--match", "2026-06-03 09:00", "--repeat", "weekly")
        [one_off] = _schedule(cli, "coffee", "--match", "2026-06-04 12:00")
        [tea] = _schedule(cli, "tea", "--match", "2026-06-05 09:00")
    made = len(series)
    assert [r["number"] for r in series] == list(range(1, made + 1))
    assert (one_off["number"], tea["number"]) == (made + 1, 1)
    # Three weeks on, run-due adds the open-ended series' next rounds after the one-off.
    with time_machine.travel(start + timedelta(weeks=3), tick=False):
        ok(cli("run-due"))
    rounds = ok(cli("list", "coffee", "--json")).json()
    added = [r for r in rounds if r["id"] > tea["id"]]
    assert len(added) == 3
    assert [r["number"] for r in added] == [made + 2, made + 3, made + 4]
    assert sorted(r["number"] for r in rounds) == list(range(1, made + 5))
    assert ok(cli("show", str(tea["id"]), "--json")).json()["number"] == 1


# --- what members read --------------------------------------------------------------------------


def _mail(isolated: Path, kind: str) -> list[EmailMessage]:
    return [m for m in outbox(isolated) if f".{kind}." in str(m["Message-ID"])]


def _text(msg: EmailMessage) -> str:
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())  # type: ignore[attr-defined]


def test_emails_say_the_number_and_message_ids_keep_the_id(cli: Invoke, isolated: Path) -> None:
    _programs(cli, "tea")
    _programs(cli, "coffee", opt_in=True)
    for program, emails in (("tea", ("t1", "t2")), ("coffee", ("ana", "bo"))):
        for name in emails:
            ok(cli("member", "add", program, f"{name}@example.com"))
    ok(cli("program", "template", "coffee", "no_match", "--subject", "$program, round $round"))
    _schedule(cli, "coffee", "--opt-in", "2099-01-01 09:00", "--match", "2099-01-03 09:00")
    [cancelled] = _schedule(cli, "tea", "--match", "2099-01-04 09:00")
    ok(cli("cancel", str(cancelled["id"])))
    [coffee] = _schedule(cli, "coffee", "--opt-in", "now", "--match", "2099-01-10 09:00")
    [tea] = _schedule(cli, "tea", "--match", "now")
    assert (coffee["id"], coffee["number"], tea["id"], tea["number"]) == (3, 2, 4, 2)

    ok(cli("run-due"))  # opens coffee's round 2, matches tea's round 2
    opt_ins = _mail(isolated, "opt_in")
    assert sorted(str(m["To"]) for m in opt_ins) == ["ana@example.com", "bo@example.com"]
    for msg in opt_ins:
        assert str(msg["Subject"]) == "coffee: are you in for round 2?"
        assert str(msg["Message-ID"]).startswith("<sessionctl.3.")
    matches = _mail(isolated, "match")
    assert len(matches) == 2
    for msg in matches:
        assert str(msg["Subject"]) == "tea: your match for round 2"
        assert "Round 2 of tea has matched you with:" in _text(msg)
        assert str(msg["Message-ID"]).startswith("<sessionctl.4.")

    ok(cli("respond", "3", "ana@example.com", "yes"))
    ok(cli("update", "3", "--match", "now"))
    ok(cli("run-due"))  # ana is the only one in: no match for her
    [lonely] = _mail(isolated, "no_match")
    assert str(lonely["Subject"]) == "coffee, round 2"  # the program's own template
    assert "left over in round 2 of coffee" in _text(lonely)
    assert str(lonely["Message-ID"]).startswith("<sessionctl.3.")


def _request(url: str, *, method: str = "GET") -> tuple[int, str]:
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_answer_pages_say_the_number_and_the_admin_sees_the_id(cli: Invoke, isolated: Path) -> None:
    _programs(cli, "tea")
    _schedule(cli, "tea", "--match", "2099-01-04 09:00")
    ok(cli("program", "add", "coffee", "--tz", "UTC", "--link-base", "https://coffee.example.com"))
    ok(cli("member", "add", "coffee", "ana@example.com"))
    [coffee] = _schedule(cli, "coffee", "--opt-in", "now", "--match", "2099-01-10 09:00")
    assert (coffee["id"], coffee["number"]) == (2, 1)
    ok(cli("run-due"))
    [invitation] = outbox(isolated)
    join, _ = LINK.findall(_text(invitation))

    with serving() as port:
        url = f"http://127.0.0.1:{port}/answer/{join}"
        status, page = _request(url)
        assert status == 200
        assert "<title>coffee: round 1</title>" in page
        assert "Round 1 is matched on <strong>Sat 2099-01-10 09:00 UTC</strong>" in page
        status, page = _request(url, method="POST")
        assert status == 200
        assert "You are in for round 1 of coffee." in page
        ok(cli("cancel", "2"))
        status, page = _request(url)
        assert status == 200  # pause and leave are still offered
        assert "Answers to round 1 are closed." in page
        status, page = _request(url, method="POST")
        assert status == 409
        assert "round 1 is cancelled: answers are taken only while a round is open" in page
    assert_error(
        cli("respond", "--token", join),
        "round 2 is cancelled: answers are taken only while a round is open",
    )


# --- at once --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_rounds_made_at_once_for_one_program_get_each_number_once(cli: Invoke) -> None:
    # Real processes at once: four schedules and two run-dues that extend an open-ended series.
    # The program's row lock makes them take turns; the unique index would turn a duplicate
    # into an error, so every command succeeding is the check that none was attempted.
    _programs(cli, "coffee")
    soon = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%d")
    series = _schedule(cli, "coffee", "--match", f"{soon} 09:00", "--repeat", "weekly")
    first = series[0]["id"]
    # As if time had moved on: the series lacks the rounds that run-due makes.
    sql("DELETE FROM round WHERE id > :first", first=first)
    schedules = [
        [
            "schedule",
            "coffee",
            "--match",
            f"{soon} {hour}:00",
            "--repeat",
            "2-weeks",
            "--count",
            "3",
        ]
        for hour in (10, 11, 12, 13)
    ]
    results = _at_once([*schedules, ["run-due"], ["run-due"]])
    assert [(r.code, r.stderr) for r in results] == [(0, "")] * len(results)

    rounds = ok(cli("list", "coffee", "--json")).json()
    assert len(rounds) == len(series) + 4 * 3
    assert sorted(r["number"] for r in rounds) == list(range(1, len(rounds) + 1))
    # The rounds each command made took consecutive numbers, in the order of their series.
    made: dict[int, list[tuple[int, int]]] = {}
    for r in rounds:
        if r["id"] != first:
            made.setdefault(r["series"], []).append((r["id"], r["number"]))
    assert sorted(len(m) for m in made.values()) == [3, 3, 3, 3, len(series) - 1]
    for pairs in made.values():
        numbers = [number for _, number in sorted(pairs)]
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
