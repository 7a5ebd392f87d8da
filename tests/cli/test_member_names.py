"""Member names, teams and program titles are one line of text: what could forge a header line,
move a terminal's cursor or reorder a partner's match email is refused everywhere it comes in."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Invoke, assert_error, ok

PROGRAM = "coffee-paris"
RULE = "it must be one line without control or bidi-override characters"

BAD = [
    pytest.param("Ana\rBcc: eve@evil.test", id="CR"),
    pytest.param("Ana\nBcc: eve@evil.test", id="LF"),
    pytest.param("Ana\r\n\r\nhttps://evil.test/join", id="CRLF-blank-line"),
    pytest.param("Ana\x00", id="NUL"),
    pytest.param("Ana\x1b[2J\x1b[31mLima", id="ESC"),
    pytest.param("Ana\tLima", id="TAB"),
    pytest.param("Ana\x7f", id="DEL"),
    pytest.param("Ana\x85Bcc: eve@evil.test", id="U+0085-NEL"),
    pytest.param("Ana\x9bLima", id="U+009B-CSI"),
    pytest.param("Ana\u2028Bcc: eve@evil.test", id="U+2028"),
    pytest.param("Ana\u2029Lima", id="U+2029"),
    *(
        pytest.param(f"Ana {chr(code)}moc.elpmaxe@ana", id=f"U+{code:04X}")
        for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))
    ),
]
GOOD = ["Zoë", "李雷", "Ана-Мария O'Neil", "محمد بن سلمان", "Sam 🙂👩‍💻", "x" * 200]


def _members(cli: Invoke) -> Any:
    return ok(cli("member", "list", PROGRAM, "--all", "--json")).json()


def _csv(*rows: tuple[str, ...]) -> str:
    """A CSV as a spreadsheet would write it: fields with line breaks are quoted."""
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()


@pytest.fixture(autouse=True)
def coffee(cli: Invoke) -> None:
    ok(cli("program", "add", PROGRAM, "--tz", "Europe/Paris", "--title", "Coffee"))
    ok(cli("member", "add", PROGRAM, "ana@example.com", "--name", "Ana", "--team", "design"))


BEFORE = [
    {
        "email": "ana@example.com",
        "name": "Ana",
        "team": "design",
        "active": True,
        "paused_until": None,
        "left_reason": None,
    }
]


# --- member add ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value", BAD)
@pytest.mark.parametrize("field", ["name", "team"])
def test_add_refuses_a_name_or_team_that_is_not_one_plain_line(
    cli: Invoke, field: str, value: str
) -> None:
    result = cli("member", "add", PROGRAM, "bo@example.com", f"--{field}", value)
    assert_error(result, f"invalid {field} {value!r}: {RULE}")
    assert _members(cli) == BEFORE


@pytest.mark.parametrize("field", ["name", "team"])
def test_add_takes_200_characters_and_refuses_201(cli: Invoke, field: str) -> None:
    result = cli("member", "add", PROGRAM, "bo@example.com", f"--{field}", "é" * 201)
    assert_error(result, f"{field} is too long (201 characters, at most 200)")
    assert _members(cli) == BEFORE
    ok(cli("member", "add", PROGRAM, "bo@example.com", f"--{field}", "é" * 200))
    assert _members(cli)[1][field] == "é" * 200


def test_add_refuses_5000_characters_without_quoting_them(cli: Invoke) -> None:
    result = cli("member", "add", PROGRAM, "bo@example.com", "--name", "\x1b[2J" * 1250)
    assert_error(result, "name is too long (5000 characters, at most 200)")


@pytest.mark.parametrize("name", GOOD)
def test_add_keeps_international_names_as_typed(cli: Invoke, name: str) -> None:
    added = ok(cli("member", "add", PROGRAM, "bo@example.com", "--name", name, "--team", name))
    assert added.stderr == ""
    assert _members(cli)[1] == {
        "email": "bo@example.com",
        "name": name,
        "team": name,
        "active": True,
        "paused_until": None,
        "left_reason": None,
    }


# --- member import ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", BAD)
@pytest.mark.parametrize("field", ["name", "team"])
def test_import_refuses_the_whole_file_and_names_the_line(
    cli: Invoke, tmp_path: Path, field: str, value: str
) -> None:
    bad = ("bo@example.com", value, "ops") if field == "name" else ("bo@example.com", "Bo", value)
    text = _csv(
        ("email", "name", "team"),
        ("ana@example.com", "Ana Lima", "sales"),  # an update that must not happen
        bad,
        ("cy@example.com", "Cy", "ops"),
    )
    result = cli("member", "import", PROGRAM, "-", input=text)
    assert_error(result, f"line 3: invalid {field} {value!r}: {RULE}")
    assert _members(cli) == BEFORE
    # A file is read with universal newlines: a quoted CR arrives as LF, and is refused as well.
    path = tmp_path / "members.csv"
    path.write_bytes(text.encode("utf-8"))
    result = cli("member", "import", PROGRAM, path)
    seen = value.replace("\r\n", "\n").replace("\r", "\n")
    assert_error(result, f"line 3: invalid {field} {seen!r}: {RULE}")
    assert _members(cli) == BEFORE


@pytest.mark.parametrize("field", ["name", "team"])
def test_import_takes_200_characters_and_refuses_201(cli: Invoke, field: str) -> None:
    def row(value: str) -> tuple[str, str, str]:
        return (
            ("bo@example.com", value, "ops") if field == "name" else ("bo@example.com", "Bo", value)
        )

    header = ("email", "name", "team")
    long = _csv(header, ("cy@example.com", "Cy", "ops"), row("李" * 201))
    result = cli("member", "import", PROGRAM, "-", input=long)
    assert_error(result, f"line 3: {field} is too long (201 characters, at most 200)")
    assert _members(cli) == BEFORE
    ok(cli("member", "import", PROGRAM, "-", input=_csv(header, row("李" * 200))))
    assert _members(cli)[1][field] == "李" * 200


def test_import_keeps_international_names_as_typed(cli: Invoke) -> None:
    rows = [(f"m{i}@example.com", name, name) for i, name in enumerate(GOOD)]
    report = ok(
        cli(
            "member", "import", PROGRAM, "-", "--json", input=_csv(("email", "name", "team"), *rows)
        )
    )
    assert report.json() == {
        "added": len(GOOD),
        "re_added": 0,
        "updated": 0,
        "unchanged": 0,
        "ignored_columns": [],
    }
    imported = {m["email"]: (m["name"], m["team"]) for m in _members(cli)}
    assert [imported[email] for email, _, _ in rows] == [(name, name) for _, name, _ in rows]


# --- program titles -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", BAD)
def test_program_add_and_set_refuse_a_title_that_is_not_one_plain_line(
    cli: Invoke, value: str
) -> None:
    assert_error(
        cli("program", "add", "lunch", "--title", value),
        f"--title: invalid title {value!r}: {RULE}",
    )
    assert_error(
        cli("program", "set", PROGRAM, "--title", value),
        f"--title: invalid title {value!r}: {RULE}",
    )
    assert [p["name"] for p in ok(cli("program", "list", "--json")).json()] == [PROGRAM]
    assert ok(cli("program", "show", PROGRAM, "--json")).json()["title"] == "Coffee"


def test_program_title_takes_200_characters_and_refuses_201(cli: Invoke) -> None:
    result = cli("program", "set", PROGRAM, "--title", "🙂" * 201)
    assert_error(result, "--title: title is too long (201 characters, at most 200)")
    assert ok(cli("program", "show", PROGRAM, "--json")).json()["title"] == "Coffee"
    ok(cli("program", "set", PROGRAM, "--title", "🙂" * 200))
    assert ok(cli("program", "show", PROGRAM, "--json")).json()["title"] == "🙂" * 200


@pytest.mark.parametrize("title", GOOD)
def test_program_titles_keep_international_text(cli: Invoke, title: str) -> None:
    ok(cli("program", "add", "lunch", "--tz", "UTC", "--title", title))
    assert ok(cli("program", "show", "lunch", "--json")).json()["title"] == title
