"""``list --csv`` and ``groups ROUND --csv`` through the real CLI, read back with the csv module.

What a user relies on: the file opens in a spreadsheet as the same figures ``--json`` gives,
RFC 4180 (CRLF line ends, quoted commas and quotes), and no cell a spreadsheet would run as a
formula (a leading ``'`` on text starting with ``=``, ``+``, ``-`` or ``@``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from tests.conftest import Invoke, Result, assert_error, ok

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)  # a Monday

LIST_HEADER = [
    "id",
    "number",
    "program",
    "status",
    "timezone",
    "opt_in_at",
    "match_at",
    "repeat",
    "series",
    "invited",
    "opted_in",
    "declined",
    "no_answer",
]

# Names and teams as people type them, including what a spreadsheet would run.
PEOPLE = [
    ("ana@example.com", '=HYPERLINK("http://x.test","click")', "=design"),
    ("bo@example.com", "+33 6 12 34 56 78", "-ops"),
    ("cy@example.com", "-Cy-", "@sales"),
    ("di@example.com", "@di", "R&D, Paris"),
    ("ed@example.com", 'Ed "the cook", Jr', ""),
    ("flo@example.com", "Flo", "plain"),
]


@pytest.fixture(autouse=True)
def frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def _rows(result: Result) -> list[list[str]]:
    """The CSV on stdout, as a spreadsheet (or Python's csv module) reads it."""
    assert result.code == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.endswith("\r\n")
    assert "\n" not in result.stdout.replace("\r\n", "")  # every line ends with CRLF
    return list(csv.reader(io.StringIO(result.stdout, newline="")))


def _import(cli: Invoke, program: str, people: list[tuple[str, str, str]]) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["email", "name", "team"])
    writer.writerows(people)
    ok(cli("member", "import", program, "-", input=out.getvalue()))


def _program(cli: Invoke, name: str, *flags: str) -> None:
    ok(cli("program", "add", name, "--sender", "team@example.com", *flags))


def _escaped(text: str) -> str:
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


# --- groups ROUND --csv --------------------------------------------------------------------------


def test_groups_csv_one_row_per_member_with_its_group_and_formulas_escaped(cli: Invoke) -> None:
    _program(cli, "coffee", "--tz", "UTC", "--no-opt-in")
    _import(cli, "coffee", PEOPLE)
    [made] = ok(cli("schedule", "coffee", "--match", "now", "--json")).json()
    ok(cli("run-due"))
    groups = ok(cli("groups", str(made["id"]), "--json")).json()["groups"]

    rows = _rows(cli("groups", str(made["id"]), "--csv"))

    by_email = {email: (name, team) for email, name, team in PEOPLE}
    expected = [
        [str(number), email, _escaped(by_email[email][0]), _escaped(by_email[email][1])]
        for number, group in enumerate(groups, start=1)
        for email in group
    ]
    assert rows == [["group", "email", "name", "team"], *expected]
    assert len(expected) == len(PEOPLE)
    names = {row[1]: row[2] for row in rows[1:]}
    assert names["ana@example.com"] == '\'=HYPERLINK("http://x.test","click")'
    assert names["bo@example.com"] == "'+33 6 12 34 56 78"
    assert names["ed@example.com"] == 'Ed "the cook", Jr'  # commas and quotes come back whole
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_groups_csv_lists_who_got_no_match_with_an_empty_group(cli: Invoke) -> None:
    _program(cli, "lunch", "--tz", "UTC")
    _import(cli, "lunch", PEOPLE[:3])
    [made] = ok(cli("schedule", "lunch", "--opt-in", "now", "--match", "2026-06-03 09:00",
                    "--json")).json()  # fmt: skip
    round_id = str(made["id"])
    ok(cli("run-due"))
    ok(cli("respond", round_id, "cy@example.com", "yes"))  # the only one: nobody to meet
    with time_machine.travel(T0 + timedelta(days=2, minutes=1), tick=False):
        ok(cli("run-due"))
        assert ok(cli("groups", round_id, "--json")).json()["no_match"] == ["cy@example.com"]
        rows = _rows(cli("groups", round_id, "--csv"))
    assert rows == [["group", "email", "name", "team"], ["", "cy@example.com", "'-Cy-", "'@sales"]]


