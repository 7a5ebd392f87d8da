"""Shipped migrations, on either database: applied from empty, from every earlier revision, and
kept in step with ``schema.REVISIONS`` (the fast check that spares importing Alembic on every
command)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

import sessionctl.store.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from sessionctl.store import schema
from tests import testdb
from tests.conftest import Invoke, sql


def _config() -> Config:
    """The same Alembic configuration as ``schema._run_alembic`` builds."""
    config = Config()
    config.set_main_option("script_location", "sessionctl.store:migrations")
    return config


@contextmanager
def _engine() -> Iterator[Engine]:
    """This test's database (``SESSIONCTL_DB`` is a file path on SQLite, a URL on PostgreSQL)."""
    database = os.environ["SESSIONCTL_DB"]
    engine = create_engine(
        database if "://" in database else f"sqlite:///{database}", poolclass=NullPool
    )
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def _alembic() -> Iterator[Config]:
    """An Alembic config bound to one transaction on this test's database."""
    with _engine() as engine, engine.begin() as conn:
        config = _config()
        config.attributes["connection"] = conn
        yield config


def _version() -> list[Any]:
    return sql("SELECT version_num FROM alembic_version")


def _tables() -> set[str]:
    with _engine() as engine:
        return set(inspect(engine).get_table_names())


@pytest.fixture
def no_tables() -> None:
    """This test's database without a single table, as a new one is: on SQLite its file is not
    made yet; on PostgreSQL, where each test's database starts at this version's schema, its
    tables go (the next test gets a database made anew)."""
    if not testdb.ON_POSTGRES:
        assert not Path(os.environ["SESSIONCTL_DB"]).exists()
        return
    sql("DROP SCHEMA public CASCADE")
    sql("CREATE SCHEMA public")
    assert _tables() == set()


def test_revisions_equal_the_linear_history_of_the_scripts() -> None:
    script = ScriptDirectory.from_config(_config())
    assert script.get_heads() == [schema.HEAD]
    history = list(reversed(list(script.walk_revisions())))
    assert tuple(s.revision for s in history) == schema.REVISIONS
    assert [s.down_revision for s in history] == [None, *schema.REVISIONS[:-1]]
    assert schema.REVISIONS[-1] == schema.HEAD


def test_empty_database_gets_every_revision(cli: Invoke, no_tables: None) -> None:
    result = cli("db", "upgrade")
    assert result.code == 0, result.stderr
    assert _version() == [(schema.HEAD,)]
    assert {"program", "member"} <= _tables()


def test_migrated_schema_matches_the_models(cli: Invoke, no_tables: None) -> None:
    assert cli("db", "upgrade").code == 0
    with _engine() as engine, engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diffs == [], "models and migrations differ: add a migration"


EARLIER = [pytest.param(revision, id=revision) for revision in schema.REVISIONS[:-1]] or [
    pytest.param(None, marks=pytest.mark.skip(reason="HEAD is the only shipped revision"))
]


NEW = {"paused_until": None, "left_reason": None}  # member fields added since


@pytest.mark.parametrize("revision", EARLIER)
def test_database_at_an_earlier_revision_is_upgraded_on_first_use(
    cli: Invoke, no_tables: None, revision: str
) -> None:
    # Rows are written at the first revision (whose columns this test knows), then the database
    # is brought to ``revision`` only, as an older sessionctl would have left it.
    with _alembic() as config:
        command.upgrade(config, schema.REVISIONS[0])
        conn = config.attributes["connection"]
        conn.execute(
            text(
                "INSERT INTO program (id, name, title, timezone, opt_in, group_size, sender, "
                "link_base, created_at) VALUES (1, 'coffee-paris', 'Coffee', 'Europe/Paris', "
                ":yes, 3, 'coffee@example.com', NULL, '2026-01-05 08:00:00')"
            ),
            {"yes": True},
        )
        conn.execute(
            text(
                "INSERT INTO member (program_id, email, email_key, name, team, active, "
                "created_at, removed_at) VALUES (1, :email, :key, :name, :team, :active, "
                "'2026-01-05 08:00:00', :removed)"
            ),
            [
                {"email": "Ana@example.com", "key": "ana@example.com", "name": "Ana",
                 "team": "design", "active": True, "removed": None},
                {"email": "bo@example.com", "key": "bo@example.com", "name": "Bo",
                 "team": None, "active": False, "removed": "2026-02-01 08:00:00"},
            ],
        )  # fmt: skip
        command.upgrade(config, revision)
    assert _version() == [(revision,)]
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
        "reply_to": None,
        "bounce_limit": 3,
        "language": "en",
        "icebreakers": None,
        "members": 1,
        "archived": False,
        "reminder_hours": 24,
        "reminder_below": None,
    }
    assert _version() == [(schema.HEAD,)]
    assert cli("member", "list", "coffee-paris", "--all", "--json").json() == [
        {"email": "Ana@example.com", "name": "Ana", "team": "design", "active": True, **NEW},
        {"email": "bo@example.com", "name": "Bo", "team": None, "active": False, **NEW},
    ]


