"""Fresh databases for tests: SQLite files by default, or a database on the PostgreSQL server that
``SESSIONCTL_TEST_DB`` names (e.g. ``postgresql+psycopg://postgres@127.0.0.1/test``).

On PostgreSQL each test process has one database at this version's schema, emptied before every
test (every row deleted, every id sequence restarted: a few milliseconds, where creating a
database takes a tenth of a second). A test may replace it (a module's seed copied with
``CREATE DATABASE … TEMPLATE``, PostgreSQL's own fast copy) or change its schema: one that
cannot simply be emptied afterwards is made anew.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import os
from pathlib import Path
from typing import Any

URL = os.environ.get("SESSIONCTL_TEST_DB", "")
ON_POSTGRES = URL.startswith("postgresql")
_SEEDS: set[str] = set()


def name_for(key: str) -> str:
    """A database name for ``key`` (a test id, a seed path), unique to this test process."""
    digest = hashlib.sha256(f"{os.getpid()}:{key}".encode()).hexdigest()[:20]
    return f"sessionctl_test_{digest}"


def url_of(name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(URL).set(database=name).render_as_string(hide_password=False)


_fresh = False  # whether the test database holds this version's schema and may just be emptied


def fresh_database() -> str:
    """This process's test database, emptied (or made) for a new test; its URL."""
    global _fresh
    name = name_for("the test database")
    if _fresh:
        try:
            _empty(name)
        except Exception:  # left locked or altered by the last test: make it anew
            _fresh = False
    if not _fresh:
        create_database(name)
        _fresh = True
    return url_of(name)


def _empty(name: str) -> None:
    import psycopg

    conninfo = _conninfo(name)
    with psycopg.connect(conninfo, autocommit=True) as conn, conn.transaction():
        conn.execute("SET LOCAL lock_timeout = '2s'")
        conn.execute("SET LOCAL session_replication_role = replica")  # no foreign-key order
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            " AND tablename <> 'alembic_version'"
        ).fetchall()
        sequences = conn.execute(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
        ).fetchall()
        version = conn.execute("SELECT version_num FROM alembic_version").fetchall()
        if version != [(_head(),)]:
            raise RuntimeError("the test left another schema behind")
        for (table,) in tables:
            conn.execute(f"DELETE FROM {_quote(table)}")
        for (sequence,) in sequences:
            conn.execute(f"ALTER SEQUENCE {_quote(sequence)} RESTART")


def _head() -> str:
    from sessionctl.store.schema import HEAD

    return HEAD


def create_database(name: str, *, template: str | None = None) -> str:
    """Create (anew) the database ``name``, a copy of ``template`` (default: an empty database
    at this version's schema, as ``sessionctl db upgrade`` leaves it); its SQLAlchemy URL."""
    copy = f" TEMPLATE {_quote(template or _schema_template())}"
    with _admin() as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {_quote(name)}{copy}")
    _SEEDS.add(name)  # dropped at exit unless a test drops it first
    return url_of(name)


@functools.cache
def _schema_template() -> str:
    """Made once per test process: migrating every test's database would cost a third of a
    second each."""
    from sessionctl.config import Settings
    from sessionctl.store.engine import open_database

    name = name_for("schema template")
    with _admin() as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {_quote(name)}")
    _SEEDS.add(name)
    settings = Settings(
        db_url=url_of(name), db_path=None, data_dir=Path("/nonexistent"), transport=""
    )
    open_database(settings).dispose()
    return name


def drop_database(url: str) -> None:
    from sqlalchemy.engine import make_url

    name = make_url(url).database or ""
    with _admin() as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)")
    _SEEDS.discard(name)


def copy_database(seed: str, target_url: str) -> None:
    """Make the database of ``target_url`` a fresh copy of the database ``seed``."""
    from sqlalchemy.engine import make_url

    create_database(make_url(target_url).database or "", template=seed)


def execute(database: str, statement: str, params: dict[str, Any]) -> list[Any]:
    """Run ``statement`` in one committed transaction on ``database`` (a URL or a file path)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    url = database if "://" in database else f"sqlite:///{Path(database)}"
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return list(result.all()) if result.returns_rows else []
    finally:
        engine.dispose()


def server_reachable() -> str | None:
    """None when the server answers; otherwise why not."""
    try:
        with _admin() as conn:
            conn.execute("SELECT 1")
    except Exception as err:
        return f"{type(err).__name__}: {err}".splitlines()[0]
    return None


def _admin() -> Any:
    import psycopg

    return psycopg.connect(_conninfo(None), autocommit=True)


def _conninfo(name: str | None) -> str:
    from sqlalchemy.engine import make_url

    url = make_url(URL).set(drivername="postgresql")
    if name is not None:
        url = url.set(database=name)
    return url.render_as_string(hide_password=False)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@atexit.register
def _drop_leftovers() -> None:
    if not ON_POSTGRES or not _SEEDS:
        return
    with _admin() as conn:
        for name in _SEEDS:
            conn.execute(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)")
