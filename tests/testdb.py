"""Fresh databases for tests: SQLite files by default, or databases of their own on the PostgreSQL
server that ``SESSIONCTL_TEST_DB`` names (e.g. ``postgresql+psycopg://postgres@127.0.0.1/test``).

Each test gets a database created for it and dropped after it; a module's seed database is made
once and copied per test with ``CREATE DATABASE … TEMPLATE``, PostgreSQL's own fast copy.
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
    from sqlalchemy.engine import make_url

    conninfo = make_url(URL).set(drivername="postgresql").render_as_string(hide_password=False)
    return psycopg.connect(conninfo, autocommit=True)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@atexit.register
def _drop_leftovers() -> None:
    if not ON_POSTGRES or not _SEEDS:
        return
    with _admin() as conn:
        for name in _SEEDS:
            conn.execute(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)")