def test_groups_csv_of_a_preview(cli: Invoke) -> None:
    _program(cli, "walk", "--tz", "UTC", "--no-opt-in", "--group-size", "3")
    _import(cli, "walk", PEOPLE)
    [made] = ok(cli("schedule", "walk", "--match", "2026-06-05 09:00", "--json")).json()
    round_id = str(made["id"])
    preview = ok(cli("groups", round_id, "--preview", "--json")).json()["groups"]
    rows = _rows(cli("groups", round_id, "--preview", "--csv"))
    assert [(row[0], row[1]) for row in rows[1:]] == [
        (str(n), email) for n, group in enumerate(preview, start=1) for email in group
    ]
    assert ok(cli("messages", "--json")).json() == []  # a preview stores and sends nothing


# --- list --csv ---------------------------------------------------------------------------------


def _listed_as_json(cli: Invoke, *args: str) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = ok(cli("list", *args, "--json")).json()
    return listed


def _as_cells(view: dict[str, Any]) -> list[str]:
    return ["" if view[c] is None else str(view[c]) for c in LIST_HEADER]


def test_list_csv_has_the_columns_and_figures_of_list_json(cli: Invoke) -> None:
    _program(cli, "coffee-paris", "--tz", "Europe/Paris")
    _program(cli, "lunch-nyc", "--tz", "America/New_York", "--no-opt-in")
    _import(cli, "coffee-paris", PEOPLE)
    ok(cli("schedule", "coffee-paris", "--opt-in", "now", "--match", "2026-06-04 12:00",
           "--repeat", "weekly", "--count", "3"))  # fmt: skip
    ok(cli("schedule", "lunch-nyc", "--match", "2026-06-10 12:30"))
    ok(cli("run-due"))  # the first coffee round opens: invited figures
    ok(cli("respond", "1", "ana@example.com", "yes"))
    ok(cli("respond", "1", "bo@example.com", "no"))

    rows = _rows(cli("list", "--csv"))

    views = _listed_as_json(cli)
    assert rows == [LIST_HEADER, *map(_as_cells, views)]
    first = dict(zip(LIST_HEADER, rows[1], strict=True))
    assert first["program"] == "coffee-paris"
    assert first["status"] == "open"
    assert first["match_at"] == "2026-06-04T12:00:00+02:00"  # ISO, in its own zone, with offset
    assert (first["invited"], first["opted_in"], first["declined"], first["no_answer"]) == (
        "6", "1", "1", "4"
    )  # fmt: skip
    nyc = [dict(zip(LIST_HEADER, r, strict=True)) for r in rows[1:] if r[2] == "lunch-nyc"]
    assert [r["match_at"] for r in nyc] == ["2026-06-10T12:30:00-04:00"]
    assert [r["opt_in_at"] for r in nyc] == [""]  # no opt-in: an empty cell


def test_list_csv_follows_the_filters_and_tz(cli: Invoke) -> None:
    _program(cli, "coffee-paris", "--tz", "Europe/Paris", "--no-opt-in")
    ok(cli("schedule", "coffee-paris", "--match", "2026-06-04 12:00", "--repeat", "weekly",
           "--count", "4"))  # fmt: skip
    rows = _rows(cli("list", "coffee-paris", "--from", "2026-06-10", "--tz", "UTC", "--csv"))
    views = _listed_as_json(cli, "coffee-paris", "--from", "2026-06-10", "--tz", "UTC")
    assert rows == [LIST_HEADER, *map(_as_cells, views)]
    assert [r[6] for r in rows[1:]] == [
        "2026-06-11T10:00:00+00:00",
        "2026-06-18T10:00:00+00:00",
        "2026-06-25T10:00:00+00:00",
    ]


def test_list_csv_of_no_rounds_is_the_header_alone(cli: Invoke) -> None:
    _program(cli, "coffee", "--tz", "UTC")
    assert _rows(cli("list", "coffee", "--csv")) == [LIST_HEADER]


def test_safe_cell_escapes_exactly_the_formula_starts() -> None:
    from sessionctl.domain.csvsafe import safe_cell

    for text in ("=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(text) == f"'{text}"
    for text in ("", "Ana", "a=b", "1-2", "'quoted", " =padded"):
        assert safe_cell(text) == text


# --- usage ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [("list",), ("groups", "1")])
def test_csv_and_json_together_is_a_usage_error_naming_both(
    cli: Invoke, command: tuple[str, ...]
) -> None:
    _program(cli, "coffee", "--tz", "UTC")
    assert_error(
        cli(*command, "--csv", "--json"), "--csv and --json go one at a time: give one of them"
    )
