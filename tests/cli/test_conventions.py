"""Conventions every command keeps: exit codes, one-line errors, literal user text, no colour
off a terminal, and where the database is found (--db, SESSIONCTL_DB, config.toml, XDG)."""

from __future__ import annotations

import os
import random
import re
import sqlite3
from pathlib import Path

import pytest

from sessionctl.store import engine, schema
from tests.conftest import Invoke, Result, sql

HOSTILE_NAMES = [
    "[red]Eve[/red]",
    "oops [/bold]",
    "[link=https://evil.example]click[/link]",
    "\x1b[2J",
    "a\u202eb",
]
# How each hostile name must appear in human output: as typed, controls as visible escapes.
SHOWN = ["[red]Eve[/red]", "oops [/bold]", "[link=https://evil.example]click[/link]"]
SHOWN += ["\\x1b[2J", "a\\u202eb"]
SGR = re.compile(r"\x1b\[[0-9;]*m")


def _assert_one_error(result: Result, *, code: int) -> str:
    """Exactly one ``error:`` line on stderr, usage errors included."""
    assert result.code == code
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.fixture
def coffee(cli: Invoke) -> None:
    result = cli("program", "add", "coffee-paris", "--tz", "Europe/Paris")
    assert result.code == 0, result.stderr


# --- exit codes and one-line errors ------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["member", "list", "tea"],
            "error: no program named 'tea': see 'sessionctl program list'",
        ),
        (
            ["member", "add", "coffee-paris", "ana.example.com"],
            "error: invalid email 'ana.example.com': use a plain address such as ana@example.com",
        ),
        (
            ["program", "set", "coffee-paris", "--tz", "Paris"],
            "error: --tz: unknown timezone 'Paris' (did you mean Europe/Paris?)",
        ),
        (
            ["program", "list", "--frobnicate"],
            "error: unknown option --frobnicate (see sessionctl program list --help)",
        ),
        (
            ["member", "add", "coffee-paris"],
            "error: missing argument EMAIL (see sessionctl member add --help)",
        ),
        (
            ["--frobnicate", "program", "list"],
            "error: unknown option --frobnicate (see sessionctl --help)",
        ),
        (["frobnicate"], "error: unknown command 'frobnicate' (see sessionctl --help)"),
        (
            ["program", "frobnicate"],
            "error: unknown command 'frobnicate' (see sessionctl program --help)",
        ),
    ],
)
def test_bad_input_is_exit_2_with_one_error_line(
    cli: Invoke, coffee: None, args: list[str], line: str
) -> None:
    assert _assert_one_error(cli(*args), code=2) == line


def test_usage_errors_name_the_help_of_the_command_in_the_same_line(cli: Invoke) -> None:
    result = cli("member", "add", "coffee-paris")
    assert result.stderr == "error: missing argument EMAIL (see sessionctl member add --help)\n"


