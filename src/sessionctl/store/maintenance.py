"""Looking after the database file: integrity checks and consistent backups.

SQLite checks its own pages (``PRAGMA integrity_check``) and the foreign keys between our tables
(``PRAGMA foreign_key_check``); PostgreSQL keeps both itself, so there a check reads every table.
A backup uses SQLite's online backup API: a consistent copy while other commands write.
"""

from __future__ import annotations

import os
import secrets
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text

from sessionctl.config import Settings
from sessionctl.domain.words import plural
from sessionctl.errors import DatabaseError, InputError
from sessionctl.store.engine import Database, remove_sqlite_files

_MAX_PROBLEMS = 20  # what a damaged file lists; the count says how many there are


@dataclass(frozen=True)
class CheckReport:
    database: str
    integrity: list[str] = field(default_factory=list)  # SQLite's own words per problem
    foreign_keys: list[str] = field(default_factory=list)  # "message 12 -> member"

    @property
    def ok(self) -> bool:
        return not self.integrity and not self.foreign_keys

    def summary(self) -> str:
        """One line for people and for cron mail."""
        if self.ok:
            return f"database {self.database}: integrity ok, foreign keys ok"
        parts = []
        if self.integrity:
            parts.append(f"{plural(len(self.integrity), 'integrity error')} ({self.integrity[0]})")
        if self.foreign_keys:
            count = plural(len(self.foreign_keys), "foreign-key violation")
            parts.append(f"{count} ({self.foreign_keys[0]})")
        return (
            f"database {self.database} is damaged: {', '.join(parts)}; "
            "restore it from a backup (see 'sessionctl db backup')"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "ok": self.ok,
            "integrity": self.integrity,
            "foreign_keys": self.foreign_keys,
        }


def check(db: Database, *, quick: bool = False) -> CheckReport:
    """Check the whole database; ``quick`` skips the index-against-table cross-checks."""
    where = db.settings.describe_db()
    if not db.is_sqlite:
        with db.connection() as conn:
            for table in inspect(conn).get_table_names():
                conn.execute(text(f'SELECT count(*) FROM "{table}"'))
        return CheckReport(where)
    pragma = "quick_check" if quick else "integrity_check"
    try:
        with db.connection() as conn:
            rows = conn.exec_driver_sql(f"PRAGMA {pragma}({_MAX_PROBLEMS})").all()
            violations = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
    except DatabaseError as err:
        if not _is_damage(err):
            raise
        return CheckReport(where, [_driver_text(err)])
    # SQLite may put several problems in one row, one per line, under a "*** in database" line.
    lines = (line for row in rows for line in str(row[0]).splitlines())
    integrity = [line for line in lines if line != "ok" and not line.startswith("***")]
    foreign_keys = [f"{table} {rowid} -> {parent}" for table, rowid, parent, _ in violations]
    return CheckReport(where, integrity, foreign_keys)


def _is_damage(err: DatabaseError) -> bool:
    text = _driver_text(err)
    return "malformed" in text or "not a database" in text


def _driver_text(err: DatabaseError) -> str:
    cause = err.__cause__
    orig = getattr(cause, "orig", None)
    return str(orig or cause or err).strip().splitlines()[0]


def ensure_sound(db: Database) -> None:
    """Raise ``DatabaseError`` before anything is sent from a damaged SQLite file.

    PostgreSQL guards its own pages, and reading every table on each cron run would cost a
    full scan of the messages and answers to learn nothing the run's own queries would not."""
    if not db.is_sqlite:
        return
    report = check(db, quick=True)
    if not report.ok:
        raise DatabaseError(f"{report.summary()}; nothing was sent")


@dataclass(frozen=True)
class BackupReport:
    database: str
    file: str
    size: int

    def to_json(self) -> dict[str, Any]:
        return {"database": self.database, "file": self.file, "bytes": self.size}


def backup_target(settings: Settings, file: str) -> Path:
    """Where ``db backup FILE`` may write, checked before the database is opened."""
    if settings.db_path is None:
        raise InputError(
            "db backup copies SQLite files: back up PostgreSQL with its own tools (pg_dump)"
        )
    try:
        target = Path(file).expanduser().absolute()
    except RuntimeError as err:  # ~someone who does not exist
        raise InputError(f"cannot write {file}: {err}") from None
    if os.path.lexists(target):
        raise InputError(f"{target} already exists: choose a new file name or remove it first")
    if not target.parent.is_dir():
        raise InputError(f"cannot write {target}: folder {target.parent} does not exist")
    return target


def backup(db: Database, target: Path) -> BackupReport:
    """Copy the database into the new file ``target`` (mode 0600), consistently and checked.

    The copy is written aside and linked into place, so ``target`` never holds half a copy, and
    an existing file is never overwritten.
    """
    import sqlite3

    draft = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    try:
        os.close(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        with (
            db.connection() as conn,  # a read transaction: the copy is one consistent state
            closing(sqlite3.connect(draft)) as copy,
        ):
            raw: Any = conn.connection.driver_connection
            raw.backup(copy)
            # A backup is one file to carry: not the write-ahead mode of the live database.
            copy.execute("PRAGMA journal_mode = DELETE")
            verdict = copy.execute("PRAGMA quick_check").fetchone()
        if verdict is None or verdict[0] != "ok":
            raise DatabaseError(f"the copy of {db.settings.describe_db()} failed its check")
        os.link(draft, target)
    except FileExistsError:
        raise InputError(f"{target} already exists: choose a new file name") from None
    except OSError as err:
        raise DatabaseError(f"cannot write backup {target}: {err.strerror}") from err
    finally:
        remove_sqlite_files(draft)
    return BackupReport(db.settings.describe_db(), str(target), target.stat().st_size)
