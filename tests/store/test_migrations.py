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
