"""Read-only lookups for shell completion: quick, and never creating, migrating or writing.

Completion runs on every Tab press, so the database is opened without SQLAlchemy (its import
costs more than the lookup): a SQLite file through the standard library, a server through its
driver, each with short timeouts, since a shell must not hang on a locked file or an unreachable
host. The schema is not checked: a database of another version answers what it can, and every
failure is left to the caller to swallow.
"""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sessionctl.config import Settings

# Long enough for a writer's commit to finish, short enough that a held lock feels like nothing.
_WAIT_SECONDS = 0.25
# libpq options: the same limits on a server, and a session that refuses every write.
_SERVER_OPTIONS = "-c statement_timeout=1000 -c default_transaction_read_only=on"
_NAMED = re.compile(r":(\w+)")  # the statements' ``:name`` parameters, as SQLite takes them


@dataclass(frozen=True)
class ProgramRow:
    name: str
    title: str


@dataclass(frozen=True)
class RoundRow:
    id: int
    program: str
    status: str
    timezone: str
    match_at: datetime  # UTC


@dataclass(frozen=True)
class MemberRow:
    email: str
    name: str
    team: str | None
    active: bool


def programs(settings: Settings) -> list[ProgramRow]:
    rows = _fetch(settings, "SELECT name, title FROM program ORDER BY name", {})
    return [ProgramRow(name=str(name), title=str(title or "")) for name, title in rows]


def rounds(
    settings: Settings, *, id_prefix: str = "", statuses: frozenset[str] | None = None
) -> list[RoundRow]:
    """Rounds whose id starts with ``id_prefix`` (digits), of ``statuses`` when given, by id."""
    where = ["CAST(r.id AS TEXT) LIKE :prefix"]
    params: dict[str, Any] = {"prefix": f"{id_prefix}%"}
    if statuses is not None:
        names = [f"status{index}" for index in range(len(statuses))]
        where.append(f"r.status IN ({', '.join(':' + name for name in names)})")
        params.update(zip(names, sorted(statuses), strict=True))
    statement = (
        'SELECT r.id, p.name, r.status, r.timezone, r.match_at FROM "round" r '
        f"JOIN program p ON p.id = r.program_id WHERE {' AND '.join(where)} ORDER BY r.id"
    )
    return [
        RoundRow(
            id=int(row[0]),
            program=str(row[1]),
            status=str(row[2]),
            timezone=str(row[3]),
            match_at=_utc(row[4]),
        )
        for row in _fetch(settings, statement, params)
    ]


def members(settings: Settings, *, program: str) -> list[MemberRow]:
    """The members of the program named ``program``, removed ones included, by email."""
    return _members(settings, "p.name = :key", program)


def round_members(settings: Settings, *, round_id: int) -> list[MemberRow]:
    """The members of the program that round ``round_id`` belongs to."""
    return _members(settings, 'p.id = (SELECT program_id FROM "round" WHERE id = :key)', round_id)


def _members(settings: Settings, condition: str, key: object) -> list[MemberRow]:
    statement = (
        "SELECT m.email, m.name, m.team, m.active FROM member m "
        f"JOIN program p ON p.id = m.program_id WHERE {condition} ORDER BY m.email_key"
    )
    return [
        MemberRow(email=str(email), name=str(name or ""), team=team, active=bool(active))
        for email, name, team, active in _fetch(settings, statement, {"key": key})
    ]


def _utc(value: object) -> datetime:
    """Stored naive UTC: a ``datetime`` from a server, ISO text from SQLite."""
    instant = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return instant.replace(tzinfo=UTC)


def _fetch(settings: Settings, statement: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    if settings.db_path is not None:
        return _fetch_sqlite(settings.db_path, statement, params)
    return _fetch_server(settings.db_url, statement, params)


def _fetch_sqlite(path: Path, statement: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """``mode=rw`` fails on a missing file instead of making one; ``query_only`` refuses writes.

    Not ``mode=ro``: a read-only connection cannot remove the write-ahead files it opened, so
    each Tab press would leave them beside the database.
    """
    if not path.is_file():
        return []
    uri = f"file:{quote(str(path))}?mode=rw"
    with closing(sqlite3.connect(uri, uri=True, timeout=_WAIT_SECONDS)) as conn:
        conn.execute("PRAGMA query_only = ON")
        return conn.execute(statement, params).fetchall()


def _fetch_server(url: str, statement: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Through the URL's driver itself: SQLAlchemy's import alone costs more than the query.

    ``postgresql+DRIVER://…`` minus ``+DRIVER`` is a libpq URI, which psycopg and psycopg2
    both take; both also take ``%(name)s`` parameters.
    """
    from importlib import import_module

    scheme, _, rest = url.partition("://")
    driver = import_module(scheme.partition("+")[2] or "psycopg")
    with closing(
        driver.connect(f"postgresql://{rest}", connect_timeout=2, options=_SERVER_OPTIONS)
    ) as conn:
        cursor = conn.cursor()
        cursor.execute(_NAMED.sub(r"%(\1)s", statement), params)
        return [tuple(row) for row in cursor.fetchall()]