def test_downgrade_to_base_then_upgrade_again(cli: Invoke) -> None:
    assert cli("program", "add", "coffee-paris", "--tz", "UTC").code == 0
    with _alembic() as config:
        command.downgrade(config, "base")
    assert _tables() <= {"alembic_version"}
    assert cli("db", "status", "--json").json()["state"] == "empty"
    result = cli("program", "list", "--json")
    assert result.code == 0, result.stderr
    assert result.json() == []
    assert _version() == [(schema.HEAD,)]


def test_failed_migration_leaves_the_database_as_it_was(cli: Invoke, no_tables: None) -> None:
    # A database with a table of its own (one the first migration would create, too) is not a
    # sessionctl database: it is refused before any migration touches it.
    sql("CREATE TABLE member (id INTEGER PRIMARY KEY)")
    result = cli("program", "list")
    assert result.code == 1
    assert result.stdout == ""
    shown = os.environ["SESSIONCTL_DB"]  # a path, or a URL without a password
    assert result.stderr.startswith(f"error: database {shown} has tables of its own")
    assert result.stderr.count("\n") == 1
    assert _tables() == {"member"}


# --- 0004: text stored before names, teams and titles were checked ------------------------------

_NUL = "" if testdb.ON_POSTGRES else "\x00"  # PostgreSQL text cannot hold NUL at all

_DIRTY_TITLES = [
    # (program name, stored title, title after the upgrade)
    ("coffee-paris", "Coffee\r\nBcc: eve@evil.test", "Coffee Bcc: eve@evil.test"),
    ("lunch", "\u202eLunch\u202c  club", "Lunch club"),
    ("tea", f"{_NUL}\x1b", "tea"),  # emptied: titled with its name, as when added without a title
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


def _database_at_0003(*, dirty: bool) -> None:
    """This test's database as sessionctl 0003 left it, holding the rows above (or their clean
    results); it must have no tables before."""
    with _alembic() as config:
        command.upgrade(config, "0003")
        conn = config.attributes["connection"]
        for program_id, (name, title, clean) in enumerate(_DIRTY_TITLES, start=1):
            conn.execute(
                text(
                    "INSERT INTO program (id, name, title, timezone, opt_in, group_size, "
                    "created_at) VALUES (:id, :name, :title, 'UTC', :yes, 2, "
                    "'2026-01-05 08:00:00')"
                ),
                {"id": program_id, "name": name, "title": title if dirty else clean, "yes": True},
            )
        for email, name, team, clean_name, clean_team in _DIRTY_MEMBERS:
            conn.execute(
                text(
                    "INSERT INTO member (program_id, email, email_key, name, team, active, "
                    "created_at) VALUES (1, :email, :email, :name, :team, :yes, "
                    "'2026-01-05 08:00:00')"
                ),
                {
                    "email": email,
                    "name": name if dirty else clean_name,
                    "team": team if dirty else clean_team,
                    "yes": True,
                },
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
    cli: Invoke, no_tables: None
) -> None:
    _database_at_0003(dirty=True)
    result = cli("member", "list", "coffee-paris", "--json")
    assert result.code == 0, result.stderr
    assert result.stderr.splitlines() == _CLEANED_NOTES
    # A note describes the change; the stored bad text never reaches the terminal.
    assert not set(result.stderr) & {"\x00", "\x1b", "\x7f", "\x85", "\u2028", "\u202e"}
    assert _version() == [(schema.HEAD,)]

    titles, members = _stored_text(cli)
    assert titles == [clean for _, _, clean in _DIRTY_TITLES]
    assert members == [(email, name, team) for email, _, _, name, team in _DIRTY_MEMBERS]
    # Once upgraded, nothing more is said.
    assert cli("member", "list", "coffee-paris").stderr == ""


def test_db_upgrade_prints_the_notes_too(cli: Invoke, no_tables: None) -> None:
    _database_at_0003(dirty=True)
    result = cli("db", "upgrade")
    assert result.code == 0, result.stderr
    assert result.stdout == f"schema {schema.HEAD} is up to date.\n"
    assert result.stderr.splitlines() == _CLEANED_NOTES
    assert cli("db", "upgrade").stderr == ""


def test_upgrade_to_0004_of_a_clean_database_changes_and_says_nothing(
    cli: Invoke, no_tables: None
) -> None:
    _database_at_0003(dirty=False)
    result = cli("program", "list", "--json")
    assert result.code == 0, result.stderr
    assert result.stderr == ""
    assert _version() == [(schema.HEAD,)]
    titles, members = _stored_text(cli)
    assert titles == [clean for _, _, clean in _DIRTY_TITLES]
    assert members == [(email, name, team) for email, _, _, name, team in _DIRTY_MEMBERS]
