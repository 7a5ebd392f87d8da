"""The database: a SQLite file made safe for several processes, or a PostgreSQL URL.

Every unit of work is one transaction from ``Database.session``. A write transaction on SQLite
starts with ``BEGIN IMMEDIATE``: a deferred transaction that reads and then writes fails at once
with "database is locked" when another process wrote in between, whatever the busy timeout.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, create_engine
from sqlalchemy.exc import DBAPIError

from sessionctl.config import Settings
from sessionctl.errors import DatabaseError, InputError

if TYPE_CHECKING:
    from sqlmodel import Session

BUSY_TIMEOUT_SECONDS = 30
_WRITE = "sessionctl_write"
_DRIVER_HINTS = {
    "psycopg": "install the postgres extra: pip install 'sessionctl[postgres]'",
    "psycopg2": "install it (pip install psycopg2-binary), or use postgresql+psycopg:// with "
    "the postgres extra",
}


class Database:
    """One database, opened lazily, checked against the shipped schema on first use."""

    def __init__(self, settings: Settings, *, engine: Engine, read_only: bool = False) -> None:
        self.settings = settings
        self.engine = engine
        self.read_only = read_only
        self._writer = engine.execution_options(**{_WRITE: True})
        # What an upgrade changed in stored rows (schema.upgrade fills it), for the CLI to show.
        self.upgrade_notes: list[str] = []

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back when it raises."""
        # Not at the top: SQLModel brings the ORM, which the views reading plain rows through
        # ``connection`` go without.
        from sqlmodel import Session

        bind = self._bind(write=write)
        with translate_errors(self.settings), Session(bind) as s, s.begin():
            yield s

    @contextmanager
    def connection(self, *, write: bool = False) -> Iterator[Connection]:
        """A raw connection in one transaction, for schema work."""
        with translate_errors(self.settings), self._bind(write=write).begin() as c:
            yield c

    def _bind(self, *, write: bool) -> Engine:
        if not write:
            return self.engine
        if self.read_only:  # refused before anything runs, even a write that would change nothing
            raise DatabaseError(_read_only_message(self.settings.describe_db()))
        return self._writer

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(settings: Settings, *, migrate: bool = True, create: bool = False) -> Database:
    """Open the database and bring its schema up to date unless told not to.

    A SQLite file that does not exist is made (mode 0600, schema complete) only when ``create``
    is set: elsewhere a mistyped --db or crontab path must fail, not become an empty database.
    A file this process cannot write (permissions, read-only mount) is opened read-only, so
    reading commands still work and writing ones fail with one line.
    """
    read_only = False
    if settings.db_path is not None:
        path = settings.db_path
        if not os.path.lexists(path):
            if not create:
                raise InputError(
                    f"database {path} does not exist (from {settings.db_source}): check the "
                    "path, or create it with 'sessionctl program add' or 'sessionctl db upgrade'"
                )
            _create_database(settings)
        elif _is_empty_file(path):
            raise DatabaseError(
                f"database {path} is an empty file that sessionctl did not create: give --db "
                "a sessionctl database, or delete the file and run 'sessionctl db upgrade'"
            )
        read_only = _is_read_only(path)
    db = Database(settings, engine=_make_engine(settings, read_only=read_only), read_only=read_only)
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
    if "readonly" in text or "read-only" in text:
        return _read_only_message(where)
    if "unable to open" in text:
        return f"cannot open database {where}: {text}: check the path and its permissions"
    return f"database {where} failed: {text}"


def _read_only_message(where: str) -> str:
    return (
        f"database {where} is read-only: this command writes, so it needs write access "
        "to the file and its folder"
    )


def _create_database(settings: Settings) -> None:
    """Build a complete database aside (mode 0600), then link it into place.

    The file appears whole or not at all, so an empty file at the path was not made by us. A
    concurrent creator that linked first wins; its database is used.
    """
    path = settings.db_path
    assert path is not None
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as err:  # FileExistsError here means a file stands where the folder goes
        raise DatabaseError(f"cannot create folder {path.parent}: {err.strerror}") from err
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.new")
    try:
        os.close(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        aside = replace(settings, db_url=f"sqlite:///{draft}", db_path=draft)
        db = Database(aside, engine=_make_engine(aside, read_only=False))
        try:
            from sessionctl.store import schema

            schema.ensure_current(db)
        finally:
            db.dispose()  # the last connection checkpoints the WAL into the file
        with suppress(FileExistsError):
            os.link(draft, path)
    except OSError as err:
        raise DatabaseError(f"cannot create database {path}: {err.strerror}") from err
    finally:
        remove_sqlite_files(draft)


def remove_sqlite_files(path: Path) -> None:
    """Delete a SQLite file and the journal or write-ahead files beside it, if any."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        with suppress(OSError):
            os.unlink(f"{path}{suffix}")


def _is_empty_file(path: Path) -> bool:
    """A 0-byte file with no write-ahead log beside it: SQLite would take it as a new database."""
    try:
        if path.stat().st_size:
            return False
        return not Path(f"{path}-wal").stat().st_size
    except FileNotFoundError:
        return True
    except OSError:
        return False  # unreadable: SQLite's own error says why


def _is_read_only(path: Path) -> bool:
    """Whether ``path`` (a file or a folder) cannot be written: a read-only mount, or no
    permission. When that cannot be told, it is taken as writable: SQLite's own error says why."""
    try:
        on_read_only_mount = bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False
    return on_read_only_mount or not os.access(path, os.W_OK)


def _make_engine(settings: Settings, *, read_only: bool) -> Engine:
    if settings.db_path is None:
        try:
            return create_engine(settings.db_url, pool_pre_ping=True)
        except ModuleNotFoundError as err:
            hint = _DRIVER_HINTS.get(err.name or "", "install the driver its URL names")
            raise DatabaseError(
                f"cannot use {settings.describe_db()}: its driver {err.name} is not installed; "
                f"{hint}"
            ) from None
    # The pool hands each thread its own connection (serve answers links in threads).
    options: dict[str, Any] = {
        "timeout": BUSY_TIMEOUT_SECONDS,
        "isolation_level": None,
        "check_same_thread": False,
    }
    if read_only:
        import sqlite3

        uri = _read_only_uri(Path(settings.db_path))
        engine = create_engine(
            settings.db_url, creator=lambda: sqlite3.connect(uri, uri=True, **options)
        )
    else:
        engine = create_engine(settings.db_url, connect_args=options)
    event.listen(engine, "connect", _configure_sqlite)
    event.listen(engine, "begin", _begin_sqlite)
    return engine


def _read_only_uri(path: Path) -> str:
    """A URI that opens ``path`` read-only; ``immutable`` where SQLite could not make its
    shared-memory file (a read-only folder) and no write-ahead log holds newer pages."""
    query = "mode=ro"
    if _is_read_only(path.parent) and not os.path.exists(f"{path}-wal"):
        query += "&immutable=1"
    return f"file:{quote(str(path))}?{query}"


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
