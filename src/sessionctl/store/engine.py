"""The database: a SQLite file made safe for several processes, or a PostgreSQL URL.

Every unit of work is one transaction from ``Database.session``. A write transaction on SQLite
starts with ``BEGIN IMMEDIATE``: a deferred transaction that reads and then writes fails at once
with "database is locked" when another process wrote in between, whatever the busy timeout.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, create_engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from sessionctl.config import Settings
from sessionctl.errors import DatabaseError

BUSY_TIMEOUT_SECONDS = 30
_WRITE = "sessionctl_write"


class Database:
    """One database, opened lazily, checked against the shipped schema on first use."""

    def __init__(self, settings: Settings, *, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self._writer = engine.execution_options(**{_WRITE: True})

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back when it raises."""
        bind = self._writer if write else self.engine
        with translate_errors(self.settings), Session(bind) as s, s.begin():
            yield s

    @contextmanager
    def connection(self, *, write: bool = False) -> Iterator[Connection]:
        """A raw connection in one transaction, for schema work."""
        with translate_errors(self.settings), (self._writer if write else self.engine).begin() as c:
            yield c

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(settings: Settings, *, migrate: bool = True) -> Database:
    """Open (creating if needed) the database; bring its schema up to date unless told not to."""
    if settings.db_path is not None:
        _create_private_file(settings.db_path)
    db = Database(settings, engine=_make_engine(settings))
    if migrate:
        from sessionctl.store import schema

        schema.ensure_current(db)
    return db


@contextmanager
def translate_errors(settings: Settings) -> Iterator[None]:
    """Turn driver errors a user can cause (locked, corrupt, unreadable) into one-line errors."""
    try:
        yield
    except DBAPIError as err:
        raise DatabaseError(_explain(err, settings)) from err


def _explain(err: DBAPIError, settings: Settings) -> str:
    where = settings.describe_db()
    text = str(err.orig).strip().splitlines()[0] if err.orig else str(err)
    if "locked" in text or "busy" in text:
        return f"database {where} is locked by another process: try again in a moment"
    if "not a database" in text or "malformed" in text:
        return f"cannot read database {where}: {text} (is it a sessionctl database?)"
    if "unable to open" in text or "readonly" in text:
        return f"cannot open database {where}: {text}: check the path and its permissions"
    return f"database {where} failed: {text}"


def _create_private_file(path: Path) -> None:
    """Create the SQLite file with mode 0600 before SQLite does: -wal and -shm copy its mode."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as err:  # FileExistsError here means a file stands where the folder goes
        raise DatabaseError(f"cannot create folder {path.parent}: {err.strerror}") from err
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError as err:
        raise DatabaseError(f"cannot create database {path}: {err.strerror}") from err
    os.close(fd)


def _make_engine(settings: Settings) -> Engine:
    if settings.db_path is None:
        try:
            return create_engine(settings.db_url, pool_pre_ping=True)
        except ModuleNotFoundError as err:
            raise DatabaseError(
                f"cannot use {settings.describe_db()}: its driver is missing "
                f"({err.name}); install sessionctl[postgres]"
            ) from None
    engine = create_engine(
        settings.db_url,
        # The pool hands each thread its own connection (serve answers links in threads).
        connect_args={
            "timeout": BUSY_TIMEOUT_SECONDS,
            "isolation_level": None,
            "check_same_thread": False,
        },
    )
    event.listen(engine, "connect", _configure_sqlite)
    event.listen(engine, "begin", _begin_sqlite)
    return engine


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def _begin_sqlite(conn: Connection) -> None:
    immediate = conn.get_execution_options().get(_WRITE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
