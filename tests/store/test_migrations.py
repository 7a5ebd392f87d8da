"""Shipped migrations: applied from empty, from every earlier revision, and kept in step with
``schema.REVISIONS`` (the fast check that spares importing Alembic on every command)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlmodel import SQLModel

import sessionctl.store.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from sessionctl.store import schema
from tests.conftest import Invoke


def _config() -> Config:
    """The same Alembic configuration as ``schema._run_alembic`` builds."""
    config = Config()
    config.set_main_option("script_location", "sessionctl.store:migrations")
    return config


@contextmanager
def _alembic(path: Path) -> Iterator[Config]:
    """An Alembic config bound to one transaction on the SQLite file at ``path``."""
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as conn:
            config = _config()
            config.attributes["connection"] = conn
            yield config
    finally:
        engine.dispose()


def _version(path: Path) -> list[tuple[str]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    conn.close()
    return rows


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    conn.close()
    return {name for (name,) in rows}


def test_revisions_equal_the_linear_history_of_the_scripts() -> None:
    script = ScriptDirectory.from_config(_config())
    assert script.get_heads() == [schema.HEAD]
    history = list(reversed(list(script.walk_revisions())))
    assert tuple(s.revision for s in history) == schema.REVISIONS
    assert [s.down_revision for s in history] == [None, *schema.REVISIONS[:-1]]
    assert schema.REVISIONS[-1] == schema.HEAD


def test_empty_database_gets_every_revision(cli: Invoke, db_path: Path) -> None:
    result = cli("db", "upgrade")
    assert result.code == 0, result.stderr
    assert _version(db_path) == [(schema.HEAD,)]
    assert {"program", "member"} <= _tables(db_path)


def test_migrated_schema_matches_the_models(cli: Invoke, db_path: Path) -> None:
    assert cli("db", "upgrade").code == 0
    engine = create_engine(f"sqlite:///{db_path}")
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    finally:
        engine.dispose()
    assert diffs == [], "models and migrations differ: add a migration"


EARLIER = [pytest.param(revision, id=revision) for revision in schema.REVISIONS[:-1]] or [
    pytest.param(None, marks=pytest.mark.skip(reason="HEAD is the only shipped revision"))
]


@pytest.mark.parametrize("revision", EARLIER)
def test_database_at_an_earlier_revision_is_upgraded_on_first_use(
    cli: Invoke, db_path: Path, revision: str
) -> None:
    # Rows are written at the first revision (whose columns this test knows), then the file is
    # brought to ``revision`` only, as an older sessionctl would have left it.
    with _alembic(db_path) as config:
        command.upgrade(config, schema.REVISIONS[0])
        conn = config.attributes["connection"]
        conn.exec_driver_sql(
            "INSERT INTO program (id, name, title, timezone, opt_in, group_size, sender, "
            "link_base, created_at) VALUES (1, 'coffee-paris', 'Coffee', 'Europe/Paris', 1, 3, "
            "'coffee@example.com', NULL, '2026-01-05 08:00:00')"
        )
        conn.exec_driver_sql(
            "INSERT INTO member (program_id, email, email_key, name, team, active, created_at, "
            "removed_at) VALUES "
            "(1, 'Ana@example.com', 'ana@example.com', 'Ana', 'design', 1, "
            "'2026-01-05 08:00:00', NULL), "
            "(1, 'bo@example.com', 'bo@example.com', 'Bo', NULL, 0, "
            "'2026-01-05 08:00:00', '2026-02-01 08:00:00')"
        )
        command.upgrade(config, revision)
    assert _version(db_path) == [(revision,)]
    status = cli("db", "status", "--json")
    assert status.json()["state"] == "behind"

    shown = cli("program", "show", "coffee-paris", "--json")
    assert shown.code == 0, shown.stderr
    assert shown.stderr == ""
    assert shown.json() == {
        "name": "coffee-paris",
        "title": "Coffee",
        "timezone": "Europe/Paris",
        "opt_in": True,
        "group_size": 3,
        "sender": "coffee@example.com",
        "link_base": None,
        "grace_hours": 24,
        "lookback": None,
        "members": 1,
    }
    assert _version(db_path) == [(schema.HEAD,)]
    assert cli("member", "list", "coffee-paris", "--all", "--json").json() == [
        {"email": "Ana@example.com", "name": "Ana", "team": "design", "active": True},
        {"email": "bo@example.com", "name": "Bo", "team": None, "active": False},
    ]


def test_downgrade_to_base_then_upgrade_again(cli: Invoke, db_path: Path) -> None:
    assert cli("program", "add", "coffee-paris", "--tz", "UTC").code == 0
    with _alembic(db_path) as config:
        command.downgrade(config, "base")
    assert _tables(db_path) <= {"alembic_version"}
    assert cli("db", "status", "--json").json()["state"] == "empty"
    result = cli("program", "list", "--json")
    assert result.code == 0, result.stderr
    assert result.json() == []
    assert _version(db_path) == [(schema.HEAD,)]


def test_failed_migration_leaves_the_file_as_it_was(cli: Invoke, db_path: Path) -> None:
    # A file with a table of its own (one the first migration would create, too) is not a
    # sessionctl database: it is refused before any migration touches it.
    with sqlite3.connect(db_path) as conn:
        conn.execute("CREATE TABLE member (id INTEGER PRIMARY KEY)")
    conn.close()
    result = cli("program", "list")
    assert result.code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: database {db_path} has tables of its own")
    assert result.stderr.count("\n") == 1
    assert _tables(db_path) == {"member"}


# --- 0004: text stored before names, teams and titles were checked ------------------------------

_DIRTY_TITLES = [
    # (program name, stored title, title after the upgrade)
    ("coffee-paris", "Coffee\r\nBcc: eve@evil.test", "Coffee Bcc: eve@evil.test"),
    ("lunch", "\u202eLunch\u202c  club", "Lunch club"),
    ("tea", "\x00\x1b", "tea"),  # emptied: titled with its name, as when added without a title
    ("walks", "Walks  on   Sundays", "Walks  on   Sundays"),  # keeps the rule: untouched
]
_DIRTY_MEMBERS = [
    # (email, stored name, stored team, name and team after the upgrade)
    ("ana@example.com", "Ana\nBcc: eve@evil.test", "design", "Ana Bcc: eve@evil.test", "design"),
    ("bo@example.com", "Bo\x85  Li\x7f", "\u2066ops\u2069", "Bo Li", "ops"),
    ("cy@example.com", "x" * 250, "\u2028 \t", "x" * 200, None),
    ("dee@example.com", " \x1b[2J\x1b[31m ", None, "[2J [31m", None),
    ("eve@example.com", "\x1b", "sales", "", "sales"),
    ("fay@example.com", "Zoë  李雷 🙂", " ops ", "Zoë  李雷 🙂", " ops "),  # untouched
]
_CLEANED_NOTES = [
    "note: database upgrade cleaned the title of program coffee-paris (control characters removed)",
    "note: database upgrade cleaned the title of program lunch (bidi-override characters removed)",
    "note: database upgrade cleaned the title of program tea (control characters removed)",
    "note: database upgrade cleaned the name of ana@example.com in coffee-paris (control "
    "characters removed)",
    "note: database upgrade cleaned the name of bo@example.com in coffee-paris (control "
    "characters removed)",
    "note: database upgrade cleaned the team of bo@example.com in coffee-paris (bidi-override "
    "characters removed)",
    "note: database upgrade cleaned the name of cy@example.com in coffee-paris (cut to 200 "
    "characters)",
    "note: database upgrade cleaned the team of cy@example.com in coffee-paris (control "
    "characters removed)",
    "note: database upgrade cleaned the name of dee@example.com in coffee-paris (control "
    "characters removed)",
    "note: database upgrade cleaned the name of eve@example.com in coffee-paris (control "
    "characters removed)",
]


def _database_at_0003(path: Path, *, dirty: bool) -> None:
    """A file as sessionctl 0003 left it, holding the rows above (or their clean results)."""
    with _alembic(path) as config:
        command.upgrade(config, "0003")
        conn = config.attributes["connection"]
        for program_id, (name, title, clean) in enumerate(_DIRTY_TITLES, start=1):
            conn.exec_driver_sql(
                "INSERT INTO program (id, name, title, timezone, opt_in, group_size, "
                "created_at) VALUES (?, ?, ?, 'UTC', 1, 2, '2026-01-05 08:00:00')",
                (program_id, name, title if dirty else clean),
            )
        for email, name, team, clean_name, clean_team in _DIRTY_MEMBERS:
            conn.exec_driver_sql(
                "INSERT INTO member (program_id, email, email_key, name, team, active, "
                "created_at) VALUES (1, ?, ?, ?, ?, 1, '2026-01-05 08:00:00')",
                (email, email, name if dirty else clean_name, team if dirty else clean_team),
            )


def _stored_text(cli: Invoke) -> tuple[list[str], list[tuple[str, str, str | None]]]:
    listed = cli("program", "list", "--json")
    assert listed.code == 0, listed.stderr
    members = cli("member", "list", "coffee-paris", "--json")
    assert members.code == 0, members.stderr
    return (
        [p["title"] for p in listed.json()],
        [(m["email"], m["name"], m["team"]) for m in members.json()],
    )


def test_upgrade_to_0004_cleans_stored_text_and_says_what_it_changed(
    cli: Invoke, db_path: Path
) -> None:
    _database_at_0003(db_path, dirty=True)
    result = cli("member", "list", "coffee-paris", "--json")
    assert result.code == 0, result.stderr
    assert result.stderr.splitlines() == _CLEANED_NOTES
    # A note describes the change; the stored bad text never reaches the terminal.
    assert not set(result.stderr) & {"\x00", "\x1b", "\x7f", "\x85", "\u2028", "\u202e"}
    assert _version(db_path) == [(schema.HEAD,)]

    titles, members = _stored_text(cli)
    assert titles == [clean for _, _, clean in _DIRTY_TITLES]
    assert members == [(email, name, team) for email, _, _, name, team in _DIRTY_MEMBERS]
    # Once upgraded, nothing more is said.
    assert cli("member", "list", "coffee-paris").stderr == ""


def test_db_upgrade_prints_the_notes_too(cli: Invoke, db_path: Path) -> None:
    _database_at_0003(db_path, dirty=True)
    result = cli("db", "upgrade")
    assert result.code == 0, result.stderr
    assert result.stdout == f"schema {schema.HEAD} is up to date.\n"
    assert result.stderr.splitlines() == _CLEANED_NOTES
    assert cli("db", "upgrade").stderr == ""


def test_upgrade_to_0004_of_a_clean_database_changes_and_says_nothing(
    cli: Invoke, db_path: Path
) -> None:
    _database_at_0003(db_path, dirty=False)
    result = cli("program", "list", "--json")
    assert result.code == 0, result.stderr
    assert result.stderr == ""
    assert _version(db_path) == [(schema.HEAD,)]
    titles, members = _stored_text(cli)
    assert titles == [clean for _, _, clean in _DIRTY_TITLES]
    assert members == [(email, name, team) for email, _, _, name, team in _DIRTY_MEMBERS]
