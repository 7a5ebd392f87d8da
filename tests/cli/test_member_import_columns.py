"""member import of real-world files: HR exports with many columns in any order, semicolons or
tabs for separators, short and long rows, and removed members coming back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Invoke, assert_error, member_json, ok

PROGRAM = "coffee-paris"


@pytest.fixture(autouse=True)
def coffee(cli: Invoke) -> None:
    ok(cli("program", "add", PROGRAM, "--tz", "Europe/Paris"))


def _members(cli: Invoke) -> Any:
    return ok(cli("member", "list", PROGRAM, "--all", "--json")).json()


def _import(cli: Invoke, text: str, *options: str) -> Any:
    return cli("member", "import", PROGRAM, "-", *options, input=text)


def _report(**counts: Any) -> Any:
    base = {"added": 0, "re_added": 0, "updated": 0, "unchanged": 0, "ignored_columns": []}
    return {**base, **counts}


HR_EXPORT = (
    "Employee ID,Team,Manager, EMAIL ,Dept,Name,Start date\n"
    '1017,design,Bo,ana@example.com,Product,"Lima, Ana",2021-03-01\n'
    "1018,,Bo,cy@example.com,Ops,Cy,2022-09-12\n"
)


# --- other columns ----------------------------------------------------------------------------


def test_an_hr_export_is_read_and_its_other_columns_are_named_once(cli: Invoke) -> None:
    result = _import(cli, HR_EXPORT)
    assert result.code == 0
    assert result.stdout == "Imported 2 members: 2 added, 0 updated, 0 unchanged.\n"
    assert result.stderr == "note: ignored columns: Employee ID, Manager, Dept, Start date\n"
    assert _members(cli) == [
        member_json("ana@example.com", "Lima, Ana", "design"),
        member_json("cy@example.com", "Cy"),
    ]


def test_the_json_report_names_the_ignored_columns(cli: Invoke) -> None:
    result = _import(cli, HR_EXPORT, "--json")
    assert result.code == 0
    assert result.json() == _report(
        added=2, ignored_columns=["Employee ID", "Manager", "Dept", "Start date"]
    )
    assert result.stderr == "note: ignored columns: Employee ID, Manager, Dept, Start date\n"


def test_columns_without_a_name_are_named_by_their_place(cli: Invoke) -> None:
    result = _import(cli, "email,name,,note\nana@example.com,Ana,x,y\n", "--json")
    assert result.json()["ignored_columns"] == ["column 3", "note"]


def test_only_an_email_column_is_needed(cli: Invoke) -> None:
    result = ok(_import(cli, "Email\nana@example.com\nbo@example.com\n", "--json"))
    assert result.json() == _report(added=2)
    assert result.stderr == ""
    assert _members(cli) == [member_json("ana@example.com"), member_json("bo@example.com")]


def test_a_column_the_file_lacks_keeps_the_stored_value(cli: Invoke) -> None:
    ok(cli("member", "add", PROGRAM, "ana@example.com", "--name", "Ana", "--team", "design"))
    result = ok(_import(cli, "email,name\nana@example.com,Ana\n", "--json"))
    assert result.json() == _report(unchanged=1)
    result = ok(_import(cli, "team,email\n,ana@example.com\n", "--json"))  # an empty cell clears
    assert result.json() == _report(updated=1)
    assert _members(cli) == [member_json("ana@example.com", "Ana")]


# --- separators ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        'email;name;team\nana@example.com;"Lima; Ana";design\nbo@example.com;Bo, Jr;\n',
        "email\tname\tteam\nana@example.com\tLima; Ana\tdesign\nbo@example.com\tBo, Jr\t\n",
        '\ufeffE-Mail-ID;Email;Name;Team\r\n7;ana@example.com;"Lima; Ana";design\r\n'
        "8;bo@example.com;Bo, Jr;\r\n",
    ],
    ids=["semicolons", "tabs", "bom-crlf-semicolons"],
)
def test_semicolons_and_tabs_are_read_from_the_header(
    cli: Invoke, tmp_path: Path, text: str
) -> None:
    path = tmp_path / "members.csv"
    path.write_bytes(text.encode("utf-8"))
    result = cli("member", "import", PROGRAM, path, "--json")
    assert result.code == 0, result.stderr
    assert result.json()["added"] == 2
    assert _members(cli) == [
        member_json("ana@example.com", "Lima; Ana", "design"),
        member_json("bo@example.com", "Bo, Jr"),
    ]


def test_a_separator_that_cannot_be_read_is_refused_with_a_hint(cli: Invoke) -> None:
    assert_error(
        _import(cli, "email|name\nana@example.com|Ana\n"),
        "line 1: the header has no email column (found 'email|name'): separate the columns "
        "with commas, semicolons or tabs, e.g. email,name,team",
    )
    assert _members(cli) == []


def test_rows_separated_otherwise_than_the_header_are_refused_naming_the_line(
    cli: Invoke,
) -> None:
    assert_error(
        _import(cli, "email;name\nana@example.com;Ana\nbo@example.com,Bo\n"),
        "line 3: expected 2 fields (email;name), got 1",
    )
    assert_error(
        _import(cli, "email\tname\nana@example.com;Ana\n"),
        "line 2: expected 2 tab-separated fields (email, name), got 1",
    )
    assert _members(cli) == []


# --- refused files: nothing is imported ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "Name,Mail,Team\nAna,ana@example.com,design\n",
            "line 1: the header has no email column (found: Name, Mail, Team): name the column "
            "of addresses 'email'",
        ),
        (
            "email,Email\nana@example.com,ana@example.com\n",
            "line 1: the header has two email columns (columns 1 and 2)",
        ),
        (
            "email,name,team,dept\nbo@example.com,Bo,ops,x\nana@example.com,Ana,design\n",
            "line 3: expected 4 fields (email,name,team,dept), got 3",
        ),
        (
            "email,name\nbo@example.com,Bo\nana@example.com,Lima, Ana\n",
            "line 3: expected 2 fields (email,name), got 3",
        ),
        (
            "dept;email;name\nx;bo@example.com;Bo\ny;not-an-email;Ana\n",
            "line 3: invalid email 'not-an-email': use a plain address such as ana@example.com",
        ),
        ("\n\n", "line 1: the file is empty: expected a header row such as email,name,team"),
    ],
    ids=["no-email", "two-emails", "short-row", "long-row", "bad-row", "empty"],
)
def test_a_refused_file_imports_nothing(cli: Invoke, text: str, message: str) -> None:
    ok(cli("member", "add", PROGRAM, "keep@example.com", "--name", "Keep"))
    assert_error(_import(cli, text), message)
    assert _members(cli) == [member_json("keep@example.com", "Keep")]


# --- removed members coming back ----------------------------------------------------------------


def test_an_import_brings_removed_members_back_with_their_stored_fields(cli: Invoke) -> None:
    ok(cli("member", "add", PROGRAM, "ana@example.com", "--name", "Ana", "--team", "design"))
    ok(cli("member", "add", PROGRAM, "bo@example.com", "--name", "Bo", "--team", "ops"))
    ok(cli("member", "add", PROGRAM, "cy@example.com", "--name", "Cy"))
    for email in ("ana@example.com", "bo@example.com"):
        ok(cli("member", "remove", PROGRAM, email))
    # No team column: the stored teams come back; the name column overrides for Bo.
    text = "email,name\nANA@example.com,Ana\nbo@example.com,Bo Souza\ncy@example.com,Cy\n"
    text += "dee@example.com,Dee\n"
    result = ok(_import(cli, text))
    assert result.stdout == "Imported 4 members: 1 added, 2 re-added, 0 updated, 1 unchanged.\n"
    assert _members(cli) == [
        member_json("ANA@example.com", "Ana", "design"),
        member_json("bo@example.com", "Bo Souza", "ops"),
        member_json("cy@example.com", "Cy"),
        member_json("dee@example.com", "Dee"),
    ]


def test_an_import_re_adding_with_a_team_column_overrides_the_team(cli: Invoke) -> None:
    ok(cli("member", "add", PROGRAM, "ana@example.com", "--name", "Ana", "--team", "design"))
    ok(cli("member", "remove", PROGRAM, "ana@example.com"))
    result = ok(_import(cli, "email;team\nana@example.com;research\n", "--json"))
    assert result.json() == _report(re_added=1)
    assert _members(cli) == [member_json("ana@example.com", "Ana", "research")]