@pytest.mark.sqlite_file
def test_locked_database_is_exit_1(
    cli: Invoke, coffee: None, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "BUSY_TIMEOUT_SECONDS", 1)
    holder = sqlite3.connect(db_path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        added = cli("program", "add", "lunch", "--tz", "UTC")
        imported = cli("member", "import", "coffee-paris", "-", input="email,name\na@x.org,A\n")
    finally:
        holder.rollback()
        holder.close()
    message = f"error: database {db_path} is locked by another process: try again in a moment"
    assert _assert_one_error(added, code=1) == message
    assert _assert_one_error(imported, code=1) == message
    assert [p["name"] for p in cli("program", "list", "--json").json()] == ["coffee-paris"]
    assert cli("member", "list", "coffee-paris", "--json").json() == []


def test_reads_go_on_while_another_process_writes(
    cli: Invoke, coffee: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import create_engine, text  # here: the module's helpers use "text" as a name
    from sqlalchemy.pool import NullPool

    monkeypatch.setattr(engine, "BUSY_TIMEOUT_SECONDS", 1)
    database = os.environ["SESSIONCTL_DB"]  # a file path on SQLite, a URL on PostgreSQL
    url = database if "://" in database else f"sqlite:///{database}"
    writer = create_engine(url, poolclass=NullPool)
    try:
        with writer.connect() as holder:
            # Holds the write lock (SQLite) or the row lock (PostgreSQL) until rolled back.
            holder.execute(text("UPDATE program SET title = 'uncommitted'"))
            listed = cli("program", "list", "--json")
            holder.rollback()
    finally:
        writer.dispose()
    assert listed.code == 0, listed.stderr
    assert listed.json()[0]["title"] == "coffee-paris"


@pytest.mark.parametrize(
    "content",
    [
        b"not a database\n" * 100,
        random.Random(0).randbytes(8192),
        b"SQLite format 3\x00" + random.Random(1).randbytes(8192),
    ],
    ids=["text", "random-bytes", "sqlite-header-then-garbage"],
)
@pytest.mark.sqlite_file
def test_corrupt_database_file_is_exit_1(cli: Invoke, db_path: Path, content: bytes) -> None:
    db_path.write_bytes(content)
    for args in (["program", "list"], ["program", "add", "x"], ["db", "status"], ["db", "upgrade"]):
        line = _assert_one_error(cli(*args), code=1)
        assert line == (
            f"error: cannot read database {db_path}: file is not a database "
            "(is it a sessionctl database?)"
        )
    assert db_path.read_bytes() == content


@pytest.mark.sqlite_file
def test_corrupt_database_as_a_process_prints_no_traceback(sub: Invoke, db_path: Path) -> None:
    db_path.write_text("not a database\n" * 100)
    result = sub("member", "list", "coffee-paris")
    assert _assert_one_error(result, code=1).startswith(f"error: cannot read database {db_path}")


def test_a_directory_as_database_is_exit_1(cli: Invoke, tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    for args in (["program", "list"], ["db", "status", "--json"]):
        line = _assert_one_error(cli("--db", folder, *args), code=1)
        assert line == (
            f"error: cannot open database {folder}: unable to open database file: "
            "check the path and its permissions"
        )


def test_a_file_where_the_folder_should_be_is_exit_1(cli: Invoke, tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    result = cli("--db", blocker / "x.db", "program", "add", "p", "--tz", "UTC")
    line = _assert_one_error(result, code=1)
    assert line.startswith(f"error: cannot create folder {blocker}: ")


def test_database_from_a_newer_sessionctl_is_refused(cli: Invoke, coffee: None) -> None:
    assert sql("UPDATE alembic_version SET version_num = '9999' RETURNING 1") == [(1,)]
    shown = os.environ["SESSIONCTL_DB"]  # a path, or a URL without a password
    message = (
        f"error: database {shown} was written by a newer sessionctl "
        f"(schema 9999, this version knows up to {schema.HEAD}): upgrade sessionctl to use it"
    )
    for args in (["program", "list"], ["member", "add", "coffee-paris", "a@x.org"]):
        assert _assert_one_error(cli(*args), code=1) == message
    assert _assert_one_error(cli("db", "upgrade"), code=1) == message
    status = cli("db", "status", "--json")
    assert status.code == 0
    assert status.stderr == ""
    assert status.json() == {
        "database": shown,
        "revision": "9999",
        "head": schema.HEAD,
        "state": "newer",
    }
    human = cli("db", "status")
    assert human.code == 0
    assert human.stdout.splitlines() == [
        f"database  {shown}",
        f"schema    9999 (this version: {schema.HEAD})",
        "state     written by a newer sessionctl: upgrade sessionctl",
    ]
    assert sql("SELECT version_num FROM alembic_version") == [("9999",)]


def test_errors_show_user_text_with_visible_escapes(cli: Invoke, coffee: None) -> None:
    result = cli("member", "remove", "coffee-paris", "x\x1b[2J\u202e@example.com")
    line = _assert_one_error(result, code=2)
    assert line == (
        "error: x\\x1b[2J\\u202e@example.com is not an active member of coffee-paris: "
        "see 'sessionctl member list coffee-paris'"
    )


# --- user text is shown literally --------------------------------------------------------------


def _store_raw(table: str, column: str, values: dict[str, str]) -> None:
    """Write text the CLI refuses straight into the database, as an older sessionctl or another
    tool may have left it: showing it literally is the last line of defence."""
    key = "email_key" if table == "member" else "name"
    for where, value in values.items():
        changed = sql(
            f"UPDATE {table} SET {column} = :value WHERE {key} = :key RETURNING 1",
            value=value,
            key=where,
        )
        assert changed == [(1,)], where


@pytest.fixture
def hostile_members(cli: Invoke, coffee: None) -> None:
    for index, name in enumerate(HOSTILE_NAMES):
        typed = name if name.isprintable() else f"member {index}"
        result = cli("member", "add", "coffee-paris", f"m{index}@example.com", "--name", typed)
        assert result.code == 0, result.stderr
        assert result.stdout == f"Member m{index}@example.com added to coffee-paris.\n"
    names = {f"m{index}@example.com": name for index, name in enumerate(HOSTILE_NAMES)}
    _store_raw("member", "name", names)


def _assert_literal(stdout: str, shown: list[str]) -> None:
    assert "\x1b[2J" not in stdout
    assert "\x1b]8;" not in stdout  # no hyperlink
    assert "\u202e" not in stdout
    assert "\x1b" not in SGR.sub("", stdout)  # nothing but plain styles, if any
    for text in shown:
        assert text in stdout


def test_member_names_are_shown_literally(cli: Invoke, hostile_members: None) -> None:
    for args in (["member", "list", "coffee-paris"], ["member", "list", "coffee-paris", "--all"]):
        result = cli(*args)
        assert result.code == 0
        assert result.stderr == ""
        _assert_literal(result.stdout, SHOWN)
        assert "\x1b" not in result.stdout


def test_member_names_round_trip_through_json(cli: Invoke, hostile_members: None) -> None:
    result = cli("member", "list", "coffee-paris", "--json")
    assert result.code == 0
    assert "\x1b" not in result.stdout
    assert "\u202e" not in result.stdout
    assert [m["name"] for m in result.json()] == HOSTILE_NAMES


@pytest.mark.parametrize("force", [{"FORCE_COLOR": "1"}, {"TTY_COMPATIBLE": "1"}])
def test_member_names_stay_literal_when_colour_is_forced(
    sub: Invoke, hostile_members: None, force: dict[str, str]
) -> None:
    plain = sub("member", "list", "coffee-paris")
    coloured = sub("member", "list", "coffee-paris", env=force)
    assert coloured.code == 0
    assert coloured.stderr == ""
    assert SGR.search(coloured.stdout), "colour was not forced: this test proves nothing"
    _assert_literal(coloured.stdout, SHOWN)
    assert SGR.sub("", coloured.stdout) == plain.stdout


def test_program_titles_are_shown_literally(cli: Invoke) -> None:
    titles = [name for name in HOSTILE_NAMES if "\x1b" not in name]
    for index, _ in enumerate(titles):
        result = cli("program", "add", f"p{index}", "--tz", "UTC")
        assert result.code == 0, result.stderr
    _store_raw("program", "title", {f"p{i}": title for i, title in enumerate(titles)})
    for index, shown in enumerate(s for s in SHOWN if "\\x1b" not in s):
        result = cli("program", "show", f"p{index}")
        assert result.code == 0
        assert result.stderr == ""
        _assert_literal(result.stdout, [shown])
        assert f"title       {shown}" in result.stdout.splitlines()[1]
    listed = cli("program", "list")
    _assert_literal(listed.stdout, [s for s in SHOWN if "\\x1b" not in s])
    assert [p["title"] for p in cli("program", "list", "--json").json()] == titles


def test_program_titles_stay_literal_when_colour_is_forced(sub: Invoke, cli: Invoke) -> None:
    title = "[link=https://evil.example]click[/link] [bold]a\u202eb"
    assert cli("program", "add", "p", "--tz", "UTC").code == 0
    _store_raw("program", "title", {"p": title})
    result = sub("program", "show", "p", env={"FORCE_COLOR": "1"})
    assert result.code == 0
    assert SGR.search(result.stdout)
    _assert_literal(result.stdout, ["[link=https://evil.example]click[/link] [bold]a\\u202eb"])


# --- colour only on a terminal and never with NO_COLOR -----------------------------------------


def test_no_colour_when_not_a_terminal(sub: Invoke, hostile_members: None) -> None:
    result = sub("member", "list", "coffee-paris", "--all")
    assert result.code == 0
    assert "\x1b" not in result.stdout


@pytest.mark.parametrize("force", [{"FORCE_COLOR": "1"}, {"TTY_COMPATIBLE": "1"}])
def test_no_colour_with_no_color_even_when_forced(
    sub: Invoke, cli: Invoke, hostile_members: None, force: dict[str, str]
) -> None:
    result = sub("member", "list", "coffee-paris", "--all", env={"NO_COLOR": "1", **force})
    assert result.code == 0
    assert "\x1b" not in result.stdout
    assert result.stdout == cli("member", "list", "coffee-paris", "--all").stdout


def test_json_and_errors_are_never_coloured(sub: Invoke, hostile_members: None) -> None:
    listed = sub("program", "list", "--json", env={"FORCE_COLOR": "1"})
    assert listed.code == 0
    assert "\x1b" not in listed.stdout
    failed = sub("member", "list", "tea", env={"FORCE_COLOR": "1"})
    assert failed.code == 2
    assert failed.stderr == "error: no program named 'tea': see 'sessionctl program list'\n"


# --- where the database is: --db > SESSIONCTL_DB > config.toml > XDG default -------------------


def _config_file(home: Path, text: str) -> Path:
    path = home / "config" / "sessionctl" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _database_used(cli: Invoke, *options: str) -> str:
    """The database a command would use: named by the refusal to use one that does not exist,
    then confirmed once ``db upgrade`` created it."""
    refused = _assert_one_error(cli(*options, "db", "status", "--json"), code=2)
    path = refused.removeprefix("error: database ").partition(" does not exist")[0]
    assert cli(*options, "db", "upgrade").code == 0
    result = cli(*options, "db", "status", "--json")
    assert result.code == 0, result.stderr
    assert result.json()["database"] == path
    return path


@pytest.mark.parametrize("command", [["run-due"], ["program", "list"], ["db", "status"]])
def test_a_database_that_does_not_exist_is_not_created_by_reading_commands(
    cli: Invoke, tmp_path: Path, command: list[str]
) -> None:
    typo = tmp_path / "sesionctl.db"
    line = _assert_one_error(cli("--db", typo, *command), code=2)
    assert line == (
        f"error: database {typo} does not exist (from --db): check the path, or create it "
        "with 'sessionctl program add' or 'sessionctl db upgrade'"
    )
    assert list(tmp_path.iterdir()) == [tmp_path / "home"]


@pytest.mark.sqlite_file
def test_the_refusal_names_where_the_path_came_from(
    cli: Invoke, tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _config_file(home, f'db = "{tmp_path / "config.db"}"\n')
    from_env = _assert_one_error(cli("run-due"), code=2)
    assert f"{tmp_path / 'sessionctl.db'} does not exist (from SESSIONCTL_DB)" in from_env
    monkeypatch.delenv("SESSIONCTL_DB")
    from_config = _assert_one_error(cli("run-due"), code=2)
    assert f"{tmp_path / 'config.db'} does not exist (from the config file {config})" in (
        from_config
    )
    config.unlink()
    from_default = _assert_one_error(cli("run-due"), code=2)
    default = home / "data" / "sessionctl" / "sessionctl.db"
    assert f"{default} does not exist (from the default)" in from_default


@pytest.fixture
def home(isolated: Path) -> Path:
    return isolated / "home"


def test_db_option_beats_environment_and_config(cli: Invoke, tmp_path: Path, home: Path) -> None:
    _config_file(home, f'db = "{tmp_path / "config.db"}"\n')
    assert _database_used(cli, "--db", str(tmp_path / "option.db")) == str(tmp_path / "option.db")
    assert (tmp_path / "option.db").exists()
    assert not (tmp_path / "sessionctl.db").exists()
    assert not (tmp_path / "config.db").exists()


@pytest.mark.sqlite_file
def test_environment_beats_config(cli: Invoke, tmp_path: Path, home: Path) -> None:
    _config_file(home, f'db = "{tmp_path / "config.db"}"\n')
    assert _database_used(cli) == str(tmp_path / "sessionctl.db")
    assert not (tmp_path / "config.db").exists()


def test_config_beats_the_default(
    cli: Invoke, tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SESSIONCTL_DB")
    _config_file(home, 'db = "~/team/shared.db"\ntransport = "maildir:/tmp/outbox"\n')
    assert _database_used(cli) == str(home / "team" / "shared.db")
    assert not (home / "data").exists()


def test_default_is_in_the_xdg_data_folder(
    cli: Invoke, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SESSIONCTL_DB")
    expected = home / "data" / "sessionctl" / "sessionctl.db"
    assert _database_used(cli) == str(expected)
    assert cli("program", "add", "coffee-paris", "--tz", "UTC").code == 0
    assert expected.is_file()


def test_sqlite_url(cli: Invoke, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'url.db'}"
    assert _database_used(cli, "--db", url) == str(tmp_path / "url.db")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ('db = "unterminated\n', "cannot read config file {path}: "),
        ("db = \n", "cannot read config file {path}: "),
        ("db = 5\n", "config file {path}: 'db' must be a string"),
        ('transport = ["smtp"]\n', "config file {path}: 'transport' must be a string"),
    ],
)
def test_malformed_config_is_exit_2(
    cli: Invoke, home: Path, monkeypatch: pytest.MonkeyPatch, config: str, message: str
) -> None:
    monkeypatch.delenv("SESSIONCTL_DB")
    path = _config_file(home, config)
    line = _assert_one_error(cli("program", "list"), code=2)
    assert line.startswith("error: " + message.format(path=path))


@pytest.mark.parametrize(
    ("db", "line"),
    [
        ("sqlite:///:memory:", "error: an in-memory database keeps nothing: give --db a file path"),
        (
            "mysql://ana:s3cret@db.example/sessions",
            "error: unsupported database 'mysql://ana@db.example/sessions': use a file path, "
            "sqlite:///PATH or postgresql+psycopg://USER@HOST/NAME",
        ),
    ],
)
def test_unsupported_database_is_exit_2(cli: Invoke, db: str, line: str) -> None:
    result = cli("--db", db, "program", "list")
    assert _assert_one_error(result, code=2) == line
    assert "s3cret" not in result.stderr
