"""The SQLite file (private mode, WAL, foreign keys), and the db status / db upgrade commands on
either database."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.pool import NullPool

from sessionctl import config
from sessionctl.errors import DatabaseError
from sessionctl.store import engine, schema
from tests import testdb
from tests.conftest import Invoke, sql


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


@pytest.fixture
def umask() -> Iterator[None]:
    """A permissive umask, so that a private mode can only come from sessionctl."""
    old = os.umask(0o002)
    yield
    os.umask(old)


@pytest.mark.sqlite_file
def test_new_database_file_is_private(cli: Invoke, tmp_path: Path, umask: None) -> None:
    path = tmp_path / "fresh" / "nested" / "sessionctl.db"
    result = cli("--db", path, "program", "add", "coffee-paris", "--tz", "UTC")
    assert result.code == 0, result.stderr
    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700


@pytest.mark.sqlite_file
def test_default_database_file_is_private(
    cli: Invoke, isolated: Path, monkeypatch: pytest.MonkeyPatch, umask: None
) -> None:
    monkeypatch.delenv("SESSIONCTL_DB")
    assert cli("program", "add", "coffee-paris", "--tz", "UTC").code == 0
    path = isolated / "home" / "data" / "sessionctl" / "sessionctl.db"
    assert _mode(path) == 0o600


@pytest.mark.sqlite_file
def test_wal_and_shm_files_are_private(cli: Invoke, db_path: Path, umask: None) -> None:
    assert cli("program", "add", "coffee-paris", "--tz", "UTC").code == 0
    # Keep a connection open so the -wal and -shm files outlive the command that writes.
    reader = sqlite3.connect(db_path)
    try:
        reader.execute("SELECT count(*) FROM program").fetchall()
        assert cli("member", "add", "coffee-paris", "ana@example.com").code == 0
        sidecars = [Path(f"{db_path}-wal"), Path(f"{db_path}-shm")]
        assert any(p.exists() for p in sidecars)
        for sidecar in sidecars:
            if sidecar.exists():
                assert _mode(sidecar) == 0o600, sidecar
    finally:
        reader.close()


@pytest.mark.sqlite_file
@pytest.mark.parametrize("mode", [0o644, 0o640])
def test_existing_file_mode_is_left_alone(
    cli: Invoke, db_path: Path, umask: None, mode: int
) -> None:
    assert cli("db", "upgrade").code == 0
    db_path.chmod(mode)
    assert cli("program", "add", "coffee-paris", "--tz", "UTC").code == 0
    assert _mode(db_path) == mode
    assert cli("program", "list", "--json").json()[0]["name"] == "coffee-paris"


@pytest.mark.sqlite_file
def test_journal_mode_is_wal(cli: Invoke, db_path: Path) -> None:
    assert cli("program", "add", "coffee-paris", "--tz", "UTC").code == 0
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()


@pytest.mark.sqlite_file
def test_connections_enforce_foreign_keys_and_wait_when_busy(db_path: Path) -> None:
    db = engine.open_database(config.resolve(str(db_path)), create=True)
    try:
        with db.connection() as conn:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            busy = conn.execute(text("PRAGMA busy_timeout")).scalar()
            assert busy == engine.BUSY_TIMEOUT_SECONDS * 1000
        with pytest.raises(DatabaseError, match="FOREIGN KEY"), db.connection(write=True) as conn:
            conn.execute(
                text(
                    "INSERT INTO member (program_id, email, email_key, name, active, created_at) "
                    "VALUES (999, 'a@x.org', 'a@x.org', '', 1, '2026-01-01 00:00:00')"
                )
            )
    finally:
        db.dispose()


# --- db status / db upgrade --------------------------------------------------------------------


def _shown() -> str:
    """This test's database as commands show it: a path, or a URL without a password."""
    return os.environ["SESSIONCTL_DB"]


def _tables() -> list[str]:
    database = _shown()
    url = database if "://" in database else f"sqlite:///{database}"
    db = create_engine(url, poolclass=NullPool)
    try:
        return inspect(db).get_table_names()
    finally:
        db.dispose()


@pytest.fixture
def tableless(db_path: Path) -> None:
    """A database with no tables: on SQLite a file as ``sqlite3`` leaves one (not empty, not
    foreign); on PostgreSQL this test's database with its tables gone (the next test gets one
    made anew)."""
    if testdb.ON_POSTGRES:
        sql("DROP SCHEMA public CASCADE")
        sql("CREATE SCHEMA public")
    else:
        with sqlite3.connect(db_path) as conn:
            conn.execute("CREATE TABLE scratch (x)")
            conn.execute("DROP TABLE scratch")
        conn.close()
        assert db_path.stat().st_size > 0
    assert _tables() == []


def test_db_status_of_a_database_without_tables_is_empty(cli: Invoke, tableless: None) -> None:
    result = cli("db", "status", "--json")
    assert result.code == 0
    assert result.stderr == ""
    assert result.json() == {
        "database": _shown(),
        "revision": None,
        "head": schema.HEAD,
        "state": "empty",
    }
    human = cli("db", "status")
    assert human.code == 0
    assert human.stdout.splitlines() == [
        f"database  {_shown()}",
        f"schema    - (this version: {schema.HEAD})",
        "state     empty: its tables are created on first use or by 'sessionctl db upgrade'",
    ]


def test_db_upgrade_then_status_is_current(cli: Invoke) -> None:
    result = cli("db", "upgrade")
    assert result.code == 0
    assert result.stderr == ""
    assert result.stdout == f"schema {schema.HEAD} is up to date.\n"
    again = cli("db", "upgrade")
    assert (again.code, again.stdout) == (0, f"schema {schema.HEAD} is up to date.\n")
    status = cli("db", "status", "--json")
    assert status.json() == {
        "database": _shown(),
        "revision": schema.HEAD,
        "head": schema.HEAD,
        "state": "current",
    }
    human = cli("db", "status")
    assert human.stdout.splitlines() == [
        f"database  {_shown()}",
        f"schema    {schema.HEAD} (this version: {schema.HEAD})",
        "state     up to date",
    ]


@pytest.mark.sqlite_file
def test_program_add_creates_the_database_with_its_schema(cli: Invoke, db_path: Path) -> None:
    assert not db_path.exists()
    assert cli("program", "add", "coffee-paris", "--tz", "UTC").code == 0
    assert cli("db", "status", "--json").json()["state"] == "current"


def test_first_use_of_a_database_without_tables_creates_the_schema(
    cli: Invoke, tableless: None
) -> None:
    assert cli("program", "list").code == 0
    assert cli("db", "status", "--json").json()["state"] == "current"


def test_db_status_does_not_migrate(cli: Invoke, tableless: None) -> None:
    assert cli("db", "status").code == 0
    assert _tables() == []
