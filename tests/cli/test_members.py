"""member add | import | list | remove through the real CLI on a real temporary SQLite file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Invoke, Result, member_json

PROGRAM = "coffee-paris"


def _assert_error(result: Result, message: str, *, code: int = 2) -> None:
    assert result.code == code
    assert result.stdout == ""
    assert result.stderr == f"error: {message}\n"


def _members(cli: Invoke, *options: str) -> Any:
    listed = cli("member", "list", PROGRAM, *options, "--json")
    assert listed.code == 0, listed.stderr
    return listed.json()


def _report(added: int = 0, updated: int = 0, unchanged: int = 0, re_added: int = 0) -> Any:
    return {
        "added": added,
        "re_added": re_added,
        "updated": updated,
        "unchanged": unchanged,
        "ignored_columns": [],
    }


def _write(tmp_path: Path, text: str, name: str = "members.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


@pytest.fixture(autouse=True)
def coffee(cli: Invoke) -> None:
    result = cli("program", "add", PROGRAM, "--tz", "Europe/Paris")
    assert result.code == 0, result.stderr


# --- member add --------------------------------------------------------------------------------


def test_add_prints_one_sentence(cli: Invoke) -> None:
    result = cli("member", "add", PROGRAM, "ana@example.com", "--name", "Ana Lima")
    assert result.code == 0
    assert result.stderr == ""
    assert result.stdout == "Member ana@example.com added to coffee-paris.\n"


def test_add_json_and_list_json(cli: Invoke) -> None:
    result = cli(
        "member", "add", PROGRAM, " ana@example.com ",
        "--name", " Ana Lima ", "--team", " design ", "--json",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    assert result.json() == member_json("ana@example.com", "Ana Lima", "design")
    assert cli("member", "add", PROGRAM, "bo@example.com", "--team", "").code == 0
    assert _members(cli) == [
        member_json("ana@example.com", "Ana Lima", "design"),
        member_json("bo@example.com"),
    ]


def test_list_is_sorted_by_email_case_insensitively(cli: Invoke) -> None:
    for email in ("cy@example.com", "Bo@example.com", "ana@example.com"):
        assert cli("member", "add", PROGRAM, email).code == 0
    assert [m["email"] for m in _members(cli)] == [
        "ana@example.com",
        "Bo@example.com",
        "cy@example.com",
    ]


@pytest.mark.parametrize(
    "email", ["nope", "ana@", "@example.com", "Ana <ana@example.com>", "ana@example", "a b@x.org"]
)
def test_add_refuses_a_bad_email(cli: Invoke, email: str) -> None:
    result = cli("member", "add", PROGRAM, email)
    _assert_error(result, f"invalid email {email!r}: use a plain address such as ana@example.com")
    assert _members(cli, "--all") == []


def test_add_to_an_unknown_program(cli: Invoke) -> None:
    result = cli("member", "add", "tea", "ana@example.com")
    _assert_error(result, "no program named 'tea': see 'sessionctl program list'")


def test_add_refuses_a_case_insensitive_duplicate(cli: Invoke) -> None:
    assert cli("member", "add", PROGRAM, "Ana@Example.com", "--name", "Ana").code == 0
    result = cli("member", "add", PROGRAM, "ana@example.com", "--name", "Other")
    _assert_error(
        result,
        "Ana@Example.com is already a member of coffee-paris: "
        "change a name or team with 'sessionctl member set coffee-paris Ana@Example.com'",
    )
    assert _members(cli, "--all") == [member_json("Ana@Example.com", "Ana")]


def test_same_email_in_two_programs(cli: Invoke) -> None:
    assert cli("program", "add", "lunch", "--tz", "UTC").code == 0
    assert cli("member", "add", PROGRAM, "ana@example.com").code == 0
    assert cli("member", "add", "lunch", "ana@example.com").code == 0
    assert _members(cli) == [member_json("ana@example.com")]


# --- member list -------------------------------------------------------------------------------


def test_list_empty(cli: Invoke) -> None:
    result = cli("member", "list", PROGRAM)
    assert result.code == 0
    assert result.stderr == ""
    assert result.stdout == (
        "No members yet: add some with 'sessionctl member add' or 'member import'.\n"
    )
    assert cli("member", "list", PROGRAM, "--json").stdout == "[]\n"


def test_list_table(cli: Invoke) -> None:
    assert cli("member", "add", PROGRAM, "ana@example.com", "--name", "Ana Lima").code == 0
    assert cli("member", "add", PROGRAM, "bo@example.com", "--team", "ops").code == 0
    result = cli("member", "list", PROGRAM)
    assert result.code == 0
    assert result.stderr == ""
    rows = [line.split() for line in result.stdout.splitlines() if line.strip()]
    assert rows[0] == ["Email", "Name", "Team"]
    assert rows[2:] == [["ana@example.com", "Ana", "Lima"], ["bo@example.com", "ops"]]


def test_list_unknown_program(cli: Invoke) -> None:
    result = cli("member", "list", "tea", "--json")
    _assert_error(result, "no program named 'tea': see 'sessionctl program list'")


# --- member remove -----------------------------------------------------------------------------


def test_remove_deactivates_and_list_all_shows_it(cli: Invoke) -> None:
    assert cli("member", "add", PROGRAM, "ana@example.com", "--name", "Ana").code == 0
    assert cli("member", "add", PROGRAM, "bo@example.com", "--name", "Bo").code == 0
    result = cli("member", "remove", PROGRAM, "ANA@example.com")
    assert result.code == 0
    assert result.stderr == ""
    assert result.stdout == "Member ana@example.com removed from coffee-paris.\n"
    assert _members(cli) == [member_json("bo@example.com", "Bo")]
    assert _members(cli, "--all") == [
        member_json("ana@example.com", "Ana", active=False),
        member_json("bo@example.com", "Bo"),
    ]
    table = cli("member", "list", PROGRAM, "--all")
    assert table.code == 0
    rows = [line.split() for line in table.stdout.splitlines() if line.strip()]
    assert rows[0] == ["Email", "Name", "Team", "Active"]
    assert rows[2:] == [["ana@example.com", "Ana", "no"], ["bo@example.com", "Bo", "yes"]]


def test_remove_unknown_or_already_removed_member(cli: Invoke) -> None:
    message = (
        "{} is not an active member of coffee-paris: see 'sessionctl member list coffee-paris'"
    )
    _assert_error(
        cli("member", "remove", PROGRAM, "ana@example.com"), message.format("ana@example.com")
    )
    assert cli("member", "add", PROGRAM, "ana@example.com").code == 0
    assert cli("member", "remove", PROGRAM, "ana@example.com").code == 0
    _assert_error(
        cli("member", "remove", PROGRAM, "ana@example.com"), message.format("ana@example.com")
    )


def test_remove_from_an_unknown_program(cli: Invoke) -> None:
    result = cli("member", "remove", "tea", "ana@example.com")
    _assert_error(result, "no program named 'tea': see 'sessionctl program list'")


def test_adding_a_removed_member_again_reactivates_them(cli: Invoke) -> None:
    assert cli("member", "add", PROGRAM, "ana@example.com", "--name", "Ana").code == 0
    assert cli("member", "remove", PROGRAM, "ana@example.com").code == 0
    result = cli("member", "add", PROGRAM, "Ana@Example.com", "--name", "Ana L", "--json")
    assert result.code == 0, result.stderr
    assert result.json() == member_json("Ana@Example.com", "Ana L")
    assert _members(cli, "--all") == [member_json("Ana@Example.com", "Ana L")]


# --- member import -----------------------------------------------------------------------------

CSV = (
    "email,name,team\nana@example.com,Ana Lima,design\nbo@example.com,Bo,\ncy@example.com,Cy,ops\n"
)
IMPORTED = [
    member_json("ana@example.com", "Ana Lima", "design"),
    member_json("bo@example.com", "Bo"),
    member_json("cy@example.com", "Cy", "ops"),
]


def test_import_a_file_then_the_same_file_again(cli: Invoke, tmp_path: Path) -> None:
    path = _write(tmp_path, CSV)
    first = cli("member", "import", PROGRAM, path, "--json")
    assert first.code == 0, first.stderr
    assert first.stderr == ""
    assert first.json() == _report(added=3)
    assert _members(cli) == IMPORTED
    second = cli("member", "import", PROGRAM, path, "--json")
    assert second.code == 0
    assert second.json() == _report(unchanged=3)
    assert _members(cli) == IMPORTED


def test_import_human_report(cli: Invoke, tmp_path: Path) -> None:
    result = cli("member", "import", PROGRAM, _write(tmp_path, CSV))
    assert result.code == 0
    assert result.stderr == ""
    assert result.stdout == "Imported 3 members: 3 added, 0 updated, 0 unchanged.\n"


def test_import_updates_changes_and_reactivates(cli: Invoke, tmp_path: Path) -> None:
    assert cli("member", "import", PROGRAM, _write(tmp_path, CSV)).code == 0
    assert cli("member", "remove", PROGRAM, "cy@example.com").code == 0
    changed = (
        "email,name,team\n"
        "ANA@example.com,Ana Lima,design\n"
        "bo@example.com,Bo,\n"
        "cy@example.com,Cy,ops\n"
        "dee@example.com,Dee,\n"
        "eli@example.com,Eli,ops\n"
    )
    result = cli("member", "import", PROGRAM, _write(tmp_path, changed), "--json")
    assert result.code == 0, result.stderr
    # ANA@… changes the stored spelling, cy was removed and comes back, dee and eli are new.
    assert result.json() == _report(added=2, re_added=1, updated=1, unchanged=1)
    assert _members(cli, "--all") == [
        member_json("ANA@example.com", "Ana Lima", "design"),
        member_json("bo@example.com", "Bo"),
        member_json("cy@example.com", "Cy", "ops"),
        member_json("dee@example.com", "Dee"),
        member_json("eli@example.com", "Eli", "ops"),
    ]


def test_import_from_standard_input(cli: Invoke) -> None:
    result = cli("member", "import", PROGRAM, "-", "--json", input=CSV)
    assert result.code == 0, result.stderr
    assert result.json() == _report(added=3)
    assert _members(cli) == IMPORTED


def test_import_without_team_column(cli: Invoke) -> None:
    text = "email,name\nana@example.com,Ana\n"
    result = cli("member", "import", PROGRAM, "-", "--json", input=text)
    assert result.code == 0, result.stderr
    assert _members(cli) == [member_json("ana@example.com", "Ana")]


@pytest.mark.parametrize(
    "text",
    [
        "\ufeffemail,name\r\nana@example.com,Ana\r\n",  # spreadsheet export: BOM and CRLF
        " Email , NAME \nana@example.com,Ana\n\n\n",  # header case and spaces; blank lines
        'email,name\n"ana@example.com","Ana"\n',
    ],
)
def test_import_accepts_common_csv_variants(cli: Invoke, tmp_path: Path, text: str) -> None:
    result = cli("member", "import", PROGRAM, _write(tmp_path, text), "--json")
    assert result.code == 0, result.stderr
    assert result.json() == _report(added=1)
    assert _members(cli) == [member_json("ana@example.com", "Ana")]


def test_import_from_standard_input_with_a_byte_order_mark(cli: Invoke) -> None:
    result = cli("member", "import", PROGRAM, "-", input="\ufeffemail,name\nana@example.com,Ana\n")
    assert result.code == 0, result.stderr
    assert _members(cli) == [member_json("ana@example.com", "Ana")]


BAD_FILES = [
    # (file text, error message): every file has good rows before the bad one.
    (
        "email,name\nnew@example.com,New\nana@example.com,Ana Changed\nnot-an-email,X\n",
        "line 4: invalid email 'not-an-email': use a plain address such as ana@example.com",
    ),
    (
        "email,name\nnew@example.com,New\n\nana@example.com,Ana,extra\n",
        "line 4: expected 2 fields (email,name), got 3",
    ),
    (
        "email,name,team\nnew@example.com,New,ops\nlonely@example.com\n",
        "line 3: expected 3 fields (email,name,team), got 1",
    ),
    (
        "email,name,team\nnew@example.com,New,ops\nshort@example.com,Short\n",
        "line 3: expected 3 fields (email,name,team), got 2",
    ),
    (
        "email,name\nnew@example.com,New\nother@example.com,Other\nNEW@Example.com,Dup\n",
        "line 4: NEW@Example.com already appears on line 2",
    ),
    ("ana@example.com,Ana\n", "line 1: the first line must be a header row naming the columns, "
     "e.g. email,name,team (found: ana@example.com, Ana)"),
    ("mail,name\nana@example.com,Ana\n", "line 1: the header has no email column (found: mail, "
     "name): name the column of addresses 'email'"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "message"), BAD_FILES)
def test_import_with_a_bad_line_imports_nothing(
    cli: Invoke, tmp_path: Path, text: str, message: str
) -> None:
    assert cli("member", "add", PROGRAM, "ana@example.com", "--name", "Ana").code == 0
    assert cli("member", "add", PROGRAM, "gone@example.com", "--name", "Gone").code == 0
    assert cli("member", "remove", PROGRAM, "gone@example.com").code == 0
    before = _members(cli, "--all")
    result = cli("member", "import", PROGRAM, _write(tmp_path, text + "gone@example.com,Back\n"))
    _assert_error(result, message)
    assert _members(cli, "--all") == before
    # The same through standard input.
    result = cli("member", "import", PROGRAM, "-", "--json", input=text)
    _assert_error(result, message)
    assert _members(cli, "--all") == before


def test_import_names_the_first_physical_line_of_a_quoted_multiline_field(cli: Invoke) -> None:
    text = 'email,name\nana@example.com,Ana\n\nbo@example.com,"Bo\nLima"\n'
    result = cli("member", "import", PROGRAM, "-", input=text)
    _assert_error(
        result,
        "line 4: invalid name 'Bo\\nLima': it must be one line without control or "
        "bidi-override characters",
    )
    assert _members(cli) == []


def test_import_a_missing_file(cli: Invoke, tmp_path: Path) -> None:
    missing = tmp_path / "missing.csv"
    result = cli("member", "import", PROGRAM, missing)
    _assert_error(result, f"cannot read {missing}: No such file or directory")


def test_import_a_file_that_is_not_utf8(cli: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("email,name\nana@example.com,Andr\xe9\n".encode("latin-1"))
    result = cli("member", "import", PROGRAM, path)
    assert result.code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: cannot read {path}: ")
    assert result.stderr.count("\n") == 1
    assert _members(cli) == []


def test_import_into_an_unknown_program(cli: Invoke) -> None:
    result = cli("member", "import", "tea", "-", input=CSV)
    _assert_error(result, "no program named 'tea': see 'sessionctl program list'")
    assert _members(cli) == []
