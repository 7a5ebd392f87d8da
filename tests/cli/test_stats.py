"""stats and member list --stats, on rounds made through the real CLI: opened, answered, matched
by run-due and delivered to a real SMTP server on 127.0.0.1 that refuses one address."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from sqlmodel import SQLModel

from sessionctl.domain.csvsafe import safe_cell
from sessionctl.services import stats as stats_service
from sessionctl.store import models
from sessionctl.store.types import UTCDateTime
from tests.conftest import Invoke, assert_error
from tests.rundue import conftest as rundue
from tests.rundue.conftest import (
    SmtpServer,
    add_program,
    handler_of,
    import_members,
    ok,
    schedule,
)

# A real SMTP server on 127.0.0.1 that run-due delivers to (fixtures of tests/rundue).
start_server, server = rundue.start_server, rundue.server

SNAPSHOTS = Path(__file__).parent / "snapshots"
FIRST = datetime(2026, 6, 1, 7, 0, tzinfo=UTC)  # Monday 09:00 in Paris
SECOND = datetime(2026, 6, 8, 7, 0, tzinfo=UTC)
TITLE = '=HYPERLINK("http://evil.example","click")'
ANN, BOB, CAT, DAN, EVE = (f"{n}@example.com" for n in ("ann", "bob", "cat", "dan", "eve"))


def _match(cli: Invoke, program: str, *, yes: list[str], no: list[str]) -> int:
    """A round opened now, answered, and matched now by run-due; its id."""
    round_id = schedule(cli, program, "--opt-in", "now", "--match", "2026-12-31 10:00")
    cli("run-due")  # exits 1: the server refuses eve's invitation
    for email in yes:
        ok(cli("respond", str(round_id), email, "yes"))
    for email in no:
        ok(cli("respond", str(round_id), email, "no"))
    ok(cli("update", str(round_id), "--match", "now"))
    ok(cli("run-due"))
    return round_id


@pytest.fixture
def rounds(cli: Invoke, server: SmtpServer) -> Iterator[None]:
    """coffee (Paris, opt-in, pairs): round 1 on Jun 1, 3 of 5 say yes (a trio), dan no, eve's
    invitation refused by the server; round 2 on Jun 8, 4 say yes (two pairs, one of which must
    repeat a pair of the trio), eve refused again; round 3 planned for July (not counted).
    solo (UTC, no opt-in): three members, one round matched Jun 1. empty: no rounds."""
    handler_of(server).script("RCPT", EVE, f"550 5.1.1 <{EVE}>: User unknown")
    with time_machine.travel(FIRST, tick=False) as frozen:
        ok(cli("program", "add", "coffee", "--tz", "Europe/Paris", "--title", TITLE,
               "--sender", "team@example.com"))  # fmt: skip
        import_members(cli, "coffee", [(ANN, "=Ann"), (BOB, "Bob"), (CAT, "Cat"), (DAN, "Dan")])
        import_members(cli, "coffee", [(EVE, "Eve")])
        add_program(cli, "solo", members=3, opt_in=False)
        add_program(cli, "empty", members=2)
        _match(cli, "coffee", yes=[ANN, BOB, CAT], no=[DAN])
        schedule(cli, "solo", "--match", "now")
        ok(cli("run-due"))
        frozen.move_to(SECOND)
        _match(cli, "coffee", yes=[ANN, BOB, CAT, DAN], no=[])
        schedule(cli, "coffee", "--opt-in", "2026-07-01 09:00", "--match", "2026-07-03 10:00")
        yield


COFFEE_ROUNDS = [
    {
        "id": 1,
        "number": 1,
        "program": "coffee",
        "match_at": "2026-06-01T09:00:00+02:00",
        "opt_in": True,
        "invited": 5,
        "joined": 3,
        "declined": 1,
        "no_answer": 1,
        "participation": 60.0,
        "groups": 1,
        "repeated_pairs": 0,
        "messages_failed": 1,
    },
    {
        "id": 3,
        "number": 2,
        "program": "coffee",
        "match_at": "2026-06-08T09:00:00+02:00",
        "opt_in": True,
        "invited": 5,
        "joined": 4,
        "declined": 0,
        "no_answer": 1,
        "participation": 80.0,
        "groups": 2,
        "repeated_pairs": 1,
        "messages_failed": 1,
    },
]
COFFEE = {
    "program": "coffee",
    "title": TITLE,
    "timezone": "Europe/Paris",
    "rounds": 2,
    "invited": 10,
    "joined": 7,
    "declined": 1,
    "no_answer": 2,
    "participation": 70.0,
    "groups": 3,
    "repeated_pairs": 1,
    "messages_failed": 2,
    "trend": [60.0, 80.0],
}


def _empty(name: str, tz: str = "UTC") -> dict[str, Any]:
    return {
        "program": name,
        "title": name,
        "timezone": tz,
        "rounds": 0,
        "invited": 0,
        "joined": 0,
        "declined": 0,
        "no_answer": 0,
        "participation": None,
        "groups": 0,
        "repeated_pairs": 0,
        "messages_failed": 0,
        "trend": [],
    }


@pytest.mark.usefixtures("rounds")
def test_json_gives_every_matched_round_and_each_programs_totals(cli: Invoke) -> None:
    solo_round = {
        "id": 2,
        "number": 1,
        "program": "solo",
        "match_at": "2026-06-01T07:00:00+00:00",
        "opt_in": False,
        "invited": 3,
        "joined": 3,
        "declined": None,
        "no_answer": None,
        "participation": 100.0,
        "groups": 1,
        "repeated_pairs": 0,
        "messages_failed": 0,
    }
    solo = {
        **_empty("solo"),
        "rounds": 1,
        "invited": 3,
        "joined": 3,
        "declined": None,
        "no_answer": None,
        "participation": 100.0,
        "groups": 1,
        "trend": [100.0],
    }
    assert ok(cli("stats", "--json")).json() == {
        "programs": [COFFEE, _empty("empty"), solo],
        "rounds": [*COFFEE_ROUNDS, solo_round],
    }
    assert ok(cli("stats", "coffee", "--json")).json() == {
        "programs": [COFFEE],
        "rounds": COFFEE_ROUNDS,
    }
    assert ok(cli("stats", "empty", "--json")).json() == {
        "programs": [_empty("empty")],
        "rounds": [],
    }


@pytest.mark.usefixtures("rounds")
def test_figures_agree_with_show_and_groups(cli: Invoke) -> None:
    shown = ok(cli("show", "3", "--json")).json()
    [_, second] = ok(cli("stats", "coffee", "--json")).json()["rounds"]
    assert (shown["invited"], shown["opted_in"], shown["declined"], shown["no_answer"]) == (
        second["invited"], second["joined"], second["declined"], second["no_answer"],
    )  # fmt: skip
    assert len(ok(cli("groups", "3", "--json")).json()["groups"]) == second["groups"]
    assert "repeated pairs  1" in ok(cli("show", "3")).stdout


@pytest.mark.usefixtures("rounds")
def test_csv_reads_back_one_row_per_round_and_never_as_a_formula(cli: Invoke) -> None:
    out = ok(cli("stats", "coffee", "--csv")).stdout
    assert out.endswith("\r\n") and "\n" not in out.replace("\r\n", "")
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    assert list(rows[0]) == [
        "round", "number", "program", "title", "match_at", "opt_in", "invited", "joined",
        "declined", "no_answer", "participation", "groups", "repeated_pairs", "messages_failed",
    ]  # fmt: skip
    assert [r["title"] for r in rows] == ["'" + TITLE] * 2
    picked = ("round", "match_at", "opt_in", "joined", "participation", "repeated_pairs")
    assert [tuple(r[k] for k in picked) for r in rows] == [
        ("1", "2026-06-01T09:00:00+02:00", "yes", "3", "60.0", "0"),
        ("3", "2026-06-08T09:00:00+02:00", "yes", "4", "80.0", "1"),
    ]  # fmt: skip
    solo = list(csv.DictReader(io.StringIO(ok(cli("stats", "solo", "--csv")).stdout, newline="")))
    assert [(r["opt_in"], r["invited"], r["declined"], r["no_answer"]) for r in solo] == [
        ("no", "3", "", "")
    ]
    header_only = ok(cli("stats", "empty", "--csv")).stdout
    assert header_only.count("\r\n") == 1


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+33 1 23", "'+33 1 23"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Ann = Bob", "Ann = Bob"),
        ("", ""),
    ],
)
def test_a_cell_that_starts_like_a_formula_gets_a_quote(text: str, safe: str) -> None:
    assert safe_cell(text) == safe


@pytest.mark.usefixtures("rounds")
def test_from_and_to_keep_the_rounds_matched_on_those_days(cli: Invoke) -> None:
    def ids(*args: str) -> list[int]:
        return [r["id"] for r in ok(cli("stats", "coffee", *args, "--json")).json()["rounds"]]

    assert ids("--to", "2026-06-01") == [1]
    assert ids("--from", "2026-06-02") == [3]
    assert ids("--from", "Jun 8", "--to", "Jun 8") == [3]
    assert ids("--from", "2026-06-09") == []
    # The round before --from still counts as history: round 2 repeats a pair of round 1.
    [later] = ok(cli("stats", "coffee", "--from", "2026-06-02", "--json")).json()["rounds"]
    assert later["repeated_pairs"] == 1
    whole = ok(cli("stats", "--from", "2026-06-01", "--to", "2026-06-01", "--json")).json()
    assert [p["trend"] for p in whole["programs"]] == [[60.0], [], [100.0]]


@pytest.mark.usefixtures("rounds")
def test_the_table_shows_each_program_its_rounds_totals_and_trend(cli: Invoke) -> None:
    out = ok(cli("stats")).stdout  # piped: no colour, the widths of the content
    assert out == (SNAPSHOTS / "stats-all.txt").read_text(encoding="utf-8")
    assert "\x1b" not in out


def test_a_program_without_rounds_and_an_empty_database(cli: Invoke) -> None:
    add_program(cli, "fresh", members=3)
    assert ok(cli("stats", "fresh")).stdout == (
        "fresh: 0 matched rounds\nNo matched rounds in this range.\n"
    )
    assert ok(cli("stats", "fresh", "--json")).json() == {
        "programs": [_empty("fresh")],
        "rounds": [],
    }


def test_no_programs_at_all(cli: Invoke) -> None:
    ok(cli("db", "upgrade"))
    assert ok(cli("stats")).stdout == (
        "No programs yet: add one with 'sessionctl program add NAME'.\n"
    )
    assert ok(cli("stats", "--json")).json() == {"programs": [], "rounds": []}


def test_an_unknown_program_is_an_error(cli: Invoke) -> None:
    add_program(cli, "coffee")
    message = "no program named 'nope': see 'sessionctl program list'"
    assert_error(cli("stats", "nope"), message)
    assert_error(cli("stats", "nope", "--json"), message)
    assert_error(cli("stats", "nope", "--from", "2026-01-01"), message)


def test_bad_dates_and_options_are_one_error_line(cli: Invoke) -> None:
    add_program(cli, "coffee")
    bad = cli("stats", "--from", "someday")
    assert bad.code == 2 and bad.stdout == ""
    assert bad.stderr.startswith("error: --from: ") and bad.stderr.count("\n") == 1
    bad = cli("stats", "coffee", "--to", "2026-13-40")
    assert bad.stderr.startswith("error: --to: ") and bad.stderr.count("\n") == 1
    assert_error(
        cli("stats", "--from", "2026-06-10", "--to", "2026-06-01"),
        "--to 2026-06-01 is before --from 2026-06-10",
    )
    assert_error(
        cli("stats", "--json", "--csv"), "--json and --csv cannot be used together: choose one"
    )


@pytest.mark.usefixtures("rounds")
def test_member_list_stats_gives_rounds_joined_last_match_and_trios(cli: Invoke) -> None:
    listed = ok(cli("member", "list", "coffee", "--stats", "--json")).json()
    history = {
        m["email"]: (m["rounds_joined"], m["last_matched"], m["times_in_trio"]) for m in listed
    }
    assert history == {
        ANN: (2, "2026-06-08", 1),
        BOB: (2, "2026-06-08", 1),
        CAT: (2, "2026-06-08", 1),
        DAN: (1, "2026-06-08", 0),
        EVE: (0, None, 0),
    }
    assert list(listed[0]) == [
        "email", "name", "team", "active", "paused_until", "left_reason",
        "rounds_joined", "last_matched", "times_in_trio",
    ]  # fmt: skip
    plain = ok(cli("member", "list", "coffee", "--json")).json()
    assert "rounds_joined" not in plain[0]
    lines = ok(cli("member", "list", "coffee", "--stats")).stdout.splitlines()
    header = next(line for line in lines if "Email" in line)
    assert header.split()[-6:] == ["Rounds", "Last", "matched", "In", "a", "trio"]
    ann = next(line for line in lines if ANN in line)
    assert ann.split() == [ANN, "=Ann", "2", "2026-06-08", "1"]


def test_member_list_stats_counts_a_no_match_as_joined(cli: Invoke) -> None:
    with time_machine.travel(FIRST, tick=False):
        add_program(cli, "duo", members=["one@example.com"], opt_in=False)
        schedule(cli, "duo", "--match", "now")
        ok(cli("run-due"))
    [one] = ok(cli("member", "list", "duo", "--stats", "--json")).json()
    assert (one["rounds_joined"], one["last_matched"], one["times_in_trio"]) == (1, None, 0)
    [solo] = ok(cli("stats", "duo", "--json")).json()["rounds"]
    assert (solo["invited"], solo["joined"], solo["groups"]) == (1, 1, 0)


@pytest.mark.usefixtures("rounds")
def test_stats_load_neither_the_models_nor_alembic() -> None:
    """Their imports cost more than the whole report (bench/stats.py)."""
    code = (
        "import json, sys\n"
        "from sessionctl.cli import run\n"
        "codes = [run(['stats']), run(['stats', '--json']), run(['stats', 'coffee', '--csv',"
        " '--from', '2026-06-02'])]\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('sessionctl.store.models', "
        "'sqlmodel', 'sqlalchemy.orm', 'alembic')))\n"
        "print(json.dumps([codes, loaded]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == [[0, 0, 0], []]


@pytest.mark.parametrize("light", [stats_service.group_member, stats_service.member_span])
def test_the_stats_tables_match_the_models(light: Any) -> None:
    assert models.Program  # the models fill SQLModel.metadata
    table = SQLModel.metadata.tables[light.name]
    for column in light.columns:
        model_type = table.columns[column.name].type
        assert model_type._type_affinity is column.type._type_affinity, column.name
        assert isinstance(model_type, UTCDateTime) == isinstance(column.type, UTCDateTime)
